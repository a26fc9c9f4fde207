//! Phase `mount`: the new root file system at the job's staging path
//! (`<staging>/root`, inside the pipeline thread's private mount namespace)
//! and, for EFI, `/boot/efi` created in it plus a host staging directory
//! that collects the ESP's content (the ESP itself is never mounted: see
//! [`crate::resources::esp`]).

use std::path::{Path, PathBuf};

use forge_proto::i18n::{tr, trf};
use forge_proto::BootMode;

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::mounts::MountGuard;
use forge_payload::confined;

/// A directory removed (recursively) when the guard drops.
pub struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("removing {}: {e}", self.0.display());
            }
        }
    }
}

/// A mount point the job made, removed when the guard drops (after the
/// mount on it, held later, is gone). Only an empty directory goes: if
/// anything is still in it, it stays for a person and the log says so.
pub struct EmptyDirGuard(PathBuf);

impl Drop for EmptyDirGuard {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("removing the mount point {}: {e}", self.0.display());
            }
        }
    }
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let mode = ctx.state.boot_mode()?;
    let fs = ctx.state.filesystem()?;
    let root = ctx.staging.join("root");
    if ctx.dry_run {
        ctx.operation(&trf(
            "mount the root partition ({fs}) at {path}",
            &[("fs", fs.as_str()), ("path", &root.display().to_string())],
        ));
        if mode == BootMode::Efi {
            ctx.operation(&tr(
                "prepare the EFI system partition's content in a staging directory (written with mtools, never mounted)",
            ));
        }
        return Ok(());
    }
    let failed = tr("Could not mount the new file systems");
    let dev = ctx.state.root_partition()?;
    std::fs::create_dir_all(&root)
        .map_err(|e| PhaseError::new(failed.clone(), format!("mkdir {}: {e}", root.display())))?;
    // Held before the mount, so it is released after the unmount.
    ctx.hold("root mount point", EmptyDirGuard(root.clone()));
    ctx.log_line(&format!(
        "mount -t {} {} {}",
        fs.as_str(),
        dev.display(),
        root.display()
    ));
    let guard = MountGuard::mount_fs(&dev, &root, fs.as_str(), None)
        .map_err(|d| PhaseError::new(failed.clone(), d))?;
    ctx.hold(&format!("mount {}", root.display()), guard);
    ctx.state.root = Some(root.clone());

    if mode == BootMode::Efi {
        confined::open_dir(&root, Path::new("boot/efi"), true)
            .map_err(|e| PhaseError::new(failed.clone(), e.to_string()))?;
        let esp = ctx.staging.join("esp");
        let _ = std::fs::remove_dir_all(&esp);
        std::fs::create_dir_all(&esp)
            .map_err(|e| PhaseError::new(failed, format!("mkdir {}: {e}", esp.display())))?;
        ctx.hold("ESP staging directory", DirGuard(esp.clone()));
        ctx.state.esp_staging = Some(esp);
    }
    Ok(())
}
