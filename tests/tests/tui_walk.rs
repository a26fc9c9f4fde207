//! Walks of the real `forge-tui` under tmux against the real daemon on the
//! test bus (private dbus-daemon, real polkitd, test users), typed with
//! `send-keys` and read with `capture-pane` by the keys and texts of
//! docs/tui.md (see tui_common). Each screen passed is saved as text under
//! `<target>/tui-screens/` (docs/tui.md's captures come from there).
//!
//! - dry run: every step to done in 80x24 (resized live to 120x40 and back
//!   on the way), the image untouched, the accepted install.yaml holds the
//!   choices; Enter on done exits 0;
//! - real install of the boot test payload into a 2 GiB image, which then
//!   boots under QEMU (BIOS, one boot) to the marker with the planned
//!   hostname, user and time zone;
//! - tampered payload: the integrity dialog names the archive, a bracketed
//!   paste and a burst of the phrase are refused with a visible message,
//!   typing it key by key continues to done;
//! - a user polkit refuses sees `Not authorized`;
//! - terminal restoration: `stty -a` of the pane and its screen modes are
//!   the same before and after forge-tui quits by Ctrl-C, and after SIGTERM;
//!   a hang-up (SIGHUP, the SSH drop) ends it;
//! - a hang-up while the job waits (integrity dialog) leaves the job in the
//!   daemon; `forge-tui --attach` shows it, and Ctrl-C there asks before it
//!   cancels the job;
//! - `NO_COLOR=1` draws without colours (and without it there are some);
//!   below 80x24 it asks for a larger terminal.
//!
//! Needs root, dbus-daemon, polkitd, tmux and the binaries
//! (`cargo build -p forge-tui`, `cargo build -p forge-daemon --features
//! fault-injection`); the install also QEMU. Skips with the reason
//! otherwise (fails under `FORGE_TEST_STRICT=1`).

mod daemon_common;
mod tui_common;
mod walk_common;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use daemon_common::*;
use forge_tests::daemon::built_binary;
use forge_tests::env::ForgeEnv;
use forge_tests::qemu::{self, BootMode};
use forge_tests::skip::skip;
use forge_tests::users::{self, TestUser};
use tui_common::*;
use walk_common::{assert_no_password, check_accepted_plan, FULL_NAME, HOST};

const REGION: Region = Region {
    locale: walk_common::LOCALE,
    layout: walk_common::LAYOUT,
    variant: walk_common::VARIANT,
    variant_search: "German (no dead keys)",
    timezone: walk_common::TIMEZONE,
};

fn choices(disk: &std::path::Path, trial_run: bool) -> tui_common::Choices {
    tui_common::Choices {
        disk: disk.to_path_buf(),
        boot: "bios",
        full_name: FULL_NAME,
        password: USER_PW,
        hostname: HOST,
        trial_run,
        region: Some(REGION),
    }
}

#[test]
fn dry_run_walk_reaches_done_in_80x24() -> Result<()> {
    if let Some(why) = tui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let before = sha256(&img)?;
    let user = users::permitted()?;
    let mut w = Walk::start(&env, &user, "dry-run", &["--dry-run"], (80, 24))?;
    w.title(WELCOME)?;
    // Resizes live: the header spans the new width, and back.
    w.t.resize(120, 40)?;
    w.t.wait_until("the header redrawn 120 wide", SCREEN, |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.trim_end().chars().count() > 80)
    })?;
    w.shot("welcome-120x40")?;
    // Below 80x24 it asks for a larger terminal instead of drawing.
    w.t.resize(70, 20)?;
    w.wait("80×24", SCREEN)?;
    w.shot("too-small")?;
    w.t.resize(80, 24)?;
    w.t.wait_until("the header redrawn 80 wide", SCREEN, |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("Step 1 of 8") && l.trim_end().chars().count() <= 80)
    })?;
    w.walk_to_confirm(&choices(&img, true))?;
    w.t.send_keys(&["C-n"])?;
    let (i, _) =
        w.t.wait_for_any(&[PROGRESS, DONE_OK, DONE_FAILED], SCREEN)?;
    if i == 0 {
        w.shot("progress")?;
    }
    let (ok, screen) = w.wait_done(Duration::from_secs(120))?;
    w.shot("done")?;
    assert!(
        ok,
        "the dry run did not succeed:\n{screen}\n{}",
        env.daemon.log()
    );
    check_accepted_plan(&env)?;
    assert_eq!(sha256(&img)?, before, "a dry run wrote the image");
    w.t.send_keys(&["Enter"])?;
    assert_eq!(w.t.wait_exit(SCREEN)?, "status 0");
    assert_no_password(&env.daemon.log(), "the daemon log");
    Ok(())
}

#[test]
fn tampered_payload_refuses_paste_and_continues_on_typing() -> Result<()> {
    if let Some(why) = tui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("busybox")?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let phrase = env.daemon.override_phrase.clone();
    let user = users::permitted()?;
    let mut w = Walk::start(&env, &user, "override", &["--dry-run"], (80, 24))?;
    w.walk_to_confirm(&choices(&img, true))?;
    w.t.send_keys(&["C-n"])?;
    let screen = w.wait(INTEGRITY, Duration::from_secs(60))?;
    w.shot("integrity-dialog")?;
    assert!(
        screen.contains("busybox"),
        "the dialog does not name the archive:\n{screen}"
    );
    // A bracketed paste (what Ctrl-Shift-V and a middle click send).
    w.t.paste(&phrase)?;
    let screen = w.wait(PASTE_REFUSED, SCREEN)?;
    w.shot("integrity-paste-refused")?;
    assert!(screen.contains(INTEGRITY), "the dialog closed:\n{screen}");
    assert_phrase_field_empty(&w, "after a paste")?;
    // The same text as one burst (a terminal without bracketed paste).
    w.t.type_text(&phrase)?;
    std::thread::sleep(Duration::from_millis(500));
    w.wait(PASTE_REFUSED, SCREEN)?;
    assert_phrase_field_empty(&w, "after a burst")?;
    // Typed key by key: accepted; Enter installs anyway.
    w.type_slowly(&phrase)?;
    w.shot("integrity-typed")?;
    w.t.send_keys(&["Enter"])?;
    let (ok, screen) = w.wait_done(Duration::from_secs(120))?;
    w.shot("done")?;
    assert!(ok, "the overridden dry run did not succeed:\n{screen}");
    let log = env.daemon.log();
    assert!(
        log.contains("MISMATCH packages/busybox"),
        "the daemon did not record the mismatch: {log}"
    );
    Ok(())
}

#[test]
fn a_hang_up_keeps_the_job_and_attach_shows_it() -> Result<()> {
    if let Some(why) = tui_skip() {
        skip(why);
        return Ok(());
    }
    // The tampered payload holds the job in awaiting-override: running,
    // for as long as the test needs.
    let payload = signed_payload()?;
    payload.tamper("busybox")?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let user = users::permitted()?;
    let mut w = Walk::start(&env, &user, "hangup-attach", &["--dry-run"], (80, 24))?;
    w.walk_to_confirm(&choices(&img, true))?;
    w.t.send_keys(&["C-n"])?;
    w.wait(INTEGRITY, Duration::from_secs(60))?;
    // The SSH connection drops.
    let pid = w.t.pane_pid();
    w.t.hang_up()?;
    let start = Instant::now();
    while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z ")) {
        assert!(start.elapsed() < SCREEN, "forge-tui survived the hang-up");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(w);
    // Reconnected: --attach shows the job that is still there.
    let mut w = Walk::start(&env, &user, "attach", &["--attach"], (80, 24))?;
    let screen = w.title(PROGRESS)?;
    w.shot("progress")?;
    assert!(
        !screen.contains("No installation is running"),
        "the job did not survive the hang-up:\n{screen}"
    );
    // Ctrl-C on progress asks before cancelling; y cancels the job.
    w.t.send_keys(&["C-c"])?;
    w.wait("Cancel the installation?", SCREEN)?;
    w.shot("cancel-question")?;
    w.t.send_keys(&["y"])?;
    let (ok, screen) = w.wait_done(Duration::from_secs(60))?;
    w.shot("cancelled")?;
    assert!(!ok, "a cancelled job reported success:\n{screen}");
    Ok(())
}

/// Whether a `capture-pane -e` screen sets any colour (SGR 30–37, 38,
/// 40–47, 48, 90–97, 100–107; 39 and 49 are the defaults).
fn has_colour(ansi: &str) -> bool {
    ansi.split("\x1b[").skip(1).any(|seq| {
        let Some(end) = seq.find('m') else {
            return false;
        };
        let params = &seq[..end];
        if params.contains(|c: char| !c.is_ascii_digit() && c != ';') {
            return false;
        }
        params
            .split(';')
            .filter_map(|p| p.parse::<u32>().ok())
            .any(|p| matches!(p, 30..=38 | 40..=48 | 90..=97 | 100..=107))
    })
}

#[test]
fn no_color_draws_monochrome() -> Result<()> {
    if let Some(why) = tui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let user = users::permitted()?;
    let bin = built_binary(TUI)?.display().to_string();
    let coloured = Walk::start_argv(
        &env,
        &user,
        "colour",
        std::slice::from_ref(&bin),
        (80, 24),
        &[],
    )?;
    coloured.title(WELCOME)?;
    assert!(
        has_colour(&coloured.t.capture_ansi()?),
        "no colour without NO_COLOR (the check below would prove nothing)"
    );
    drop(coloured);
    let mut w = Walk::start_argv(
        &env,
        &user,
        "no-color",
        &[bin],
        (80, 24),
        &[("NO_COLOR", "1")],
    )?;
    w.title(WELCOME)?;
    w.next(LANGUAGE)?;
    w.shot("language")?;
    let ansi = w.t.capture_ansi()?;
    assert!(
        !has_colour(&ansi),
        "NO_COLOR=1 but colours drawn:\n{ansi:?}"
    );
    Ok(())
}

/// The integrity dialog's phrase field holds nothing (`[` then blanks).
fn assert_phrase_field_empty(w: &Walk, when: &str) -> Result<()> {
    let screen = w.t.capture()?;
    let line = screen
        .lines()
        .find(|l| l.contains("Override phrase"))
        .with_context(|| format!("no phrase field:\n{screen}"))?;
    let inside = line
        .split_once('[')
        .map(|(_, r)| r.trim_end_matches(['│', ' ', ']']))
        .unwrap_or_default();
    assert!(
        inside.trim().is_empty(),
        "the phrase field took input {when}:\n{screen}"
    );
    Ok(())
}

#[test]
fn a_user_polkit_refuses_sees_the_refusal() -> Result<()> {
    if let Some(why) = tui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut w = Walk::start(
        &env,
        &users::outsider()?,
        "refused",
        &["--dry-run"],
        (80, 24),
    )?;
    w.walk_to_confirm(&choices(&img, true))?;
    w.t.send_keys(&["C-n"])?;
    let screen = w.wait(NOT_AUTHORIZED, SCREEN)?;
    w.shot("not-authorized")?;
    assert!(
        !screen.contains(DONE_OK),
        "an unauthorized install reached done:\n{screen}"
    );
    assert!(
        !std::path::Path::new(&env.daemon.accepted_plan).exists(),
        "the daemon accepted a plan from a refused user"
    );
    Ok(())
}

/// A shell as `user` in tmux; the test types forge-tui's command line.
fn shell<'a>(env: &'a ForgeEnv, user: &TestUser, scenario: &str) -> Result<Walk<'a>> {
    let w = Walk::start_argv(env, user, scenario, &["sh".to_string()], (80, 24), &[])?;
    w.t.type_text("PS1='$ '\n")?;
    Ok(w)
}

/// Runs forge-tui from the shell and waits for its welcome screen.
fn run_tui(w: &Walk, marker: &str) -> Result<()> {
    let bin = built_binary(TUI)?;
    w.t.type_text(&format!("{}; echo {marker}\"=$?\"\n", bin.display()))?;
    w.title(WELCOME).map(drop)
}

/// Waits until the shell printed `MARKER=<status>`; returns the status.
fn wait_status(w: &Walk, marker: &str) -> Result<i32> {
    let prefix = format!("{marker}=");
    // The status printed, not the echoed command line (`MARKER"=$?"`).
    let status = |l: &str| -> Option<i32> {
        let at = l.find(&prefix)?;
        l[at + prefix.len()..].trim().parse().ok()
    };
    let s = w.t.wait_until(&format!("{prefix}<status>"), SCREEN, |s| {
        s.lines().any(|l| status(l).is_some())
    })?;
    Ok(s.lines().find_map(status).unwrap_or(-1))
}

#[test]
fn ctrl_c_and_sigterm_restore_the_terminal() -> Result<()> {
    if let Some(why) = tui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let user = users::permitted()?;
    let mut w = shell(&env, &user, "ctrl-c")?;
    w.t.wait_for("$ ", SCREEN)?;
    let stty_before = w.t.stty()?;
    let modes_before = w.t.modes()?;

    // Ctrl-C asks; y quits.
    run_tui(&w, "TUI_EXIT")?;
    assert_ne!(
        w.t.stty()?,
        stty_before,
        "forge-tui did not set up its terminal"
    );
    w.t.send_keys(&["C-c"])?;
    w.wait("Quit the installer?", SCREEN)?;
    w.shot("quit-dialog")?;
    w.t.send_keys(&["n"])?;
    w.t.wait_until("the question closed", SCREEN, |s| {
        !s.contains("Quit the installer?")
    })?;
    w.t.send_keys(&["C-c"])?;
    w.wait("Quit the installer?", SCREEN)?;
    w.t.send_keys(&["y"])?;
    wait_status(&w, "TUI_EXIT")?;
    assert_eq!(w.t.stty()?, stty_before, "stty -a differs after Ctrl-C");
    assert_eq!(
        w.t.modes()?,
        modes_before,
        "screen modes differ after Ctrl-C"
    );

    // SIGTERM on the language screen.
    run_tui(&w, "TUI_TERM")?;
    w.next(LANGUAGE)?;
    let pid = w.t.pid_of(TUI).context("forge-tui's pid")?;
    // SAFETY: kill(2) on the forge-tui this test started.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    wait_status(&w, "TUI_TERM")?;
    assert_eq!(w.t.stty()?, stty_before, "stty -a differs after SIGTERM");
    assert_eq!(
        w.t.modes()?,
        modes_before,
        "screen modes differ after SIGTERM"
    );
    drop(w);

    // A hang-up (SSH drop) ends it.
    let w = Walk::start(&env, &user, "hangup", &[], (80, 24))?;
    w.title(WELCOME)?;
    let pid = w.t.pane_pid();
    w.t.hang_up()?;
    let start = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}/stat")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
    {
        assert!(
            start.elapsed() < SCREEN,
            "forge-tui survived the hang-up by {:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[test]
fn real_install_walk_boots_under_qemu() -> Result<()> {
    if let Some(why) = tui_skip().or_else(|| qemu::missing_prerequisite(&BootMode::Bios)) {
        skip(why);
        return Ok(());
    }
    let Some((env, img)) = walk_common::start_real_install("tui-install.img")? else {
        return Ok(());
    };
    let user = users::permitted()?;
    let mut w = Walk::start(&env, &user, "install", &[], (80, 24))?;
    w.walk_to_confirm(&choices(&img, false))?;
    w.t.send_keys(&["C-n"])?;
    w.title(PROGRESS)?;
    w.t.wait_until("a phase under way", SCREEN, |s| s.contains('%'))?;
    w.shot("progress")?;
    let (ok, screen) = w.wait_done(Duration::from_secs(900))?;
    w.shot("done")?;
    assert!(ok, "the install failed:\n{screen}\n{}", env.daemon.log());
    let (_, plan) = check_accepted_plan(&env)?;
    w.t.send_keys(&["Enter"])?;
    w.t.wait_exit(SCREEN)?;
    drop(w);
    let keep = tempfile::tempdir()?;
    let image = keep.path().join("disk.img");
    std::fs::rename(&img, &image).or_else(|_| std::fs::copy(&img, &image).map(drop))?;
    drop(env);
    let r = qemu::boot_logged(&image, BootMode::Bios, Duration::from_secs(240), "tui bios");
    qemu::assert_marker(
        &r,
        HOST,
        "alice",
        &format!("../usr/share/zoneinfo/{}", plan.timezone),
    );
    Ok(())
}
