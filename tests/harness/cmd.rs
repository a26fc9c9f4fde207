//! Running the tools the suites use (mtools, sbsign, openssl,
//! systemd-analyze, ...): whether a tool is there, a command that must
//! succeed, its stdout returned, its full output in the panic message when
//! it does not.

use std::path::Path;
use std::process::Command;

/// Whether `tool` is on PATH (`command -v`).
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `systemd-analyze verify` of `unit` (the text of `forge-daemon.service`,
/// written to a temp copy of that name) passes without a word. Panics
/// otherwise. For tests only.
pub fn assert_unit_verifies(unit: &str) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("forge-daemon.service");
    std::fs::write(&copy, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}

/// Runs `cmd`, panicking with its status and output unless it succeeds;
/// returns its stdout. For tests only.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Replaces `EFI/BOOT/grubx64.efi` on the FAT file system `fat` (an mtools
/// image spec, `IMAGE@@OFFSET`) by the same GRUB signed with a fresh key
/// that no firmware or shim trusts. Scratch files go to `workdir`.
pub fn resign_esp_grub_with_foreign_key(fat: &str, workdir: &Path) {
    let grub = workdir.join("grubx64.efi");
    let resigned = workdir.join("grubx64.other.efi");
    run_ok(
        Command::new("mcopy")
            .env("MTOOLS_SKIP_CHECK", "1")
            .args(["-n", "-i", fat, "::/EFI/BOOT/grubx64.efi"])
            .arg(&grub),
    );
    run_ok(Command::new("sbattach").arg("--remove").arg(&grub));
    run_ok(
        Command::new("openssl")
            .args([
                "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=Not the enrolled MOK/", "-keyout"])
            .arg(workdir.join("other.key"))
            .arg("-out")
            .arg(workdir.join("other.crt")),
    );
    run_ok(
        Command::new("sbsign")
            .arg("--key")
            .arg(workdir.join("other.key"))
            .arg("--cert")
            .arg(workdir.join("other.crt"))
            .arg("--output")
            .arg(&resigned)
            .arg(&grub),
    );
    run_ok(
        Command::new("mcopy")
            .env("MTOOLS_SKIP_CHECK", "1")
            .args(["-o", "-i", fat])
            .arg(&resigned)
            .arg("::/EFI/BOOT/grubx64.efi"),
    );
}
