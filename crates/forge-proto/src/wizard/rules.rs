//! The wizard's pure rules that are not `install.yaml` validation: the
//! installed size of chosen groups, why a disk cannot be chosen, and a
//! frontend-neutral human size for the messages that name one.

use crate::i18n::{tr, trf};
use crate::{DiskInfo, GroupInfo};

/// Installed bytes of the selected groups (what `crate::layout::
/// required_bytes` sizes the root from).
pub fn installed_bytes(groups: &[GroupInfo], selected: &[String]) -> u64 {
    groups
        .iter()
        .filter(|g| selected.iter().any(|s| s == &g.name))
        .map(|g| g.installed_size)
        .sum()
}

/// Why `disk` cannot be chosen for an install needing `required` bytes, or
/// None when it can. `size` formats byte counts for the message.
pub fn disk_refusal(disk: &DiskInfo, required: u64, size: fn(u64) -> String) -> Option<String> {
    if disk.read_only {
        Some(tr("Read-only: this disk cannot be written."))
    } else if disk.in_use {
        Some(tr(
            "In use: a partition of this disk is mounted or holds the running system.",
        ))
    } else if disk.size < required {
        Some(trf(
            "Too small: the chosen software needs at least {size}.",
            &[("size", &size(required))],
        ))
    } else {
        None
    }
}

/// The packages step's message when the chosen disk cannot hold the chosen
/// groups.
pub fn too_small_for_groups(disk_size: u64, need: u64, size: fn(u64) -> String) -> String {
    trf(
        "The chosen disk ({size}) is too small for this software, which needs {need}. Choose less software or a larger disk.",
        &[("size", &size(disk_size)), ("need", &size(need))],
    )
}

/// A human size in SI units with one decimal, as GLib's `g_format_size`
/// writes it ("12.3 GB", "999 bytes"). The GUI may install GLib's own
/// (locale-aware) formatter instead with `Wizard::set_size_format`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return if bytes == 1 {
            "1 byte".to_string()
        } else {
            format!("{bytes} bytes")
        };
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
