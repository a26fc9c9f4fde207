//! Block devices as sysfs sees them: device numbers, the whole disk of a
//! partition, its partitions, and the one verdict both `ListDisks`
//! (`in_use`) and the validate phase use: [`busy`] — mounted, swap, held by
//! another device (LVM, md, device-mapper: `holders/` of the disk or of any
//! partition) or a member of a mounted btrfs (`/sys/fs/btrfs/*/devices`,
//! which also names the members mountinfo does not show). [`kind_refusal`]
//! is the target policy on the kind of device (whole disks only).
//! [`partition_node`] checks a partition node's `st_rdev` against sysfs.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// `(major, minor)`.
pub type DevNum = (u64, u64);

/// Device numbers of a block device node (following symlinks).
pub fn dev_of(path: &Path) -> Option<DevNum> {
    let m = std::fs::metadata(path).ok()?;
    m.file_type().is_block_device().then(|| rdev(&m))
}

/// `st_rdev` of a node as `(major, minor)`.
pub fn rdev(meta: &std::fs::Metadata) -> DevNum {
    (
        libc::major(meta.rdev()) as u64,
        libc::minor(meta.rdev()) as u64,
    )
}

/// What sysfs says the block device with `node`'s file name is
/// (`/sys/class/block/<name>/dev`), whatever the node itself points at.
pub fn sysfs_dev_named(node: &Path) -> Option<DevNum> {
    read_dev(
        &Path::new("/sys/class/block")
            .join(node.file_name()?)
            .join("dev"),
    )
}

pub fn parse_dev(s: &str) -> Option<DevNum> {
    let (a, b) = s.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The sysfs directory of a block device.
pub fn sysfs_dir(dev: DevNum) -> Option<PathBuf> {
    std::fs::canonicalize(format!("/sys/dev/block/{}:{}", dev.0, dev.1)).ok()
}

/// The kernel's name of a device (`sda`, `loop0p1`, `dm-0`).
pub fn kernel_name(dev: DevNum) -> String {
    sysfs_dir(dev)
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| format!("{}:{}", dev.0, dev.1))
}

/// The whole disk a device belongs to (itself when it is not a partition).
pub fn whole_disk(dev: DevNum) -> DevNum {
    let Some(dir) = sysfs_dir(dev) else {
        return dev;
    };
    if dir.join("partition").exists() {
        if let Some(parent) = dir.parent() {
            if let Some(d) = read_dev(&parent.join("dev")) {
                return d;
            }
        }
    }
    dev
}

fn read_dev(file: &Path) -> Option<DevNum> {
    parse_dev(&std::fs::read_to_string(file).ok()?)
}

/// The disk and each of its partitions, with their kernel names.
pub fn disk_and_partitions(dev: DevNum) -> Vec<(DevNum, String)> {
    let mut out = vec![(dev, kernel_name(dev))];
    let Some(dir) = sysfs_dir(dev) else {
        return out;
    };
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.join("partition").exists() {
                if let Some(d) = read_dev(&p.join("dev")) {
                    out.push((d, e.file_name().to_string_lossy().into_owned()));
                }
            }
        }
    }
    out
}

/// (device numbers, mount point, source) of every mount of this namespace.
pub fn mounts() -> Vec<(DevNum, String, String)> {
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
pub fn source_dev(source: &str) -> Option<DevNum> {
    if !source.starts_with('/') {
        return None;
    }
    dev_of(Path::new(source))
}

/// Why a disk cannot be written: the member (disk or partition, kernel
/// name) that is busy and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Busy {
    Mounted { member: String, mountpoint: String },
    Swap { member: String },
    Held { member: String, holders: String },
    Btrfs { member: String, uuid: String },
}

/// Whether the disk `dev` or any of its partitions is in use. The one
/// verdict of `ListDisks` and of the validate phase.
pub fn busy(dev: DevNum) -> Option<Busy> {
    let members = disk_and_partitions(dev);
    let name_of = |d: DevNum| {
        members
            .iter()
            .find(|(m, _)| *m == d)
            .map(|(_, n)| n.clone())
    };
    for (mdev, mountpoint, source) in mounts() {
        let hit = name_of(mdev).or_else(|| source_dev(&source).and_then(name_of));
        if let Some(member) = hit {
            return Some(Busy::Mounted { member, mountpoint });
        }
    }
    let swaps = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
    for line in swaps.lines().skip(1) {
        let src = line.split_whitespace().next().unwrap_or_default();
        if let Some(member) = source_dev(src).and_then(name_of) {
            return Some(Busy::Swap { member });
        }
    }
    for (d, member) in &members {
        let Some(dir) = sysfs_dir(*d) else { continue };
        let holders: Vec<String> = std::fs::read_dir(dir.join("holders"))
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if !holders.is_empty() {
            let member = member.clone();
            let holders = holders.join(", ");
            return Some(Busy::Held { member, holders });
        }
    }
    // A mounted btrfs lists every member device, also those mountinfo
    // does not name (a multi-device file system shows one source).
    for fs in std::fs::read_dir("/sys/fs/btrfs")
        .into_iter()
        .flatten()
        .flatten()
    {
        let devices = fs.path().join("devices");
        for e in std::fs::read_dir(devices).into_iter().flatten().flatten() {
            if let Some(member) = read_dev(&e.path().join("dev")).and_then(name_of) {
                let uuid = fs.file_name().to_string_lossy().into_owned();
                return Some(Busy::Btrfs { member, uuid });
            }
        }
    }
    None
}

/// What kind of device `dev` is, when the target policy refuses that kind
/// (a short English reason for the log; the caller words the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Partition,
    DeviceMapper,
    Raid,
    Zram,
    Loop,
    ReadOnly,
}

/// The target policy on the kind of block device: whole disks only.
pub fn kind_refusal(dev: DevNum) -> Option<Refused> {
    let dir = sysfs_dir(dev)?;
    let name = kernel_name(dev);
    if dir.join("partition").exists() {
        return Some(Refused::Partition);
    }
    if dir.join("dm").exists() || name.starts_with("dm-") {
        return Some(Refused::DeviceMapper);
    }
    if dir.join("md").exists() || name.starts_with("md") {
        return Some(Refused::Raid);
    }
    if name.starts_with("zram") {
        return Some(Refused::Zram);
    }
    if name.starts_with("loop") {
        return Some(Refused::Loop);
    }
    let ro = std::fs::read_to_string(dir.join("ro")).unwrap_or_default();
    if ro.trim() == "1" {
        return Some(Refused::ReadOnly);
    }
    None
}

/// What identifies a disk beyond its node: device numbers, the kernel's
/// disk sequence number (new on every attach or media change), serial or
/// WWID, and size in 512-byte sectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub dev: DevNum,
    pub diskseq: Option<String>,
    pub serial: Option<String>,
    pub sectors: Option<String>,
}

fn read_trim(p: &Path) -> Option<String> {
    let s = std::fs::read_to_string(p).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Serial from sysfs (`device/serial`, `device/wwid`, `wwid`) or udev's
/// database (`ID_SERIAL`).
fn serial(dev: DevNum) -> Option<String> {
    let base = PathBuf::from(format!("/sys/dev/block/{}:{}", dev.0, dev.1));
    for f in ["device/serial", "device/wwid", "wwid"] {
        if let Some(s) = read_trim(&base.join(f)) {
            return Some(s);
        }
    }
    let udev = std::fs::read_to_string(format!("/run/udev/data/b{}:{}", dev.0, dev.1)).ok()?;
    udev.lines()
        .find_map(|l| l.strip_prefix("E:ID_SERIAL="))
        .map(str::to_string)
}

impl Identity {
    /// The identity of the device behind `node` now.
    pub fn of(node: &Path) -> Option<Identity> {
        let dev = dev_of(node)?;
        let base = PathBuf::from(format!("/sys/dev/block/{}:{}", dev.0, dev.1));
        Some(Identity {
            dev,
            diskseq: read_trim(&base.join("diskseq")),
            serial: serial(dev),
            sectors: read_trim(&base.join("size")),
        })
    }
}

/// Checks that `node` is the block device sysfs names `node`'s file name
/// (`/sys/class/block/<name>/dev`). Returns the device numbers.
pub fn partition_node(node: &Path) -> Result<DevNum, String> {
    let name = node
        .file_name()
        .ok_or_else(|| format!("{}: no file name", node.display()))?;
    let want = sysfs_dev_named(node)
        .ok_or_else(|| format!("the kernel knows no partition {}", name.to_string_lossy()))?;
    let meta = std::fs::symlink_metadata(node).map_err(|e| format!("{}: {e}", node.display()))?;
    let have = rdev(&meta);
    if !meta.file_type().is_block_device() || have != want {
        return Err(format!(
            "{} is {}:{}, but the kernel's {} is {}:{}",
            node.display(),
            have.0,
            have.1,
            name.to_string_lossy(),
            want.0,
            want.1
        ));
    }
    Ok(want)
}
