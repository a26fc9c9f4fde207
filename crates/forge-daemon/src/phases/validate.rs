//! Phase `validate`: the daemon's deep checks of the plan and the target,
//! run for real also in a dry run. The plan and `install_io` are checked
//! again (the daemon is the authority); then the target: it must pass the
//! daemon's target policy (a whole disk: no partition, device-mapper, md,
//! zram, loop or read-only device; [`blockdev::kind_refusal`]), must not be
//! the disk holding `/` or the live medium, must not be in use
//! ([`blockdev::busy`], the verdict `ListDisks` shows too) and is then held
//! ([`TargetClaim`]: `O_EXCL` for a disk) until the job ends; an image file
//! must not be attached to a loop device. It must hold at least the
//! partitions FORGE makes ([`forge_proto::layout`]). Boot mode `auto` is
//! resolved here; the boot mode, file system, target and its size go into
//! the job state for the later phases. Signatures are verify's: once verify
//! knows the packages' installed size, it checks the disk again with
//! [`check_fits`].

use std::path::Path;

use forge_proto::i18n::{tr, trf};
use forge_proto::layout::{self, MIB};

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::blockdev::{self, Busy, Refused};
use crate::resources::claim::{ClaimError, TargetClaim};
use crate::target::{self, Target, TargetKind};

fn problem(summary: String, detail: impl Into<String>) -> PhaseError {
    PhaseError::new(summary, detail)
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    recheck_plan(ctx)?;
    let target = target::resolve(&ctx.config, &ctx.io.disk)
        .map_err(|p| problem(p.message.clone(), p.to_string()))?;
    ctx.log_line(&format!(
        "target {} ({:?})",
        target.path.display(),
        target.kind
    ));
    ctx.progress(0.2, &tr("Checking the target disk"));
    let claim = check_and_claim(&target)?;
    ctx.log_line(&format!("holding {} until cleanup", target.path.display()));

    let boot = layout::resolve_boot_mode(ctx.plan.boot_mode());
    let fs = ctx.plan.filesystem_kind().unwrap_or_default();
    ctx.log_line(&format!(
        "boot mode {}, root file system {}",
        boot.as_str(),
        fs.as_str()
    ));
    ctx.state.boot_mode = Some(boot);
    ctx.state.filesystem = Some(fs);

    ctx.progress(0.6, &tr("Checking the disk size"));
    let size = target::size_bytes(&target).map_err(|e| {
        let disk = target.path.display().to_string();
        problem(
            trf("{disk} cannot be examined.", &[("disk", &disk)]),
            format!("size of {disk}: {e}"),
        )
    })?;
    ctx.state.target_path = Some(target.path);
    ctx.state.target_claim = Some(claim);
    ctx.state.target_size = Some(size);
    // What the partition phase needs alone; verify checks again with the
    // packages' installed size from the signed index.
    check_fits(ctx, 0)
}

/// The same forge-proto validation the frontends ran, once more.
fn recheck_plan(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let problems = crate::checks::recheck(&ctx.plan, &ctx.io)
        .map_err(|(summary, detail)| problem(summary, detail))?;
    if problems.is_empty() {
        return Ok(());
    }
    let detail = crate::checks::problems_text(&problems);
    Err(problem(
        trf(
            "The plan is not valid: {problems}",
            &[("problems", &detail)],
        ),
        detail.clone(),
    ))
}

fn busy_problem(disk: &str, busy: Busy) -> PhaseError {
    match busy {
        Busy::Mounted { member, mountpoint } => problem(
            trf(
                "{disk} is in use: it is mounted at {mountpoint}. Unmount it first.",
                &[("disk", disk), ("mountpoint", &mountpoint)],
            ),
            format!("{member} mounted at {mountpoint}"),
        ),
        Busy::Swap { member } => problem(
            trf("{disk} is in use as swap space.", &[("disk", disk)]),
            format!("swap on {member}"),
        ),
        Busy::Held { member, holders } => problem(
            trf(
                "{disk} is in use: {member} belongs to {holders} (LVM, RAID or device-mapper).",
                &[("disk", disk), ("member", &member), ("holders", &holders)],
            ),
            format!("{member} has holders {holders}"),
        ),
        Busy::Btrfs { member, uuid } => problem(
            trf(
                "{disk} is in use: {member} belongs to a mounted btrfs file system.",
                &[("disk", disk), ("member", &member)],
            ),
            format!("{member} is a device of mounted btrfs {uuid}"),
        ),
    }
}

fn kind_problem(disk: &str, kind: Refused) -> PhaseError {
    let reason = match kind {
        Refused::Partition => tr("it is a partition; choose the whole disk"),
        Refused::DeviceMapper => tr("it is a device-mapper device (LVM, encryption)"),
        Refused::Raid => tr("it is a software RAID (md) device"),
        Refused::Zram => tr("it is a compressed RAM disk (zram)"),
        Refused::Loop => tr("it is a loop device; install to the image file instead"),
        Refused::ReadOnly => tr("it is read-only"),
    };
    problem(
        trf(
            "{disk} cannot be installed to: {reason}.",
            &[("disk", disk), ("reason", &reason)],
        ),
        format!("{disk}: target policy refuses {kind:?}"),
    )
}

/// The target policy and usage checks, then the claim held until cleanup.
fn check_and_claim(target: &Target) -> Result<TargetClaim, PhaseError> {
    let disk = target.path.display().to_string();
    let claim_failed = |e: ClaimError| match e {
        ClaimError::Busy => problem(
            trf(
                "{disk} is in use by another program (mounted, RAID, LVM or ZFS member).",
                &[("disk", &disk)],
            ),
            format!("{disk}: open(O_EXCL): device busy"),
        ),
        ClaimError::Other(d) => problem(trf("{disk} cannot be examined.", &[("disk", &disk)]), d),
    };
    match target.kind {
        TargetKind::ImageFile => {
            if let Some(loopdev) = loop_backing(&target.path) {
                return Err(problem(
                    trf(
                        "{disk} is in use (attached to {loop}).",
                        &[("disk", &disk), ("loop", &loopdev)],
                    ),
                    format!("{disk} is the backing file of {loopdev}"),
                ));
            }
            TargetClaim::image(&target.path).map_err(claim_failed)
        }
        TargetKind::BlockDevice => {
            let dev = blockdev::dev_of(&target.path).ok_or_else(|| {
                problem(
                    trf("{disk} cannot be examined.", &[("disk", &disk)]),
                    "stat failed",
                )
            })?;
            if let Some(kind) = blockdev::kind_refusal(dev) {
                return Err(kind_problem(&disk, kind));
            }
            check_not_live_medium(target)?;
            if let Some(b) = blockdev::busy(dev) {
                return Err(busy_problem(&disk, b));
            }
            TargetClaim::disk(&target.path).map_err(claim_failed)
        }
    }
}

/// The loop device backed by `file`, if any.
fn loop_backing(file: &Path) -> Option<String> {
    let rd = std::fs::read_dir("/sys/block").ok()?;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("loop") {
            continue;
        }
        if let Ok(b) = std::fs::read_to_string(e.path().join("loop/backing_file")) {
            let b = b.trim().trim_end_matches(" (deleted)");
            if Path::new(b) == file {
                return Some(format!("/dev/{name}"));
            }
        }
    }
    None
}

fn check_not_live_medium(target: &Target) -> Result<(), PhaseError> {
    let Some(dev) = blockdev::dev_of(&target.path) else {
        return Ok(());
    };
    let disk = blockdev::whole_disk(dev);
    for (mdev, mountpoint, source) in blockdev::mounts() {
        if mountpoint != "/" && mountpoint != "/run/live/medium" {
            continue;
        }
        let holders = [Some(mdev), blockdev::source_dev(&source)];
        if holders
            .iter()
            .flatten()
            .any(|d| blockdev::whole_disk(*d) == disk)
        {
            return Err(problem(
                trf(
                    "{disk} holds the running system and cannot be installed to.",
                    &[("disk", &target.path.display().to_string())],
                ),
                format!("{source} at {mountpoint} is on the target disk"),
            ));
        }
    }
    Ok(())
}

/// Checks that the target (recorded by [`run`]) holds the partitions FORGE
/// makes plus `installed` bytes of packages ([`layout::required_bytes`]).
pub fn check_fits(ctx: &mut JobContext, installed: u64) -> Result<(), PhaseError> {
    let (disk, size) = (ctx.state.target()?, ctx.state.target_size()?);
    let need = layout::required_bytes(installed, ctx.state.boot_mode()?, ctx.state.filesystem()?);
    ctx.log_line(&format!(
        "disk size {size} bytes, needed {need} (packages {installed})"
    ));
    if size < need {
        let disk = disk.display().to_string();
        let (have, want) = (mib(size), mib(need));
        return Err(problem(
            trf(
                "{disk} is too small: {have} MiB, but this installation needs at least {need} MiB.",
                &[("disk", &disk), ("have", &have), ("need", &want)],
            ),
            format!("{disk}: {size} < {need} bytes"),
        ));
    }
    Ok(())
}

fn mib(b: u64) -> String {
    b.div_ceil(MIB).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::blockdev::{mounts, source_dev};
    use std::path::PathBuf;

    #[test]
    fn the_root_disk_is_in_use() {
        // Whatever holds / here is mounted, so it must be refused.
        let Some((dev, _, source)) = mounts().into_iter().find(|(_, m, _)| m == "/") else {
            crate::test_skip::skip("/ is not in /proc/self/mountinfo here");
            return;
        };
        let Some(d) = source_dev(&source).or(Some(dev)).filter(|d| d.0 != 0) else {
            crate::test_skip::skip("/ is not on a block device here");
            return;
        };
        let node = if source_dev(&source) == Some(d) {
            PathBuf::from(&source)
        } else {
            PathBuf::from(format!("/dev/block/{}:{}", d.0, d.1))
        };
        if !node.exists() {
            crate::test_skip::skip("no /dev/block node for /");
            return;
        }
        let t = Target {
            path: std::fs::canonicalize(&node).unwrap(),
            kind: TargetKind::BlockDevice,
        };
        assert!(check_and_claim(&t).is_err());
        assert!(check_not_live_medium(&t).is_err());
    }
}
