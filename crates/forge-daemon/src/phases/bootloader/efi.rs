//! The EFI half of the bootloader phase: a standalone GRUB image with SBAT
//! metadata, signed with the Machine Owner Key, shim and MokManager when the
//! target ships them, assembled in the ESP staging directory and copied onto
//! the FAT file system with mtools (see the parent module's doc).

use std::path::{Path, PathBuf};
use std::process::Command;

use forge_proto::i18n::tr;

use super::{in_target, module_dir, read_in_target, TIMEOUT};
use crate::pipeline::{JobContext, PhaseError};
use crate::resources::{command, esp};
use forge_payload::confined;

/// Modules built into the EFI image (those that exist in the module dir).
pub const EFI_MODULES: &[&str] = &[
    "part_gpt",
    "part_msdos",
    "fat",
    "ext2",
    "xfs",
    "btrfs",
    "normal",
    "configfile",
    "linux",
    "boot",
    "search",
    "search_fs_uuid",
    "search_fs_file",
    "search_label",
    "echo",
    "test",
    "gzio",
    "xzio",
    "zstd",
    "all_video",
    "efi_gop",
    "video_fb",
    "font",
    "gfxterm",
    "terminal",
    "serial",
    "efinet",
    "reboot",
    "halt",
    "sleep",
    "minicmd",
    "chain",
    "ls",
    "cat",
    "probe",
    "regexp",
    "loadenv",
    "tpm",
];

/// Shim and MokManager as Debian's shim-signed / shim-helpers install them.
const SHIM: &[&str] = &[
    "usr/lib/shim/shimx64.efi.signed",
    "usr/lib/shim/shimx64.efi",
];
const MOKMANAGER: &[&str] = &["usr/lib/shim/mmx64.efi.signed", "usr/lib/shim/mmx64.efi"];

/// The SBAT metadata when the target's GRUB package ships none.
pub const DEFAULT_SBAT: &str = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\ngrub,5,Free Software Foundation,grub,2.06,https://www.gnu.org/software/grub/\ngrub.forge,1,InterGenOS FORGE,grub,2.06,https://intergenos.org/\n";

/// The first candidate that is a regular file in the target, symlinks
/// resolved inside the target only (a payload cannot smuggle a host file
/// onto the ESP).
fn first_existing(root: &Path, candidates: &[&str]) -> Option<(PathBuf, Vec<u8>)> {
    candidates.iter().find_map(|c| {
        let data = read_in_target(root, Path::new(c))?;
        Some((PathBuf::from("/").join(c), data))
    })
}

/// Builds, signs and writes the EFI boot files (see the parent module).
pub(super) fn install(ctx: &mut JobContext, root: &Path, cfg: &str) -> Result<(), PhaseError> {
    let failed = tr("Could not install the boot loader");
    let (staging, esp_dev) = (ctx.state.esp_staging()?, ctx.state.esp_partition()?);
    let Some(modules) = module_dir(root, "x86_64-efi")? else {
        return Err(PhaseError::new(
            failed,
            "no GRUB x86_64-efi modules in the target or on this system (/usr/lib/grub/x86_64-efi)",
        ));
    };
    ctx.log_line(&format!("GRUB modules from {}", modules.display()));
    for tool in ["grub-mkimage", "sbsign"] {
        if !command::have(tool) {
            return Err(PhaseError::new(failed, format!("{tool} not found on PATH")));
        }
    }
    let work = staging.with_extension("build");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)
        .map_err(|e| PhaseError::new(failed.clone(), format!("{}: {e}", work.display())))?;
    let result = efi_build(ctx, root, cfg, &staging, &work, &modules);
    let _ = std::fs::remove_dir_all(&work);
    result?;

    ctx.progress(0.7, &tr("Writing the EFI system partition"));
    let cmds = esp::copy_commands(&esp_dev, &staging)
        .map_err(|e| PhaseError::new(failed.clone(), format!("{}: {e}", staging.display())))?;
    for mut c in cmds {
        ctx.run_logged(&mut c, esp::timeout(), &failed)?;
    }
    Ok(())
}

fn efi_build(
    ctx: &mut JobContext,
    root: &Path,
    cfg: &str,
    staging: &Path,
    work: &Path,
    modules: &Path,
) -> Result<(), PhaseError> {
    let failed = tr("Could not install the boot loader");
    let io =
        |e: std::io::Error| PhaseError::new(tr("Could not install the boot loader"), e.to_string());
    let sbat = work.join("sbat.csv");
    match confined::read_file(root, Path::new("usr/share/grub/sbat.csv")).map_err(io)? {
        Some(data) if !data.is_empty() => {
            std::fs::write(&sbat, data).map_err(io)?;
            ctx.log_line("SBAT metadata from the target's /usr/share/grub/sbat.csv");
        }
        _ => {
            std::fs::write(&sbat, DEFAULT_SBAT).map_err(io)?;
            ctx.log_line("the target has no /usr/share/grub/sbat.csv; using FORGE's SBAT metadata");
        }
    }
    let mods: Vec<&str> = EFI_MODULES
        .iter()
        .copied()
        .filter(|m| modules.join(format!("{m}.mod")).is_file())
        .collect();
    let unsigned = work.join("grubx64.unsigned.efi");
    ctx.run_logged(
        Command::new("grub-mkimage")
            .args(["-O", "x86_64-efi", "-p", "/EFI/BOOT"])
            .arg("-d")
            .arg(modules)
            .arg("--sbat")
            .arg(&sbat)
            .arg("-o")
            .arg(&unsigned)
            .args(&mods),
        TIMEOUT,
        &failed,
    )?;
    let boot = staging.join("EFI/BOOT");
    std::fs::create_dir_all(&boot).map_err(io)?;
    let shim = first_existing(root, SHIM);
    let grub_name = if shim.is_some() {
        "grubx64.efi"
    } else {
        "BOOTX64.EFI"
    };
    let (key, cert) = ctx.state.mok()?;
    let (key, cert) = (in_target(root, &key)?, in_target(root, &cert)?);
    ctx.run_logged(
        Command::new("sbsign")
            .arg("--key")
            .arg(&key)
            .arg("--cert")
            .arg(&cert)
            .arg("--output")
            .arg(boot.join(grub_name))
            .arg(&unsigned),
        TIMEOUT,
        &failed,
    )?;
    if let Some((shim, data)) = shim {
        std::fs::write(boot.join("BOOTX64.EFI"), data).map_err(io)?;
        ctx.log_line(&format!("shim {} -> EFI/BOOT/BOOTX64.EFI", shim.display()));
        if let Some((mm, data)) = first_existing(root, MOKMANAGER) {
            std::fs::write(boot.join("mmx64.efi"), data).map_err(io)?;
            ctx.log_line(&format!(
                "MokManager {} -> EFI/BOOT/mmx64.efi",
                mm.display()
            ));
        }
    } else {
        ctx.log_line("no shim in the target: GRUB is EFI/BOOT/BOOTX64.EFI");
    }
    std::fs::write(boot.join("grub.cfg"), cfg).map_err(io)?;
    Ok(())
}
