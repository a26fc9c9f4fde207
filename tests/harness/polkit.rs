//! The real polkitd for tests, on a [`TestBus`], without touching the host:
//! it runs inside a private mount namespace (`unshare --mount`) where a temp
//! directory holding FORGE's `data/polkit/org.intergenos.forge.policy` is
//! bind-mounted over `/usr/share/polkit-1/actions`, and a temp rules
//! directory (holding the test's rules) over `/etc/polkit-1/rules.d`; the
//! distribution's `/usr/share/polkit-1/rules.d` is hidden behind an empty
//! directory. Killed on drop (the namespace, and its mounts, go with it).
//!
//! Without logind no subject is ever "active", so only `allow_any` and the
//! rules decide; and polkit lets root do anything, so clients under test run
//! as the (non-root) test users of [`crate::users`].

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::bus::{repo_root, TestBus};

/// Members of `forge-testers` may do every FORGE action; members of
/// `forge-installers` may install (and cancel) but not override an
/// integrity failure; nobody else may do anything FORGE.
pub const TEST_RULES: &str = r#"
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.intergenos.forge.") != 0) {
        return polkit.Result.NOT_HANDLED;
    }
    if (subject.isInGroup("forge-testers")) {
        return polkit.Result.YES;
    }
    if (action.id == "org.intergenos.forge.install" && subject.isInGroup("forge-installers")) {
        return polkit.Result.YES;
    }
    return polkit.Result.NO;
});
"#;

/// A running polkitd.
pub struct Polkit {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Polkit {
    /// Starts polkitd on `bus` with FORGE's actions and `rules` (JavaScript,
    /// e.g. [`TEST_RULES`]) and waits until it owns its name.
    pub fn start(bus: &TestBus, rules: &str) -> Result<Polkit> {
        Self::start_with_policy(
            bus,
            &repo_root().join("data/polkit/org.intergenos.forge.policy"),
            rules,
        )
    }

    /// [`Polkit::start`] with the actions of `policy` (e.g. the copy an
    /// install put into a staging directory) instead of the repository's.
    pub fn start_with_policy(bus: &TestBus, policy: &Path, rules: &str) -> Result<Polkit> {
        let polkitd = Path::new("/usr/lib/polkit-1/polkitd");
        if !polkitd.exists() {
            bail!("{} is missing (install polkitd)", polkitd.display());
        }
        let dir = tempfile::Builder::new().prefix("forge-polkit-").tempdir()?;
        let actions = dir.path().join("actions");
        let rules_dir = dir.path().join("rules.d");
        let empty = dir.path().join("empty");
        for d in [dir.path(), &actions, &rules_dir, &empty] {
            std::fs::create_dir_all(d)?;
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::copy(policy, actions.join("org.intergenos.forge.policy"))
            .with_context(|| format!("copying FORGE's polkit policy {}", policy.display()))?;
        let rules_file = rules_dir.join("50-forge-test.rules");
        std::fs::write(&rules_file, rules)?;
        std::fs::set_permissions(&rules_file, std::fs::Permissions::from_mode(0o644))?;
        let script = format!(
            "set -e\n\
             mount --bind '{actions}' /usr/share/polkit-1/actions\n\
             mount --bind '{rules}' /etc/polkit-1/rules.d\n\
             if [ -d /usr/share/polkit-1/rules.d ]; then mount --bind '{empty}' /usr/share/polkit-1/rules.d; fi\n\
             exec {polkitd} --no-debug\n",
            actions = actions.display(),
            rules = rules_dir.display(),
            empty = empty.display(),
            polkitd = polkitd.display()
        );
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
            .stdin(Stdio::null())
            .spawn()
            .context("starting polkitd under unshare")?;
        let mut p = Polkit { child, _dir: dir };
        if let Err(e) = bus.wait_for_name("org.freedesktop.PolicyKit1", Duration::from_secs(15)) {
            if let Ok(Some(status)) = p.child.try_wait() {
                bail!("polkitd exited ({status}) before owning its name");
            }
            return Err(e);
        }
        Ok(p)
    }
}

impl Drop for Polkit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
