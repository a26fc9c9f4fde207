//! `forgectl disks`, `groups` and `install` against the daemon, run as test
//! users: live progress, exit 0 only on success, an integrity failure
//! without a terminal is cancelled (disk untouched), a refused caller
//! exits non-zero.

mod daemon_common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use daemon_common::*;
use forge_tests::daemon::built_binary;
use forge_tests::env::ForgeEnv;
use forge_tests::users::{self, run_as, TestUser};

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> anyhow::Result<Files> {
        let dir = tempfile::tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        Ok(Files { dir })
    }
    fn write(&self, name: &str, content: &str) -> anyhow::Result<PathBuf> {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content)?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))?;
        Ok(p)
    }
}

fn forgectl(
    env: &ForgeEnv,
    user: &TestUser,
    args: &[&str],
) -> anyhow::Result<(i32, String, String)> {
    let bin = built_binary("forgectl")?;
    let out = run_as(user, &env.bus, &bin, args)
        .stdin(std::process::Stdio::null())
        .output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn install_args<'a>(
    plan: &'a str,
    disk: &'a str,
    rp: &'a str,
    up: &'a str,
    dry: bool,
) -> Vec<&'a str> {
    let mut v = vec![
        "install",
        plan,
        "--disk",
        disk,
        "--root-password-file",
        rp,
        "--user-password-file",
        up,
    ];
    if dry {
        v.push("--dry-run");
    }
    v
}

#[test]
fn forgectl_dry_run_install_disks_and_groups() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let user = users::permitted()?;
    let f = Files::new()?;
    let plan = f.write("plan.yaml", &plan_yaml(&["core"]))?;
    let rp = f.write("root.pw", &format!("{ROOT_PW}\n"))?;
    let up = f.write("user.pw", &format!("{USER_PW}\n"))?;
    let (code, out, err) = forgectl(
        &env,
        &user,
        &install_args(
            plan.to_str().unwrap(),
            img.to_str().unwrap(),
            rp.to_str().unwrap(),
            up.to_str().unwrap(),
            true,
        ),
    )?;
    eprintln!("forgectl install --dry-run:\n{out}{err}");
    assert_eq!(
        code,
        0,
        "stdout:\n{out}\nstderr:\n{err}\nlog:\n{}",
        env.daemon.log()
    );
    assert!(out.contains("[1/13]") && out.contains("[13/13]"), "{out}");
    assert!(!out.contains(ROOT_PW) && !err.contains(USER_PW));

    let (code, out, err) = forgectl(&env, &user, &["disks"])?;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(img.to_str().unwrap()), "{out}");
    let (code, out, err) = forgectl(&env, &user, &["groups"])?;
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with("core")), "{out}");

    // Refused caller: non-zero, nothing written.
    std::fs::remove_file(&env.daemon.accepted_plan)?;
    let (code, _, err) = forgectl(
        &env,
        &users::outsider()?,
        &install_args(
            plan.to_str().unwrap(),
            img.to_str().unwrap(),
            rp.to_str().unwrap(),
            up.to_str().unwrap(),
            true,
        ),
    )?;
    assert_eq!(code, 1, "{err}");
    assert!(!env.daemon.accepted_plan.exists());
    Ok(())
}

#[test]
fn forgectl_without_a_terminal_cancels_an_integrity_failure() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("base-layout")?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let before = sha256(&img)?;
    let f = Files::new()?;
    let plan = f.write("plan.yaml", &plan_yaml(&["core"]))?;
    let rp = f.write("root.pw", ROOT_PW)?;
    let up = f.write("user.pw", USER_PW)?;
    let (code, out, err) = forgectl(
        &env,
        &users::permitted()?,
        &install_args(
            plan.to_str().unwrap(),
            img.to_str().unwrap(),
            rp.to_str().unwrap(),
            up.to_str().unwrap(),
            false,
        ),
    )?;
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("packages/base-layout-1.0-1.igos.tar.gz"),
        "mismatch named: {err}"
    );
    assert_eq!(sha256(&img)?, before);
    assert!(
        env.daemon.log().contains("cancel requested"),
        "{}",
        env.daemon.log()
    );

    // No password file and no terminal: refused before calling the daemon.
    let (code, _, err) = forgectl(
        &env,
        &users::permitted()?,
        &[
            "install",
            plan.to_str().unwrap(),
            "--disk",
            img.to_str().unwrap(),
        ],
    )?;
    assert_eq!(code, 2, "{err}");
    Ok(())
}

#[test]
fn forgectl_on_a_terminal_takes_the_typed_phrase() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    if !std::path::Path::new("/usr/bin/script").exists() {
        forge_tests::skip::skip("script(1) is missing (util-linux), no pty for forgectl");
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("busybox")?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let f = Files::new()?;
    let plan = f.write("plan.yaml", &plan_yaml(&["core"]))?;
    let rp = f.write("root.pw", ROOT_PW)?;
    let up = f.write("user.pw", USER_PW)?;
    let cmd = format!(
        "{} install {} --disk {} --root-password-file {} --user-password-file {} --dry-run",
        built_binary("forgectl")?.display(),
        plan.display(),
        img.display(),
        rp.display(),
        up.display()
    );
    // A wrong phrase first (WrongPhrase, asked again), then the right one.
    let mut child = run_as(
        &users::permitted()?,
        &env.bus,
        std::path::Path::new("/usr/bin/script"),
        &["-qec", &cmd, "/dev/null"],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // Typed only once the question is on the screen.
        let wait_for = std::time::Instant::now();
        while !env.daemon.log().contains("awaiting an override") {
            assert!(wait_for.elapsed() < JOB_TIMEOUT, "{}", env.daemon.log());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        writeln!(stdin, "I do not care")?;
        std::thread::sleep(std::time::Duration::from_millis(1000));
        writeln!(stdin, "{}", env.daemon.override_phrase)?;
        std::thread::sleep(std::time::Duration::from_millis(3000));
    }
    let out = child.wait_with_output()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    assert!(out.status.success(), "{text}\n{}", env.daemon.log());
    assert!(
        text.contains("packages/busybox-1.0-1.igos.tar.gz"),
        "{text}"
    );
    assert!(text.contains("Override accepted"), "{text}");
    let log = env.daemon.log();
    assert!(
        log.contains("wrong phrase") && log.contains("OVERRIDE accepted"),
        "{log}"
    );
    Ok(())
}
