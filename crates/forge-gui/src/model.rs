//! Plain data the wizard shows: disk and package-group descriptions (as the
//! daemon's `ListDisks` / `ListPackageGroups` return them) and the events of
//! a running job. The screens take these as values, so they can be tested
//! with injected data; the D-Bus client fills them in the application.

use std::collections::HashMap;

use zbus::{OwnedVariant, Variant};

/// One entry of `ListDisks()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskInfo {
    pub device: String,
    pub model: String,
    pub size: u64,
    pub removable: bool,
    pub read_only: bool,
    pub transport: String,
    pub in_use: bool,
}

/// One entry of `ListPackageGroups()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub packages: u32,
    pub download_size: u64,
    pub installed_size: u64,
}

/// What a running job tells the wizard (the `Job` signals, in order).
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    PhaseStarted(String, u32),
    PhaseFinished(String, u32),
    Progress(f64, String),
    Warning(String),
    /// (path, expected, actual) per file, and the phrase to type.
    IntegrityFailed(Vec<(String, String, String)>, String),
    StateChanged(String),
    Finished {
        success: bool,
        phase_completed: String,
        error: String,
        warnings: Vec<String>,
    },
}

fn get_str(m: &HashMap<String, OwnedVariant>, k: &str) -> String {
    match m.get(k).map(|v| &**v) {
        Some(Variant::Str(s)) => s.to_string(),
        _ => String::new(),
    }
}

fn get_u64(m: &HashMap<String, OwnedVariant>, k: &str) -> u64 {
    match m.get(k).map(|v| &**v) {
        Some(Variant::U64(n)) => *n,
        Some(Variant::U32(n)) => u64::from(*n),
        Some(Variant::I64(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Variant::I32(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

fn get_bool(m: &HashMap<String, OwnedVariant>, k: &str) -> bool {
    matches!(m.get(k).map(|v| &**v), Some(Variant::Bool(true)))
}

impl DiskInfo {
    pub fn from_dbus(m: &HashMap<String, OwnedVariant>) -> DiskInfo {
        DiskInfo {
            device: get_str(m, "device"),
            model: get_str(m, "model"),
            size: get_u64(m, "size"),
            removable: get_bool(m, "removable"),
            read_only: get_bool(m, "read_only"),
            transport: get_str(m, "transport"),
            in_use: get_bool(m, "in_use"),
        }
    }
}

impl GroupInfo {
    pub fn from_dbus(m: &HashMap<String, OwnedVariant>) -> GroupInfo {
        GroupInfo {
            name: get_str(m, "name"),
            description: get_str(m, "description"),
            required: get_bool(m, "required"),
            packages: u32::try_from(get_u64(m, "packages")).unwrap_or(u32::MAX),
            download_size: get_u64(m, "download_size"),
            installed_size: get_u64(m, "installed_size"),
        }
    }
}
