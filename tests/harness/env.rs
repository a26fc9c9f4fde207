//! The whole D-Bus side in one value: a [`TestBus`], the real polkitd with
//! [`TEST_RULES`] and FORGE's policy, and the daemon under test. Fields drop
//! in order (daemon, polkit, bus), so everything is torn down on drop, also
//! when a test panics (the daemon's log is printed then).
//!
//! ```no_run
//! use forge_tests::{daemon::DaemonOptions, env::{skip_reason, ForgeEnv}, users};
//! if let Some(why) = skip_reason() { eprintln!("SKIP: {why}"); return Ok(()); }
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
