//! Cancel during a deploy (issue 9, item 6): `deploy_until` checks its
//! flag before each archive and between entries; a package it stopped is
//! rolled back like a failed one, so a cancelled deploy leaves nothing of
//! the packages it did not finish. The hashing before it (verify) gives up
//! on the same flag.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::{built, Scratch};
use forge_payload::{DeployEvent, PackageEntry};

#[test]
fn a_raised_flag_stops_the_deploy_before_anything_is_written() {
    let s = built();
    let payload = s.open();
    let pkgs: Vec<PackageEntry> = payload.packages().to_vec();
    let report = payload.verify_archives(&pkgs);
    let cancel = AtomicBool::new(true);
    let out = forge_payload::deploy_until(&payload, &report, &pkgs, &s.target, &|_| {}, &cancel);
    assert!(out.installed.is_empty(), "{:?}", out.installed);
    assert_eq!(out.failed.len(), pkgs.len());
    for (_, e) in &out.failed {
        assert!(e.to_string().contains("deploy cancelled"), "{e}");
    }
    assert!(s.target_files().is_empty(), "{:?}", s.target_files());
}

#[test]
fn cancel_mid_archive_rolls_back_the_package_being_extracted() {
    let s = Scratch::new();
    // One package of many entries; the flag is raised when it starts, so
    // the extraction stops at its next entry.
    let names: Vec<String> = (0..300)
        .map(|i| format!("usr/share/many/f{i:03}"))
        .collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x\n"[..])).collect();
    forge_payload::testkit::make_package(&s.packages(), "many", "1.0", "core", &[], &files, None);
    s.build();
    let payload = s.open();
    let pkgs: Vec<PackageEntry> = payload.packages().to_vec();
    let report = payload.verify_archives(&pkgs);
    let cancel = AtomicBool::new(false);
    let on_event = |e: DeployEvent| {
        if matches!(e, DeployEvent::Started { .. }) {
            cancel.store(true, Ordering::SeqCst);
        }
    };
    let out = forge_payload::deploy_until(&payload, &report, &pkgs, &s.target, &on_event, &cancel);
    assert!(out.installed.is_empty(), "{:?}", out.installed);
    let (_, e) = &out.failed[0];
    assert!(e.to_string().contains("deploy cancelled"), "{e}");
    assert!(s.target_files().is_empty(), "{:?}", s.target_files());
}

#[test]
fn a_raised_flag_stops_the_hashing_of_verify() {
    let s = built();
    let payload = s.open();
    let pkgs: Vec<PackageEntry> = payload.packages().to_vec();
    let go_on = AtomicBool::new(false);
    let report = payload
        .verify_archives_until(&pkgs, &go_on)
        .expect("not cancelled");
    assert!(report.is_clean(), "{report:?}");
    let cancel = AtomicBool::new(true);
    assert_eq!(payload.verify_archives_until(&pkgs, &cancel), None);
}
