//! Phase `virtual-fs`: bind the live system's /dev, /dev/pts, /proc, /sys
//! (and /sys/firmware/efi/efivars when present) under the target root for
//! the chroot work of later phases. Each bind is its own guard, so undo
//! unmounts exactly what was bound, in reverse.

use std::path::Path;

use forge_proto::i18n::{tr, trf};

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::mounts::MountGuard;
use forge_payload::confined;

/// The host paths bound into the target, in order.
pub fn binds() -> Vec<&'static str> {
    let mut v = vec!["/dev", "/dev/pts", "/proc", "/sys"];
    if Path::new("/sys/firmware/efi/efivars").is_dir() {
        v.push("/sys/firmware/efi/efivars");
    }
    v.retain(|p| Path::new(p).is_dir());
    v
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    if ctx.dry_run {
        for p in binds() {
            ctx.operation(&trf("bind-mount {path} into the target", &[("path", p)]));
        }
        return Ok(());
    }
    let failed = tr("Could not prepare the new system for configuration");
    let root = ctx.state.root()?;
    for p in binds() {
        confined::open_dir(&root, Path::new(p), true)
            .map_err(|e| PhaseError::new(failed.clone(), e.to_string()))?;
        let target = root.join(p.trim_start_matches('/'));
        ctx.log_line(&format!("mount --bind {p} {}", target.display()));
        let guard = MountGuard::bind(Path::new(p), &target)
            .map_err(|d| PhaseError::new(failed.clone(), d))?;
        ctx.hold(&format!("bind {}", target.display()), guard);
    }
    Ok(())
}
