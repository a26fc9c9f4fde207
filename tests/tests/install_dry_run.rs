//! `forgectl install --dry-run` through the daemon: exit 0, every phase
//! after verify prints the operations it would perform (partitioning,
//! formatting, mounts, each package, configuration files, users, MOK, GRUB,
//! services, logs), and the disk image is byte for byte what it was.
//!
//! Needs root, dbus-daemon, polkitd; build the binaries first:
//! `cargo build -p forge-daemon -p forge-cli`.

mod daemon_common;

use daemon_common::*;
use forge_tests::users;

#[test]
fn dry_run_prints_every_operation_and_writes_nothing() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = env.daemon.create_image("disk.img", 256 << 20)?;
    // Recognizable content, so "unchanged" means something.
    std::fs::write(&img, vec![0xa5u8; 4 << 20])?;
    std::fs::File::options()
        .write(true)
        .open(&img)?
        .set_len(256 << 20)?;
    let before = sha256(&img)?;
    let out = env.forgectl_install(
        &users::permitted()?,
        &plan_yaml(&["core", "base"]),
        &img,
        (ROOT_PW, USER_PW),
        &["--dry-run"],
    )?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let log = env.daemon.log();
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}\ndaemon log:\n{log}");
    assert_eq!(out.status.code(), Some(0), "{context}");
    assert_eq!(
        sha256(&img)?,
        before,
        "the dry run changed the image: {context}"
    );
    let all = format!("{stdout}{log}");
    for needle in [
        "wipefs",
        "sfdisk",
        "mkfs.ext4",
        "bind-mount /proc",
        "hello 1.0-1",
        "/etc/fstab",
        "/etc/pkm/repos.conf",
        "wheel",
        "grub-install",
        "install.log",
    ] {
        assert!(
            all.contains(needle),
            "no dry-run operation mentions {needle:?}: {context}"
        );
    }
    for secret in [ROOT_PW, USER_PW] {
        assert!(!all.contains(secret) && !stderr.contains(secret));
    }
    let loops = std::process::Command::new("losetup")
        .arg("-j")
        .arg(&img)
        .output()?;
    assert!(loops.stdout.is_empty(), "a dry run attached the image");
    Ok(())
}
