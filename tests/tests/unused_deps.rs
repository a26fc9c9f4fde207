//! No unused dependencies (issue 10), without installing a tool: for every
//! workspace crate, each of its dependencies (normal, dev and build) must be
//! named somewhere in that crate's Rust sources, as a path (`name::`) or in
//! a `use` / `extern crate`. Names are the ones code uses: cargo's resolve
//! (`cargo metadata`) gives them after `package =` renames (`gtk`, `adw`)
//! and library renames (`gettext-rs` is `gettextrs`), with `-` as `_`.
//! What `cargo machete` does, in about a second; like it, a mention in a
//! comment counts as a use.

use std::path::{Path, PathBuf};
use std::process::Command;

use forge_tests::skip::skip;
use serde_json::Value;

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The host triple, so that `cargo metadata` needs no crate of another
/// platform (it runs `--offline`: a test does not download).
fn host() -> Option<String> {
    let out = Command::new("rustc").arg("-vV").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
}

/// Every `.rs` file under `dir`, without `target/`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with("target") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `text` names the crate `name`: `name::`, `use name`, `extern crate name`.
fn names(text: &str, name: &str) -> bool {
    let t = text.as_bytes();
    text.match_indices(name).any(|(i, _)| {
        let end = i + name.len();
        let before = &text[..i];
        (i == 0 || !is_ident(t[i - 1]))
            && (end == t.len() || !is_ident(t[end]))
            && (text[end..].starts_with("::")
                || before.ends_with("use ")
                || before.ends_with("extern crate "))
    })
}

#[test]
fn every_dependency_is_used() {
    let Some(host) = host() else {
        skip("rustc -vV gives no host triple");
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(cargo())
        .current_dir(&root)
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host])
        .output()
        .expect("run cargo metadata");
    if !out.status.success() {
        skip(format!(
            "cargo metadata --offline failed (dependencies not fetched?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return;
    }
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let manifest_of = |id: &str| -> PathBuf {
        let pkg = meta["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["id"] == id)
            .expect("member package");
        PathBuf::from(pkg["manifest_path"].as_str().expect("manifest_path"))
    };
    let mut unused = Vec::new();
    let mut checked = 0;
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let id = node["id"].as_str().expect("id");
        if !members.contains(&id) {
            continue;
        }
        let manifest = manifest_of(id);
        let dir = manifest.parent().expect("package dir");
        let mut files = Vec::new();
        rust_files(dir, &mut files);
        let sources: Vec<String> = files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect();
        for dep in node["deps"].as_array().expect("deps") {
            let name = dep["name"].as_str().expect("dep name");
            checked += 1;
            if !sources.iter().any(|s| names(s, name)) {
                unused.push(format!("{}: {name}", manifest.display()));
            }
        }
    }
    assert!(checked > 50, "only {checked} dependencies seen");
    assert!(
        unused.is_empty(),
        "dependencies that no source of their crate names (remove them from Cargo.toml):\n  {}",
        unused.join("\n  ")
    );
}

#[test]
fn the_name_search_is_what_rust_code_does() {
    assert!(names("use serde::Deserialize;", "serde"));
    assert!(names("#[derive(thiserror::Error)]", "thiserror"));
    assert!(names("use gtk::prelude::*;", "gtk"));
    assert!(names("extern crate libc;", "libc"));
    assert!(names("use tempfile;", "tempfile"));
    assert!(!names("use serde_json::Value;", "serde"));
    assert!(!names("let tokio_rt = 1;", "tokio"));
    assert!(!names("my_hex::encode", "hex"));
}
