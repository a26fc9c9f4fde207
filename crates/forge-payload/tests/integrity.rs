//! Adversarial corpus, payload integrity: tampered, unlisted, missing and
//! duplicate archives; index/manifest consistency; the index size cap;
//! group resolution; build refusals and reproducibility.

mod common;

use std::io::Write;

use common::{built, Scratch};
use forge_payload::testkit;
use forge_payload::{build, open_verified, FileStatus, PayloadError};

#[test]
fn tampered_archive_is_a_mismatch() {
    let s = built();
    let p = s.open();
    let app = p
        .packages()
        .iter()
        .find(|e| e.name == "app")
        .unwrap()
        .clone();
    let path = s.payload.join(&app.file);
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let report = p.verify_archives(p.packages());
    assert!(!report.is_clean());
    let f = report.files.iter().find(|f| f.path == app.file).unwrap();
    match &f.status {
        FileStatus::Mismatch { expected, actual } => {
            assert_eq!(*expected, app.sha256);
            assert_ne!(*actual, app.sha256);
        }
        other => panic!("expected mismatch, got {other:?}"),
    }
    let m = report.mismatches();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].0, app.file);
    assert!(report
        .audit_lines()
        .iter()
        .any(|l| l.starts_with("MISMATCH packages/app-2.0")));
    // The other archive is still ok.
    assert!(report
        .files
        .iter()
        .any(|f| f.path.contains("base-1.0") && matches!(f.status, FileStatus::Ok { .. })));
}

#[test]
fn archive_not_in_manifest_is_unlisted() {
    let s = built();
    std::fs::write(s.packages().join("intruder-1.0.igos.tar.gz"), b"whatever").unwrap();
    let p = s.open();
    let report = p.verify_archives(p.packages());
    assert!(!report.is_clean());
    let bad: Vec<_> = report
        .files
        .iter()
        .filter(|f| !matches!(f.status, FileStatus::Ok { .. }))
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].path, "packages/intruder-1.0.igos.tar.gz");
    assert!(matches!(bad[0].status, FileStatus::Unlisted { .. }));
}

#[test]
fn manifest_line_without_archive_is_missing() {
    let s = built();
    let p = s.open();
    let base = p
        .packages()
        .iter()
        .find(|e| e.name == "base")
        .unwrap()
        .clone();
    std::fs::remove_file(s.payload.join(&base.file)).unwrap();
    let report = p.verify_archives(p.packages());
    let f = report.files.iter().find(|f| f.path == base.file).unwrap();
    assert_eq!(
        f.status,
        FileStatus::Missing {
            expected: base.sha256.clone()
        }
    );
    assert!(!report.is_clean());
}

#[test]
fn signed_manifest_line_not_in_index_is_refused() {
    let s = built();
    let mut m = std::fs::read_to_string(s.manifest()).unwrap();
    m.push_str(&format!(
        "{}  packages/ghost-1.0.igos.tar.gz\n",
        "ab".repeat(32)
    ));
    let lines: Vec<&str> = m.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    std::fs::write(s.manifest(), sorted.join("\n") + "\n").unwrap();
    testkit::sign_file(&s.secret, &s.manifest(), &s.manifest_sig(), None);
    match open_verified(&s.payload, &s.keyring()) {
        Err(PayloadError::IndexManifestMismatch { file, .. }) => {
            assert_eq!(file, "packages/ghost-1.0.igos.tar.gz")
        }
        other => panic!("expected mismatch, got {other:?}"),
    }
}

#[test]
fn duplicate_manifest_lines_are_refused() {
    let s = built();
    let m = std::fs::read_to_string(s.manifest()).unwrap();
    let first = m.lines().next().unwrap().to_string();
    std::fs::write(s.manifest(), format!("{m}{first}\n")).unwrap();
    testkit::sign_file(&s.secret, &s.manifest(), &s.manifest_sig(), None);
    match open_verified(&s.payload, &s.keyring()) {
        Err(PayloadError::Manifest { path, line, reason }) => {
            assert_eq!(path, s.manifest());
            assert_eq!(line, 3);
            assert!(reason.contains("duplicate"), "{reason}");
        }
        other => panic!("expected duplicate refusal, got {other:?}"),
    }
}

#[test]
fn decompressed_index_is_capped() {
    let s = built();
    // 65 MiB of whitespace compresses to ~64 KiB: a signed gzip bomb.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..65 {
        enc.write_all(&chunk).unwrap();
    }
    std::fs::write(s.index(), enc.finish().unwrap()).unwrap();
    testkit::sign_file(&s.secret, &s.index(), &s.index_sig(), None);
    assert!(matches!(
        open_verified(&s.payload, &s.keyring()),
        Err(PayloadError::IndexTooLarge { ref path, .. }) if *path == s.index()
    ));
}

#[test]
fn groups_resolve_to_dependency_closure_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let sp = testkit::sample_payload(tmp.path());
    let k = forge_payload::Keyring::load(&sp.keyring).unwrap();
    let p = open_verified(&sp.dir, &k).unwrap();
    let names = |g: &[&str]| -> Vec<String> {
        p.resolve_groups(&g.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    assert_eq!(names(&["base"]), ["base-layout", "busybox", "editor"]);
    assert_eq!(names(&["desktop"]), ["base-layout", "wallpaper"]);
    assert_eq!(
        names(&["core", "base", "desktop"]),
        ["base-layout", "busybox", "editor", "wallpaper"]
    );
    assert!(matches!(
        p.resolve_groups(&["games".to_string()]),
        Err(PayloadError::UnknownGroup { ref group }) if group == "games"
    ));
    let g = p.group_summaries();
    assert_eq!(
        g.iter()
            .map(|g| (g.name.as_str(), g.packages))
            .collect::<Vec<_>>(),
        [("core", 2), ("base", 1), ("desktop", 1)]
    );
    assert_eq!(g[0].installed_size, 16 + 26);
}

#[test]
fn missing_dependency_is_named_at_resolve_time() {
    let s = built();
    let p = s.open();
    let mut entries = p.packages().to_vec();
    for e in &mut entries {
        if e.name == "app" {
            e.depends.push("libmissing".into());
        }
    }
    testkit::write_signed(&s.payload, &entries, &s.secret);
    let p = s.open();
    match p.resolve_groups(&["base".to_string()]) {
        Err(PayloadError::MissingDependency {
            package,
            dependency,
        }) => {
            assert_eq!(package, "app");
            assert_eq!(dependency, "libmissing");
        }
        other => panic!("expected missing dependency, got {other:?}"),
    }
}

#[test]
fn build_is_reproducible() {
    let s = built();
    let m1 = std::fs::read(s.manifest()).unwrap();
    let i1 = std::fs::read(s.index()).unwrap();
    build::build_payload(&s.payload, None).unwrap();
    assert_eq!(m1, std::fs::read(s.manifest()).unwrap());
    assert_eq!(i1, std::fs::read(s.index()).unwrap());
    // Unsigned rebuild removed the now-stale signatures.
    assert!(!s.manifest_sig().exists());
    // gzip header: mtime 0.
    assert_eq!(&i1[4..8], &[0, 0, 0, 0]);
    let text = std::fs::read_to_string(s.manifest()).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text
        .lines()
        .all(|l| l.len() == 64 + 2 + "packages/".len() + l[75..].len()));
}

#[test]
fn build_refuses_bad_inputs() {
    // Missing .PKGINFO.
    let s = Scratch::new();
    testkit::write_raw_archive(
        &s.packages().join("nometa-1.0.igos.tar.gz"),
        &[testkit::RawEntry::file("usr/bin/x", b"x")],
    );
    assert!(matches!(
        build::build_payload(&s.payload, None),
        Err(PayloadError::PkgInfo { field: None, ref reason, .. }) if reason == "missing"
    ));

    // Malformed .PKGINFO (bad tier).
    let s = Scratch::new();
    testkit::write_raw_archive(
        &s.packages().join("bad-1.0.igos.tar.gz"),
        &[testkit::RawEntry::file(
            ".PKGINFO",
            b"pkgname = bad\npkgver = 1.0\ntier = kitchen\nsize = 1\n",
        )],
    );
    assert!(matches!(
        build::build_payload(&s.payload, None),
        Err(PayloadError::PkgInfo { field: Some(ref f), .. }) if f == "tier"
    ));

    // Duplicate names (two versions of one package).
    let s = Scratch::new();
    testkit::make_package(&s.packages(), "dup", "1.0", "core", &[], &[], None);
    testkit::make_package(&s.packages(), "dup", "1.1", "core", &[], &[], None);
    assert!(matches!(
        build::build_payload(&s.payload, None),
        Err(PayloadError::DuplicatePackage { ref name, .. }) if name == "dup"
    ));

    // Dependency on a package that is not there.
    let s = Scratch::new();
    testkit::make_package(
        &s.packages(),
        "lonely",
        "1.0",
        "core",
        &["friend"],
        &[],
        None,
    );
    assert!(matches!(
        build::build_payload(&s.payload, None),
        Err(PayloadError::MissingDependency { ref dependency, .. }) if dependency == "friend"
    ));

    // A .PKGINFO that lies about its name (file says good, metadata says evil).
    let s = Scratch::new();
    testkit::write_raw_archive(
        &s.packages().join("good-1.0.igos.tar.gz"),
        &[testkit::RawEntry::pkginfo(&testkit::info(
            "evil",
            "1.0",
            "core",
            &[],
            0,
        ))],
    );
    assert!(matches!(
        build::build_payload(&s.payload, None),
        Err(PayloadError::PkgInfo { field: Some(ref f), .. }) if f == "pkgname"
    ));
    assert!(!s.manifest().exists(), "nothing written on refusal");
}
