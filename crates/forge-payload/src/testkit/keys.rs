//! Keys and signatures made with sequoia: certificates with a signing
//! subkey, expired and revoked ones, detached signatures at a chosen time.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::serialize::Serialize;
use openpgp::types::{KeyFlags, ReasonForRevocation};
use openpgp::Cert;

fn file_stem(userid: &str) -> String {
    userid
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Writes `cert` as an armored TSK (`<stem>.sec.asc`) and an armored public
/// keyring (`<stem>.pub.asc`) in `dir`.
pub fn write_cert(dir: &Path, stem: &str, cert: &Cert) -> (PathBuf, PathBuf) {
    let sec = dir.join(format!("{stem}.sec.asc"));
    let public = dir.join(format!("{stem}.pub.asc"));
    let mut f = std::fs::File::create(&sec).expect("create secret key file");
    cert.as_tsk()
        .armored()
        .serialize(&mut f)
        .expect("write secret key");
    let mut f = std::fs::File::create(&public).expect("create public key file");
    cert.armored().serialize(&mut f).expect("write public key");
    (sec, public)
}

/// A certify-only primary key with one signing subkey, created `created`
/// and valid for `validity` (forever when `None`).
pub fn new_cert(userid: &str, created: SystemTime, validity: Option<Duration>) -> Cert {
    CertBuilder::new()
        .add_userid(userid)
        .set_creation_time(created)
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .set_validity_period(validity)
        .generate()
        .expect("generate key")
        .0
}

/// Generates a certify-only primary key with a signing subkey (created a
/// minute ago, no expiry). Returns (secret key file as armored TSK,
/// public keyring armored).
pub fn generate_key(dir: &Path, userid: &str) -> (PathBuf, PathBuf) {
    let created = SystemTime::now() - Duration::from_secs(60);
    let cert = new_cert(userid, created, None);
    write_cert(dir, &file_stem(userid), &cert)
}

/// Reads a certificate (with secrets when present) from a key file.
pub fn read_cert(path: &Path) -> Cert {
    Cert::from_file(path).expect("read key file")
}

/// Revokes the whole certificate in the key file `secret` at time `at`:
/// hard (key compromised) or soft (key retired). Rewrites both files.
pub fn revoke_cert(dir: &Path, secret: &Path, hard: bool, at: SystemTime) -> (PathBuf, PathBuf) {
    let cert = read_cert(secret);
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .expect("secret primary")
        .into_keypair()
        .expect("keypair");
    let reason = if hard {
        ReasonForRevocation::KeyCompromised
    } else {
        ReasonForRevocation::KeyRetired
    };
    let rev = CertRevocationBuilder::new()
        .set_reason_for_revocation(reason, b"test")
        .expect("reason")
        .set_signature_creation_time(at)
        .expect("time")
        .build(&mut signer, &cert, None)
        .expect("revocation");
    let cert = cert.insert_packets(rev).expect("insert revocation").0;
    let stem = secret
        .file_name()
        .map(|s| s.to_string_lossy().trim_end_matches(".sec.asc").to_string())
        .unwrap_or_else(|| "revoked".into());
    write_cert(dir, &stem, &cert)
}

/// Signs `data_path` with the key file `secret`, writing an armored detached
/// signature to `out`, with creation time `at` (now when `None`).
pub fn sign_file(secret: &Path, data_path: &Path, out: &Path, at: Option<SystemTime>) {
    crate::build::sign_file(secret, data_path, out, at).expect("sign");
}

/// Parses a certificate from bytes (armored or binary).
pub fn read_cert_bytes(bytes: &[u8]) -> Cert {
    Cert::from_bytes(bytes).expect("parse certificate")
}
