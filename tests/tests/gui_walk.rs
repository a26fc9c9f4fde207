//! Full walks of the real `forge-gui` binary against the real daemon on the
//! test bus (private dbus-daemon, real polkitd, the daemon, a test user in
//! the allowed group). The GUI is driven by its autopilot
//! (`FORGE_GUI_AUTOPILOT`, see crates/forge-gui/src/autopilot.rs), which
//! clicks through every screen as a person would and types the integrity
//! phrase with real X key events (xdotool).
//!
//! - dry run: reaches done, the image is untouched, and the install.yaml the
//!   daemon accepted is byte for byte the plan the GUI built from the
//!   choices, and holds those choices;
//! - tampered payload: the walk reaches the integrity dialog, pasting the
//!   phrase is refused, typing it continues, the job reaches done;
//! - real install of the boot test payload into a disk image: reaches done
//!   with success and the accepted plan matches;
//! - forged `IntegrityFailed` and `Finished(true, …)` from another bus
//!   connection during a real install (held at `packages`): ignored, the
//!   Done page tells the job's real outcome.
//!
//! Needs root, an X display (run under `xvfb-run -a`) and xdotool; the
//! binaries must be built (`cargo build -p forge-gui --features autopilot
//! -p forge-daemon`: the walks run `forge-gui-autopilot`, the wizard with its
//! test machinery, which the shipped `forge-gui` lacks). Skips with a reason
//! otherwise (fails under `FORGE_TEST_STRICT=1`).

mod daemon_common;
mod walk_common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use daemon_common::*;
use forge_tests::daemon::{built_binary, DaemonOptions};
use forge_tests::env::ForgeEnv;
use forge_tests::skip::skip;
use forge_tests::users::{self, TestUser};
use serde_json::Value;
use walk_common::{assert_no_password, check_accepted_plan};

/// The wizard built with its autopilot (feature `autopilot` of forge-gui).
const GUI: &str = "forge-gui-autopilot";
const WALK_TIMEOUT: Duration = Duration::from_secs(900);

fn gui_skip() -> Option<String> {
    if let Some(why) = forge_tests::env::skip_reason() {
        return Some(why);
    }
    if std::env::var_os("DISPLAY").is_none() {
        return Some("no X display: run under xvfb-run -a".into());
    }
    let xdotool = Command::new("xdotool").arg("version").output();
    if !matches!(xdotool, Ok(o) if o.status.success()) {
        return Some("xdotool is missing (scripts/setup-debian.sh installs it)".into());
    }
    if built_binary(GUI).is_err() {
        return Some(format!(
            "{GUI} is not built; run `cargo build -p forge-gui --features autopilot`"
        ));
    }
    None
}

/// A directory the test user can read and write.
fn shared_dir() -> Result<tempfile::TempDir> {
    let d = tempfile::Builder::new()
        .prefix("forge-gui-walk-")
        .tempdir()?;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777))?;
    Ok(d)
}

/// The X authority cookie, readable by the test user.
fn xauthority_for(dir: &Path) -> Result<Option<PathBuf>> {
    let Some(src) = std::env::var_os("XAUTHORITY") else {
        return Ok(None);
    };
    let dst = dir.join("Xauthority");
    std::fs::copy(&src, &dst).context("copying XAUTHORITY")?;
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o644))?;
    Ok(Some(dst))
}

/// A running walk: the GUI process, its result file and its log.
struct Walk {
    child: std::process::Child,
    result: PathBuf,
    log_path: PathBuf,
    started: Instant,
}

impl Walk {
    /// Starts the GUI as `user` with `script` (YAML).
    fn spawn(env: &ForgeEnv, user: &TestUser, script: &str, dir: &Path) -> Result<Walk> {
        let gui = built_binary(GUI)?;
        let result = dir.join("result.json");
        let script = format!("{script}result: {}\nquit: true\n", result.display());
        let script_path = dir.join("script.yaml");
        std::fs::write(&script_path, script)?;
        std::fs::set_permissions(&script_path, std::fs::Permissions::from_mode(0o644))?;
        let home = dir.join("home");
        std::fs::create_dir_all(&home)?;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o777))?;
        let mut cmd = Command::new("runuser");
        cmd.arg("-u")
            .arg(&user.name)
            .arg("--")
            .arg(&gui)
            .env("DBUS_SYSTEM_BUS_ADDRESS", env.bus.address())
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &home)
            .env("NO_AT_BRIDGE", "1")
            .env("GSETTINGS_BACKEND", "memory")
            .env("FORGE_GUI_AUTOPILOT", &script_path)
            .env("RUST_LOG", "info")
            .current_dir("/")
            .stdin(Stdio::null());
        if let Some(x) = xauthority_for(dir)? {
            cmd.env("XAUTHORITY", x);
        }
        let log_path = dir.join("gui.log");
        let log = std::fs::File::create(&log_path)?;
        cmd.stdout(log.try_clone()?).stderr(log);
        let child = cmd.spawn().context("starting forge-gui")?;
        Ok(Walk {
            child,
            result,
            log_path,
            started: Instant::now(),
        })
    }

    /// True while the GUI runs.
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits for the GUI to end and returns its result JSON.
    fn wait(mut self, env: &ForgeEnv) -> Result<Value> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !self.result.exists() {
                    bail!(
                        "forge-gui exited ({status}) without a result:\n{}",
                        self.log()
                    );
                }
                break;
            }
            if self.started.elapsed() > WALK_TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!(
                    "the walk did not finish in {WALK_TIMEOUT:?}:\n{}\n---- daemon ----\n{}",
                    self.log(),
                    env.daemon.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let text = std::fs::read_to_string(&self.result)?;
        let v: Value = serde_json::from_str(&text)?;
        if v["error"].as_str().is_some_and(|e| !e.is_empty()) {
            bail!(
                "the walk failed: {}\n---- gui ----\n{}\n---- daemon ----\n{}",
                v["error"],
                self.log(),
                env.daemon.log()
            );
        }
        Ok(v)
    }
}

impl Drop for Walk {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the GUI as `user` with `script` (YAML) and returns its result JSON.
fn walk(env: &ForgeEnv, user: &TestUser, script: &str, dir: &Path) -> Result<Value> {
    Walk::spawn(env, user, script, dir)?.wait(env)
}

/// The autopilot script of the walks' choices (walk_common).
fn script(disk: &Path, dry_run: bool) -> String {
    use walk_common::{FULL_NAME, HOST, LAYOUT, LOCALE, TIMEZONE, VARIANT};
    format!(
        "locale: {LOCALE}\nlayout: {LAYOUT}\nvariant: {VARIANT}\ntimezone: {TIMEZONE}\n\
         boot: bios\ndisk: {}\nfull_name: {FULL_NAME}\npassword: {USER_PW}\n\
         root_password: {ROOT_PW}\nsecure_boot_password: {SB_PW}\n\
         hostname: {HOST}\ndry_run: {dry_run}\n",
        disk.display()
    )
}

/// The plan the daemon accepted equals the GUI's, and holds the choices.
fn check_accepted(env: &ForgeEnv, outcome: &Value) -> Result<()> {
    let (accepted, _) = check_accepted_plan(env)?;
    assert_eq!(
        accepted,
        outcome["plan_yaml"].as_str().unwrap_or_default(),
        "the accepted install.yaml differs from the plan the GUI built"
    );
    Ok(())
}

#[test]
fn dry_run_walk_reaches_done_and_the_accepted_plan_matches() -> Result<()> {
    if let Some(why) = gui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let before = sha256(&img)?;
    let dir = shared_dir()?;
    let out = walk(&env, &users::permitted()?, &script(&img, true), dir.path())?;
    assert_eq!(out["reached_done"], true, "{out}");
    assert_eq!(out["integrity_dialog"], false, "{out}");
    let screens: Vec<&str> = out["screens"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        screens,
        [
            "welcome",
            "keyboard_locale",
            "disk",
            "user",
            "packages",
            "confirm",
            "progress",
            "done"
        ]
    );
    check_accepted(&env, &out)?;
    assert_eq!(sha256(&img)?, before, "a dry run wrote the image");
    assert_no_password(&env.daemon.log(), "the daemon log");
    Ok(())
}

#[test]
fn tampered_payload_walk_refuses_paste_and_continues_on_typing() -> Result<()> {
    if let Some(why) = gui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("busybox")?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let dir = shared_dir()?;
    let out = walk(&env, &users::permitted()?, &script(&img, true), dir.path())?;
    assert_eq!(out["integrity_dialog"], true, "no integrity dialog: {out}");
    assert_eq!(
        out["paste_refused"], true,
        "pasting the phrase was not refused: {out}"
    );
    assert_eq!(out["typed_phrase"], true, "{out}");
    assert_eq!(out["reached_done"], true, "{out}");
    let log = env.daemon.log();
    assert!(
        log.contains("MISMATCH packages/busybox"),
        "the daemon did not record the mismatch: {log}"
    );
    Ok(())
}

#[test]
fn real_install_walk_into_a_disk_image_reaches_done() -> Result<()> {
    if let Some(why) = gui_skip() {
        skip(why);
        return Ok(());
    }
    let Some((env, img)) = walk_common::start_real_install("gui-install.img")? else {
        return Ok(());
    };
    let dir = shared_dir()?;
    let out = walk(&env, &users::permitted()?, &script(&img, false), dir.path())?;
    assert_eq!(out["reached_done"], true, "{out}");
    assert!(
        out["done_title"]
            .as_str()
            .unwrap_or("")
            .contains("abgeschlossen")
            || out["done_title"]
                .as_str()
                .unwrap_or("")
                .contains("Complete"),
        "the install did not succeed: {out}\n{}",
        env.daemon.log()
    );
    check_accepted(&env, &out)?;
    Ok(())
}

/// Issue 9, item 2: while a real install is held mid-way (test-only pause
/// at `packages`), another bus connection broadcasts a forged
/// `IntegrityFailed` and a forged `Finished(true, …)` on the job's path
/// with the job's interface. The GUI believes neither: it shows no
/// integrity dialog, stays on the progress page (the walk goes on), and
/// when the job really ends (cancelled by the test) its Done page tells
/// that outcome, not success.
#[test]
fn forged_job_signals_from_another_connection_are_ignored() -> Result<()> {
    if let Some(why) = gui_skip() {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start_with(
        &payload,
        DaemonOptions {
            pause_at_phase: Some(("packages".into(), 600)),
            ..DaemonOptions::default()
        },
    )?;
    let img = image(&env)?;
    let dir = shared_dir()?;
    let mut gui = Walk::spawn(&env, &users::permitted()?, &script(&img, false), dir.path())?;

    // The GUI pressed Install and the job is held with its root mounted.
    let deadline = Instant::now() + WALK_TIMEOUT;
    while !env
        .daemon
        .log()
        .contains("pause injection configured for phase packages")
    {
        assert!(
            gui.running(),
            "the GUI ended before its job reached packages:\n{}\n---- daemon ----\n{}",
            gui.log(),
            env.daemon.log()
        );
        assert!(Instant::now() < deadline, "the job never reached packages");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Another local user forges the job's signals.
    let mut forger = env.client(&users::outsider()?)?;
    let active = forger.request("active-job")?;
    let path = active["path"]
        .as_str()
        .context("no active job")?
        .to_string();
    for cmd in ["forge-integrity", "forge-finished"] {
        let r = forger.request(&format!("{cmd} {path}"))?;
        assert_eq!(r["ok"], true, "{cmd}: {r}");
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        gui.running(),
        "the GUI ended on a forged signal:\n{}",
        gui.log()
    );

    // The job really ends: cancelled by an authorized caller.
    let mut admin = env.client(&users::permitted()?)?;
    let r = admin.request(&format!("cancel {path}"))?;
    assert_eq!(r["ok"], true, "{r}");
    let out = gui.wait(&env)?;
    assert_eq!(
        out["integrity_dialog"], false,
        "the GUI asked for an override on a forged IntegrityFailed: {out}"
    );
    assert_eq!(out["reached_done"], true, "{out}");
    let title = out["done_title"].as_str().unwrap_or_default();
    assert!(
        !title.contains("Complete") && !title.contains("abgeschlossen") && !title.is_empty(),
        "the GUI announced success of a cancelled install: {out}"
    );
    let p = admin.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "cancelled", "{p}");
    Ok(())
}
