//! Shared helpers for the root-only phase tests: a small signed payload from
//! `forge_payload::testkit`, a disk image, a job context whose verify step is
//! done by hand (as the verify phase does it), a reporter that records
//! everything, and leak checks (mounts of the job thread's namespace, loop
//! devices of an image).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use forge_daemon::config::DaemonConfig;
use forge_daemon::pipeline::context::CancelToken;
use forge_daemon::pipeline::report::{IntegrityDecision, Mismatch, Reporter};
use forge_daemon::pipeline::JobContext;
use forge_payload::testkit;
use forge_proto::{InstallIo, InstallPlan, Phase, Secret};

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../../tests/harness/skip.rs"]
pub mod skip;

pub const ROOT_PW: &str = "r00t-Secret-pw";
pub const USER_PW: &str = "alice-Secret-pw";
pub const SB_PW: &str = "m0k-Secret-pw";

/// Why this test cannot run here, if it cannot.
pub fn skip_reason() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root (loop devices, mounts)".into());
    }
    for tool in [
        "losetup",
        "sfdisk",
        "wipefs",
        "partx",
        "mkfs.ext4",
        "mkfs.vfat",
        "mcopy",
        "blkid",
        "openssl",
    ] {
        if forge_daemon::resources::command::which(tool).is_none() {
            return Some(format!("{tool} not installed"));
        }
    }
    if !Path::new("/bin/busybox").is_file() {
        return Some("/bin/busybox (busybox-static) not installed".into());
    }
    None
}

#[macro_export]
macro_rules! skip_unless_root {
    () => {
        if let Some(r) = common::skip_reason() {
            common::skip::skip(r);
            return;
        }
    };
}

/// Everything the pipeline reported.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<String>>,
    pub warnings: Mutex<Vec<String>>,
}

impl Reporter for Recorder {
    fn phase_started(&self, phase: Phase) {
        self.events.lock().unwrap().push(format!("start {phase}"));
    }
    fn phase_finished(&self, phase: Phase) {
        self.events.lock().unwrap().push(format!("finish {phase}"));
    }
    fn progress(&self, fraction: f64, message: &str) {
        self.events
            .lock()
            .unwrap()
            .push(format!("progress {fraction:.3} {message}"));
    }
    fn warning(&self, message: &str) {
        self.warnings.lock().unwrap().push(message.to_string());
    }
    fn await_integrity_decision(&self, _m: Vec<Mismatch>) -> IntegrityDecision {
        IntegrityDecision::Cancel
    }
}

pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/bin/false\n";
pub const GROUP: &str = "root:x:0:\nbin:x:1:\nshadow:x:42:\n";
pub const SHADOW: &str = "root:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n";

/// A signed payload in `dir` with three packages: `base-layout` (core),
/// `hello` (base, depends on base-layout, with a `.INSTALL` and a service),
/// `extra-tool` (extra). Returns the public keyring's path.
pub fn make_payload(dir: &Path) -> PathBuf {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (secret, public) = testkit::generate_key(&keys, "FORGE phase tests <t@forge.invalid>");
    let pay = dir.join("payload");
    let pk = pay.join("packages");
    let os_release: &[u8] = b"NAME=InterGenOS\nPRETTY_NAME=\"InterGenOS test\"\nID=intergenos\n";
    testkit::make_package(
        &pk,
        "base-layout",
        "1.0-1",
        "core",
        &[],
        &[
            ("etc/passwd", PASSWD.as_bytes()),
            ("etc/group", GROUP.as_bytes()),
            ("etc/shadow", SHADOW.as_bytes()),
            ("etc/skel/.profile", b"# skel profile\n"),
            ("etc/os-release", os_release),
            ("usr/share/zoneinfo/Europe/Berlin", b"TZif-test"),
        ],
        None,
    );
    // A shell for the hooks phase: the live system's static busybox.
    if let Ok(busybox) = std::fs::read("/bin/busybox") {
        let mut entries = vec![
            testkit::RawEntry::pkginfo(&testkit::info(
                "busybox-static",
                "1.35.0-4",
                "core",
                &[],
                busybox.len() as u64,
            )),
            testkit::RawEntry {
                mode: 0o755,
                ..testkit::RawEntry::file("bin/busybox", &busybox)
            },
        ];
        for applet in ["sh", "mkdir", "echo", "cat"] {
            entries.push(testkit::RawEntry::symlink(
                &format!("bin/{applet}"),
                "busybox",
            ));
        }
        testkit::write_raw_archive(&pk.join("busybox-static-1.35.0-4.igos.tar.gz"), &entries);
    }
    testkit::make_package(
        &pk,
        "hello",
        "2.12-1",
        "base",
        &["base-layout"],
        &[
            ("usr/bin/hello", b"#!/bin/sh\necho hello\n"),
            (
                "usr/lib/systemd/system/hello.service",
                b"[Unit]\nDescription=hello\n[Service]\nExecStart=/usr/bin/hello\n[Install]\nWantedBy=multi-user.target\n",
            ),
        ],
        Some("#!/bin/sh\necho hook-output\nmkdir -p /var/lib/hello && echo ran > /var/lib/hello/hook\n"),
    );
    testkit::make_package(
        &pk,
        "extra-tool",
        "0.1-1",
        "extra",
        &[],
        &[("usr/bin/extra-tool", b"x")],
        None,
    );
    forge_payload::build::build_payload(&pay, Some(&secret)).expect("build payload");
    public
}

pub fn plan(boot: &str) -> InstallPlan {
    let yaml = format!(
        "version: 1\nhostname: forge-test\nlocale: en_US.UTF-8\nkeyboard: {{ layout: de, variant: nodeadkeys }}\ntimezone: Europe/Berlin\nboot: {boot}\nfilesystem: ext4\nuser: {{ name: alice, full_name: Alice Liddell, admin: true }}\npackage_groups: [core, base]\nservices: [hello.service, missing.service]\n"
    );
    serde_yaml::from_str(&yaml).expect("plan")
}

/// A sparse disk image of `size` bytes.
pub fn make_image(dir: &Path, size: u64) -> PathBuf {
    let img = dir.join("disk.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(size).unwrap();
    img
}

/// A daemon configuration for tests under `tmp`: image targets allowed in
/// `tmp`, the release keyring at `keyring`, no fault injection.
pub fn daemon_config(tmp: &Path, keyring: &Path) -> DaemonConfig {
    DaemonConfig {
        payload: tmp.join("payload"),
        keyring: keyring.to_path_buf(),
        override_phrase: "I understand".into(),
        staging_dir: tmp.join("staging"),
        allow_image_targets: true,
        image_dir: tmp.to_path_buf(),
        accepted_plan: tmp.join("install.yaml"),
        test_fail_at_phase: None,
        test_panic_at_phase: None,
        test_pause_at_phase: None,
        test_pause_seconds: 0,
        trust: None,
    }
}

/// Attaches a fresh 256 MiB sparse file `file` to a loop device (with
/// partition scanning), writes a GPT of two 100 MiB partitions and waits for
/// their nodes; returns the device. The caller detaches it.
pub fn attach_two_partition_loop(file: &Path) -> PathBuf {
    std::fs::File::create(file)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let out = Command::new("losetup")
        .args(["--find", "--show", "--partscan"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "losetup: {out:?}");
    let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let mut sfdisk = Command::new("sfdisk")
        .arg("--quiet")
        .arg(&dev)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sfdisk
        .stdin
        .take()
        .unwrap()
        .write_all(b"label: gpt\nsize=100MiB\nsize=100MiB\n")
        .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    forge_daemon::resources::loopdev::wait_for_partitions(
        &dev,
        2,
        std::time::Duration::from_secs(20),
    )
    .expect("partitions");
    dev
}

pub struct Job {
    pub ctx: JobContext,
    pub recorder: Arc<Recorder>,
}

/// A job context for `image` whose verify step is done by hand, as the
/// verify phase does it: signatures checked, groups resolved, archives hashed.
pub fn job(tmp: &Path, keyring: &Path, image: &Path, boot: &str, dry_run: bool) -> Job {
    let config = daemon_config(tmp, keyring);
    let plan = plan(boot);
    let io = InstallIo {
        disk: image.display().to_string(),
        root_password: Secret::new(ROOT_PW),
        user_password: Secret::new(USER_PW),
        secure_boot_password: Secret::new(SB_PW),
        dry_run,
    };
    let recorder = Arc::new(Recorder::default());
    let staging = tmp.join("staging").join("job-1");
    std::fs::create_dir_all(&staging).unwrap();
    let mut ctx = JobContext::new(
        1,
        plan.clone(),
        io,
        Arc::new(config),
        recorder.clone(),
        CancelToken::default(),
        staging,
    );
    let kr = forge_payload::Keyring::load(keyring).expect("keyring");
    let payload =
        forge_payload::open_verified(&tmp.join("payload"), &kr).expect("verified payload");
    let pkgs = payload
        .resolve_groups(&plan.package_groups)
        .expect("groups");
    let report = payload.verify_archives(&pkgs);
    assert!(report.is_clean());
    for line in report.audit_lines() {
        ctx.audit.push(line);
    }
    // What the validate phase records.
    ctx.state.boot_mode = plan.boot_mode();
    ctx.state.filesystem = plan.filesystem_kind();
    ctx.state.target_path = Some(image.to_path_buf());
    ctx.state.target_size = std::fs::metadata(image).map(|m| m.len()).ok();
    ctx.state.payload = Some(payload);
    ctx.state.packages = pkgs;
    ctx.state.integrity = Some(report);
    Job { ctx, recorder }
}

/// Loop devices backed by `image` (`losetup -j`).
pub fn loops_of(image: &Path) -> String {
    let out = Command::new("losetup")
        .arg("-j")
        .arg(image)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Mount points of the calling thread's namespace under `dir`.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    forge_daemon::resources::mounts::mount_points()
        .into_iter()
        .filter(|p| p.starts_with(dir))
        .collect()
}

/// Runs `f` on a new thread inside a private mount namespace (as the
/// daemon's pipeline thread runs) and returns its result.
pub fn in_namespace<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        forge_daemon::resources::namespace::enter_private_mount_namespace()
            .expect("private mount namespace");
        f()
    })
    .join()
    .expect("job thread panicked")
}

/// Attaches `image` read-only, mounts its partition `n` read-only in this
/// thread's namespace at a temp dir, runs `f` with the mount point, cleans up.
/// Call inside [`in_namespace`].
pub fn with_partition_ro<T>(image: &Path, n: u32, fstype: &str, f: impl FnOnce(&Path) -> T) -> T {
    let out = Command::new("losetup")
        .args(["-r", "--find", "--show", "--partscan"])
        .arg(image)
        .output()
        .unwrap();
    let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let parts = forge_daemon::resources::loopdev::wait_for_partitions(
        &dev,
        n,
        std::time::Duration::from_secs(20),
    );
    let part = forge_daemon::resources::loopdev::partition_path(&dev, n);
    let mnt = tempfile::tempdir().unwrap();
    let result = parts.map_err(|e| e.to_string()).and_then(|_| {
        nix::mount::mount(
            Some(&part),
            mnt.path(),
            Some(fstype),
            nix::mount::MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(|e| e.to_string())
    });
    let r = match result {
        Ok(()) => {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(mnt.path())));
            let _ = nix::mount::umount2(mnt.path(), nix::mount::MntFlags::MNT_DETACH);
            r
        }
        Err(e) => Err(Box::new(e) as Box<dyn std::any::Any + Send>),
    };
    let _ = Command::new("losetup").arg("-d").arg(&dev).status();
    match r {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    }
}

/// SHA-256 of a whole file (sparse images hash fast enough at 1 GiB).
pub fn hash_file(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}
