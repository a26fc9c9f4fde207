//! The install target, held from validate until cleanup ([`TargetClaim`],
//! kept in the job state; dropping it releases everything). A disk is
//! opened with `O_EXCL`: while the job holds it, no one can mount it, add
//! it to a RAID/LVM set or open it exclusively (EBUSY), and the kernel
//! refuses it too when something already holds it. An image file is held
//! open by descriptor. Just before the first write the partition phase
//! calls [`TargetClaim::recheck`]: the path must still lead to the device
//! validate checked (device numbers, disk sequence number, serial, size) or
//! to the same image inode, so a disk swapped while the job waited for an
//! override is not written. The exclusive open is then given up
//! ([`TargetClaim::release_exclusive`]): the kernel refuses `mkfs` and
//! `mount` of a partition whose disk someone holds exclusively; from then on
//! the job's own mounts keep the disk busy.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::blockdev::Identity;

/// Why the target cannot be claimed.
#[derive(Debug)]
pub enum ClaimError {
    /// Someone holds the device exclusively (mounted, RAID/LVM/ZFS member,
    /// another installer).
    Busy,
    Other(String),
}

#[derive(Debug)]
enum Held {
    Disk {
        exclusive: Option<File>,
        identity: Identity,
    },
    Image {
        _file: File,
        dev: u64,
        ino: u64,
    },
}

/// The checked target, held; see the module doc.
#[derive(Debug)]
pub struct TargetClaim {
    path: PathBuf,
    held: Held,
}

impl TargetClaim {
    /// Opens the disk `path` with `O_EXCL` and records its identity.
    pub fn disk(path: &Path) -> Result<TargetClaim, ClaimError> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_EXCL | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EBUSY) => ClaimError::Busy,
                _ => ClaimError::Other(format!("{}: {e}", path.display())),
            })?;
        let identity = Identity::of(path)
            .ok_or_else(|| ClaimError::Other(format!("{}: not a block device", path.display())))?;
        let held_dev = file
            .metadata()
            .map(|m| super::blockdev::rdev(&m))
            .unwrap_or((0, 0));
        if held_dev != identity.dev {
            return Err(ClaimError::Other(format!(
                "{} changed while it was opened",
                path.display()
            )));
        }
        Ok(TargetClaim {
            path: path.to_path_buf(),
            held: Held::Disk {
                exclusive: Some(file),
                identity,
            },
        })
    }

    /// Holds the image file `path` open and records its inode.
    pub fn image(path: &Path) -> Result<TargetClaim, ClaimError> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| ClaimError::Other(format!("{}: {e}", path.display())))?;
        let m = file
            .metadata()
            .map_err(|e| ClaimError::Other(format!("{}: {e}", path.display())))?;
        if !m.is_file() {
            return Err(ClaimError::Other(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        Ok(TargetClaim {
            path: path.to_path_buf(),
            held: Held::Image {
                _file: file,
                dev: m.dev(),
                ino: m.ino(),
            },
        })
    }

    /// The claimed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True while the disk is open with `O_EXCL`.
    pub fn is_exclusive(&self) -> bool {
        matches!(
            self.held,
            Held::Disk {
                exclusive: Some(_),
                ..
            }
        )
    }

    /// Checks that the path still leads to what was claimed (a detail for
    /// the log when it does not).
    pub fn recheck(&self) -> Result<(), String> {
        match &self.held {
            Held::Disk { identity, .. } => {
                let now = Identity::of(&self.path)
                    .ok_or_else(|| format!("{} is gone", self.path.display()))?;
                if &now != identity {
                    return Err(format!(
                        "{} changed since validate: was {identity:?}, is {now:?}",
                        self.path.display()
                    ));
                }
                Ok(())
            }
            Held::Image { dev, ino, .. } => {
                let m = std::fs::symlink_metadata(&self.path)
                    .map_err(|e| format!("{}: {e}", self.path.display()))?;
                if !m.is_file() || m.dev() != *dev || m.ino() != *ino {
                    return Err(format!(
                        "{} was replaced since validate (inode {}:{} became {}:{})",
                        self.path.display(),
                        dev,
                        ino,
                        m.dev(),
                        m.ino()
                    ));
                }
                Ok(())
            }
        }
    }

    /// For an image: checks that `loop_dev` is backed by the claimed inode.
    pub fn check_loop_backing(&self, loop_dev: &Path) -> Result<(), String> {
        let Held::Image { dev, ino, .. } = &self.held else {
            return Ok(());
        };
        let (bdev, bino) = super::loopdev::backing_inode(loop_dev)?;
        if bino != *ino || bdev != *dev {
            return Err(format!(
                "{} is backed by inode {bdev}:{bino}, not the image checked ({dev}:{ino})",
                loop_dev.display()
            ));
        }
        Ok(())
    }

    /// Gives up the exclusive open (see the module doc); the claim keeps
    /// the identity for later checks.
    pub fn release_exclusive(&mut self) {
        if let Held::Disk { exclusive, .. } = &mut self.held {
            exclusive.take();
        }
    }
}
