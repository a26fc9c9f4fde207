//! The pipeline thread's private mount namespace. Everything an install
//! mounts (target root, ESP staging, /dev, /proc, /sys binds) happens inside
//! it, with propagation to the host switched off, so no mount can leak into
//! the live system's mount table, even if the daemon crashes: the namespace
//! dies with the last thread and process in it.

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

/// Moves the calling OS thread (and every process it spawns afterwards) into
/// a new mount namespace whose mounts do not propagate back to the host.
/// Call at the start of a dedicated thread, never on an async runtime worker.
pub fn enter_private_mount_namespace() -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making / private in the job's mount namespace: {e}"))
}
