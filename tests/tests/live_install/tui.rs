//! Scenario 2 of issue 13, the text frontend in the live VM: the live user
//! starts `forge-tui` (the installed `/usr/bin/forge-tui`) in a tmux inside
//! the VM (`tmux -L forge`, 100x30), reached only through commands typed on
//! the serial console ([`VmTmux`] over [`SessionVm`]). Its first call
//! D-Bus-activates the VM's own forge-daemon on the system bus; polkit's
//! live rule lets the live user's session install without a password.
//!
//! The walk is tests/tests/tui_common's, the one the host's tui_walk runs:
//! every screen to Confirm, choosing the disk `/dev/vda` (listed by its
//! device path), boot mode UEFI, a user with a password, the computer name,
//! and — as EFI installs ask — the Secure Boot password twice; then Trial
//! run unticked, "I understand" ticked, "Erase Disk and Install", and the
//! progress screen followed to the done screen. Every screen passed is
//! saved under `<log_dir>/tui-screens/` (with the daemon's journal of the
//! run, `live-tui-daemon-journal.txt`); a failed wait's error shows the
//! last screen and the tail of the daemon's journal.
//!
//! Kernel messages on the console are turned off first (`dmesg -n 1`):
//! they would land in the middle of a captured screen.

#[path = "../tui_common/mod.rs"]
mod tui_common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use forge_tests::qemu::session::SessionVm;
use forge_tests::qemu::vm_tmux::{VmTmux, VmTmuxOptions};
use forge_tests::tmux::Pane;
use tui_common::{Choices, Walk, DONE_FAILED, DONE_OK, NOT_AUTHORIZED, PROGRESS};

/// What the walk chooses, and where and how long.
#[derive(Debug, Clone)]
pub struct TuiInstall {
    /// The target's device path as the disk screen lists it (`/dev/vda`).
    pub disk: &'static str,
    pub full_name: &'static str,
    pub password: &'static str,
    pub hostname: &'static str,
    /// Asked on the Users screen of an EFI install; MokManager wants it at
    /// the next boot.
    pub secure_boot_password: &'static str,
    /// Screens are saved under `<log_dir>/tui-screens/`.
    pub log_dir: PathBuf,
    /// How long a screen may take to appear (TCG: the first one waits for
    /// the daemon's activation and its disk listing).
    pub screen_timeout: Duration,
    /// How long the install may take from "Erase Disk and Install" to the
    /// done screen.
    pub install_timeout: Duration,
}

/// How the install ended.
#[derive(Debug, Clone)]
pub struct TuiOutcome {
    /// "Installation Complete" (else "Installation Failed").
    pub ok: bool,
    /// The done screen as text.
    pub done_screen: String,
    /// From the walk's start to the done screen.
    pub elapsed: Duration,
}

/// The daemon's journal in the VM (for failure messages).
const JOURNAL: &str = "sudo -n journalctl -u forge-daemon --no-pager -o short-monotonic -n 80 2>&1";

/// Walks forge-tui in the VM to an install onto `c.disk` (see the module
/// header); `Ok` also when the install failed (`ok: false`), `Err` when the
/// walk could not reach the done screen.
pub fn install_with_tui(vm: &mut SessionVm, c: &TuiInstall) -> Result<TuiOutcome> {
    let start = Instant::now();
    vm.run("sudo -n dmesg -n 1", Duration::from_secs(30))?;
    let (st, out) = vm.run("command -v forge-tui tmux", Duration::from_secs(30))?;
    if st != 0 {
        bail!("forge-tui or tmux missing in the VM: {out}");
    }
    let opts = VmTmuxOptions {
        socket: "forge".into(),
        width: 100,
        height: 30,
        env: vec![
            ("LANG".into(), "C.UTF-8".into()),
            ("RUST_BACKTRACE".into(), "1".into()),
        ],
        timeout: Duration::from_secs(120),
    };
    let t = VmTmux::start(&mut *vm, "forge-tui", &opts).context("starting forge-tui in tmux")?;
    let mut w = Walk::with_pane(
        t,
        "live-tui",
        c.log_dir.join("tui-screens"),
        Some(Box::new(|p: &VmTmux<&mut SessionVm>| {
            match p.shell(JOURNAL, Duration::from_secs(60)) {
                Ok((_, out)) => out,
                Err(e) => format!("(reading the journal failed: {e:#})"),
            }
        })),
    );
    w.screen = c.screen_timeout;
    let choices = Choices {
        disk: PathBuf::from(c.disk),
        boot: "efi",
        full_name: c.full_name,
        password: c.password,
        hostname: c.hostname,
        trial_run: false,
        region: None,
    };
    w.walk_to_confirm_with(&choices, Some(c.secure_boot_password))?;
    let confirm = w.t.capture()?;
    if !confirm.contains("UEFI") || !confirm.contains(c.disk) {
        bail!(
            "the confirm screen does not show UEFI and {}:\n{confirm}",
            c.disk
        );
    }
    // "Erase Disk and Install".
    w.t.send_keys(&["C-n"])?;
    let (i, screen) = w.t.wait_for_any(
        &[PROGRESS, DONE_OK, DONE_FAILED, NOT_AUTHORIZED],
        c.screen_timeout,
    )?;
    if i == 3 {
        w.shot("not-authorized")?;
        bail!("polkit refused the live user's install:\n{screen}");
    }
    if i == 0 {
        w.shot("progress")?;
    }
    // Minutes of packages under TCG: look less often, the console is slow.
    w.t.set_poll_interval(Duration::from_secs(5));
    let (ok, done_screen) = w.wait_done(c.install_timeout)?;
    w.shot("done")?;
    // The daemon's whole journal of this run, next to the screens.
    let (_, journal) = w.t.shell(
        "sudo -n journalctl -u forge-daemon --no-pager -o short-monotonic 2>&1",
        Duration::from_secs(120),
    )?;
    let file = c
        .log_dir
        .join("tui-screens")
        .join("live-tui-daemon-journal.txt");
    std::fs::write(&file, journal).with_context(|| format!("writing {}", file.display()))?;
    Ok(TuiOutcome {
        ok,
        done_screen,
        elapsed: start.elapsed(),
    })
}
