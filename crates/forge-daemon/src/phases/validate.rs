//! Phase `validate`: the daemon's deep checks of the plan and the target,
//! run for real also in a dry run. The plan and `install_io` are checked
//! again (the daemon is the authority); then the target: it must pass the
//! daemon's target policy, must not be mounted, used as swap, held by
//! another device (LVM, RAID) or attached to a loop device, must not be the
//! disk holding `/` or the live medium, and must hold at least the
//! partitions FORGE makes ([`forge_proto::layout`]). Boot mode `auto` is
//! resolved here; the boot mode, file system, target and its size go into
//! the job state for the later phases. Signatures are verify's: once verify
//! knows the packages' installed size, it checks the disk again with
//! [`check_fits`].

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use forge_proto::i18n::{tr, trf};
use forge_proto::layout::{self, MIB};

use crate::pipeline::{JobContext, PhaseError};
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
    check_not_in_use(&target)?;
    check_not_live_medium(&target)?;

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

/// `(major, minor)` of a block device node.
fn dev_of(path: &Path) -> Option<(u64, u64)> {
    let rdev = std::fs::metadata(path).ok()?.rdev();
    Some((libc::major(rdev) as u64, libc::minor(rdev) as u64))
}

fn parse_dev(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The sysfs directory of a block device.
fn sysfs_dir(dev: (u64, u64)) -> Option<PathBuf> {
    std::fs::canonicalize(format!("/sys/dev/block/{}:{}", dev.0, dev.1)).ok()
}

/// The whole disk a device belongs to (itself when it is not a partition).
fn whole_disk(dev: (u64, u64)) -> (u64, u64) {
    let Some(dir) = sysfs_dir(dev) else {
        return dev;
    };
    if dir.join("partition").exists() {
        if let Some(parent) = dir.parent() {
            if let Ok(s) = std::fs::read_to_string(parent.join("dev")) {
                if let Some(d) = parse_dev(&s) {
                    return d;
                }
            }
        }
    }
    dev
}

/// The disk and each of its partitions, with their names.
fn disk_and_partitions(dev: (u64, u64)) -> Vec<((u64, u64), String)> {
    let mut out = vec![(dev, format!("{}:{}", dev.0, dev.1))];
    let Some(dir) = sysfs_dir(dev) else {
        return out;
    };
    if let Some(name) = dir.file_name() {
        out[0].1 = name.to_string_lossy().into_owned();
    }
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.join("partition").exists() {
                if let Some(d) = std::fs::read_to_string(p.join("dev"))
                    .ok()
                    .and_then(|s| parse_dev(&s))
                {
                    out.push((d, e.file_name().to_string_lossy().into_owned()));
                }
            }
        }
    }
    out
}

/// (device numbers, mount point, source) of every mount of this namespace.
fn mounts() -> Vec<((u64, u64), String, String)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let dev = parse_dev(f.get(2)?)?;
            let mountpoint = f.get(4)?.to_string();
            let sep = f.iter().position(|x| *x == "-")?;
            let source = f.get(sep + 2).unwrap_or(&"").to_string();
            Some((dev, mountpoint, source))
        })
        .collect()
}

/// Device numbers behind a mount's source path, when it is a device node.
fn source_dev(source: &str) -> Option<(u64, u64)> {
    if !source.starts_with('/') {
        return None;
    }
    let m = std::fs::metadata(source).ok()?;
    use std::os::unix::fs::FileTypeExt;
    m.file_type()
        .is_block_device()
        .then(|| (libc::major(m.rdev()) as u64, libc::minor(m.rdev()) as u64))
}

fn check_not_in_use(target: &Target) -> Result<(), PhaseError> {
    let disk = target.path.display().to_string();
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
            Ok(())
        }
        TargetKind::BlockDevice => {
            let dev = dev_of(&target.path).ok_or_else(|| {
                problem(
                    trf("{disk} cannot be examined.", &[("disk", &disk)]),
                    "stat failed",
                )
            })?;
            let members = disk_and_partitions(dev);
            let devs: HashSet<(u64, u64)> = members.iter().map(|(d, _)| *d).collect();
            for (mdev, mountpoint, source) in mounts() {
                if devs.contains(&mdev) || source_dev(&source).is_some_and(|d| devs.contains(&d)) {
                    return Err(problem(
                        trf(
                            "{disk} is in use: it is mounted at {mountpoint}. Unmount it first.",
                            &[("disk", &disk), ("mountpoint", &mountpoint)],
                        ),
                        format!("{source} mounted at {mountpoint}"),
                    ));
                }
            }
            let swaps = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
            for line in swaps.lines().skip(1) {
                let src = line.split_whitespace().next().unwrap_or_default();
                if source_dev(src).is_some_and(|d| devs.contains(&d)) {
                    return Err(problem(
                        trf("{disk} is in use as swap space.", &[("disk", &disk)]),
                        format!("swap on {src}"),
                    ));
                }
            }
            for (d, name) in &members {
                if let Some(dir) = sysfs_dir(*d) {
                    let held = std::fs::read_dir(dir.join("holders"))
                        .map(|mut r| r.next().is_some())
                        .unwrap_or(false);
                    if held {
                        return Err(problem(
                            trf(
                                "{disk} is in use by another device (for example LVM or RAID).",
                                &[("disk", &disk)],
                            ),
                            format!("{name} has holders"),
                        ));
                    }
                }
            }
            Ok(())
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
    if target.kind != TargetKind::BlockDevice {
        return Ok(());
    }
    let Some(dev) = dev_of(&target.path) else {
        return Ok(());
    };
    let disk = whole_disk(dev);
    for (mdev, mountpoint, source) in mounts() {
        if mountpoint != "/" && mountpoint != "/run/live/medium" {
            continue;
        }
        let holders = [Some(mdev), source_dev(&source)];
        if holders.iter().flatten().any(|d| whole_disk(*d) == disk) {
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
        assert!(check_not_in_use(&t).is_err());
        assert!(check_not_live_medium(&t).is_err());
    }
}
