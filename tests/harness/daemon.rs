//! The daemon under test: the built `forge-daemon` binary on a [`TestBus`],
//! with a temp configuration (payload, keyring, phrase, staging dir, image
//! dir, accepted-plan path all inside its own temp directory unless given),
//! its log (stderr) captured to a file. Stopped (SIGTERM, then SIGKILL) and
//! its directory removed on drop.
//!
//! The binaries are not built by `cargo test -p forge-tests`; build them
//! first: `cargo build -p forge-daemon --features fault-injection -p forge-cli`
//! (scripts/test.sh does this; the feature gives the daemon the test-only
//! `test_fail_at_phase` / `test_panic_at_phase` / `test_pause_at_phase` keys). They are looked up
//! next to the test executable
//! (`target/<profile>/`), see [`built_binary`].

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::bus::TestBus;

/// What the test wants in the daemon's configuration.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The payload directory (default: an empty dir in the daemon's temp dir).
    pub payload: Option<PathBuf>,
    /// The armored keyring (default: a non-existent file in the temp dir).
    pub keyring: Option<PathBuf>,
    pub override_phrase: String,
    pub allow_image_targets: bool,
    /// `test_fail_at_phase` (a phase wire name), for failure tests.
    pub fail_at_phase: Option<String>,
    /// `test_panic_at_phase` (a phase wire name), for panic tests.
    pub panic_at_phase: Option<String>,
    /// `test_pause_at_phase` and `test_pause_seconds`: the job holds at the
    /// start of that phase (Cancel ends the hold), for tests that act
    /// while a real install is mid-way.
    pub pause_at_phase: Option<(String, u64)>,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        DaemonOptions {
            payload: None,
            keyring: None,
            override_phrase: "I understand this system may be compromised".into(),
            allow_image_targets: true,
            fail_at_phase: None,
            panic_at_phase: None,
            pause_at_phase: None,
        }
    }
}

/// `target/<profile>/<name>`: the directory above the test executable's
/// `deps/`. Fails with a hint when the binary has not been built.
pub fn built_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("current_exe")?;
    let mut dir = exe.parent().context("test executable has no directory")?;
    if dir.ends_with("deps") {
        dir = dir.parent().context("deps has no parent")?;
    }
    let bin = dir.join(name);
    if !bin.exists() {
        bail!(
            "{} is not built; run `cargo build -p forge-daemon --features fault-injection -p forge-cli` (or scripts/test.sh) first",
            bin.display()
        );
    }
    Ok(bin)
}

/// A running `forge-daemon`.
pub struct Daemon {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
    /// `image_dir`: image-file targets must be created in here.
    pub image_dir: PathBuf,
    /// Where the daemon writes the accepted install.yaml.
    pub accepted_plan: PathBuf,
    pub staging_dir: PathBuf,
    pub override_phrase: String,
}

impl Daemon {
    /// Writes the configuration, starts the daemon on `bus` and waits until
    /// it owns `org.intergenos.Forge1`.
    pub fn start(bus: &TestBus, opts: DaemonOptions) -> Result<Daemon> {
        let bin = built_binary("forge-daemon")?;
        let dir = tempfile::Builder::new().prefix("forge-daemon-").tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let image_dir = dir.path().join("images");
        let staging_dir = dir.path().join("staging");
        for d in [&image_dir, &staging_dir] {
            std::fs::create_dir_all(d)?;
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))?;
        }
        let payload = opts
            .payload
            .clone()
            .unwrap_or_else(|| dir.path().join("payload"));
        let keyring = opts
            .keyring
            .clone()
            .unwrap_or_else(|| dir.path().join("no-keyring.asc"));
        let accepted_plan = dir.path().join("state/install.yaml");
        let mut m = serde_yaml::Mapping::new();
        let mut set = |k: &str, v: serde_yaml::Value| {
            m.insert(serde_yaml::Value::from(k), v);
        };
        let p = |p: &Path| serde_yaml::Value::from(p.to_string_lossy().into_owned());
        set("payload", p(&payload));
        set("keyring", p(&keyring));
        set("override_phrase", opts.override_phrase.clone().into());
        set("staging_dir", p(&staging_dir));
        set("allow_image_targets", opts.allow_image_targets.into());
        set("image_dir", p(&image_dir));
        set("accepted_plan", p(&accepted_plan));
        if let Some(f) = &opts.fail_at_phase {
            set("test_fail_at_phase", f.clone().into());
        }
        if let Some(f) = &opts.panic_at_phase {
            set("test_panic_at_phase", f.clone().into());
        }
        if let Some((phase, secs)) = &opts.pause_at_phase {
            set("test_pause_at_phase", phase.clone().into());
            set("test_pause_seconds", (*secs).into());
        }
        let config_path = dir.path().join("forge-daemon.yaml");
        std::fs::write(&config_path, serde_yaml::to_string(&m)?)?;
        let log_path = dir.path().join("daemon.log");
        let log = std::fs::File::create(&log_path)?;
        let child = Command::new(&bin)
            .arg("--config")
            .arg(&config_path)
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
            .env("FORGE_LOG", "info,zbus=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut d = Daemon {
            child: Some(child),
            dir,
            config_path,
            log_path,
            image_dir,
            accepted_plan,
            staging_dir,
            override_phrase: opts.override_phrase,
        };
        let start = Instant::now();
        loop {
            if bus.has_owner(forge_proto::dbus::BUS_NAME) {
                return Ok(d);
            }
            if let Some(c) = d.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    bail!("forge-daemon exited ({status}):\n{}", d.log());
                }
            }
            if start.elapsed() > Duration::from_secs(20) {
                bail!("forge-daemon did not own its name in 20 s:\n{}", d.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The daemon's temp directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a sparse image file of `size` bytes in `image_dir`.
    pub fn create_image(&self, name: &str, size: u64) -> Result<PathBuf> {
        let path = self.image_dir.join(name);
        let f = std::fs::File::create(&path)?;
        f.set_len(size)?;
        Ok(path)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGTERM, then SIGKILL after 15 s.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child by pid.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("---- forge-daemon log ----\n{}\n----", self.log());
        }
    }
}
