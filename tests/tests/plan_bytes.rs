//! One model, two frontends (issue 11): the same choices made in the GTK
//! wizard (forge-gui-autopilot's save-plan mode, under Xvfb) and in the text
//! frontend (`forge-tui --save-plan FILE`, typed in tmux) produce
//! byte-identical install.yaml files, and that file is a valid plan
//! (forge_proto::validate) holding those choices. Both run as the same test
//! user against the same daemon (the disk and group lists come from it).
//!
//! Needs root, dbus-daemon, polkitd, tmux, Xvfb (the test starts its own
//! X server; `xvfb-run` around it is harmless), and the binaries (`cargo build -p forge-tui`, `cargo build -p forge-gui
//! --features autopilot`, `cargo build -p forge-daemon --features
//! fault-injection`). Skips with the reason otherwise (fails under
//! `FORGE_TEST_STRICT=1`).

mod daemon_common;
mod tui_common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use daemon_common::*;
use forge_tests::daemon::built_binary;
use forge_tests::env::ForgeEnv;
use forge_tests::skip::skip;
use forge_tests::users::{self, TestUser};
use tui_common::*;

const GUI: &str = "forge-gui-autopilot";
const HOST: &str = "looking-glass";
const FULL_NAME: &str = "Alice Liddell";
const REGION: Region = Region {
    locale: "de_DE.UTF-8",
    layout: "de",
    variant: "nodeadkeys",
    variant_search: "German (no dead keys)",
    timezone: "Europe/Berlin",
};

fn gui_skip() -> Option<String> {
    if !Path::new(XVFB).exists() {
        return Some(format!("{XVFB} is missing (package xvfb)"));
    }
    if built_binary(GUI).is_err() {
        return Some(format!(
            "{GUI} is not built; run `cargo build -p forge-gui --features autopilot`"
        ));
    }
    None
}

const XVFB: &str = "/usr/bin/Xvfb";

/// An X server of this test's own (`Xvfb -displayfd`: it picks a free
/// display), so a concurrent `xvfb-run -a` elsewhere cannot hand the GUI a
/// display whose cookie it lacks. No access control (`-ac`): the test user
/// connects without a cookie. Killed on drop.
struct PrivateX {
    child: std::process::Child,
    display: String,
}

impl PrivateX {
    fn start() -> Result<PrivateX> {
        use std::io::BufRead;
        let mut child = Command::new(XVFB)
            .args(["-displayfd", "1", "-nolisten", "tcp", "-ac"])
            .args(["-screen", "0", "1280x800x24"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb")?;
        let out = child.stdout.take().context("Xvfb stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(out);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep reading until Xvfb ends: a closed pipe would kill it
            // (SIGPIPE) at its next write to stdout.
            let mut rest = String::new();
            while reader.read_line(&mut rest).is_ok_and(|n| n > 0) {
                rest.clear();
            }
        });
        let mut x = PrivateX {
            child,
            display: String::new(),
        };
        let n = rx
            .recv_timeout(Duration::from_secs(30))
            .context("Xvfb did not report its display in 30 s")?;
        let n = n.trim();
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
            bail!("Xvfb did not start (it reported {n:?})");
        }
        x.display = format!(":{n}");
        Ok(x)
    }
}

impl Drop for PrivateX {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The GUI walks the same choices with its autopilot and saves the plan
/// to `out` instead of installing (its save-plan mode,
/// `FORGE_GUI_SAVE_PLAN=FILE`, crates/forge-gui/src/autopilot/save_plan.rs).
fn gui_save_plan(env: &ForgeEnv, user: &TestUser, disk: &Path, out: &Path) -> Result<()> {
    // Should GTK not open the display (the X server died early; seen when
    // Xvfb's stdout pipe was closed, now kept open), a new server, up to
    // three times. Any other failure counts at once.
    let mut last = None;
    for _ in 0..3 {
        match gui_save_plan_once(env, user, disk, out) {
            Err(e) if format!("{e:#}").contains("cannot open display") => {
                eprintln!("plan_bytes: the GUI could not open its display, once more: {e:#}");
                last = Some(e);
            }
            r => return r,
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt")))
}

fn gui_save_plan_once(env: &ForgeEnv, user: &TestUser, disk: &Path, out: &Path) -> Result<()> {
    let x = PrivateX::start()?;
    let dir = shared_dir("forge-plan-bytes-gui-")?;
    let result = dir.path().join("result.json");
    let script = format!(
        "locale: {}\nlayout: {}\nvariant: {}\ntimezone: {}\nboot: bios\ndisk: {}\n\
         full_name: {FULL_NAME}\npassword: {USER_PW}\nroot_password: \"\"\n\
         secure_boot_password: \"\"\nhostname: {HOST}\ndry_run: false\n\
         result: {}\nquit: true\n",
        REGION.locale,
        REGION.layout,
        REGION.variant,
        REGION.timezone,
        disk.display(),
        result.display()
    );
    let script_path = dir.path().join("script.yaml");
    std::fs::write(&script_path, script)?;
    std::fs::set_permissions(&script_path, std::fs::Permissions::from_mode(0o644))?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)?;
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o777))?;
    let mut cmd = Command::new("runuser");
    cmd.arg("-u")
        .arg(&user.name)
        .arg("--")
        .arg(built_binary(GUI)?)
        .env("DBUS_SYSTEM_BUS_ADDRESS", env.bus.address())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("DISPLAY", &x.display)
        .env_remove("XAUTHORITY")
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &home)
        .env("LANG", "C.UTF-8")
        .env("NO_AT_BRIDGE", "1")
        .env("GSETTINGS_BACKEND", "memory")
        .env("FORGE_GUI_AUTOPILOT", &script_path)
        .env("FORGE_GUI_SAVE_PLAN", out)
        .current_dir("/")
        .stdin(Stdio::null());
    let log_path = dir.path().join("gui.log");
    let log = std::fs::File::create(&log_path)?;
    cmd.stdout(log.try_clone()?).stderr(log);
    let mut child = cmd.spawn().context("starting forge-gui")?;
    let start = Instant::now();
    let gui_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    loop {
        if let Some(status) = child.try_wait()? {
            if !out.exists() {
                bail!(
                    "forge-gui exited ({status}) without saving the plan; result: {}\n{}",
                    std::fs::read_to_string(&result).unwrap_or_default(),
                    gui_log()
                );
            }
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the GUI walk did not finish in 300 s:\n{}", gui_log());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// forge-tui walks the choices and saves the plan to `out`.
fn tui_save_plan(env: &ForgeEnv, user: &TestUser, disk: &Path, out: &Path) -> Result<()> {
    let out_arg = out.display().to_string();
    let mut w = Walk::start(env, user, "save-plan", &["--save-plan", &out_arg], (80, 24))?;
    w.walk_to_confirm(&tui_common::Choices {
        disk: disk.to_path_buf(),
        boot: "bios",
        full_name: FULL_NAME,
        password: USER_PW,
        hostname: HOST,
        trial_run: false,
        region: Some(REGION),
    })?;
    w.t.send_keys(&["C-n"])?;
    let status = w.t.wait_exit(SCREEN)?;
    let all = w.t.capture_history()?;
    assert_eq!(status, "status 0", "forge-tui --save-plan failed:\n{all}");
    assert!(
        all.contains(&format!("Plan saved to {out_arg}")),
        "no 'Plan saved to' line:\n{all}"
    );
    Ok(())
}

#[test]
fn gui_and_tui_save_byte_identical_plans() -> Result<()> {
    if let Some(why) = tui_skip().or_else(gui_skip) {
        skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let user = users::permitted()?;
    let dir = shared_dir("forge-plan-bytes-")?;
    let (gui_plan, tui_plan) = (dir.path().join("gui.yaml"), dir.path().join("tui.yaml"));
    gui_save_plan(&env, &user, &img, &gui_plan)?;
    tui_save_plan(&env, &user, &img, &tui_plan)?;
    let (g, t) = (std::fs::read(&gui_plan)?, std::fs::read(&tui_plan)?);
    assert!(
        g == t,
        "the plans differ\n---- GUI ----\n{}\n---- TUI ----\n{}",
        String::from_utf8_lossy(&g),
        String::from_utf8_lossy(&t)
    );
    let text = String::from_utf8(t).context("the plan is not UTF-8")?;
    let catalog = forge_proto::wizard::load_system_catalog()?;
    let (plan, problems) = forge_proto::validate::check_plan(&text, &catalog);
    assert!(
        problems.is_empty(),
        "the saved plan is invalid: {problems:?}\n{text}"
    );
    let plan = plan.context("no plan")?;
    assert_eq!(plan.hostname, HOST);
    assert_eq!(plan.locale, REGION.locale);
    assert_eq!(plan.keyboard.layout, REGION.layout);
    assert_eq!(plan.keyboard.variant, REGION.variant);
    assert_eq!(plan.timezone, REGION.timezone);
    assert_eq!(plan.boot, "bios");
    assert_eq!(plan.user.name, "alice");
    assert_eq!(plan.user.full_name, FULL_NAME);
    for pw in [USER_PW, ROOT_PW, SB_PW] {
        assert!(!text.contains(pw), "a password reached the saved plan");
    }
    // Saving is not installing: the daemon accepted nothing.
    assert!(!env.daemon.accepted_plan.exists(), "a job was started");
    Ok(())
}
