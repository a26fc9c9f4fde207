//! The AT-SPI walk: `tests/gui/walk.py` (python3-dogtail) drives the real
//! `forge-gui` by accessible names only, against the real daemon on the
//! test bus with a tampered payload, and proves that the integrity entry
//! refuses AT-SPI's PasteText / InsertText / SetTextContents while typed
//! key events get through. The wizard runs as root here because AT-SPI
//! needs the app and the walker on one accessibility bus (the session
//! bus of `dbus-run-session`); the unprivileged runs are in gui_walk.rs.
//!
//! Needs root, `xvfb-run -a dbus-run-session`, /usr/bin/python3 with
//! dogtail, and the built binaries; skips with a reason otherwise.

mod daemon_common;

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};
use daemon_common::*;
use forge_tests::bus::repo_root;
use forge_tests::daemon::built_binary;
use forge_tests::skip::skip;

fn atspi_skip() -> Option<String> {
    if let Some(why) = forge_tests::env::skip_reason() {
        return Some(why);
    }
    if std::env::var_os("DISPLAY").is_none() {
        return Some("no X display: run under xvfb-run -a dbus-run-session".into());
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return Some("no session bus for AT-SPI: run under dbus-run-session".into());
    }
    let dogtail = Command::new("/usr/bin/python3")
        .args(["-c", "import dogtail, pyatspi"])
        .output();
    if !matches!(dogtail, Ok(o) if o.status.success()) {
        return Some("/usr/bin/python3 with dogtail is missing (python3-dogtail)".into());
    }
    if let Err(e) = built_binary("forge-gui") {
        return Some(format!("{e}"));
    }
    None
}

/// Kills the GUI when the test ends, also on failure.
struct Gui(std::process::Child);

impl Drop for Gui {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn screen_reader_walk_by_accessible_names() -> Result<()> {
    if let Some(why) = atspi_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("busybox")?;
    let env = start(&payload)?;
    let _img = env.daemon.create_image("atspi-walk.img", 128 << 20)?;
    let gui_log = env.daemon.dir().join("gui.log");
    let log = std::fs::File::create(&gui_log)?;
    let _gui = Gui(Command::new(built_binary("forge-gui")?)
        .env("DBUS_SYSTEM_BUS_ADDRESS", env.bus.address())
        .env("GTK_A11Y", "atspi")
        .env_remove("NO_AT_BRIDGE")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting forge-gui")?);
    let start = Instant::now();
    let out = Command::new("/usr/bin/python3")
        .arg(repo_root().join("tests/gui/walk.py"))
        .args(["--disk", "atspi-walk.img"])
        .output()
        .context("running tests/gui/walk.py")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the AT-SPI walk failed after {:?}:\n{stdout}\n---- gui ----\n{}\n---- daemon ----\n{}",
        start.elapsed(),
        std::fs::read_to_string(&gui_log).unwrap_or_default(),
        env.daemon.log()
    );
    for line in [
        "AT-SPI PasteText tried",
        "AT-SPI InsertText tried",
        "Install Anyway did nothing after the paste attempts",
        "typed the phrase with key events",
        "reached the final screen",
    ] {
        assert!(stdout.contains(line), "missing step {line:?}:\n{stdout}");
    }
    Ok(())
}
