//! The gettext side of the repository: po/forge.pot and po/POTFILES match
//! the sources (regenerated with scripts/update-pot.sh), and every catalog
//! listed in po/LINGUAS compiles with `msgfmt --check`.

use std::path::PathBuf;
use std::process::Command;

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../tests/harness/skip.rs"]
mod skip;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        skip::skip(format!(
            "{tool} not installed; run scripts/setup-debian.sh (gettext)"
        ));
    }
    found
}

#[test]
fn the_message_template_is_current() {
    if !have("xgettext") {
        return;
    }
    let out = Command::new("bash")
        .arg(repo().join("scripts/update-pot.sh"))
        .arg("--check")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "po/forge.pot is stale: run scripts/update-pot.sh\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_listed_catalog_compiles() {
    if !have("msgfmt") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg(repo().join("scripts/compile-po.sh"))
        .arg(dir.path())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "scripts/compile-po.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
