//! The whole D-Bus side in one value: a [`TestBus`], the real polkitd with
//! [`TEST_RULES`] and FORGE's policy, and the daemon under test. Fields drop
//! in order (daemon, polkit, bus), so everything is torn down on drop, also
//! when a test panics (the daemon's log is printed then).
//!
//! ```no_run
//! use forge_tests::{daemon::DaemonOptions, env::{skip_reason, ForgeEnv}, skip::skip, users};
//! if let Some(why) = skip_reason() { skip(why); return Ok(()); }
//! let env = ForgeEnv::start(DaemonOptions::default())?;
//! let mut client = env.client(&users::permitted()?)?;
//! # anyhow::Ok(())
//! ```

use std::path::Path;

use anyhow::Result;

use crate::bus::TestBus;
use crate::client::Client;
use crate::daemon::{Daemon, DaemonOptions};
use crate::polkit::{Polkit, TEST_RULES};
use crate::users::TestUser;

/// The Secure Boot (MokManager) password of every install the harness
/// starts; tests search for it afterwards: it must never leak.
pub const SECURE_BOOT_PW: &str = "Sbpw-5e2d-LEAKCHECK";

/// Why the D-Bus suites cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (polkitd, test users, the daemon)".into());
    }
    for tool in [
        "/usr/bin/dbus-daemon",
        "/usr/bin/dbus-send",
        "/usr/lib/polkit-1/polkitd",
        "/usr/bin/unshare",
        "/usr/sbin/runuser",
        "/usr/sbin/useradd",
    ] {
        if !Path::new(tool).exists() {
            return Some(format!(
                "{tool} is missing (scripts/setup-debian.sh installs it)"
            ));
        }
    }
    None
}

pub struct ForgeEnv {
    pub daemon: Daemon,
    pub polkit: Polkit,
    pub bus: TestBus,
}

impl ForgeEnv {
    /// Runs `forgectl install` as `user`: `plan` (YAML text) and the two
    /// passwords go into files readable by the test user, then
    /// `forgectl install PLAN --disk DISK --root-password-file ..
    /// --user-password-file .. --secure-boot-password-file .. EXTRA...`
    /// with stdin closed; the Secure Boot password is always
    /// [`SECURE_BOOT_PW`] (EFI installs need one).
    pub fn forgectl_install(
        &self,
        user: &TestUser,
        plan: &str,
        disk: &Path,
        passwords: (&str, &str),
        extra: &[&str],
    ) -> Result<std::process::Output> {
        use std::os::unix::fs::PermissionsExt;
        let files = tempfile::tempdir()?;
        std::fs::set_permissions(files.path(), std::fs::Permissions::from_mode(0o755))?;
        let write = |name: &str, content: &str| -> Result<String> {
            let p = files.path().join(name);
            std::fs::write(&p, content)?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))?;
            Ok(p.to_string_lossy().into_owned())
        };
        let plan = write("plan.yaml", plan)?;
        let rp = write("root.pw", passwords.0)?;
        let up = write("user.pw", passwords.1)?;
        let sp = write("secure-boot.pw", SECURE_BOOT_PW)?;
        let disk = disk.to_string_lossy();
        let mut args = vec![
            "install",
            &plan,
            "--disk",
            &disk,
            "--root-password-file",
            &rp,
            "--user-password-file",
            &up,
            "--secure-boot-password-file",
            &sp,
        ];
        args.extend_from_slice(extra);
        let bin = crate::daemon::built_binary("forgectl")?;
        Ok(crate::users::run_as(user, &self.bus, &bin, &args)
            .stdin(std::process::Stdio::null())
            .output()?)
    }

    /// Bus, polkitd with [`TEST_RULES`], then the daemon with `opts`.
    pub fn start(opts: DaemonOptions) -> Result<ForgeEnv> {
        Self::start_with_rules(opts, TEST_RULES)
    }

    pub fn start_with_rules(opts: DaemonOptions, rules: &str) -> Result<ForgeEnv> {
        let bus = TestBus::start()?;
        let polkit = Polkit::start(&bus, rules)?;
        let daemon = Daemon::start(&bus, opts)?;
        Ok(ForgeEnv {
            daemon,
            polkit,
            bus,
        })
    }

    /// A scripted client running as `user`.
    pub fn client(&self, user: &TestUser) -> Result<Client> {
        Client::spawn(user, &self.bus)
    }
}
