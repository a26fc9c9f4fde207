//! Harness: the pieces of a QEMU command line that the boot helpers
//! ([`super::boot`], [`super::live`]) and the console machines
//! ([`super::serial::SerialVm`], [`super::session::SessionVm`]) share: TCG
//! with the serial console on stdio, the machine type with its firmware
//! (SeaBIOS, or OVMF as pflash with or without Secure Boot), a CD-ROM on
//! virtio-scsi and a raw disk on virtio-blk. Each caller keeps its own
//! device choice; only the spelling lives here, once.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::{BootMode, OVMF_CODE, OVMF_CODE_SECURE, OVMF_VARS, QEMU};

/// TCG, `memory_mib` of RAM, one CPU, no default devices, no display, the
/// serial console on stdio; `-no-reboot` unless the guest may reset.
pub(super) fn base(memory_mib: u32, resets: bool) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-accel", "tcg", "-m"])
        .arg(memory_mib.to_string())
        .args(["-smp", "1"])
        .args(["-nodefaults", "-display", "none", "-monitor", "none"])
        .args(["-serial", "stdio"]);
    if !resets {
        cmd.arg("-no-reboot");
    }
    cmd
}

/// `q35` with OVMF: with Secure Boot (`smm=on`, secure pflash,
/// `OVMF_CODE_SECURE`) or without (`OVMF_CODE`); `vars` is the variable
/// store QEMU writes to (pflash unit 1).
pub(super) fn uefi(cmd: &mut Command, secure: bool, vars: &Path) {
    let code = if secure {
        cmd.args(["-machine", "q35,smm=on"])
            .args(["-global", "driver=cfi.pflash01,property=secure,value=on"]);
        OVMF_CODE_SECURE
    } else {
        cmd.args(["-machine", "q35"]);
        OVMF_CODE
    };
    cmd.arg("-drive")
        .arg(format!(
            "if=pflash,format=raw,unit=0,readonly=on,file={code}"
        ))
        .arg("-drive")
        .arg(format!(
            "if=pflash,format=raw,unit=1,file={}",
            vars.display()
        ));
}

/// The machine and firmware for `mode`, the variable store COPIED into
/// `scratch` (the original stays untouched); SeaBIOS runs on
/// `bios_machine`.
pub(super) fn firmware(
    cmd: &mut Command,
    mode: &BootMode,
    bios_machine: &str,
    scratch: &Path,
) -> Result<()> {
    let copy = |src: &Path| -> Result<PathBuf> {
        let vars = scratch.join("OVMF_VARS.fd");
        std::fs::copy(src, &vars)
            .with_context(|| format!("copying {} to {}", src.display(), vars.display()))?;
        Ok(vars)
    };
    match mode {
        BootMode::Bios => {
            cmd.args(["-machine", bios_machine]);
        }
        BootMode::Efi => uefi(cmd, false, &copy(Path::new(OVMF_VARS))?),
        BootMode::SecureBoot { vars } => uefi(cmd, true, &copy(vars)?),
    }
    Ok(())
}

/// `path` as QEMU's `-drive` can take it: UTF-8 and without a comma.
pub(super) fn drive_path(path: &Path) -> Result<&str> {
    let p = path
        .to_str()
        .with_context(|| format!("path {} is not UTF-8", path.display()))?;
    if p.contains(',') {
        bail!("path {p:?} contains a comma, which QEMU's -drive cannot take");
    }
    Ok(p)
}

/// `iso` as a read-only `scsi-cd` on virtio-scsi, first in the boot order.
pub(super) fn scsi_cdrom(cmd: &mut Command, iso: &str) {
    cmd.args(["-device", "virtio-scsi-pci,id=scsi0"])
        .arg("-drive")
        .arg(format!(
            "file={iso},if=none,id=live,media=cdrom,readonly=on,format=raw"
        ))
        .args(["-device", "scsi-cd,bus=scsi0.0,drive=live,bootindex=0"]);
}

/// `disk` as a raw virtio-blk disk written in place (the guest's
/// `/dev/vda`), with a place in the boot order when `bootindex` is given.
pub(super) fn virtio_disk(cmd: &mut Command, disk: &str, bootindex: Option<u32>) {
    let device = match bootindex {
        Some(i) => format!("virtio-blk-pci,drive=target,bootindex={i}"),
        None => "virtio-blk-pci,drive=target".to_string(),
    };
    cmd.arg("-drive")
        .arg(format!("file={disk},if=none,id=target,format=raw"))
        .arg("-device")
        .arg(device);
}

/// The arguments of `cmd`, for tests.
#[cfg(test)]
pub(super) fn of(cmd: &Command) -> Vec<String> {
    cmd.get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}
