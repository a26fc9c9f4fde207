//! Adversarial corpus, packages against each other (issue 9, item 7): a
//! path shipped by two packages is a conflict found before extraction, a
//! failed package's rollback leaves alone what other packages need, and a
//! directory several packages list gets the same owner and mode every run.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Scratch;
use forge_payload::testkit::RawEntry;
use forge_payload::{DeployReport, PackageEntry, PayloadError};

/// Verifies the payload and deploys the named packages, in this order, into `root`.
fn deploy_in_order(s: &Scratch, names: &[&str], root: &Path) -> DeployReport {
    let payload = s.open();
    let all = payload.packages().to_vec();
    let report = payload.verify_archives(&all);
    assert!(report.is_clean(), "{:?}", report.audit_lines());
    let pkgs: Vec<PackageEntry> = names
        .iter()
        .map(|n| all.iter().find(|e| e.name == *n).unwrap().clone())
        .collect();
    std::fs::create_dir_all(root).unwrap();
    forge_payload::deploy(&payload, &report, &pkgs, root, &|_| {})
}

fn failed<'a>(report: &'a DeployReport, name: &str) -> &'a PayloadError {
    &report
        .failed
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} did not fail: {:?}", report.failed))
        .1
}

fn assert_conflict(err: &PayloadError, entry: &str, package: &str, other: &str) {
    match err {
        PayloadError::FileConflict {
            path,
            entry: e,
            package: p,
            other: o,
        } => {
            assert!(
                path.ends_with(format!("packages/{package}-1.0.igos.tar.gz")),
                "{path:?}"
            );
            assert_eq!(
                (e.as_str(), p.as_str(), o.as_str()),
                (entry, package, other)
            );
            let text = err.to_string();
            assert!(
                text.contains(&format!("/{entry}"))
                    && text.contains(package)
                    && text.contains(other),
                "{text}"
            );
        }
        other => panic!("expected a file conflict on {entry}, got {other:?}"),
    }
}

#[test]
fn same_file_in_two_packages_is_a_conflict_and_neither_is_extracted() {
    let s = Scratch::new();
    s.raw_package(
        "alpha",
        100,
        vec![
            RawEntry::file("usr/share/alpha/only-alpha", b"a"),
            RawEntry::file("usr/bin/tool", b"alpha's tool"),
        ],
    );
    s.raw_package(
        "beta",
        100,
        vec![RawEntry::file("usr/bin/tool", b"beta's tool")],
    );
    s.raw_package("gamma", 100, vec![RawEntry::file("etc/gamma.conf", b"g")]);
    s.build();
    let report = deploy_in_order(&s, &["alpha", "beta", "gamma"], &s.target);
    assert_eq!(report.installed.len(), 1, "{:?}", report.failed);
    assert_eq!(report.installed[0].name, "gamma");
    assert_conflict(failed(&report, "alpha"), "usr/bin/tool", "alpha", "beta");
    assert_conflict(failed(&report, "beta"), "usr/bin/tool", "beta", "alpha");
    // Nothing of either was extracted or registered.
    assert!(!s.target.join("usr").exists(), "{:?}", s.target_files());
    assert!(!s.target.join("var/lib/pkm/local/alpha").exists());
    assert!(!s.target.join("var/lib/pkm/local/beta").exists());
    assert!(s.target.join("etc/gamma.conf").exists());
}

#[test]
fn file_where_another_package_needs_a_directory_is_a_conflict() {
    let s = Scratch::new();
    s.raw_package("alpha", 100, vec![RawEntry::symlink("lib", "usr/lib")]);
    s.raw_package("beta", 100, vec![RawEntry::file("lib/libbeta.so", b"so")]);
    s.build();
    let report = deploy_in_order(&s, &["alpha", "beta"], &s.target);
    assert!(report.installed.is_empty(), "{:?}", report.installed);
    assert_conflict(failed(&report, "alpha"), "lib", "alpha", "beta");
    assert_conflict(failed(&report, "beta"), "lib", "beta", "alpha");
    assert!(s.target_files().is_empty(), "{:?}", s.target_files());
}

/// 32 MiB of data that compresses well (a slow first entry).
fn big() -> Vec<u8> {
    vec![7u8; 32 << 20]
}

#[test]
fn failed_package_rollback_keeps_a_directory_another_package_installed() {
    let s = Scratch::new();
    // `alpha` creates srv/shared (for its file) and then fails.
    s.raw_package(
        "alpha",
        100,
        vec![
            RawEntry::file("srv/shared/alpha-file", b"rolled back"),
            RawEntry::special("srv/fifo", tar::EntryType::Fifo),
        ],
    );
    // `beta` lists srv/shared itself, after a large file (so alpha has
    // created the directory and failed by the time beta reaches it).
    s.raw_package(
        "beta",
        40 << 20,
        vec![
            RawEntry::file("var/big", &big()),
            RawEntry::dir("srv/shared"),
        ],
    );
    s.build();
    let report = deploy_in_order(&s, &["alpha", "beta"], &s.target);
    assert_eq!(report.installed.len(), 1, "{:?}", report.failed);
    assert_eq!(report.installed[0].name, "beta");
    assert!(
        !s.target.join("srv/shared/alpha-file").exists(),
        "rolled back"
    );
    let files = std::fs::read_to_string(s.target.join("var/lib/pkm/local/beta/files")).unwrap();
    assert!(
        files.lines().any(|l| l.ends_with(" /srv/shared")),
        "{files}"
    );
    assert!(
        s.target.join("srv/shared").is_dir(),
        "the rollback removed a directory beta installed: {:?}",
        s.target_files()
    );
}

#[test]
fn shared_directory_gets_the_first_packages_mode_every_run() {
    let s = Scratch::new();
    let mut first = RawEntry::dir("srv/data");
    first.mode = 0o750;
    s.raw_package("alpha", 100, vec![first]);
    // `beta` lists the same directory with another mode and finishes last.
    let mut second = RawEntry::dir("srv/data");
    second.mode = 0o700;
    s.raw_package(
        "beta",
        40 << 20,
        vec![second, RawEntry::file("var/big", &big())],
    );
    s.build();
    for run in 0..3 {
        let root = s.tmp.path().join(format!("root{run}"));
        let report = deploy_in_order(&s, &["alpha", "beta"], &root);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        let mode = std::fs::metadata(root.join("srv/data"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(mode, 0o750, "run {run}: the first package's mode");
    }
    // Each package still registers the mode it shipped.
    let root = s.tmp.path().join("root0");
    let files = std::fs::read_to_string(root.join("var/lib/pkm/local/beta/files")).unwrap();
    assert!(files.lines().any(|l| l == "d - 0700 /srv/data"), "{files}");
}
