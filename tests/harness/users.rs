//! Real test users and groups, created idempotently (under a file lock, so
//! parallel tests do not race `useradd`), and a way to run a program as one
//! of them against a [`TestBus`]. polkit rules look the groups up in
//! `/etc/group`, so these must be real accounts. They are system accounts
//! without a home or a login shell and are left in place for the next run.
//!
//! | user | groups | polkit ([`crate::polkit::TEST_RULES`]) |
//! | --- | --- | --- |
//! | `forgetest-ok` | `forge-testers` | every FORGE action |
//! | `forgetest-inst` | `forge-installers` | install, not override |
//! | `forgetest-no` | none | nothing |

use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::bus::TestBus;

pub const TEST_GROUP: &str = "forge-testers";
pub const INSTALL_ONLY_GROUP: &str = "forge-installers";

/// A real account on this machine.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Holds an exclusive `flock` until dropped.
struct Lock(File);

impl Lock {
    fn take(path: &Path) -> Result<Lock> {
        let f = File::create(path).with_context(|| format!("lock file {}", path.display()))?;
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            bail!(
                "flock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
        }
        Ok(Lock(f))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: unlocking the fd we locked.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn id_of(flag: &str, name: &str) -> Option<u32> {
    let out = Command::new("id").arg(flag).arg(name).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Creates (if needed) `name` with exactly these supplementary `groups`.
pub fn ensure_user(name: &str, groups: &[&str]) -> Result<TestUser> {
    let _lock = Lock::take(Path::new("/run/lock/forge-test-users.lock"))?;
    for g in groups {
        run(Command::new("groupadd").args(["-f", "--system", g]))?;
    }
    let list = groups.join(",");
    if id_of("-u", name).is_none() {
        let mut cmd = Command::new("useradd");
        cmd.args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "--user-group",
        ]);
        if !groups.is_empty() {
            cmd.args(["--groups", &list]);
        }
        run(cmd.arg(name))?;
    } else {
        run(Command::new("usermod").args(["--groups", &list, name]))?;
    }
    Ok(TestUser {
        name: name.to_string(),
        uid: id_of("-u", name).context("uid of the new user")?,
        gid: id_of("-g", name).context("gid of the new user")?,
    })
}

/// May do every FORGE action.
pub fn permitted() -> Result<TestUser> {
    ensure_user("forgetest-ok", &[TEST_GROUP])
}

/// May install, but not override an integrity failure.
pub fn installer_only() -> Result<TestUser> {
    ensure_user("forgetest-inst", &[INSTALL_ONLY_GROUP])
}

/// May do nothing FORGE.
pub fn outsider() -> Result<TestUser> {
    ensure_user("forgetest-no", &[])
}

/// A command that runs `program args...` as `user` (through `runuser`,
/// which also sets the supplementary groups) with
/// `DBUS_SYSTEM_BUS_ADDRESS` pointing at `bus`. The program must be
/// readable and executable by the user.
pub fn run_as(user: &TestUser, bus: &TestBus, program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.arg("-u")
        .arg(&user.name)
        .arg("--")
        .arg(program)
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .current_dir("/");
    cmd
}
