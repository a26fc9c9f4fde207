//! A disk-image file attached to a loop device (`losetup --find --show
//! --partscan`), detached again when the guard drops. Partition nodes of a
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
        Ok(LoopDevice {
            device,
            image: image.to_path_buf(),
        })
    }

    /// `/dev/loopN`.
    pub fn device(&self) -> &Path {
        &self.device
    }

    /// The backing image file.
    pub fn image(&self) -> &Path {
        &self.image
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
    }
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

fn is_block_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p)
        .map(|m| m.file_type().is_block_device())
        .unwrap_or(false)
}

/// Makes the kernel re-read `disk`'s partition table and waits (up to
/// `timeout`) until the nodes of partitions `1..=count` exist. Creates the
/// nodes itself from sysfs when no udev does it.
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
        if parts.iter().all(|p| is_block_device(p)) {
            return Ok(parts);
        }
        for p in &parts {
            if !is_block_device(p) {
                make_node_from_sysfs(disk, p);
            }
        }
        if start.elapsed() > timeout {
            let missing: Vec<String> = parts
                .iter()
                .filter(|p| !is_block_device(p))
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
fn make_node_from_sysfs(disk: &Path, part: &Path) {
    let (Some(_), Some(name)) = (disk.file_name(), part.file_name()) else {
        return;
    };
    let dev = Path::new("/sys/class/block").join(name).join("dev");
    let Ok(text) = std::fs::read_to_string(dev) else {
        return;
    };
    let mut it = text.trim().split(':');
    let (Some(Ok(major)), Some(Ok(minor))) = (
        it.next().map(str::parse::<u64>),
        it.next().map(str::parse::<u64>),
    ) else {
        return;
    };
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
