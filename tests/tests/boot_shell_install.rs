//! Proves the boot chain FORGE's installer must produce (docs/boot-chain.md)
//! with the plain reference installer `scripts/shell-install.sh`: the boot
//! test payload is shell-installed into fresh 2 GiB disk images and booted
//! under QEMU (TCG) with OVMF, SeaBIOS and OVMF with Secure Boot enforced;
//! the marker printed by the installed system's init must show the planned
//! hostname, user (with a hashed password) and timezone, and that fstab
//! names the root by UUID. A GRUB signed by a key other than the enrolled
//! MOK must be refused by shim.
//!
//! Needs root (loop devices), QEMU and OVMF; skips with a reason otherwise.

use forge_tests::cmd::run_ok as run;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_tests::qemu::{self, BootMode, BootOutcome, BootResult};
use forge_tests::test_payload::{boot_payload, workspace_root};

const BOOT_TIMEOUT: Duration = Duration::from_secs(180);

fn skip_reason(mode: &BootMode) -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root for loop devices".into());
    }
    qemu::missing_prerequisite(mode)
}

/// A fresh sparse 2 GiB image, shell-installed.
struct Installed {
    _dir: tempfile::TempDir,
    image: PathBuf,
    /// Where the installer exported the MOK certificate (EFI only).
    mok_dir: PathBuf,
}

fn shell_install(mode: &str, host: &str, user: &str, tz: &str) -> Installed {
    let payload = boot_payload();
    let dir = tempfile::tempdir().expect("temp dir");
    let image = dir.path().join("disk.img");
    let mok_dir = dir.path().join("mok");
    std::fs::File::create(&image)
        .and_then(|f| f.set_len(2 << 30))
        .expect("create image");
    let started = std::time::Instant::now();
    run(Command::new("bash")
        .arg(workspace_root().join("scripts/shell-install.sh"))
        .arg(&image)
        .arg(&payload.dir)
        .args([mode, host, user, tz])
        .env("FORGE_SHELL_INSTALL_QUIET", "1")
        .env("FORGE_MOK_EXPORT", &mok_dir));
    eprintln!("shell-install {mode}: {:.1?}", started.elapsed());
    Installed {
        _dir: dir,
        image,
        mok_dir,
    }
}

fn boot(image: &Path, mode: BootMode, what: &str) -> BootResult {
    qemu::boot_logged(image, mode, BOOT_TIMEOUT, what)
}

/// The marker check of [`qemu::assert_marker`], with this installer's
/// `/etc/localtime` link form.
fn assert_marker(r: &BootResult, host: &str, user: &str, tz: &str) {
    qemu::assert_marker(r, host, user, &format!("/usr/share/zoneinfo/{}", tz));
}

#[test]
fn efi_shell_install_boots_and_shows_marker() {
    if let Some(why) = skip_reason(&BootMode::Efi) {
        forge_tests::skip::skip(why);
        return;
    }
    let inst = shell_install("efi", "efi-box", "alice", "Europe/Berlin");
    let r = boot(&inst.image, BootMode::Efi, "efi");
    assert_marker(&r, "efi-box", "alice", "Europe/Berlin");
}

#[test]
fn bios_shell_install_boots_and_shows_marker() {
    if let Some(why) = skip_reason(&BootMode::Bios) {
        forge_tests::skip::skip(why);
        return;
    }
    let inst = shell_install("bios", "bios-box", "bob", "Asia/Tokyo");
    let r = boot(&inst.image, BootMode::Bios, "bios");
    assert_marker(&r, "bios-box", "bob", "Asia/Tokyo");
}

fn secure_boot_vars(inst: &Installed) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = dir.path().join("OVMF_VARS_MOK.fd");
    qemu::secure_boot_vars_with_mok(&inst.mok_dir.join("MOK.der"), &vars)
        .expect("enrolling the MOK into the variable store");
    (dir, vars)
}

#[test]
fn secure_boot_with_enrolled_mok_shows_marker() {
    let probe = BootMode::SecureBoot {
        vars: PathBuf::new(),
    };
    if let Some(why) = skip_reason(&probe) {
        forge_tests::skip::skip(why);
        return;
    }
    let inst = shell_install("efi", "sb-box", "carol", "America/New_York");
    let (_vars_dir, vars) = secure_boot_vars(&inst);
    let r = boot(&inst.image, BootMode::SecureBoot { vars }, "secure boot");
    assert!(
        r.serial_log.contains("Secure boot enabled"),
        "the kernel did not report Secure Boot; console tail:\n{}",
        r.log_tail(4000)
    );
    assert_marker(&r, "sb-box", "carol", "America/New_York");
}

/// Byte offset of the ESP (partition 1) inside the image.
fn esp_offset(image: &Path) -> u64 {
    let start = run(Command::new("partx")
        .args(["-g", "-o", "START", "-n", "1"])
        .arg(image));
    start.trim().parse::<u64>().expect("partx START") * 512
}

#[test]
fn secure_boot_refuses_grub_signed_by_another_key() {
    let probe = BootMode::SecureBoot {
        vars: PathBuf::new(),
    };
    if let Some(why) = skip_reason(&probe) {
        forge_tests::skip::skip(why);
        return;
    }
    let inst = shell_install("efi", "sb-bad", "dave", "UTC");
    let (vars_dir, vars) = secure_boot_vars(&inst);

    // Replace EFI/BOOT/grubx64.efi by the same GRUB signed with a fresh key.
    let w = vars_dir.path();
    let fat = format!("{}@@{}", inst.image.display(), esp_offset(&inst.image));
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

/// Runs `script` (bash, cwd = the mounted root file system) on partition 2
/// of `image`; mount and loop device are released by the script's trap.
fn edit_root_fs(image: &Path, script: &str) {
    let wrapper = r#"set -euo pipefail
m=$(mktemp -d); loop=""
trap 'cd /; umount "$m" 2>/dev/null || true; rmdir "$m"; if [ -n "$loop" ]; then losetup -d "$loop"; fi' EXIT
loop=$(losetup -f --show -P "$1")
partx -u "$loop" 2>/dev/null || true
for _ in $(seq 50); do [ -b "${loop}p2" ] && break; sleep 0.1; done
mount -t ext4 "${loop}p2" "$m"
cd "$m"
eval "$2"
"#;
    run(Command::new("bash")
        .args(["-c", wrapper, "edit-root-fs"])
        .arg(image)
        .arg(script));
}

#[test]
fn broken_installs_stop_early_with_the_right_outcome() {
    if let Some(why) = skip_reason(&BootMode::Efi) {
        forge_tests::skip::skip(why);
        return;
    }
    let inst = shell_install("efi", "broken-box", "erin", "UTC");

    // A root UUID that no disk has: the initramfs gives up (after rootdelay
    // seconds), the kernel panics.
    edit_root_fs(
        &inst.image,
        "sed -i 's/root=UUID=[0-9a-f-]*/root=UUID=00000000-0000-4000-8000-000000000000 rootdelay=3/' boot/grub/grub.cfg",
    );
    let r = boot(&inst.image, BootMode::Efi, "efi, unknown root UUID");
    assert_eq!(
        r.outcome,
        BootOutcome::KernelPanic,
        "console tail:\n{}",
        r.log_tail(4000)
    );
    assert!(
        r.serial_log
            .contains("FORGE-INITRAMFS-ERROR: root device UUID=00000000-0000-4000-8000-000000000000 not found after 3 s"),
        "the initramfs did not say why; console tail:\n{}",
        r.log_tail(4000)
    );

    // No grub.cfg at all: GRUB stops at its prompt.
    edit_root_fs(&inst.image, "rm boot/grub/grub.cfg");
    let r = boot(&inst.image, BootMode::Efi, "efi, no grub.cfg");
    assert_eq!(
        r.outcome,
        BootOutcome::GrubPrompt,
        "console tail:\n{}",
        r.log_tail(4000)
    );
    assert!(r.marker.is_none());
}
