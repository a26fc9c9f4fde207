//! A disk-image file attached to a loop device (`losetup --find --show
//! --partscan`), detached again when the guard drops. The guard also keeps
//! the device open and sets the kernel's autoclear flag, so that if the
//! daemon dies without running its guards (SIGKILL, a crash), the kernel
//! detaches the device by itself once the job's mount namespace and this
//! descriptor are gone. Partition nodes of a
//! loop device do not always appear by themselves (no udev in a container):
//! [`wait_for_partitions`] asks the kernel with `partx` and polls.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::command::{self, CmdError};

const TIMEOUT: Duration = Duration::from_secs(60);

/// An attached loop device; `Drop` detaches it.
#[derive(Debug)]
pub struct LoopDevice {
    device: PathBuf,
    image: PathBuf,
    /// Held open for the guard's life: with autoclear set, the last close
    /// detaches the device.
    handle: Option<std::fs::File>,
}

/// `struct loop_info64` of `<linux/loop.h>`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

const LOOP_SET_STATUS64: libc::c_ulong = 0x4C04;
const LOOP_GET_STATUS64: libc::c_ulong = 0x4C05;
const LO_FLAGS_AUTOCLEAR: u32 = 4;

/// The kernel's `struct loop_info64` for the open loop device `f`
/// (`LOOP_GET_STATUS64`); `device` names it in the error.
fn loop_status(f: &std::fs::File, device: &Path) -> Result<LoopInfo64, String> {
    use std::os::fd::AsRawFd;
    // SAFETY: LoopInfo64 is plain old data; all-zero is a valid value.
    let mut info: LoopInfo64 = unsafe { std::mem::zeroed() };
    // SAFETY: LOOP_GET_STATUS64 writes one struct loop_info64 through the
    // pointer, which points at a live, correctly laid out value.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), LOOP_GET_STATUS64, &mut info) };
    if r != 0 {
        return Err(format!(
            "{}: LOOP_GET_STATUS64: {}",
            device.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(info)
}

/// `(st_dev, st_ino)` of the file backing loop device `device`, from the
/// kernel (`LOOP_GET_STATUS64`), not from the path it was attached by.
pub fn backing_inode(device: &Path) -> Result<(u64, u64), String> {
    let f = std::fs::File::open(device).map_err(|e| format!("{}: {e}", device.display()))?;
    let info = loop_status(&f, device)?;
    // The kernel reports the device number in its "huge" encoding.
    let d = info.lo_device;
    let (major, minor) = ((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
    Ok((libc::makedev(major as u32, minor as u32), info.lo_inode))
}

/// Opens `device` and sets its autoclear flag; returns the open handle.
fn open_with_autoclear(device: &Path) -> Result<std::fs::File, String> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .open(device)
        .map_err(|e| format!("{}: {e}", device.display()))?;
    let mut info = loop_status(&f, device)?;
    info.lo_flags |= LO_FLAGS_AUTOCLEAR;
    // SAFETY: LOOP_SET_STATUS64 reads one struct loop_info64 through the
    // pointer, which points at a live, correctly laid out value.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), LOOP_SET_STATUS64, &info) };
    if r != 0 {
        return Err(format!(
            "{}: LOOP_SET_STATUS64: {}",
            device.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(f)
}

impl LoopDevice {
    /// Attaches `image` to the first free loop device, with partition scanning.
    pub fn attach(image: &Path) -> Result<LoopDevice, CmdError> {
        let out = command::run(
            Command::new("losetup")
                .args(["--find", "--show", "--partscan"])
                .arg(image),
            TIMEOUT,
        )?;
        let device = PathBuf::from(out.stdout.trim());
        let mut guard = LoopDevice {
            device,
            image: image.to_path_buf(),
            handle: None,
        };
        // Without autoclear a crashed daemon would leave the device
        // attached; that is worth a log line, not a failed install.
        match open_with_autoclear(&guard.device) {
            Ok(f) => guard.handle = Some(f),
            Err(e) => tracing::warn!("autoclear not set: {e}"),
        }
        Ok(guard)
    }

    /// `/dev/loopN`.
    pub fn device(&self) -> &Path {
        &self.device
    }

    /// The backing image file.
    pub fn image(&self) -> &Path {
        &self.image
    }

    /// Closes the guard's descriptor without running `losetup -d`, as a
    /// killed process would. Only for tests of the autoclear safety net.
    #[doc(hidden)]
    pub fn close_without_detach_for_tests(mut self) {
        self.handle.take();
        std::mem::forget(self);
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        // Flush buffered writes to the image before the device goes away.
        if let Ok(f) = std::fs::File::open(&self.device) {
            let _ = nix::unistd::fsync(&f);
        }
        // Detaching can fail briefly while the kernel still holds a just
        // unmounted partition; retry for a short while.
        let start = Instant::now();
        loop {
            let r = command::run(Command::new("losetup").arg("-d").arg(&self.device), TIMEOUT);
            match r {
                Ok(_) => break,
                Err(e) if start.elapsed() > Duration::from_secs(10) => {
                    tracing::error!("detaching {}: {e}", self.device.display());
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        // With our descriptor still open the kernel may only have marked
        // the device for autoclear; closing it completes the detach, which
        // newer kernels finish asynchronously: wait until it is unbound.
        self.handle.take();
        let start = Instant::now();
        while is_bound(&self.device) && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The sysfs directory of loop device `device` (`/sys/block/loopN/loop`).
fn sysfs_loop_dir(device: &Path) -> Option<PathBuf> {
    let name = device.file_name()?;
    Some(Path::new("/sys/block").join(name).join("loop"))
}

/// True while `device` has a backing file.
pub fn is_bound(device: &Path) -> bool {
    sysfs_loop_dir(device).is_some_and(|d| d.join("backing_file").exists())
}

/// True when the kernel will detach `device` by itself on its last close.
pub fn has_autoclear(device: &Path) -> bool {
    sysfs_loop_dir(device)
        .and_then(|d| std::fs::read_to_string(d.join("autoclear")).ok())
        .is_some_and(|v| v.trim() == "1")
}

/// The node of partition `n` (1-based) of `disk`: `/dev/loop0p1`,
/// `/dev/nvme0n1p1`, `/dev/sda1`.
pub fn partition_path(disk: &Path, n: u32) -> PathBuf {
    let s = disk.to_string_lossy();
    if s.ends_with(|c: char| c.is_ascii_digit()) {
        PathBuf::from(format!("{s}p{n}"))
    } else {
        PathBuf::from(format!("{s}{n}"))
    }
}

/// A node with the device numbers sysfs gives its partition.
fn node_ok(p: &Path) -> bool {
    super::blockdev::partition_node(p).is_ok()
}

/// Makes the kernel re-read `disk`'s partition table and waits (up to
/// `timeout`) until the nodes of partitions `1..=count` exist with the
/// device numbers sysfs gives them. Creates (or replaces) them in `/dev`
/// itself when no udev does it. For tests and tools outside a job: the
/// partition phase uses [`super::partnodes::PartitionNodes`], which never
/// writes to `/dev`.
pub fn wait_for_partitions(
    disk: &Path,
    count: u32,
    timeout: Duration,
) -> Result<Vec<PathBuf>, String> {
    let _ = command::run(Command::new("partx").arg("-u").arg(disk), TIMEOUT);
    let _ = command::run(Command::new("partx").arg("-a").arg(disk), TIMEOUT);
    if command::have("udevadm") {
        let _ = command::run(
            Command::new("udevadm").args(["settle", "--timeout=10"]),
            Duration::from_secs(15),
        );
    }
    let parts: Vec<PathBuf> = (1..=count).map(|n| partition_path(disk, n)).collect();
    let start = Instant::now();
    loop {
        if parts.iter().all(|p| node_ok(p)) {
            return Ok(parts);
        }
        for p in &parts {
            if !node_ok(p) {
                make_node_from_sysfs(p);
            }
        }
        if start.elapsed() > timeout {
            let missing: Vec<String> = parts
                .iter()
                .filter(|p| !node_ok(p))
                .map(|p| p.display().to_string())
                .collect();
            return Err(format!(
                "partition nodes did not appear within {} s: {}",
                timeout.as_secs(),
                missing.join(", ")
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Creates `/dev/loop0p1` from `/sys/class/block/loop0p1/dev` (major:minor)
/// when the kernel knows the partition but nothing made the node.
fn make_node_from_sysfs(part: &Path) {
    let Some((major, minor)) = super::blockdev::sysfs_dev_named(part) else {
        return;
    };
    // A stale node (another device's numbers) is replaced.
    if std::fs::symlink_metadata(part).is_ok() {
        let _ = std::fs::remove_file(part);
    }
    let _ = nix::sys::stat::mknod(
        part,
        nix::sys::stat::SFlag::S_IFBLK,
        nix::sys::stat::Mode::from_bits_truncate(0o660),
        nix::sys::stat::makedev(major, minor),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names() {
        assert_eq!(
            partition_path(Path::new("/dev/loop3"), 2),
            PathBuf::from("/dev/loop3p2")
        );
        assert_eq!(
            partition_path(Path::new("/dev/sda"), 1),
            PathBuf::from("/dev/sda1")
        );
        assert_eq!(
            partition_path(Path::new("/dev/nvme0n1"), 1),
            PathBuf::from("/dev/nvme0n1p1")
        );
    }
}
