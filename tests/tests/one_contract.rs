//! Issue 10's structural acceptance points, held by a test rather than a
//! note: the repository cites no design document outside itself, each wire
//! type is defined once (in `forge_proto::wire`), and no client builds its
//! own job-signal subscription or bypasses the proxies: they use
//! `forge_proto::client`, which filters by the daemon's unique name.
//! Reads the files git tracks.

use std::path::PathBuf;
use std::process::Command;

use forge_tests::bus::repo_root;

/// Every tracked file, with its text (binary files are left out).
fn tracked_texts() -> Vec<(String, String)> {
    let root = repo_root();
    let out = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z"])
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files: {out:?}");
    let files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    assert!(files.len() > 100, "too few tracked files: {}", files.len());
    files
        .into_iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(PathBuf::from(&root).join(&f)).ok()?;
            Some((f, text))
        })
        .collect()
}

#[test]
fn no_file_cites_a_design_document_outside_the_repository() {
    // Built from parts, so this file does not match itself.
    let outside = ["DESIGN", ".md"].concat();
    let shared = ["../", "shared/"].concat();
    let cites: Vec<String> = tracked_texts()
        .into_iter()
        .filter(|(_, t)| t.contains(&outside) || t.contains(&shared))
        .map(|(f, _)| f)
        .collect();
    assert!(
        cites.is_empty(),
        "files citing outside documents: {cites:?}"
    );
}

#[test]
fn each_wire_type_is_defined_once_in_forge_proto() {
    let texts = tracked_texts();
    for def in [
        "struct DiskInfo",
        "struct GroupInfo",
        "struct Mismatch",
        "enum JobEvent",
    ] {
        let places: Vec<&str> = texts
            .iter()
            .filter(|(f, t)| f.ends_with(".rs") && t.contains(&format!("pub {def}")))
            .map(|(f, _)| f.as_str())
            .collect();
        assert_eq!(
            places,
            ["crates/forge-proto/src/wire.rs"],
            "`{def}` must be defined once, in forge_proto::wire"
        );
    }
}

#[test]
fn clients_subscribe_and_call_only_through_forge_proto_client() {
    // The test client's `watch` command prints every raw signal of the
    // daemon (also PropertiesChanged) for the suites that inspect them; it
    // filters by the daemon's unique name like forge_proto::client does.
    let raw_watch_allowed = "tests/bin/forge-test-client.rs";
    let offenders: Vec<String> = tracked_texts()
        .into_iter()
        .filter(|(f, _)| f.ends_with(".rs") && !f.starts_with("crates/forge-proto/"))
        .filter(|(f, _)| f != raw_watch_allowed && f != "tests/tests/one_contract.rs")
        .filter(|(_, t)| {
            t.contains("MatchRule::builder")
                || t.contains("call_with_flags")
                || t.contains(".rsplit('.')")
        })
        .map(|(f, _)| f)
        .collect();
    assert!(
        offenders.is_empty(),
        "clients with their own subscriptions, raw calls or error-name parsing: {offenders:?}"
    );
}
