//! Adversarial corpus, signatures: every refusal asserted exactly (which
//! file, which problem), every acceptance by a real key (sequoia or gpg).

mod common;

use std::time::{Duration, SystemTime};

use common::{built, two_packages, Scratch};
use forge_payload::testkit::{self, Gpg};
use forge_payload::{open_verified, Keyring, PayloadError, SigProblem};

/// Asserts that opening the payload fails on `file`'s signature with `problem`.
fn assert_sig_refused(s: &Scratch, keyring: &Keyring, file: &std::path::Path, problem: SigProblem) {
    let before = s.snapshot();
    match open_verified(&s.payload, keyring) {
        Err(PayloadError::Signature { path, problem: p }) => {
            assert_eq!(path, file, "refusal names the wrong file");
            assert_eq!(p, problem);
        }
        other => panic!("expected signature refusal {problem:?} on {file:?}, got {other:?}"),
    }
    assert_eq!(before, s.snapshot(), "something was written");
    assert!(s.target_files().is_empty());
}

#[test]
fn subkey_of_certify_only_primary_is_accepted() {
    let s = built();
    let cert = testkit::read_cert(&s.secret);
    // The primary cannot sign: the signature must come from the subkey.
    assert!(cert
        .primary_key()
        .self_signatures()
        .all(|sig| sig.key_flags().is_some_and(|f| !f.for_signing())));
    let p = s.open();
    assert_eq!(p.packages().len(), 2);
    let report = p.verify_archives(p.packages());
    assert!(report.is_clean(), "{:?}", report.audit_lines());
}

#[test]
fn tampered_manifest_is_refused() {
    let s = built();
    let mut m = std::fs::read(s.manifest()).unwrap();
    m[0] = if m[0] == b'0' { b'1' } else { b'0' };
    std::fs::write(s.manifest(), m).unwrap();
    assert!(matches!(
        open_verified(&s.payload, &s.keyring()),
        Err(PayloadError::Signature { ref path, problem: SigProblem::BadSignature(_) }) if *path == s.manifest_sig()
    ));
}

#[test]
fn tampered_index_is_refused() {
    let s = built();
    let mut i = std::fs::read(s.index()).unwrap();
    let n = i.len();
    i[n / 2] ^= 0x01;
    std::fs::write(s.index(), i).unwrap();
    assert!(matches!(
        open_verified(&s.payload, &s.keyring()),
        Err(PayloadError::Signature { ref path, problem: SigProblem::BadSignature(_) }) if *path == s.index_sig()
    ));
}

#[test]
fn unknown_key_is_refused() {
    let s = built();
    let (_sec, other_pub) = testkit::generate_key(s.tmp.path(), "Somebody Else <else@example.org>");
    let other = Keyring::load(&other_pub).unwrap();
    assert_sig_refused(&s, &other, &s.manifest_sig(), SigProblem::UnknownKey);
}

#[test]
fn key_expired_after_signing_is_refused() {
    let s = built();
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    // Created 3 days ago, valid 2 days: expired yesterday; signed 2 days ago (then valid).
    let cert = testkit::new_cert(
        "Expired <expired@example.org>",
        now - 3 * day,
        Some(2 * day),
    );
    let (sec, public) = testkit::write_cert(s.tmp.path(), "expired", &cert);
    testkit::sign_file(&sec, &s.manifest(), &s.manifest_sig(), Some(now - 2 * day));
    testkit::sign_file(&sec, &s.index(), &s.index_sig(), Some(now - 2 * day));
    let k = Keyring::load(&public).unwrap();
    assert_sig_refused(&s, &k, &s.manifest_sig(), SigProblem::KeyExpired);
}

#[test]
fn hard_revoked_key_is_refused() {
    let s = built();
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);
    let cert = testkit::new_cert("Hard <hard@example.org>", now - 3 * hour, None);
    let (sec, _) = testkit::write_cert(s.tmp.path(), "hard", &cert);
    testkit::sign_file(&sec, &s.manifest(), &s.manifest_sig(), Some(now - 2 * hour));
    testkit::sign_file(&sec, &s.index(), &s.index_sig(), Some(now - 2 * hour));
    let (_, public) = testkit::revoke_cert(s.tmp.path(), &sec, true, now - hour);
    let k = Keyring::load(&public).unwrap();
    assert_sig_refused(&s, &k, &s.manifest_sig(), SigProblem::KeyRevoked);
}

#[test]
fn soft_revoked_key_is_refused() {
    let s = built();
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);
    let cert = testkit::new_cert("Soft <soft@example.org>", now - 3 * hour, None);
    let (sec, _) = testkit::write_cert(s.tmp.path(), "soft", &cert);
    // Signed before the (soft) retirement: sequoia alone would accept this.
    testkit::sign_file(&sec, &s.manifest(), &s.manifest_sig(), Some(now - 2 * hour));
    testkit::sign_file(&sec, &s.index(), &s.index_sig(), Some(now - 2 * hour));
    let (_, public) = testkit::revoke_cert(s.tmp.path(), &sec, false, now - hour);
    let k = Keyring::load(&public).unwrap();
    assert_sig_refused(&s, &k, &s.manifest_sig(), SigProblem::KeyRevoked);
}

#[test]
fn truncated_signature_is_refused() {
    let s = built();
    let sig = std::fs::read(s.manifest_sig()).unwrap();
    std::fs::write(s.manifest_sig(), &sig[..sig.len() / 2]).unwrap();
    let k = s.keyring();
    let before = s.snapshot();
    assert!(matches!(
        open_verified(&s.payload, &k),
        Err(PayloadError::Signature { ref path, problem: SigProblem::Malformed(_) }) if *path == s.manifest_sig()
    ));
    assert_eq!(before, s.snapshot());
}

#[test]
fn garbage_signature_is_refused() {
    let s = built();
    std::fs::write(s.index_sig(), b"this is not an OpenPGP signature at all\n").unwrap();
    assert!(matches!(
        open_verified(&s.payload, &s.keyring()),
        Err(PayloadError::Signature { ref path, problem: SigProblem::Malformed(_) }) if *path == s.index_sig()
    ));
}

#[test]
fn empty_signature_is_refused() {
    let s = built();
    std::fs::write(s.manifest_sig(), b"").unwrap();
    let k = s.keyring();
    assert_sig_refused(&s, &k, &s.manifest_sig(), SigProblem::Empty);
}

#[test]
fn public_key_as_signature_is_refused() {
    let s = built();
    std::fs::copy(&s.keyring, s.index_sig()).unwrap();
    assert!(matches!(
        open_verified(&s.payload, &s.keyring()),
        Err(PayloadError::Signature { ref path, problem: SigProblem::Malformed(_) }) if *path == s.index_sig()
    ));
}

#[test]
fn missing_signature_names_the_file() {
    let s = built();
    std::fs::remove_file(s.index_sig()).unwrap();
    assert!(matches!(
        open_verified(&s.payload, &s.keyring()),
        Err(PayloadError::Io { ref path, .. }) if *path == s.index_sig()
    ));
}

#[test]
fn gpg_subkey_signatures_are_accepted() {
    let s = Scratch::new();
    two_packages(&s);
    forge_payload::build::build_payload(&s.payload, None).unwrap();
    assert!(!s.manifest_sig().exists() && !s.index_sig().exists());
    let Some(gpg) = Gpg::new(&s.tmp.path().join("gnupg"), "GPG Release <gpg@example.org>") else {
        common::skip::skip("gpg is not installed");
        return;
    };
    gpg.sign_payload(&s.payload);
    let public = s.tmp.path().join("gpg-pub.asc");
    gpg.export_public(&public);
    let k = Keyring::load(&public).unwrap();
    let p = open_verified(&s.payload, &k).expect("gpg-made signatures accepted");
    assert!(p.verify_archives(p.packages()).is_clean());
    // The same payload is refused by a keyring without gpg's key.
    assert!(matches!(
        open_verified(&s.payload, &s.keyring()),
        Err(PayloadError::Signature {
            problem: SigProblem::UnknownKey,
            ..
        })
    ));
}

#[test]
fn keyring_public_bytes_have_no_secrets() {
    let s = built();
    let k = Keyring::load(&s.secret).unwrap();
    let bytes = k.public_bytes();
    let back = testkit::read_cert_bytes(&bytes);
    assert!(
        !back.is_tsk(),
        "secret key material leaked into public_bytes"
    );
    assert_eq!(
        back.fingerprint(),
        testkit::read_cert(&s.secret).fingerprint()
    );
}

#[test]
fn bad_keyring_is_refused_naming_it() {
    let s = built();
    let bad = s.tmp.path().join("bad.asc");
    std::fs::write(&bad, b"garbage").unwrap();
    assert!(
        matches!(Keyring::load(&bad), Err(PayloadError::Keyring { ref path, .. }) if *path == bad)
    );
}
