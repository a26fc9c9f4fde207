//! `forgectl payload build|verify|deploy` end to end: a gpg-subkey-signed
//! payload is accepted; every corpus case exits non-zero naming the file.

use std::path::Path;
use std::process::{Command, Output};

use forge_payload::testkit::{self, Gpg, RawEntry};

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../tests/harness/skip.rs"]
mod skip;

fn forgectl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_forgectl"))
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run forgectl")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a non-zero exit whose stderr names `file`.
fn assert_refused(o: &Output, file: &Path) {
    assert!(!o.status.success(), "accepted; stderr: {}", stderr(o));
    assert!(
        stderr(o).contains(s(file)),
        "stderr does not name {}: {}",
        file.display(),
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

#[test]
fn gpg_subkey_signed_payload_verifies_and_deploys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("payload");
    let pk = dir.join("packages");
    testkit::make_package(
        &pk,
        "base",
        "1.0",
        "core",
        &[],
        &[("etc/issue", b"hello\n")],
        None,
    );
    testkit::make_package(
        &pk,
        "app",
        "1.0",
        "base",
        &["base"],
        &[("usr/bin/app", b"app\n")],
        None,
    );
    let o = forgectl(&["payload", "build", s(&dir)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let Some(gpg) = Gpg::new(&tmp.path().join("gnupg"), "CLI Release <cli@example.org>") else {
        skip::skip("gpg is not installed");
        return;
    };
    gpg.sign_payload(&dir);
    let keyring = tmp.path().join("release.asc");
    gpg.export_public(&keyring);
    let o = forgectl(&["payload", "verify", s(&dir), "--keyring", s(&keyring)]);
    assert!(o.status.success(), "{}", stderr(&o));

    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let o = forgectl(&[
        "payload",
        "deploy",
        s(&dir),
        "--keyring",
        s(&keyring),
        "--root",
        s(&root),
        "--groups",
        "base",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(root.join("etc/issue")).unwrap(), b"hello\n");
    assert!(root.join("usr/bin/app").exists());
    assert!(root.join("var/lib/pkm/local/app/files").exists());

    // gpg's payload with a different keyring: refused, naming the signature.
    let (_sec, other) = testkit::generate_key(tmp.path(), "Other <other@example.org>");
    let o = forgectl(&["payload", "verify", s(&dir), "--keyring", s(&other)]);
    assert_refused(&o, &dir.join("intergenos-archive-manifest.txt.asc"));
}

struct Signed {
    tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    keyring: std::path::PathBuf,
}

fn signed() -> Signed {
    let tmp = tempfile::tempdir().unwrap();
    let sp = testkit::sample_payload(tmp.path());
    let o = forgectl(&["payload", "verify", s(&sp.dir), "--keyring", s(&sp.keyring)]);
    assert!(o.status.success(), "{}", stderr(&o));
    Signed {
        dir: sp.dir,
        keyring: sp.keyring,
        tmp,
    }
}

fn verify(p: &Signed) -> Output {
    forgectl(&["payload", "verify", s(&p.dir), "--keyring", s(&p.keyring)])
}

#[test]
fn corpus_cases_exit_nonzero_naming_the_file() {
    // Tampered archive.
    let p = signed();
    let a = p.dir.join("packages/editor-2.0-1.igos.tar.gz");
    let mut b = std::fs::read(&a).unwrap();
    let n = b.len();
    b[n - 10] ^= 1;
    std::fs::write(&a, b).unwrap();
    assert_refused(&verify(&p), &a);

    // Tampered manifest / index.
    let p = signed();
    let m = p.dir.join("intergenos-archive-manifest.txt");
    let mut text = std::fs::read(&m).unwrap();
    text[5] = if text[5] == b'a' { b'b' } else { b'a' };
    std::fs::write(&m, text).unwrap();
    assert_refused(
        &verify(&p),
        &p.dir.join("intergenos-archive-manifest.txt.asc"),
    );
    let p = signed();
    let i = p.dir.join("InterGenOS.db");
    let mut b = std::fs::read(&i).unwrap();
    b[20] ^= 1;
    std::fs::write(&i, b).unwrap();
    assert_refused(&verify(&p), &p.dir.join("InterGenOS.db.sig"));

    // Garbage, empty, truncated signatures; a public key as signature.
    for bad in [
        &b"garbage"[..],
        b"",
        b"-----BEGIN PGP SIGNATURE-----\n\nwnUEABYK\n",
    ] {
        let p = signed();
        let sig = p.dir.join("InterGenOS.db.sig");
        std::fs::write(&sig, bad).unwrap();
        assert_refused(&verify(&p), &sig);
    }
    let p = signed();
    let sig = p.dir.join("intergenos-archive-manifest.txt.asc");
    std::fs::copy(&p.keyring, &sig).unwrap();
    assert_refused(&verify(&p), &sig);

    // Unknown key.
    let p = signed();
    let (_sec, other) = testkit::generate_key(p.tmp.path(), "Nobody <nobody@example.org>");
    let o = forgectl(&["payload", "verify", s(&p.dir), "--keyring", s(&other)]);
    assert_refused(&o, &p.dir.join("intergenos-archive-manifest.txt.asc"));

    // Unlisted archive; missing archive.
    let p = signed();
    let extra = p.dir.join("packages/extra-1.0.igos.tar.gz");
    std::fs::write(&extra, b"x").unwrap();
    assert_refused(&verify(&p), &extra);
    let p = signed();
    let gone = p.dir.join("packages/wallpaper-0.1-1.igos.tar.gz");
    std::fs::remove_file(&gone).unwrap();
    assert_refused(&verify(&p), &gone);

    // Unreadable keyring: exit 2, naming it.
    let p = signed();
    let nokey = p.tmp.path().join("missing.asc");
    let o = forgectl(&["payload", "verify", s(&p.dir), "--keyring", s(&nokey)]);
    assert_eq!(o.status.code(), Some(2));
    assert_refused(&o, &nokey);
}

#[test]
fn deploy_reports_unsafe_archive_and_exits_nonzero() {
    let tmp = tempfile::tempdir().unwrap();
    let (sec, keyring) = testkit::generate_key(tmp.path(), "Deploy <deploy@example.org>");
    let dir = tmp.path().join("payload");
    let pk = dir.join("packages");
    std::fs::create_dir_all(&pk).unwrap();
    let evil = pk.join("evil-1.0.igos.tar.gz");
    testkit::write_raw_archive(
        &evil,
        &[
            RawEntry::pkginfo(&testkit::info("evil", "1.0", "core", &[], 10)),
            RawEntry::file("../escape", b"x"),
        ],
    );
    let o = forgectl(&["payload", "build", s(&dir), "--sign-key", s(&sec)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let o = forgectl(&[
        "payload",
        "deploy",
        s(&dir),
        "--keyring",
        s(&keyring),
        "--root",
        s(&root),
        "--groups",
        "core",
    ]);
    assert_refused(&o, &evil);
    assert!(!tmp.path().join("escape").exists());
}

#[test]
fn build_refusal_names_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("payload");
    let pk = dir.join("packages");
    std::fs::create_dir_all(&pk).unwrap();
    let bad = pk.join("bad-1.0.igos.tar.gz");
    testkit::write_raw_archive(&bad, &[RawEntry::file("usr/bin/x", b"x")]);
    let o = forgectl(&["payload", "build", s(&dir)]);
    assert_refused(&o, &bad);
}

#[test]
fn build_expires_is_signed_and_an_expired_payload_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let sp = testkit::sample_payload(tmp.path());
    // A date: signed into the index, shown by build, accepted until then.
    let o = forgectl(&[
        "payload",
        "build",
        s(&sp.dir),
        "--sign-key",
        s(&sp.secret_key),
        "--expires",
        "2999-01-01",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("expires 2999-01-01T00:00:00Z"), "{out}");
    let o = forgectl(&["payload", "verify", s(&sp.dir), "--keyring", s(&sp.keyring)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Garbage and past dates are refused before anything is written.
    for bad in ["soon", "2001-01-01", "0d"] {
        let o = forgectl(&["payload", "build", s(&sp.dir), "--expires", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("--expires"), "{}", stderr(&o));
    }
    // An index that expired: verify refuses it naming the index and the date.
    let entries = forge_payload::build::scan(&sp.dir).unwrap();
    let now = forge_payload::freshness::unix_secs(std::time::SystemTime::now());
    let validity = forge_payload::freshness::Validity {
        created: now - 10 * 86_400,
        expires: now - 86_400,
    };
    testkit::write_signed_valid(&sp.dir, &entries, &sp.secret_key, &validity);
    let o = forgectl(&["payload", "verify", s(&sp.dir), "--keyring", s(&sp.keyring)]);
    assert_refused(&o, &sp.dir.join("InterGenOS.db"));
    assert!(
        stderr(&o).contains(&validity.expires_utc()) && stderr(&o).contains("expired"),
        "{}",
        stderr(&o)
    );
}
