//! Harness: boots a disk image under QEMU (TCG; this machine's /dev/kvm cannot
//! run guests) and watches the serial console for the boot test payload's
//! `FORGE-BOOT-MARKER` line (see `tests/payload/init/` and docs/boot-chain.md).
//!
//! The image is never modified (`snapshot=on`), firmware variables are copied
//! to a temporary file, and QEMU is killed when the [`boot`] call returns, also
//! on a panic (guard). Reading stops early on the marker, a GRUB prompt, a
//! kernel panic or a shim/firmware Secure Boot refusal. Reading the console
//! (outcomes, the marker, its assertion) is `console.rs`; this module runs
//! the machine. Every machine of this directory is one QEMU process with
//! its console on stdio (`process.rs`: spawn, pump, kill on drop, logs,
//! reading until a verdict) started with the same command-line pieces
//! (`args.rs`: TCG, firmware and pflash, CD-ROM and disk).

mod args;
mod console;
pub mod live;
pub mod media;
pub mod mokmanager;
mod process;
pub mod serial;
pub mod session;
pub mod vm_tmux;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use console::classify;
pub use console::{assert_marker, marker_fields, BootOutcome, BootResult, MARKER};
use process::Verdict;

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-x86_64";
/// OVMF firmware code without Secure Boot.
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
/// Its variable store template.
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// OVMF firmware code with Secure Boot (needs `q35,smm=on` and secure pflash).
pub const OVMF_CODE_SECURE: &str = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd";
/// Variable store with Microsoft's keys enrolled and Secure Boot enabled.
pub const OVMF_VARS_SECURE: &str = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
/// Where scripts/setup-debian.sh installs python virt-firmware's `virt-fw-vars`.
pub const VIRT_FW_VARS: &str = "/opt/forge-venv/bin/virt-fw-vars";
/// Owner GUID written with the MOK (shim's own vendor GUID).
pub const MOK_OWNER_GUID: &str = "605dab50-e046-4300-abb6-3dd810dd8b23";

/// How to start the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootMode {
    /// OVMF without Secure Boot.
    Efi,
    /// SeaBIOS.
    Bios,
    /// OVMF with Secure Boot enforced; `vars` is a variable store (e.g. from
    /// [`secure_boot_vars_with_mok`]); a copy is used, `vars` stays untouched.
    SecureBoot { vars: PathBuf },
}

/// `Some(reason)` when a boot in `mode` cannot run on this machine (QEMU,
/// firmware or virt-fw-vars missing); tests print it and skip.
pub fn missing_prerequisite(mode: &BootMode) -> Option<String> {
    if which(QEMU).is_none() {
        return Some(format!("{QEMU} is not installed (scripts/setup-debian.sh)"));
    }
    let files: &[&str] = match mode {
        BootMode::Bios => &[],
        BootMode::Efi => &[OVMF_CODE, OVMF_VARS],
        BootMode::SecureBoot { .. } => &[OVMF_CODE_SECURE, OVMF_VARS_SECURE, VIRT_FW_VARS],
    };
    files
        .iter()
        .find(|f| !Path::new(f).exists())
        .map(|f| format!("{f} is missing (scripts/setup-debian.sh)"))
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(bin))
        .find(|p| p.is_file())
}

/// Writes to `out` a Secure Boot variable store (OVMF's Microsoft-enrolled
/// one) with `mok_der` (an X.509 certificate, DER) in shim's `MokList`, as if
/// the user had enrolled it with MokManager.
pub fn secure_boot_vars_with_mok(mok_der: &Path, out: &Path) -> Result<()> {
    virt_fw_vars(&[
        "--input".as_ref(),
        OVMF_VARS_SECURE.as_ref(),
        "--output".as_ref(),
        out.as_os_str(),
        "--add-mok".as_ref(),
        MOK_OWNER_GUID.as_ref(),
        mok_der.as_os_str(),
    ])
    .map(drop)
}

/// Runs virt-fw-vars with `args`: its standard output, or an error with
/// the arguments and what it printed on standard error.
pub fn virt_fw_vars(args: &[&std::ffi::OsStr]) -> Result<String> {
    let out = Command::new(VIRT_FW_VARS)
        .args(args)
        .output()
        .with_context(|| format!("running {VIRT_FW_VARS}"))?;
    if !out.status.success() {
        bail!(
            "virt-fw-vars {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn qemu_command(image: &Path, mode: &BootMode, scratch: &Path) -> Result<Command> {
    let mut cmd = args::base(1024, false);
    args::firmware(&mut cmd, mode, "q35", scratch)?;
    let img = args::drive_path(image)?;
    cmd.arg("-drive")
        .arg(format!("file={img},if=virtio,format=raw,snapshot=on"));
    Ok(cmd)
}

/// Boots `image` in `mode` and watches the serial console for at most
/// `timeout`. Errors only when QEMU cannot be started; every boot outcome,
/// good or bad, is a [`BootResult`].
pub fn boot(image: &Path, mode: BootMode, timeout: Duration) -> Result<BootResult> {
    if let Some(why) = missing_prerequisite(&mode) {
        bail!("cannot boot: {why}");
    }
    if !image.is_file() {
        bail!("no disk image at {}", image.display());
    }
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let cmd = qemu_command(image, &mode, scratch.path())?;
    // A panic or a refusal: keep the reason that follows the headline.
    let w = process::watch(cmd, timeout, classify, |(o, _)| {
        matches!(o, BootOutcome::KernelPanic | BootOutcome::SecurityViolation)
    })?;
    let (outcome, marker) = match w.verdict {
        Verdict::Seen(d) => d,
        Verdict::Exited => (BootOutcome::Exited, None),
        Verdict::Timeout => (BootOutcome::Timeout, None),
    };
    Ok(BootResult {
        marker,
        outcome,
        serial_log: w.serial_log,
        elapsed: w.elapsed,
    })
}
/// Boots `image` (see [`boot`]), panicking if QEMU cannot start; prints the
/// outcome and time as `boot WHAT: ...`. For tests.
pub fn boot_logged(image: &Path, mode: BootMode, timeout: Duration, what: &str) -> BootResult {
    let r = boot(image, mode, timeout).expect("start QEMU");
    eprintln!("boot {what}: {:?} after {:.1?}", r.outcome, r.elapsed);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_the_one_boot_always_used() {
        let dir = tempfile::tempdir().unwrap();
        let vars = dir.path().join("vars.fd");
        std::fs::write(&vars, b"store").unwrap();
        let scratch = dir.path().join("s");
        std::fs::create_dir(&scratch).unwrap();
        let base = "-accel tcg -m 1024 -smp 1 -nodefaults -display none -monitor none -serial stdio -no-reboot";
        let disk = "-drive file=/i.img,if=virtio,format=raw,snapshot=on";
        let cmd = qemu_command(Path::new("/i.img"), &BootMode::Bios, &scratch).unwrap();
        assert_eq!(
            args::of(&cmd).join(" "),
            format!("{base} -machine q35 {disk}")
        );
        let mode = BootMode::SecureBoot { vars };
        let cmd = qemu_command(Path::new("/i.img"), &mode, &scratch).unwrap();
        assert_eq!(
            args::of(&cmd).join(" "),
            format!(
                "{base} -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
                 -drive if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE_SECURE} \
                 -drive if=pflash,format=raw,unit=1,file={}/OVMF_VARS.fd {disk}",
                scratch.display()
            )
        );
        assert_eq!(
            std::fs::read(scratch.join("OVMF_VARS.fd")).unwrap(),
            b"store"
        );
        assert!(qemu_command(Path::new("/a,b.img"), &BootMode::Bios, &scratch).is_err());
    }
}
