//! Shared by install_boot.rs and mokmanager_serial.rs: `forgectl install`
//! of the boot test payload through the daemon (private bus, real polkitd)
//! into a fresh 2 GiB image, checked (exit 0, no password in any output,
//! no loop device left), the image kept beyond the daemon's environment;
//! and the way into the image's ESP with mtools (e.g. the MOK FORGE put
//! there).

use std::path::{Path, PathBuf};
use std::process::Command;

use forge_tests::cmd::run_ok as run;
use forge_tests::daemon::DaemonOptions;
use forge_tests::env::ForgeEnv;
use forge_tests::test_payload::BootPayload;
use forge_tests::users;

use super::daemon_common::{ROOT_PW, SB_PW, USER_PW};

/// An image FORGE installed; the environment is gone (daemon stopped).
pub struct Installed {
    pub dir: tempfile::TempDir,
    pub image: PathBuf,
}

pub fn plan(boot: &str, host: &str, user: &str, tz: &str) -> String {
    format!(
        "version: 1\nhostname: {host}\nlocale: en_US.UTF-8\nkeyboard: {{ layout: us, variant: \"\" }}\n\
         timezone: {tz}\nboot: {boot}\nfilesystem: ext4\n\
         user: {{ name: {user}, full_name: Test User, admin: true }}\n\
         package_groups: [core, base]\nservices: []\n"
    )
}

/// `forgectl install` of the boot payload into a fresh 2 GiB image.
pub fn forge_install(
    payload: &BootPayload,
    boot: &str,
    host: &str,
    user: &str,
    tz: &str,
) -> Installed {
    let env = ForgeEnv::start(DaemonOptions {
        payload: Some(payload.dir.clone()),
        keyring: Some(payload.keyring.clone()),
        ..DaemonOptions::default()
    })
    .expect("starting bus, polkitd and the daemon");
    let img = env.daemon.create_image("disk.img", 2 << 30).expect("image");
    let started = std::time::Instant::now();
    let out = env
        .forgectl_install(
            &users::permitted().expect("test user"),
            &plan(boot, host, user, tz),
            &img,
            (ROOT_PW, USER_PW),
            &[],
        )
        .expect("running forgectl");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let log = env.daemon.log();
    assert_eq!(
        out.status.code(),
        Some(0),
        "forgectl install failed\nstdout:\n{stdout}\nstderr:\n{stderr}\ndaemon log:\n{log}"
    );
    eprintln!("forge install {boot}: {:.1?}", started.elapsed());
    for secret in [ROOT_PW, USER_PW, SB_PW] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret) && !log.contains(secret));
    }
    let out = Command::new("losetup")
        .arg("-j")
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.stdout.is_empty(), "loop device left attached");
    // Keep the image beyond the daemon's temp dir.
    let dir = tempfile::tempdir().expect("temp dir");
    let image = dir.path().join("disk.img");
    std::fs::rename(&img, &image)
        .or_else(|_| std::fs::copy(&img, &image).map(|_| ()))
        .expect("moving the image");
    drop(env);
    Installed { dir, image }
}

/// Byte offset of the ESP (partition 1) inside the image.
pub fn esp_offset(image: &Path) -> u64 {
    let start = run(Command::new("partx")
        .args(["-g", "-o", "START", "-n", "1"])
        .arg(image));
    start.trim().parse::<u64>().expect("partx START") * 512
}

/// The image's ESP as an mtools drive (`-i`).
pub fn mtools_fat(image: &Path) -> String {
    format!("{}@@{}", image.display(), esp_offset(image))
}

impl Installed {
    /// Copies the MOK FORGE generated for this machine, as it put it on
    /// the ESP (`/MOK.der`), to `<dir>/MOK.der` and returns that path.
    pub fn mok_der(&self) -> PathBuf {
        let mok = self.dir.path().join("MOK.der");
        run(Command::new("mcopy")
            .env("MTOOLS_SKIP_CHECK", "1")
            .args(["-n", "-i", &mtools_fat(&self.image), "::/MOK.der"])
            .arg(&mok));
        mok
    }
}
