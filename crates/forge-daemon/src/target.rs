//! Which `disk` values the daemon accepts as an install target: a block
//! device, or, only when the daemon configuration allows image targets, a
//! regular file inside the configured `image_dir`. Paths are canonicalized
//! first, so a symlink cannot lead outside `image_dir`.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use forge_proto::i18n::{tr, trf};
use forge_proto::Problem;

use crate::config::DaemonConfig;

const FIELD: &str = "install_io.disk";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    BlockDevice,
    ImageFile,
}

/// A checked install target.
#[derive(Debug, Clone)]
pub struct Target {
    /// Canonical path (symlinks resolved).
    pub path: PathBuf,
    pub kind: TargetKind,
}

/// Checks `disk` against the daemon's target policy.
pub fn resolve(config: &DaemonConfig, disk: &str) -> Result<Target, Problem> {
    if disk.is_empty() {
        return Err(Problem::new(FIELD, tr("Choose the disk to install to.")));
    }
    let raw = Path::new(disk);
    if !raw.is_absolute() {
        return Err(Problem::new(
            FIELD,
            tr("The disk must be an absolute path."),
        ));
    }
    let path = std::fs::canonicalize(raw).map_err(|e| {
        tracing::info!(%disk, "target does not resolve: {e}");
        Problem::new(FIELD, trf("{disk} does not exist.", &[("disk", disk)]))
    })?;
    let meta = std::fs::metadata(&path).map_err(|e| {
        tracing::info!(%disk, "target cannot be examined: {e}");
        Problem::new(FIELD, trf("{disk} cannot be examined.", &[("disk", disk)]))
    })?;
    if meta.file_type().is_block_device() {
        return Ok(Target {
            path,
            kind: TargetKind::BlockDevice,
        });
    }
    if meta.file_type().is_file() {
        if !config.allow_image_targets {
            return Err(Problem::new(
                FIELD,
                trf(
                    "{disk} is not a block device, and this installer does not install to image files.",
                    &[("disk", disk)],
                ),
            ));
        }
        let dir = std::fs::canonicalize(&config.image_dir).map_err(|e| {
            tracing::warn!(dir = %config.image_dir.display(), "image_dir does not resolve: {e}");
            Problem::new(FIELD, tr("The installer's image directory is missing."))
        })?;
        if !path.starts_with(&dir) || path == dir {
            return Err(Problem::new(
                FIELD,
                trf(
                    "{disk} is not inside the installer's image directory.",
                    &[("disk", disk)],
                ),
            ));
        }
        return Ok(Target {
            path,
            kind: TargetKind::ImageFile,
        });
    }
    Err(Problem::new(
        FIELD,
        trf("{disk} is not a block device.", &[("disk", disk)]),
    ))
}

/// Size in bytes of a block device or image file.
pub fn size_bytes(target: &Target) -> std::io::Result<u64> {
    match target.kind {
        TargetKind::ImageFile => Ok(std::fs::metadata(&target.path)?.len()),
        TargetKind::BlockDevice => {
            use std::os::unix::io::AsRawFd;
            let f = std::fs::File::open(&target.path)?;
            let mut size: u64 = 0;
            // BLKGETSIZE64 = _IOR(0x12, 114, size_t)
            let req = nix::request_code_read!(0x12, 114, std::mem::size_of::<usize>());
            // SAFETY: BLKGETSIZE64 writes one u64 into `size`, which lives
            // for the duration of the call; the fd is open.
            let rc = unsafe { libc::ioctl(f.as_raw_fd(), req as _, &mut size as *mut u64) };
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, allow: bool) -> DaemonConfig {
        let mut c: DaemonConfig = serde_yaml::from_str("{}").expect("defaults");
        c.allow_image_targets = allow;
        c.image_dir = dir.to_path_buf();
        c
    }

    #[test]
    fn image_files_only_inside_image_dir_and_only_when_allowed() {
        let root = tempfile::tempdir().expect("tempdir");
        let images = root.path().join("images");
        std::fs::create_dir(&images).expect("mkdir");
        let inside = images.join("a.img");
        std::fs::write(&inside, b"x").expect("write");
        let outside = root.path().join("b.img");
        std::fs::write(&outside, b"x").expect("write");
        let link = images.join("link.img");
        std::os::unix::fs::symlink(&outside, &link).expect("symlink");
        let dotdot = format!("{}/../b.img", images.display());

        let c = config(&images, true);
        assert_eq!(
            resolve(&c, inside.to_str().unwrap()).unwrap().kind,
            TargetKind::ImageFile
        );
        assert!(resolve(&c, outside.to_str().unwrap()).is_err());
        assert!(
            resolve(&c, link.to_str().unwrap()).is_err(),
            "symlink out of image_dir"
        );
        assert!(resolve(&c, &dotdot).is_err(), ".. out of image_dir");
        assert!(
            resolve(&c, images.to_str().unwrap()).is_err(),
            "a directory"
        );
        assert!(resolve(&c, "relative.img").is_err());
        assert!(resolve(&c, "").is_err());
        let off = config(&images, false);
        let p = resolve(&off, inside.to_str().unwrap()).unwrap_err();
        assert_eq!(p.field, "install_io.disk");
    }
}
