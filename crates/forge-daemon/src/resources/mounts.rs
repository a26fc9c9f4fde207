//! Mount guards: a file system or bind mount that is unmounted when the
//! guard drops (plain `umount2`, retried, then `MNT_DETACH` as the last
//! resort). Mounts are made in the pipeline thread's private mount namespace
//! (see [`super::namespace`]), so even a crash leaks nothing to the host.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// One mount point, unmounted on drop.
#[derive(Debug)]
pub struct MountGuard {
    target: PathBuf,
}

impl MountGuard {
    /// Mounts `source` (a device) of type `fstype` at `target`.
    pub fn mount_fs(
        source: &Path,
        target: &Path,
        fstype: &str,
        options: Option<&str>,
    ) -> Result<MountGuard, String> {
        mount(
            Some(source),
            target,
            Some(fstype),
            MsFlags::empty(),
            options,
        )
        .map_err(|e| {
            format!(
                "mount -t {fstype} {} {}: {e}",
                source.display(),
                target.display()
            )
        })?;
        Ok(MountGuard {
            target: target.to_path_buf(),
        })
    }

    /// Bind-mounts `source` at `target` (not recursive: each submount the
    /// install needs gets its own guard so the undo order is exact).
    pub fn bind(source: &Path, target: &Path) -> Result<MountGuard, String> {
        mount(
            Some(source),
            target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| {
            format!(
                "mount --bind {} {}: {e}",
                source.display(),
                target.display()
            )
        })?;
        Ok(MountGuard {
            target: target.to_path_buf(),
        })
    }

    pub fn target(&self) -> &Path {
        &self.target
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        let start = Instant::now();
        loop {
            match umount2(&self.target, MntFlags::empty()) {
                Ok(()) => return,
                Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => return,
                Err(nix::errno::Errno::EBUSY) if start.elapsed() < Duration::from_secs(3) => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    tracing::warn!("umount {}: {e}; detaching lazily", self.target.display());
                    if let Err(e) = umount2(&self.target, MntFlags::MNT_DETACH) {
                        tracing::error!("umount -l {}: {e}", self.target.display());
                    }
                    return;
                }
            }
        }
    }
}

/// The mount points in this thread's mount namespace (from
/// `/proc/thread-self/mountinfo`), for checks and tests.
pub fn mount_points() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape(p)))
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn unescapes_mountinfo() {
        assert_eq!(super::unescape("/a\\040b"), "/a b");
        assert_eq!(super::unescape("/plain"), "/plain");
    }
}
