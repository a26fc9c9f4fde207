//! Shared fixtures of the daemon suites: a small signed payload (built with
//! forge-payload's testkit), plans, install_io files, the test passwords,
//! and the full environment with the daemon pointed at the payload.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use forge_payload::testkit;
use forge_tests::client::Client;
use forge_tests::daemon::DaemonOptions;
use forge_tests::env::ForgeEnv;
use serde_json::Value;

/// Passwords the tests search for afterwards; they must never leak.
pub const ROOT_PW: &str = "Rootpw-7c1f-LEAKCHECK";
pub const USER_PW: &str = "Userpw-93ab-LEAKCHECK";
pub use forge_tests::env::SECURE_BOOT_PW as SB_PW;

/// How long a job may take in these suites.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// A signed payload in a temp dir, and its public keyring.
pub struct TestPayload {
    pub dir: tempfile::TempDir,
    pub payload: PathBuf,
    pub keyring: PathBuf,
}

impl TestPayload {
    /// `packages/<file>` of one archive.
    pub fn archive(&self, name: &str) -> PathBuf {
        self.payload
            .join("packages")
            .join(format!("{name}-1.0-1.igos.tar.gz"))
    }

    /// Changes an archive after signing, so its SHA-256 no longer matches.
    pub fn tamper(&self, name: &str) -> Result<String> {
        let p = self.archive(name);
        let mut bytes = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        bytes.extend_from_slice(b"tampered");
        std::fs::write(&p, bytes)?;
        Ok(format!("packages/{name}-1.0-1.igos.tar.gz"))
    }
}

/// Three packages: `base-layout` and `busybox` (core, busybox depends on
/// base-layout) and `hello` (base), signed by a fresh key.
pub fn signed_payload() -> Result<TestPayload> {
    let dir = tempfile::Builder::new()
        .prefix("forge-payload-")
        .tempdir()?;
    let payload = dir.path().join("payload");
    let pkgs = payload.join("packages");
    testkit::make_package(
        &pkgs,
        "base-layout",
        "1.0-1",
        "core",
        &[],
        &[("etc/os-release", b"NAME=InterGenOS\n")],
        None,
    );
    testkit::make_package(
        &pkgs,
        "busybox",
        "1.0-1",
        "core",
        &["base-layout"],
        &[("usr/bin/busybox", &[0u8; 4096])],
        None,
    );
    testkit::make_package(
        &pkgs,
        "hello",
        "1.0-1",
        "base",
        &["busybox"],
        &[("usr/share/hello/greeting", b"hello\n")],
        None,
    );
    let (secret, public) =
        testkit::generate_key(dir.path(), "FORGE test release key <release@test>");
    forge_payload::build::build_payload(&payload, Some(&secret))
        .context("building the test payload")?;
    Ok(TestPayload {
        payload,
        keyring: public,
        dir,
    })
}

/// A valid plan installing `groups` with BIOS boot (small disk images).
pub fn plan_yaml(groups: &[&str]) -> String {
    format!(
        "version: 1\nhostname: forge-test\nlocale: en_US.UTF-8\nkeyboard: {{ layout: us, variant: \"\" }}\n\
         timezone: Europe/Berlin\nboot: bios\nfilesystem: ext4\n\
         user: {{ name: alice, full_name: Alice Liddell, admin: true }}\n\
         package_groups: [{}]\nservices: []\n",
        groups.join(", ")
    )
}

/// The `install_io` JSON the test client sends.
pub fn io_json(disk: &Path, dry_run: bool) -> String {
    serde_json::json!({
        "disk": disk.to_string_lossy(),
        "root_password": ROOT_PW,
        "user_password": USER_PW,
        "secure_boot_password": SB_PW,
        "dry_run": dry_run,
    })
    .to_string()
}

/// The environment with the daemon using `payload`.
pub fn start(payload: &TestPayload) -> Result<ForgeEnv> {
    start_with(payload, DaemonOptions::default())
}

/// The environment with the daemon using `payload` and the rest of `opts`
/// (a fault, a pause, ...).
pub fn start_with(payload: &TestPayload, opts: DaemonOptions) -> Result<ForgeEnv> {
    ForgeEnv::start(DaemonOptions {
        payload: Some(payload.payload.clone()),
        keyring: Some(payload.keyring.clone()),
        ..opts
    })
}

/// A client of a permitted user that has asked for the job signals
/// (`watch`).
pub fn watching_client(env: &ForgeEnv) -> Result<Client> {
    let mut c = env.client(&forge_tests::users::permitted()?)?;
    c.request("watch")?;
    Ok(c)
}

/// Sends `install` (see [`install`]), asserts the daemon took it, and
/// returns the new job's object path.
pub fn started_job(client: &mut Client, plan: &str, io: &str) -> Result<String> {
    let r = install(client, plan, io)?;
    assert_eq!(r["ok"], true, "{r}");
    Ok(r["path"].as_str().context("no job path")?.to_string())
}

/// A 128 MiB sparse image in the daemon's image_dir.
pub fn image(env: &ForgeEnv) -> Result<PathBuf> {
    env.daemon.create_image("disk.img", 128 << 20)
}

/// SHA-256 of a file (via sha256sum).
pub fn sha256(path: &Path) -> Result<String> {
    let out = Command::new("sha256sum").arg(path).output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

/// Sends `install` with a plan and io file written for the client's user.
pub fn install(client: &mut Client, plan: &str, io: &str) -> Result<Value> {
    let p = client.write_file("plan.yaml", plan)?;
    let i = client.write_file("io.json", io)?;
    client.request(&format!("install {} {}", p.display(), i.display()))
}

/// Waits for the `Finished` signal of `path`.
pub fn finished(client: &mut Client, path: &str) -> Result<Value> {
    let path = path.to_string();
    client.wait_signal(
        move |s| s["signal"] == "Finished" && s["path"] == path.as_str(),
        JOB_TIMEOUT,
    )
}

/// Polls the job's properties (as `client`) until its `State` is no
/// longer `running`; fails the test after [`JOB_TIMEOUT`]. Returns the last
/// `props` answer.
pub fn props_when_done(client: &mut Client, path: &str) -> Result<Value> {
    let deadline = std::time::Instant::now() + JOB_TIMEOUT;
    loop {
        let p = client.request(&format!("props {path}"))?;
        if p["props"]["State"] != "running" {
            return Ok(p);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job never finished: {p}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The loop devices attached to `image` (`losetup -j`), empty when none.
pub fn loops_of(image: &Path) -> Result<String> {
    let out = Command::new("losetup").arg("-j").arg(image).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Skips (returns true after printing why) when the suites cannot run here.
pub fn skip() -> bool {
    if let Some(why) = forge_tests::env::skip_reason() {
        forge_tests::skip::skip(why);
        return true;
    }
    false
}
