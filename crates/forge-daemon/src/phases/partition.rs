//! Phase `partition`: check that the target is still what validate held
//! (same device and serial, or the same image inode, also behind the loop
//! device), attach an image file to a loop device when the target is one,
//! give up the exclusive open (mkfs and mount need the partitions), wipe
//! old signatures, write a GPT (EFI: 512 MiB ESP + root; BIOS:
//! 1 MiB BIOS boot partition + root), wait for the partition nodes (checked
//! against sysfs, made on a private tmpfs when missing or stale), format
//! (root with the plan's file system, the ESP FAT32), and record partition
//! nodes and UUIDs for the later phases.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_proto::i18n::{tr, trf};
use forge_proto::{layout, BootMode, Filesystem};

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::claim::{ClaimError, TargetClaim};
use crate::resources::command;
use crate::resources::loopdev::{self, LoopDevice};
use crate::resources::partnodes::PartitionNodes;

const ESP_TYPE: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const BIOS_BOOT_TYPE: &str = "21686148-6449-6E6F-744E-656564454649";
/// "Linux root (x86-64)" from the Discoverable Partitions Specification.
const ROOT_TYPE: &str = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
const TOOL_TIMEOUT: Duration = Duration::from_secs(300);

/// The sfdisk script for `mode` (the boot partition's size from
/// [`forge_proto::layout`], the estimate validate and the frontends use).
pub fn sfdisk_script(mode: BootMode) -> String {
    let size = layout::boot_partition_size(mode) / layout::MIB;
    let first = match mode {
        BootMode::Bios => format!("size={size}MiB, type={BIOS_BOOT_TYPE}, name=\"BIOS boot\""),
        _ => format!("size={size}MiB, type={ESP_TYPE}, name=\"EFI system\""),
    };
    format!("label: gpt\n{first}\ntype={ROOT_TYPE}, name=\"root\"\n")
}

fn mkfs_root(fs: Filesystem, dev: &Path) -> Command {
    let mut c = Command::new(format!("mkfs.{}", fs.as_str()));
    match fs {
        Filesystem::Ext4 => c.args(["-F", "-q", "-L", "root"]),
        Filesystem::Xfs => c.args(["-f", "-q", "-L", "root"]),
        Filesystem::Btrfs => c.args(["-f", "-q", "-L", "root"]),
    };
    c.arg(dev);
    c
}

fn mkfs_esp(dev: &Path) -> Command {
    let mut c = Command::new("mkfs.vfat");
    c.args(["-F", "32", "-n", "ESP"]).arg(dev);
    c
}

/// The file system UUID of `dev` as blkid reads it from the device itself.
fn uuid_of(ctx: &mut JobContext, dev: &Path) -> Result<String, PhaseError> {
    let out = ctx.run_logged(
        Command::new("blkid")
            .args(["-p", "-o", "value", "-s", "UUID"])
            .arg(dev),
        Duration::from_secs(30),
        &tr("Could not read the new file system's UUID"),
    )?;
    let uuid = out.stdout.trim().to_string();
    if uuid.is_empty() {
        return Err(PhaseError::new(
            tr("Could not read the new file system's UUID"),
            format!("blkid printed no UUID for {}", dev.display()),
        ));
    }
    Ok(uuid)
}

/// The target changed since validate: refused before any write.
fn swapped(target: &Path, detail: String) -> PhaseError {
    PhaseError::new(
        trf(
            "{disk} is no longer the disk that was checked; nothing was written to it.",
            &[("disk", &target.display().to_string())],
        ),
        detail,
    )
}

/// A claim when validate recorded none (phase tests that set the state by
/// hand): taken here, checked at once.
fn claim_now(target: &Path, is_image: bool) -> Result<TargetClaim, PhaseError> {
    let r = if is_image {
        TargetClaim::image(target)
    } else {
        TargetClaim::disk(target)
    };
    r.map_err(|e| {
        let detail = match e {
            ClaimError::Busy => format!("{}: open(O_EXCL): device busy", target.display()),
            ClaimError::Other(d) => d,
        };
        PhaseError::new(tr("Could not partition the disk"), detail)
    })
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let mode = ctx.state.boot_mode()?;
    let fs = ctx.state.filesystem()?;
    let target = ctx.state.target()?;
    let is_image = std::fs::metadata(&target)
        .map(|m| m.file_type().is_file())
        .unwrap_or(false);
    let fake_disk = PathBuf::from("/dev/loopN");
    let disk_shown = if is_image { &fake_disk } else { &target };
    let (first, root) = (
        loopdev::partition_path(disk_shown, 1),
        loopdev::partition_path(disk_shown, 2),
    );

    if ctx.dry_run {
        if is_image {
            ctx.operation(&trf(
                "attach the image {image} to a free loop device (losetup --find --show --partscan)",
                &[("image", &target.display().to_string())],
            ));
        }
        let disk = disk_shown.display().to_string();
        ctx.operation(&trf(
            "wipe all signatures on {disk} (wipefs -a)",
            &[("disk", &disk)],
        ));
        let layout = match mode {
            BootMode::Bios => tr("GPT: 1 MiB BIOS boot partition, root on the rest"),
            _ => tr("GPT: 512 MiB EFI system partition, root on the rest"),
        };
        ctx.operation(&trf(
            "partition {disk} (sfdisk): {layout}",
            &[("disk", &disk), ("layout", &layout)],
        ));
        if mode != BootMode::Bios {
            ctx.operation(&trf(
                "format {part} as FAT32 (mkfs.vfat -F 32)",
                &[("part", &first.display().to_string())],
            ));
        }
        ctx.operation(&trf(
            "format {part} as {fs} (mkfs.{fs})",
            &[("part", &root.display().to_string()), ("fs", fs.as_str())],
        ));
        return Ok(());
    }

    if !command::have(&format!("mkfs.{}", fs.as_str())) {
        return Err(PhaseError::new(
            trf(
                "This system cannot create {fs} file systems",
                &[("fs", fs.as_str())],
            ),
            format!("mkfs.{} not found on PATH", fs.as_str()),
        ));
    }

    // Just before the first write: the target must still be what validate
    // checked and held (a disk swapped meanwhile is not written).
    let mut claim = match ctx.state.target_claim.take() {
        Some(c) => c,
        None => claim_now(&target, is_image)?,
    };
    claim.recheck().map_err(|d| swapped(&target, d))?;
    let disk = if is_image {
        ctx.log_line(&format!(
            "$ losetup --find --show --partscan {}",
            target.display()
        ));
        let dev = LoopDevice::attach(&target).map_err(|e| {
            PhaseError::new(
                tr("Could not attach the disk image to a loop device"),
                e.to_string(),
            )
        })?;
        let path = dev.device().to_path_buf();
        ctx.log_line(&format!("  {}", path.display()));
        ctx.hold(&format!("loop device {}", path.display()), dev);
        claim
            .check_loop_backing(&path)
            .map_err(|d| swapped(&target, d))?;
        path
    } else {
        target.clone()
    };
    // mkfs and mount claim the partitions, which the kernel refuses while
    // the whole disk is held exclusively; the claim keeps the identity.
    claim.release_exclusive();
    ctx.state.target_claim = Some(claim);
    ctx.state.disk_device = Some(disk.clone());
    ctx.progress(0.1, &tr("Partitioning the disk"));

    let failed = tr("Could not partition the disk");
    ctx.run_logged(
        Command::new("wipefs").arg("-a").arg(&disk),
        TOOL_TIMEOUT,
        &failed,
    )?;
    let script = sfdisk_script(mode);
    ctx.log_line(&format!("sfdisk script:\n{script}"));
    ctx.run_logged_input(
        Command::new("sfdisk")
            .args(["--quiet", "--wipe", "always", "--wipe-partitions", "always"])
            .arg(&disk),
        Some(script.as_bytes()),
        TOOL_TIMEOUT,
        &failed,
    )?;
    // Checked nodes only: a stale /dev node is replaced by one on a private
    // tmpfs, which the guard removes.
    let nodes = PartitionNodes::prepare(
        &disk,
        2,
        Duration::from_secs(30),
        &ctx.staging.join("nodes"),
    )
    .map_err(|d| PhaseError::new(tr("The new partitions did not appear"), d))?;
    let parts = nodes.nodes().to_vec();
    for made in nodes.made() {
        ctx.log_line(&format!("made partition node {}", made.display()));
    }
    ctx.hold("partition nodes", nodes);
    let (first, root) = (parts[0].clone(), parts[1].clone());
    ctx.progress(0.3, &tr("Formatting"));

    let failed = tr("Could not format the new partitions");
    if mode == BootMode::Efi {
        // Old signatures inside the new partitions would confuse blkid.
        ctx.run_logged(
            Command::new("wipefs").arg("-a").arg(&first),
            TOOL_TIMEOUT,
            &failed,
        )?;
        ctx.run_logged(&mut mkfs_esp(&first), TOOL_TIMEOUT, &failed)?;
        let uuid = uuid_of(ctx, &first)?;
        ctx.state.esp_partition = Some(first.clone());
        ctx.state.esp_uuid = Some(uuid);
    }
    ctx.run_logged(
        Command::new("wipefs").arg("-a").arg(&root),
        TOOL_TIMEOUT,
        &failed,
    )?;
    ctx.run_logged(&mut mkfs_root(fs, &root), TOOL_TIMEOUT, &failed)?;
    let uuid = uuid_of(ctx, &root)?;
    ctx.log_line(&format!("root {} UUID={uuid}", root.display()));
    ctx.state.root_partition = Some(root);
    ctx.state.root_uuid = Some(uuid);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_the_right_types() {
        let efi = sfdisk_script(BootMode::Efi);
        assert!(efi.contains("size=512MiB") && efi.contains(ESP_TYPE));
        let bios = sfdisk_script(BootMode::Bios);
        assert!(bios.contains("size=1MiB") && bios.contains(BIOS_BOOT_TYPE));
        assert!(efi.starts_with("label: gpt\n") && bios.ends_with("name=\"root\"\n"));
    }
}
