//! Partition nodes the job can trust ([`PartitionNodes`]). Without udev a
//! `/dev/loopNpM` left by an earlier job may point at another device's
//! partition (dynamic `259:*` minors are shared with NVMe), so a node in
//! `/dev` is used only when its `st_rdev` is what sysfs says the partition
//! is ([`blockdev::partition_node`]). A missing or stale node is made on a
//! private tmpfs (mounted in the job's own mount namespace) instead of in
//! `/dev`; the guard removes those nodes and unmounts the tmpfs on drop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::blockdev;
use super::command;
use super::loopdev::partition_path;

/// The checked nodes of a disk's partitions; `Drop` removes the ones it made.
#[derive(Debug)]
pub struct PartitionNodes {
    nodes: Vec<PathBuf>,
    /// The private tmpfs, when a node had to be made.
    tmpfs: Option<PathBuf>,
    made: Vec<PathBuf>,
}

impl PartitionNodes {
    /// The node of partition `n` (1-based).
    pub fn node(&self, n: u32) -> Option<&Path> {
        self.nodes.get(n as usize - 1).map(PathBuf::as_path)
    }

    /// Every node, partition 1 first.
    pub fn nodes(&self) -> &[PathBuf] {
        &self.nodes
    }

    /// Nodes made on the private tmpfs (for tests and logs).
    pub fn made(&self) -> &[PathBuf] {
        &self.made
    }

    /// Makes the kernel re-read `disk`'s partition table, waits (up to
    /// `timeout`) until it knows partitions `1..=count`, and returns a
    /// checked node for each: the `/dev` node when its device number is the
    /// partition's, else one made under `private_dir` (a tmpfs is mounted
    /// there; the caller runs in its private mount namespace).
    pub fn prepare(
        disk: &Path,
        count: u32,
        timeout: Duration,
        private_dir: &Path,
    ) -> Result<PartitionNodes, String> {
        let t = Duration::from_secs(60);
        let _ = command::run(Command::new("partx").arg("-u").arg(disk), t);
        let _ = command::run(Command::new("partx").arg("-a").arg(disk), t);
        if command::have("udevadm") {
            let _ = command::run(
                Command::new("udevadm").args(["settle", "--timeout=10"]),
                Duration::from_secs(15),
            );
        }
        let wanted: Vec<PathBuf> = (1..=count).map(|n| partition_path(disk, n)).collect();
        let start = Instant::now();
        let devs = loop {
            let devs: Vec<Option<blockdev::DevNum>> = wanted
                .iter()
                .map(|p| blockdev::sysfs_dev_named(p))
                .collect();
            if devs.iter().all(Option::is_some) {
                break devs.into_iter().flatten().collect::<Vec<_>>();
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "the kernel did not show the partitions of {} within {} s",
                    disk.display(),
                    timeout.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut out = PartitionNodes {
            nodes: Vec::new(),
            tmpfs: None,
            made: Vec::new(),
        };
        for (path, dev) in wanted.iter().zip(devs) {
            // A devtmpfs or udev node may still be on its way: give it a
            // moment before making our own.
            let settle = Instant::now();
            while blockdev::partition_node(path).is_err()
                && settle.elapsed() < Duration::from_secs(2)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            match blockdev::partition_node(path) {
                Ok(_) => out.nodes.push(path.clone()),
                Err(why) => {
                    tracing::warn!("not using {}: {why}", path.display());
                    let made = out.make(private_dir, path, dev)?;
                    out.nodes.push(made);
                }
            }
        }
        Ok(out)
    }

    fn make(&mut self, dir: &Path, path: &Path, dev: blockdev::DevNum) -> Result<PathBuf, String> {
        if self.tmpfs.is_none() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            mount(
                Some("forge-nodes"),
                dir,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
                Some("mode=0700,size=64k"),
            )
            .map_err(|e| format!("mount tmpfs {}: {e}", dir.display()))?;
            self.tmpfs = Some(dir.to_path_buf());
        }
        let name = path.file_name().ok_or("partition node without a name")?;
        let node = dir.join(name);
        mknod(
            &node,
            SFlag::S_IFBLK,
            Mode::from_bits_truncate(0o600),
            makedev(dev.0, dev.1),
        )
        .map_err(|e| format!("mknod {}: {e}", node.display()))?;
        self.made.push(node.clone());
        blockdev::partition_node(&node)?;
        Ok(node)
    }
}

impl Drop for PartitionNodes {
    fn drop(&mut self) {
        for n in self.made.drain(..) {
            let _ = std::fs::remove_file(&n);
        }
        if let Some(dir) = self.tmpfs.take() {
            if umount2(&dir, MntFlags::empty()).is_err() {
                let _ = umount2(&dir, MntFlags::MNT_DETACH);
            }
            let _ = std::fs::remove_dir(&dir);
        }
    }
}
