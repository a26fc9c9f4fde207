//! End to end: `forgectl install` through the daemon (private bus, real
//! polkitd) of the boot test payload (real Debian kernel, busybox, GRUB,
//! shim) into a disk image, EFI and BIOS; the installed system's pkm
//! database must list every deployed package; then each image boots under
//! QEMU (TCG) and the marker printed by its init must show the planned
//! hostname, user (hashed password) and timezone. Secure Boot: OVMF with
//! the MOK FORGE generated pre-enrolled boots to the marker; the same disk
//! with GRUB signed by another key is refused (Security Violation).
//!
//! Needs root, dbus-daemon, polkitd, QEMU, OVMF; build the binaries first:
//! `cargo build -p forge-daemon -p forge-cli`.

mod daemon_common;
mod forge_install;

use forge_tests::cmd::run_ok as run;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_install::{forge_install, mtools_fat};
use forge_tests::qemu::{self, BootMode, BootOutcome, BootResult};
use forge_tests::test_payload::{boot_payload, BootPayload};

const BOOT_TIMEOUT: Duration = Duration::from_secs(240);

fn skip_reason(mode: &BootMode) -> Option<String> {
    forge_tests::env::skip_reason().or_else(|| qemu::missing_prerequisite(mode))
}

/// The names under the installed system's pkm database, read from the
/// image's root partition (partition 2) mounted read-only in a private
/// mount namespace.
fn pkm_packages(image: &Path) -> Vec<String> {
    let image = image.to_path_buf();
    std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).expect("unshare");
        nix::mount::mount(
            None::<&str>,
            "/",
            None::<&str>,
            nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .expect("private /");
        let dev = run(Command::new("losetup")
            .args(["-r", "--find", "--show", "--partscan"])
            .arg(&image));
        let dev = dev.trim().to_string();
        let _ = Command::new("partx").arg("-u").arg(&dev).status();
        let part = format!("{dev}p2");
        for _ in 0..100 {
            if Path::new(&part).exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mnt = tempfile::tempdir().unwrap();
        let r = nix::mount::mount(
            Some(part.as_str()),
            mnt.path(),
            Some("ext4"),
            nix::mount::MsFlags::MS_RDONLY,
            None::<&str>,
        );
        let names = r.as_ref().ok().map(|_| {
            let mut v: Vec<String> = std::fs::read_dir(mnt.path().join(forge_payload::PKM_DB_DIR))
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        });
        if r.is_ok() {
            let _ = nix::mount::umount2(mnt.path(), nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = Command::new("losetup").arg("-d").arg(&dev).status();
        names.unwrap_or_else(|| panic!("mounting {part}: {r:?}"))
    })
    .join()
    .expect("inspect thread")
}

/// Every package the plan's groups resolve to in the payload.
fn expected_packages(payload: &BootPayload) -> Vec<String> {
    let kr = forge_payload::Keyring::load(&payload.keyring).expect("keyring");
    let p = forge_payload::open_verified(&payload.dir, &kr).expect("payload");
    let mut v: Vec<String> = p
        .resolve_groups(&["core".to_string(), "base".to_string()])
        .expect("groups")
        .into_iter()
        .map(|e| e.name)
        .collect();
    v.sort();
    v
}

fn boot(image: &Path, mode: BootMode, what: &str) -> BootResult {
    qemu::boot_logged(image, mode, BOOT_TIMEOUT, what)
}

/// The marker check of [`qemu::assert_marker`], with this installer's
/// `/etc/localtime` link form.
fn assert_marker(r: &BootResult, host: &str, user: &str, tz: &str) {
    qemu::assert_marker(r, host, user, &format!("../usr/share/zoneinfo/{}", tz));
}

#[test]
fn efi_forge_install_boots_and_registers_every_package() {
    if let Some(why) = skip_reason(&BootMode::Efi) {
        forge_tests::skip::skip(why);
        return;
    }
    let payload = boot_payload();
    let inst = forge_install(&payload, "efi", "forge-efi", "alice", "Europe/Berlin");
    assert_eq!(
        pkm_packages(&inst.image),
        expected_packages(&payload),
        "pkm database"
    );
    let r = boot(&inst.image, BootMode::Efi, "efi");
    assert_marker(&r, "forge-efi", "alice", "Europe/Berlin");
}

#[test]
fn bios_forge_install_boots_and_registers_every_package() {
    if let Some(why) = skip_reason(&BootMode::Bios) {
        forge_tests::skip::skip(why);
        return;
    }
    let payload = boot_payload();
    let inst = forge_install(&payload, "bios", "forge-bios", "bob", "Asia/Tokyo");
    assert_eq!(
        pkm_packages(&inst.image),
        expected_packages(&payload),
        "pkm database"
    );
    let r = boot(&inst.image, BootMode::Bios, "bios");
    assert_marker(&r, "forge-bios", "bob", "Asia/Tokyo");
}

#[test]
fn secure_boot_accepts_forges_mok_and_refuses_another_key() {
    let probe = BootMode::SecureBoot {
        vars: PathBuf::new(),
    };
    if let Some(why) = skip_reason(&probe) {
        forge_tests::skip::skip(why);
        return;
    }
    let payload = boot_payload();
    let inst = forge_install(&payload, "efi", "forge-sb", "carol", "America/New_York");
    let w = inst.dir.path();
    let fat = mtools_fat(&inst.image);
    // The MOK FORGE generated for this machine, as it put it on the ESP.
    let mok = inst.mok_der();
    let vars = w.join("OVMF_VARS_MOK.fd");
    qemu::secure_boot_vars_with_mok(&mok, &vars)
        .expect("enrolling the MOK into the variable store");
    let r = boot(
        &inst.image,
        BootMode::SecureBoot { vars: vars.clone() },
        "secure boot",
    );
    assert!(
        r.serial_log.contains("Secure boot enabled"),
        "the kernel did not report Secure Boot; console tail:\n{}",
        r.log_tail(4000)
    );
    assert_marker(&r, "forge-sb", "carol", "America/New_York");

    // The same GRUB, signed by another key instead: shim must refuse it.
    forge_tests::cmd::resign_esp_grub_with_foreign_key(&fat, w);
    let r = boot(
        &inst.image,
        BootMode::SecureBoot { vars },
        "secure boot, foreign key",
    );
    assert_eq!(
        r.outcome,
        BootOutcome::SecurityViolation,
        "shim did not refuse the foreign GRUB; console tail:\n{}",
        r.log_tail(4000)
    );
    assert!(r.marker.is_none());
}
