//! `forgectl install` on a terminal, for a user polkit answers with
//! AUTH_ADMIN (issue 13 scenario 3 on the host; the live VM's version is
//! `live_install/authz.rs`): forgectl registers `pkttyagent` for its own
//! process (stdin is the pane's terminal, no DISPLAY), the agent asks for
//! the administrator's password in the pane; a wrong one ends in
//! `org.intergenos.Forge1.Error.NotAuthorized`, a non-zero exit and an
//! untouched image; the right one lets the (dry-run) install run to its end.
//!
//! The harness's polkitd serves a private bus, but the password is checked
//! by polkit's setuid `polkit-agent-helper-1`, which clears its environment
//! (and GLib ignores `DBUS_SYSTEM_BUS_ADDRESS` in a setuid program): it
//! always answers polkitd over `/run/dbus/system_bus_socket`. So the pane's
//! program runs in a mount namespace of its own (`unshare --mount`, as
//! root) where a tmpfs over `/run/dbus` holds the private bus's socket
//! under that name, and only then drops to the test user (`setpriv`, which
//! keeps the pane's terminal). The host's own bus, if any, is not touched.
//! (Without that bind mount the helper reports "Error getting authority:
//! ... Could not connect" and even the right password ends in
//! NotAuthorized: checked with polkit 122.)
//!
//! The administrator is the account `forgetest-admin` (polkit's admin rule
//! names it), given a password for the test and locked again afterwards.
//! Needs root, dbus-daemon, polkitd with pkttyagent, tmux and the built
//! binaries (`cargo build -p forge-cli`, `cargo build -p forge-daemon
//! --features fault-injection`).

mod daemon_common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use daemon_common::*;
use forge_tests::daemon::{built_binary, DaemonOptions};
use forge_tests::env::ForgeEnv;
#[allow(unused_imports)] // the `Pane` trait, where tmux.rs has one
use forge_tests::tmux::*;
use forge_tests::users::{ensure_user, TestUser};

const ADMIN: &str = "forgetest-admin";
const ADMIN_PW: &str = "Adminpw-41d7-agent";
const ASKER: &str = "forgetest-authz";
const WAIT: Duration = Duration::from_secs(60);

/// `forgetest-authz` must prove an administrator for FORGE's actions; the
/// administrator is `forgetest-admin`; nobody else may do anything FORGE.
fn rules() -> String {
    format!(
        r#"
polkit.addAdminRule(function(action, subject) {{
    return ["unix-user:{ADMIN}"];
}});
polkit.addRule(function(action, subject) {{
    if (action.id.indexOf("org.intergenos.forge.") != 0) {{
        return polkit.Result.NOT_HANDLED;
    }}
    if (subject.user == "{ASKER}") {{
        return polkit.Result.AUTH_ADMIN;
    }}
    return polkit.Result.NO;
}});
"#
    )
}

/// The administrator's account with [`ADMIN_PW`]; locked again on drop.
struct Admin;

impl Admin {
    fn set_up() -> Result<Admin> {
        ensure_user(ADMIN, &[])?;
        let mut child = Command::new("chpasswd")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .context("chpasswd")?;
        use std::io::Write;
        child
            .stdin
            .take()
            .context("chpasswd's stdin")?
            .write_all(format!("{ADMIN}:{ADMIN_PW}\n").as_bytes())?;
        ensure!(child.wait()?.success(), "chpasswd failed");
        Ok(Admin)
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        let _ = Command::new("usermod").args(["--lock", ADMIN]).status();
    }
}

/// Why this cannot run here (beyond the D-Bus suites' own reasons).
fn missing_tool() -> Option<String> {
    for tool in [
        "/usr/bin/pkttyagent",
        "/usr/lib/polkit-1/polkit-agent-helper-1",
        "/usr/sbin/chpasswd",
        "/usr/bin/setpriv",
    ] {
        if !Path::new(tool).exists() {
            return Some(format!("{tool} is missing"));
        }
    }
    forge_tests::tmux::skip_reason()
}

/// `forgectl install --dry-run` as `user` in a pane whose mount namespace
/// has the test bus at the system bus's path (see the header).
fn forgectl_in_pane(env: &ForgeEnv, user: &TestUser, files: &Path, disk: &Path) -> Result<Tmux> {
    let forgectl = built_binary("forgectl")?;
    let socket = env.bus.dir().join("system_bus_socket");
    let f = |name: &str| files.join(name).display().to_string();
    let script = format!(
        "set -e\n\
         mount -t tmpfs -o mode=0755 forge-test-dbus /run/dbus\n\
         touch /run/dbus/system_bus_socket\n\
         mount --bind '{socket}' /run/dbus/system_bus_socket\n\
         exec setpriv --reuid={uid} --regid={gid} --init-groups -- '{forgectl}' install \
         --dry-run --disk '{disk}' --root-password-file '{root}' --user-password-file '{userpw}' \
         --secure-boot-password-file '{sb}' '{plan}'\n",
        socket = socket.display(),
        uid = user.uid,
        gid = user.gid,
        forgectl = forgectl.display(),
        disk = disk.display(),
        root = f("root.pw"),
        userpw = f("user.pw"),
        sb = f("sb.pw"),
        plan = f("plan.yaml"),
    );
    let opts = TmuxOptions {
        width: 120,
        height: 40,
        ..TmuxOptions::default()
    }
    .env("DBUS_SYSTEM_BUS_ADDRESS", env.bus.address())
    .env("LANG", "C.UTF-8");
    Tmux::start(
        &[
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
        ],
        &opts,
    )
}

/// The plan and the three secrets in files the test user reads.
fn write_files(dir: &Path) -> Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for (name, content) in [
        ("plan.yaml", plan_yaml(&["core"])),
        ("root.pw", format!("{ROOT_PW}\n")),
        ("user.pw", format!("{USER_PW}\n")),
        ("sb.pw", format!("{SB_PW}\n")),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, content)?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

/// Waits for the agent's challenge and types `pw`; returns the screen.
fn answer_agent(t: &Tmux, pw: &str) -> Result<String> {
    t.wait_for("AUTHENTICATING FOR org.intergenos.forge.install", WAIT)?;
    let screen = t.wait_for("Password:", WAIT)?;
    // A moment for the agent to turn echo off before the password comes.
    std::thread::sleep(Duration::from_millis(500));
    t.type_text(pw)?;
    t.send_keys(&["Enter"])?;
    Ok(screen)
}

#[test]
fn forgectl_asks_an_administrator_through_the_text_agent() -> Result<()> {
    if skip() {
        return Ok(());
    }
    if let Some(why) = missing_tool() {
        forge_tests::skip::skip(why);
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = ForgeEnv::start_with_rules(
        DaemonOptions {
            payload: Some(payload.payload.clone()),
            keyring: Some(payload.keyring.clone()),
            ..DaemonOptions::default()
        },
        &rules(),
    )?;
    let _admin = Admin::set_up()?;
    let asker = ensure_user(ASKER, &[])?;
    let disk = image(&env)?;
    let before = sha256(&disk)?;
    let files = tempfile::tempdir()?;
    write_files(files.path())?;

    // A wrong administrator password: refused, nothing written.
    let t = forgectl_in_pane(&env, &asker, files.path(), &disk)?;
    let prompt = answer_agent(&t, "not-the-admin-password")?;
    ensure!(
        prompt.contains(ADMIN),
        "the agent should authenticate as {ADMIN}:\n{prompt}"
    );
    let status = t.wait_exit(WAIT)?;
    let screen = t.capture()?;
    ensure!(
        status != "status 0" && screen.contains("org.intergenos.Forge1.Error.NotAuthorized"),
        "a wrong admin password: expected NotAuthorized and a failure, got {status}:\n{screen}\n{}",
        env.daemon.log()
    );
    ensure!(
        !screen.contains(ADMIN_PW) && !screen.contains("not-the-admin-password"),
        "a password was echoed:\n{screen}"
    );
    ensure!(
        sha256(&disk)? == before,
        "the image changed after a refusal"
    );
    eprintln!("wrong password ({status}):\n{}", framed(&screen));
    drop(t);

    // The right one: the dry run runs to its end.
    let t = forgectl_in_pane(&env, &asker, files.path(), &disk)?;
    answer_agent(&t, ADMIN_PW)?;
    let done = t.wait_for_any(
        &[
            "Dry run finished; nothing was written.",
            "NotAuthorized",
            "Installation did not finish",
        ],
        Duration::from_secs(180),
    );
    let status = t.wait_exit(WAIT);
    let screen = t.capture()?;
    ensure!(
        matches!(done, Ok((0, _))) && matches!(status.as_deref(), Ok("status 0")),
        "the right admin password: expected the dry run to finish, got {status:?}:\n{screen}\n{}",
        env.daemon.log()
    );
    ensure!(
        !screen.contains(ADMIN_PW),
        "the password was echoed:\n{screen}"
    );
    eprintln!("right password:\n{}", framed(&screen));
    Ok(())
}
