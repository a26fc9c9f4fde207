//! Adversarial corpus, deployment: every archive that tries to leave the
//! root is refused with its exact reason, rolled back, and nothing appears
//! outside the root; plus what a good deployment keeps and registers.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::{base_package, built, Scratch};
use forge_payload::testkit::{self, RawEntry};
use forge_payload::{DeployEvent, FileStatus, PayloadError, UnsafeReason};

/// Builds a payload of one raw package `evil` plus the good `base`, deploys
/// everything and returns the error of `evil` (asserting `base` landed and
/// nothing changed outside the target).
fn refusal(entries: Vec<RawEntry>, size: u64) -> (Scratch, PayloadError) {
    let s = Scratch::new();
    base_package(&s);
    s.raw_package("evil", size, entries);
    s.build();
    let before = s.snapshot();
    let mut report = s.deploy_all();
    assert_eq!(
        before,
        s.snapshot(),
        "something was written outside the target"
    );
    assert_eq!(
        report.installed.len(),
        1,
        "the good package still lands: {:?}",
        report.failed
    );
    assert_eq!(report.installed[0].name, "base");
    assert_eq!(report.failed.len(), 1);
    let (name, err) = report.failed.remove(0);
    assert_eq!(name, "evil");
    assert!(
        !s.target.join("var/lib/pkm/local/evil").exists(),
        "refused package registered"
    );
    (s, err)
}

fn assert_unsafe(err: &PayloadError, entry: &str, reason: UnsafeReason) {
    match err {
        PayloadError::UnsafeEntry {
            path,
            entry: e,
            reason: r,
        } => {
            assert!(path.ends_with("packages/evil-1.0.igos.tar.gz"), "{path:?}");
            assert_eq!(e, entry);
            assert_eq!(*r, reason);
        }
        other => panic!("expected {reason:?} on {entry}, got {other:?}"),
    }
}

#[test]
fn parent_dir_traversal_is_refused() {
    let (s, e) = refusal(
        vec![
            RawEntry::file("usr/share/evil/first", b"rolled back"),
            RawEntry::file("../outside/pwned", b"x"),
        ],
        100,
    );
    assert_unsafe(&e, "../outside/pwned", UnsafeReason::ParentDir);
    assert!(!s.outside.join("pwned").exists());
    // Rolled back: the file before the bad entry and the directory it made.
    assert!(!s.target.join("usr/share/evil/first").exists());
    assert!(!s.target.join("usr").exists(), "{:?}", s.target_files());
}

#[test]
fn nested_parent_dir_traversal_is_refused() {
    let (_s, e) = refusal(vec![RawEntry::file("usr/../../outside/pwned", b"x")], 100);
    assert_unsafe(&e, "usr/../../outside/pwned", UnsafeReason::ParentDir);
}

#[test]
fn absolute_path_is_refused() {
    let s0 = Scratch::new();
    let abs = s0.outside.join("abs-pwned");
    let abs_str = abs.to_str().unwrap().to_string();
    let (_s, e) = refusal(vec![RawEntry::file(&abs_str, b"x")], 100);
    assert_unsafe(&e, &abs_str, UnsafeReason::AbsolutePath);
    assert!(!abs.exists());
}

#[test]
fn symlink_then_write_through_is_refused() {
    let s0 = Scratch::new();
    let out = s0.outside.to_str().unwrap().to_string();
    // An absolute link is accepted (it means TARGET/<out> in the installed
    // system), but writing through it must not reach the host's <out>.
    let (s, e) = refusal(
        vec![
            RawEntry::symlink("escape", &out),
            RawEntry::file("escape/pwned", b"x"),
        ],
        100,
    );
    assert_unsafe(&e, "escape/pwned", UnsafeReason::ThroughSymlink);
    assert!(!s0.outside.join("pwned").exists());
    assert!(!s.target.join("escape").exists(), "rolled back");
}

#[test]
fn write_through_existing_symlink_of_another_package_is_refused() {
    // Package `base` plants a directory symlink; `evil` writes through it.
    let s = Scratch::new();
    let out = s.outside.to_str().unwrap().to_string();
    let base = s.packages().join("base-1.0.igos.tar.gz");
    testkit::write_raw_archive(
        &base,
        &[
            RawEntry::pkginfo(&testkit::info("base", "1.0", "core", &[], 0)),
            RawEntry::symlink("lib", &out),
        ],
    );
    s.raw_package("evil", 10, vec![RawEntry::file("lib/pwned", b"x")]);
    s.build();
    let p = s.open();
    let report = p.verify_archives(p.packages());
    let base_pkgs: Vec<_> = p
        .packages()
        .iter()
        .filter(|e| e.name == "base")
        .cloned()
        .collect();
    let evil_pkgs: Vec<_> = p
        .packages()
        .iter()
        .filter(|e| e.name == "evil")
        .cloned()
        .collect();
    let r1 = forge_payload::deploy(&p, &report, &base_pkgs, &s.target, &|_| {});
    assert!(r1.failed.is_empty(), "{:?}", r1.failed);
    let r2 = forge_payload::deploy(&p, &report, &evil_pkgs, &s.target, &|_| {});
    assert_unsafe(&r2.failed[0].1, "lib/pwned", UnsafeReason::ThroughSymlink);
    assert!(!s.outside.join("pwned").exists());
}

#[test]
fn hard_link_to_host_shadow_is_refused() {
    let (_s, e) = refusal(
        vec![RawEntry::hardlink("etc/shadow-copy", "/etc/shadow")],
        100,
    );
    assert_unsafe(&e, "etc/shadow-copy", UnsafeReason::HardLinkTarget);
    let (_s, e) = refusal(
        vec![RawEntry::hardlink(
            "etc/shadow-copy",
            "../../../../../../../../etc/shadow",
        )],
        100,
    );
    assert_unsafe(&e, "etc/shadow-copy", UnsafeReason::HardLinkTarget);
    // A path that names the target's own etc/shadow, not extracted by this package.
    let (s, e) = refusal(
        vec![RawEntry::hardlink("etc/shadow-copy", "etc/base.conf")],
        100,
    );
    assert_unsafe(&e, "etc/shadow-copy", UnsafeReason::HardLinkTarget);
    assert!(!s.target.join("etc/shadow-copy").exists());
}

#[test]
fn symlink_to_outside_is_refused() {
    let (s, e) = refusal(
        vec![RawEntry::symlink(
            "etc/passwd-link",
            "../../../../../../etc/shadow",
        )],
        100,
    );
    assert_unsafe(&e, "etc/passwd-link", UnsafeReason::SymlinkEscapes);
    assert!(std::fs::symlink_metadata(s.target.join("etc/passwd-link")).is_err());
}

#[test]
fn device_nodes_and_fifos_are_refused() {
    let (_s, e) = refusal(
        vec![RawEntry::special("dev/sda", tar::EntryType::Block)],
        100,
    );
    assert_unsafe(&e, "dev/sda", UnsafeReason::SpecialFile);
    let (_s, e) = refusal(
        vec![RawEntry::special("dev/null", tar::EntryType::Char)],
        100,
    );
    assert_unsafe(&e, "dev/null", UnsafeReason::SpecialFile);
    let (_s, e) = refusal(
        vec![RawEntry::special("run/fifo", tar::EntryType::Fifo)],
        100,
    );
    assert_unsafe(&e, "run/fifo", UnsafeReason::SpecialFile);
}

#[test]
fn huge_declared_size_is_refused_before_writing() {
    let mut huge = RawEntry::file("var/big", b"small actual data");
    huge.declared_size = Some(1 << 40);
    let (s, e) = refusal(vec![huge], 1000);
    assert_unsafe(&e, "var/big", UnsafeReason::EntryTooLarge);
    assert!(!s.target.join("var/big").exists());
}

#[test]
fn files_beyond_declared_installed_size_are_refused() {
    let (_s, e) = refusal(
        vec![
            RawEntry::file("a", &[1u8; 60]),
            RawEntry::file("b", &[2u8; 60]),
        ],
        100,
    );
    assert_unsafe(&e, "b", UnsafeReason::EntryTooLarge);
}

#[test]
fn reserved_pkm_database_path_is_refused() {
    let (_s, e) = refusal(
        vec![RawEntry::file("var/lib/pkm/local/base/desc", b"forged")],
        100,
    );
    assert_unsafe(
        &e,
        "var/lib/pkm/local/base/desc",
        UnsafeReason::ReservedPath,
    );
}

#[test]
fn truncated_gzip_is_refused_and_rolled_back() {
    let s = Scratch::new();
    // Random-ish data so the compressed stream is long enough to cut in the middle.
    let data: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let p = s.raw_package(
        "evil",
        400_000,
        vec![
            RawEntry::file("usr/lib/first", &data),
            RawEntry::file("usr/lib/second", &data),
        ],
    );
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() * 3 / 4]).unwrap();
    s.build();
    let before = s.snapshot();
    let report = s.deploy_all();
    assert_eq!(before, s.snapshot());
    match &report.failed[..] {
        [(name, PayloadError::CorruptArchive { path, .. })] => {
            assert_eq!(name, "evil");
            assert_eq!(*path, p);
        }
        other => panic!("expected a corrupt archive, got {other:?}"),
    }
    assert!(s.target_files().is_empty(), "{:?}", s.target_files());
}

#[test]
fn lying_pkginfo_is_refused() {
    let s = built();
    // Replace app's archive by one whose .PKGINFO claims another name, and
    // sign a payload listing it as `app` (a signer's mistake or a mix-up).
    let p = s.open();
    let app = p
        .packages()
        .iter()
        .find(|e| e.name == "app")
        .unwrap()
        .clone();
    let path = s.payload.join(&app.file);
    let mut lie = testkit::info("base", "2.0", "base", &[], 100);
    testkit::write_raw_archive(
        &path,
        &[
            RawEntry::file("usr/bin/app", b"not app"),
            RawEntry::pkginfo(&lie),
        ],
    );
    lie.name = "app".into();
    lie.depends = vec!["base".into()];
    let mut entries: Vec<_> = p
        .packages()
        .iter()
        .filter(|e| e.name != "app")
        .cloned()
        .collect();
    entries.push(testkit::entry_for(&s.payload, "app-2.0.igos.tar.gz", &lie));
    testkit::write_signed(&s.payload, &entries, &s.secret);
    let before = s.snapshot();
    let report = s.deploy_all();
    assert_eq!(before, s.snapshot());
    match &report.failed[..] {
        [(
            name,
            PayloadError::PkgInfoMismatch {
                field,
                expected,
                found,
                ..
            },
        )] => {
            assert_eq!(name, "app");
            assert_eq!(field, "pkgname");
            assert_eq!(expected, "app");
            assert_eq!(found, "base");
        }
        other => panic!("expected a lying .PKGINFO refusal, got {other:?}"),
    }
    assert!(
        !s.target.join("usr/bin/app").exists(),
        "extracted before the lie was seen: rolled back"
    );
}

#[test]
fn archive_swapped_after_verification_never_lands() {
    let s = built();
    let p = s.open();
    let pkgs = p.packages().to_vec();
    let report = p.verify_archives(&pkgs);
    assert!(report.is_clean());
    // Swap app's archive after the integrity check (same name, other bytes).
    let app = pkgs.iter().find(|e| e.name == "app").unwrap();
    testkit::make_package(
        &s.packages(),
        "app",
        "2.0",
        "base",
        &["base"],
        &[("usr/bin/app", b"#!/bin/sh\necho EVL\n")],
        None,
    );
    let before = s.snapshot();
    let out = forge_payload::deploy(&p, &report, &pkgs, &s.target, &|_| {});
    assert_eq!(before, s.snapshot());
    match &out.failed[..] {
        [(name, PayloadError::HashMismatch { path, expected, .. })] => {
            assert_eq!(name, "app");
            assert_eq!(*path, s.payload.join(&app.file));
            assert_eq!(*expected, app.sha256);
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    assert!(!s.target.join("usr/bin/app").exists());
    assert!(!s.target.join("usr").exists());
    assert!(!s.target.join("var/lib/pkm/local/app").exists());
    assert!(s.target.join("etc/base.conf").exists());
}

#[test]
fn overridden_mismatch_deploys_the_bytes_that_were_seen() {
    let s = built();
    let p = s.open();
    // Tamper before verification: the report records the actual hash and,
    // after an authorized override, exactly those bytes may land.
    testkit::make_package(
        &s.packages(),
        "base",
        "1.0",
        "core",
        &[],
        &[("etc/base.conf", b"chg\n")],
        None,
    );
    let pkgs = p.packages().to_vec();
    let report = p.verify_archives(&pkgs);
    assert!(!report.is_clean());
    let out = forge_payload::deploy(&p, &report, &pkgs, &s.target, &|_| {});
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(s.target_bytes("etc/base.conf"), b"chg\n");
}

#[test]
fn unverified_package_is_refused() {
    let s = built();
    let p = s.open();
    let pkgs = p.packages().to_vec();
    let empty = forge_payload::IntegrityReport::default();
    let out = forge_payload::deploy(&p, &empty, &pkgs, &s.target, &|_| {});
    assert_eq!(out.failed.len(), 2);
    assert!(out
        .failed
        .iter()
        .all(|(_, e)| matches!(e, PayloadError::NotVerified { .. })));
    // A forged entry that is not in the verified index.
    let mut forged = pkgs[0].clone();
    forged.installed_size = u64::MAX;
    let report = p.verify_archives(&pkgs);
    let out = forge_payload::deploy(&p, &report, &[forged], &s.target, &|_| {});
    assert!(matches!(out.failed[0].1, PayloadError::NotVerified { .. }));
    assert!(s.target_files().is_empty());
}

#[test]
fn good_deploy_keeps_metadata_and_registers() {
    let s = Scratch::new();
    base_package(&s);
    let mut setuid = RawEntry::file("usr/bin/su", b"su binary");
    setuid.mode = 0o4755;
    let mut exe = RawEntry::file("usr/bin/tool", b"tool");
    exe.mode = 0o750;
    let mut dir = RawEntry::dir("usr/share/tool");
    dir.mode = 0o700;
    s.raw_package(
        "tool",
        100,
        vec![
            RawEntry {
                mode: 0o755,
                ..RawEntry::file(".INSTALL", b"#!/bin/sh\necho hi\n")
            },
            dir,
            setuid,
            exe,
            RawEntry::hardlink("usr/bin/tool-alias", "usr/bin/tool"),
            RawEntry::symlink("usr/lib/libtool.so", "libtool.so.1"),
            RawEntry::symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
            RawEntry::file(".BUILDINFO", b"never extracted"),
        ],
    );
    s.build();
    let events = std::sync::Mutex::new(Vec::new());
    let payload = s.open();
    let pkgs = payload.packages().to_vec();
    let report = payload.verify_archives(&pkgs);
    let out = forge_payload::deploy(&payload, &report, &pkgs, &s.target, &|e| {
        events.lock().unwrap().push(e)
    });
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.installed.len(), 2);
    let ev = events.into_inner().unwrap();
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, DeployEvent::Started { .. }))
            .count(),
        2
    );
    assert!(ev.iter().any(|e| matches!(
        e,
        DeployEvent::Finished {
            done: 2,
            total: 2,
            ..
        }
    )));

    let t = &s.target;
    let m = std::fs::metadata(t.join("usr/bin/su")).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o4755);
    assert_eq!(m.mtime(), testkit::FIXED_MTIME as i64);
    assert_eq!((m.uid(), m.gid()), (0, 0));
    assert_eq!(
        std::fs::metadata(t.join("usr/bin/tool"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o750
    );
    let d = std::fs::metadata(t.join("usr/share/tool")).unwrap();
    assert_eq!(d.permissions().mode() & 0o7777, 0o700);
    assert_eq!(d.mtime(), testkit::FIXED_MTIME as i64);
    assert_eq!(
        std::fs::metadata(t.join("usr/bin/tool")).unwrap().ino(),
        std::fs::metadata(t.join("usr/bin/tool-alias"))
            .unwrap()
            .ino()
    );
    assert_eq!(
        std::fs::read_link(t.join("etc/localtime"))
            .unwrap()
            .to_str(),
        Some("/usr/share/zoneinfo/UTC")
    );
    assert!(
        !t.join(".PKGINFO").exists()
            && !t.join(".INSTALL").exists()
            && !t.join(".BUILDINFO").exists()
    );

    // Registration.
    let tool = out.installed.iter().find(|i| i.name == "tool").unwrap();
    assert_eq!(
        tool.install_script.as_deref(),
        Some(std::path::Path::new("/var/lib/pkm/local/tool/install"))
    );
    let db = t.join("var/lib/pkm/local/tool");
    assert_eq!(
        std::fs::read(db.join("install")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    let desc = std::fs::read_to_string(db.join("desc")).unwrap();
    assert!(
        desc.contains("name = tool\n") && desc.contains("version = 1.0\n"),
        "{desc}"
    );
    let files = std::fs::read_to_string(db.join("files")).unwrap();
    let sha_su = "f ".to_string() + &sha256_hex(b"su binary") + " 4755 /usr/bin/su";
    assert!(files.lines().any(|l| l == sha_su), "{files}");
    assert!(
        files
            .lines()
            .any(|l| l == "l - 0777 /etc/localtime -> /usr/share/zoneinfo/UTC"),
        "{files}"
    );
    assert!(files
        .lines()
        .any(|l| l.starts_with("f ") && l.ends_with(" /usr/bin/tool-alias")));
    assert!(t.join("var/lib/pkm/local/base/files").exists());
}

#[test]
fn redeploy_into_same_root_replaces_files() {
    let s = built();
    assert!(s.deploy_all().failed.is_empty());
    let out = s.deploy_all();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(s.target_bytes("etc/base.conf"), b"base\n");
}

#[test]
fn integrity_report_feeds_audit_and_signal() {
    let s = built();
    let p = s.open();
    let r = p.verify_archives(p.packages());
    assert_eq!(r.audit_lines().len(), 2);
    assert!(r
        .audit_lines()
        .iter()
        .all(|l| l.starts_with("OK packages/")));
    assert!(r.mismatches().is_empty());
    assert!(r
        .files
        .iter()
        .all(|f| matches!(f.status, FileStatus::Ok { .. })));
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
