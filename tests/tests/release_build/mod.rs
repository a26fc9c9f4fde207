//! The release binaries `scripts/test.sh` builds before the tests: where
//! they are (`<target>/release/`) and whether one is fresh, i.e. newer than
//! every source cargo's dep-info (`<name>.d`) says it was built from.
//! Shared by tests/tests/install_layout.rs (reuses fresh binaries instead
//! of building) and tests/tests/release_binaries.rs (skips stale ones).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `<target>/release`.
pub fn release_dir() -> PathBuf {
    forge_tests::test_payload::target_dir().join("release")
}

/// The files cargo's dep-info (`target: dep dep ...`, spaces escaped with
/// `\`) says a binary was built from.
pub fn sources_of(dep_info: &str) -> Vec<PathBuf> {
    let Some((_, deps)) = dep_info.lines().next().and_then(|l| l.split_once(": ")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = deps.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            ' ' => {
                if !cur.is_empty() {
                    out.push(PathBuf::from(std::mem::take(&mut cur)));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(PathBuf::from(cur));
    }
    out
}

/// Why `bin` is not a fresh build, if it is not: not built, no dep-info,
/// or older than one of its sources (or a source is gone).
pub fn not_fresh(bin: &Path) -> Option<String> {
    let mtime = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    let Some(built) = mtime(bin) else {
        return Some(format!("{} is not built", bin.display()));
    };
    let dep_info = std::fs::read_to_string(bin.with_extension("d")).unwrap_or_default();
    let sources = sources_of(&dep_info);
    if sources.is_empty() {
        return Some(format!("{}.d (cargo's dep-info) is missing", bin.display()));
    }
    sources
        .iter()
        .find(|s| mtime(s).is_none_or(|t| t > built))
        .map(|s| {
            format!(
                "{} is older than {} (or it is gone)",
                bin.display(),
                s.display()
            )
        })
}
