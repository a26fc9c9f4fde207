//! The trust roots: OpenPGP certificates loaded from an armored or binary
//! keyring file (the daemon's configured `keyring`).

use std::io::Read;
use std::path::{Path, PathBuf};

use sequoia_openpgp as openpgp;

use openpgp::cert::{Cert, CertParser};
use openpgp::parse::Parse;
use openpgp::serialize::Serialize;

use crate::PayloadError;

/// Largest keyring file accepted (bytes).
pub const MAX_KEYRING_BYTES: u64 = 16 << 20;

/// Certificates trusted to sign a payload.
#[derive(Debug, Clone)]
pub struct Keyring {
    path: PathBuf,
    certs: Vec<Cert>,
}

impl Keyring {
    /// Loads every certificate of an armored or binary keyring file. An
    /// unreadable file, a parse error or a file without certificates is an
    /// error naming the file.
    pub fn load(path: &Path) -> Result<Keyring, PayloadError> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_KEYRING_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| PayloadError::io(path, e))?;
        Keyring::from_bytes(path, &bytes)
    }

    /// Parses the keyring `bytes` that the caller read (and checked) from
    /// `path`: the daemon reads its trust roots once and keeps what it
    /// checked. Errors as for [`Keyring::load`].
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Keyring, PayloadError> {
        let bad = |reason: String| PayloadError::Keyring {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() as u64 > MAX_KEYRING_BYTES {
            return Err(bad(format!("larger than {MAX_KEYRING_BYTES} bytes")));
        }
        let parser = CertParser::from_bytes(bytes).map_err(|e| bad(e.to_string()))?;
        let mut certs = Vec::new();
        for c in parser {
            certs.push(c.map_err(|e| bad(e.to_string()))?);
        }
        if certs.is_empty() {
            return Err(bad("no certificate".into()));
        }
        Ok(Keyring {
            path: path.to_path_buf(),
            certs,
        })
    }

    /// The file this keyring was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The certificates (public parts are what matter for verification).
    pub fn certs(&self) -> &[Cert] {
        &self.certs
    }

    /// Upper-case hex fingerprints of the certificates, for logs.
    pub fn fingerprints(&self) -> Vec<String> {
        self.certs
            .iter()
            .map(|c| c.fingerprint().to_hex())
            .collect()
    }

    /// The public keys only, as a binary OpenPGP keyring (what the target's
    /// `/etc/pkm/trusted.gpg` holds). Secret key material is never included.
    pub fn public_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for c in &self.certs {
            // Cert::serialize writes the public parts only; a Vec cannot fail.
            let _ = c.serialize(&mut out);
        }
        out
    }
}
