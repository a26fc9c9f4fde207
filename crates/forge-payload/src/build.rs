//! The distributor's side: scan `DIR/packages/*.igos.tar.gz`, write the
//! manifest and the index (same inputs and validity window, same bytes;
//! the index says when it was made and when it expires), and optionally sign
//! both with an OpenPGP secret key file (detached, armored, like
//! `gpg --detach-sign --armor`).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;
use sequoia_openpgp as openpgp;

use openpgp::armor;
use openpgp::cert::CertParser;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Message, Signer};

use crate::freshness::{Validity, DEFAULT_LIFETIME};
use crate::index::{
    encode_index, render_manifest, valid_archive_path, PackageEntry, ARCHIVE_SUFFIX, INDEX,
    INDEX_SIG, MANIFEST, MANIFEST_SIG, PACKAGES_DIR,
};
use crate::integrity::{hash_file, open_regular};
use crate::payload::read_capped;
use crate::pkginfo::{self, PkgInfo, MAX_META_BYTES};
use crate::PayloadError;

/// What [`build_payload`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSummary {
    /// Number of archives (= packages).
    pub packages: usize,
    /// Sum of archive sizes.
    pub total_size: u64,
    pub manifest: PathBuf,
    pub index: PathBuf,
    /// The index's signed `created`/`expires`.
    pub validity: Validity,
    /// `(manifest .asc, index .sig)` when a key was given.
    pub signatures: Option<(PathBuf, PathBuf)>,
}

/// Reads the `.PKGINFO` of an archive (the first one found among its entries).
pub fn read_pkginfo(archive: &Path) -> Result<PkgInfo, PayloadError> {
    let file = open_regular(archive).map_err(|e| PayloadError::io(archive, e))?;
    let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
    let mut ar = tar::Archive::new(gz);
    let corrupt = |e: std::io::Error| PayloadError::CorruptArchive {
        path: archive.to_path_buf(),
        reason: e.to_string(),
    };
    for ent in ar.entries().map_err(corrupt)? {
        let ent = ent.map_err(corrupt)?;
        let p = ent.path_bytes();
        let p = p.strip_prefix(b"./").unwrap_or(&p);
        if p == b".PKGINFO" {
            if ent.size() > MAX_META_BYTES {
                return Err(PayloadError::PkgInfo {
                    path: archive.to_path_buf(),
                    field: None,
                    reason: "too large".into(),
                });
            }
            let mut text = Vec::new();
            ent.take(MAX_META_BYTES)
                .read_to_end(&mut text)
                .map_err(corrupt)?;
            return pkginfo::parse(&text, archive);
        }
    }
    Err(PayloadError::PkgInfo {
        path: archive.to_path_buf(),
        field: None,
        reason: "missing".into(),
    })
}

fn scan_one(dir: &Path, file_name: &str) -> Result<PackageEntry, PayloadError> {
    let rel = format!("{PACKAGES_DIR}/{file_name}");
    let path = dir.join(&rel);
    let info = read_pkginfo(&path)?;
    let expected = format!("{}-{}{ARCHIVE_SUFFIX}", info.name, info.version);
    if file_name != expected {
        return Err(PayloadError::PkgInfo {
            path,
            field: Some("pkgname".into()),
            reason: format!("file name should be {expected} for pkgname/pkgver"),
        });
    }
    let (sha256, size) = hash_file(&path).map_err(|e| PayloadError::io(&path, e))?;
    Ok(PackageEntry {
        name: info.name,
        version: info.version,
        tier: info.tier,
        file: rel,
        sha256,
        size,
        installed_size: info.installed_size,
        depends: info.depends,
        services: info.services,
    })
}

/// Reads every archive of `DIR/packages/` (in parallel) into index entries,
/// sorted by name. Refuses a file that is not an archive, a missing or
/// malformed `.PKGINFO`, a file name that does not match it, duplicate
/// names and dependencies on packages that are not there.
pub fn scan(dir: &Path) -> Result<Vec<PackageEntry>, PayloadError> {
    let pkgdir = dir.join(PACKAGES_DIR);
    let mut names = Vec::new();
    for e in std::fs::read_dir(&pkgdir).map_err(|e| PayloadError::io(&pkgdir, e))? {
        let e = e.map_err(|e| PayloadError::io(&pkgdir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !valid_archive_path(&format!("{PACKAGES_DIR}/{name}")) {
            return Err(PayloadError::Index {
                path: e.path(),
                reason: format!("not a {ARCHIVE_SUFFIX} archive name"),
            });
        }
        names.push(name);
    }
    names.sort();
    let mut entries = names
        .par_iter()
        .with_max_len(1)
        .map(|n| scan_one(dir, n))
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort_by(|a, b| a.name.cmp(&b.name).then(a.file.cmp(&b.file)));
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for e in &entries {
        if let Some(other) = seen.insert(&e.name, &e.file) {
            return Err(PayloadError::DuplicatePackage {
                path: dir.join(&e.file),
                name: e.name.clone(),
                other: dir.join(other),
            });
        }
    }
    for e in &entries {
        for d in &e.depends {
            if !seen.contains_key(d.as_str()) {
                return Err(PayloadError::MissingDependency {
                    package: e.name.clone(),
                    dependency: d.clone(),
                });
            }
        }
    }
    if entries.is_empty() {
        return Err(PayloadError::Index {
            path: pkgdir,
            reason: "no archives".into(),
        });
    }
    Ok(entries)
}

/// Writes `data` to `path` atomically (temporary file + rename).
fn write_atomic(path: &Path, data: &[u8]) -> Result<(), PayloadError> {
    let tmp = path.with_extension("tmp~");
    let r = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r.map_err(|e| PayloadError::io(path, e))
}

/// Writes manifest and index (valid for `validity`) for `entries` and
/// removes signatures that would no longer match. Returns (manifest path,
/// index path).
pub fn write_unsigned(
    dir: &Path,
    entries: &[PackageEntry],
    validity: &Validity,
) -> Result<(PathBuf, PathBuf), PayloadError> {
    let manifest = dir.join(MANIFEST);
    let index = dir.join(INDEX);
    for stale in [MANIFEST_SIG, INDEX_SIG] {
        let p = dir.join(stale);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PayloadError::io(p, e)),
        }
    }
    write_atomic(&manifest, &render_manifest(entries))?;
    write_atomic(&index, &encode_index(entries, validity))?;
    Ok((manifest, index))
}

/// A signing-capable secret key from an unencrypted OpenPGP key file.
/// `at` is the signing time the key must be valid at (now when `None`).
fn load_signer(
    key: &Path,
    at: Option<SystemTime>,
) -> Result<openpgp::crypto::KeyPair, PayloadError> {
    let fail = |reason: String| PayloadError::Sign {
        path: key.to_path_buf(),
        reason,
    };
    let bytes = read_capped(key, 16 << 20)?;
    let policy = StandardPolicy::new();
    for cert in CertParser::from_bytes(&bytes).map_err(|e| fail(e.to_string()))? {
        let cert = cert.map_err(|e| fail(e.to_string()))?;
        let candidate = cert
            .keys()
            .with_policy(&policy, at)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .next();
        if let Some(ka) = candidate {
            if !ka.key().has_unencrypted_secret() {
                return Err(fail(
                    "the secret key is passphrase-protected; sign with gpg instead".into(),
                ));
            }
            return ka
                .key()
                .clone()
                .into_keypair()
                .map_err(|e| fail(e.to_string()));
        }
    }
    Err(fail("no valid signing-capable secret key".into()))
}

/// A detached armored signature over `data` (creation time `at`, or now).
fn sign_bytes(
    signer: openpgp::crypto::KeyPair,
    data: &[u8],
    at: Option<SystemTime>,
) -> openpgp::Result<Vec<u8>> {
    let mut sink = Vec::new();
    {
        let message = Message::new(&mut sink);
        let message = Armorer::new(message).kind(armor::Kind::Signature).build()?;
        let mut builder = Signer::new(message, signer)?.detached();
        if let Some(t) = at {
            builder = builder.creation_time(t);
        }
        let mut w = builder.build()?;
        w.write_all(data)?;
        w.finalize()?;
    }
    Ok(sink)
}

/// Signs `data_path` with the key file `key`, writing the armored detached
/// signature to `out` (signature creation time `at`, or now).
pub fn sign_file(
    key: &Path,
    data_path: &Path,
    out: &Path,
    at: Option<SystemTime>,
) -> Result<(), PayloadError> {
    let signer = load_signer(key, at)?;
    let data = std::fs::read(data_path).map_err(|e| PayloadError::io(data_path, e))?;
    let sig = sign_bytes(signer, &data, at).map_err(|e| PayloadError::Sign {
        path: key.to_path_buf(),
        reason: e.to_string(),
    })?;
    write_atomic(out, &sig)
}

/// Signs the manifest (`.asc`) and the index (`.sig`) of the payload in `dir`.
pub fn sign_payload(dir: &Path, key: &Path) -> Result<(PathBuf, PathBuf), PayloadError> {
    let (m, i) = (dir.join(MANIFEST), dir.join(INDEX));
    let (ms, is) = (dir.join(MANIFEST_SIG), dir.join(INDEX_SIG));
    sign_file(key, &m, &ms, None)?;
    sign_file(key, &i, &is, None)?;
    Ok((ms, is))
}

/// [`build_payload_with`] an index created now and valid for
/// [`DEFAULT_LIFETIME`].
pub fn build_payload(dir: &Path, sign_key: Option<&Path>) -> Result<BuildSummary, PayloadError> {
    build_payload_with(dir, sign_key, Validity::starting_now(DEFAULT_LIFETIME))
}

/// `forgectl payload build`: scan, write manifest and index (valid for
/// `validity`), sign them when `sign_key` is given (otherwise leave them for
/// `gpg --detach-sign --armor`).
pub fn build_payload_with(
    dir: &Path,
    sign_key: Option<&Path>,
    validity: Validity,
) -> Result<BuildSummary, PayloadError> {
    let entries = scan(dir)?;
    let (manifest, index) = write_unsigned(dir, &entries, &validity)?;
    let signatures = match sign_key {
        Some(k) => Some(sign_payload(dir, k)?),
        None => None,
    };
    Ok(BuildSummary {
        packages: entries.len(),
        total_size: entries.iter().map(|e| e.size).sum(),
        manifest,
        index,
        validity,
        signatures,
    })
}
