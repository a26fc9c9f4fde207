//! A private, system-like D-Bus daemon for tests. It listens on a unix
//! socket in its own temp directory (directory 0755, socket world-
//! connectable, so test users can reach it), applies the system bus's
//! default-deny policy, and includes polkit's bus policy and FORGE's own
//! `data/dbus/org.intergenos.Forge1.conf`, so the tests exercise the real
//! policy file. Torn down (killed) on drop.
//!
//! ```no_run
//! let bus = forge_tests::bus::TestBus::start()?;
//! std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", bus.address()); // or per Command
//! # anyhow::Ok(())
//! ```

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The repository root (parent of the `tests/` crate); the same as
/// [`crate::test_payload::workspace_root`].
pub fn repo_root() -> PathBuf {
    crate::test_payload::workspace_root()
}

/// A running private system-like bus.
pub struct TestBus {
    child: Child,
    dir: tempfile::TempDir,
    address: String,
}

impl TestBus {
    /// Starts `dbus-daemon` with a system-like configuration.
    pub fn start() -> Result<TestBus> {
        let dir = tempfile::Builder::new()
            .prefix("forge-bus-")
            .tempdir()
            .context("creating the bus directory")?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let socket = dir.path().join("system_bus_socket");
        let forge_conf = repo_root().join("data/dbus/org.intergenos.Forge1.conf");
        if !forge_conf.exists() {
            bail!("{} is missing", forge_conf.display());
        }
        let conf = format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
  <include>{forge}</include>
</busconfig>
"#,
            socket = socket.display(),
            forge = forge_conf.display()
        );
        let conf_path = dir.path().join("bus.conf");
        std::fs::write(&conf_path, conf)?;
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf_path.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting dbus-daemon (is the dbus package installed?)")?;
        let stdout = child.stdout.take().context("dbus-daemon stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the bus address")?;
        if line.trim().is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("dbus-daemon did not start (bad configuration?)");
        }
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o777))?;
        Ok(TestBus {
            child,
            address: format!("unix:path={}", socket.display()),
            dir,
        })
    }

    /// The address for `DBUS_SYSTEM_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The bus's temp directory (0755).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether `name` has an owner on this bus (via `dbus-send`).
    pub fn has_owner(&self, name: &str) -> bool {
        Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
            ])
            .arg(format!("string:{name}"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
            .unwrap_or(false)
    }

    /// Waits until `name` is owned, or fails after `timeout`.
    pub fn wait_for_name(&self, name: &str, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.has_owner(name) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("{name} did not appear on the test bus within {timeout:?}")
    }
}

impl Drop for TestBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
