//! The records the daemon sends and every frontend reads, defined once:
//! `ListDisks` entries ([`DiskInfo`]), `ListPackageGroups` entries
//! ([`GroupInfo`]), the archives `IntegrityFailed` names ([`Mismatch`]) and
//! the events of a running job ([`JobEvent`]). Their `a{sv}` form is written
//! and read by the one codec here, keyed by the [`keys`] constants.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use zbus::{OwnedVariant as OwnedValue, Variant as Value};

use crate::phase::{JobState, Phase};

/// Keys of the `ListDisks` and `ListPackageGroups` dictionaries.
pub mod keys {
    pub const DEVICE: &str = "device";
    pub const MODEL: &str = "model";
    pub const SIZE: &str = "size";
    pub const REMOVABLE: &str = "removable";
    pub const READ_ONLY: &str = "read_only";
    pub const TRANSPORT: &str = "transport";
    pub const IN_USE: &str = "in_use";

    pub const NAME: &str = "name";
    pub const DESCRIPTION: &str = "description";
    pub const REQUIRED: &str = "required";
    pub const PACKAGES: &str = "packages";
    pub const DOWNLOAD_SIZE: &str = "download_size";
    pub const INSTALLED_SIZE: &str = "installed_size";
}

/// One entry of `ListDisks()`: a disk (or an allowed image file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskInfo {
    pub device: String,
    pub model: String,
    pub size: u64,
    pub removable: bool,
    pub read_only: bool,
    pub transport: String,
    /// It or one of its partitions is mounted or used as swap.
    pub in_use: bool,
}

/// One entry of `ListPackageGroups()`: a package group (tier) of the payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: String,
    pub description: String,
    /// Every installed system needs it.
    pub required: bool,
    pub packages: u32,
    pub download_size: u64,
    pub installed_size: u64,
}

/// One archive that failed verification, as `IntegrityFailed` carries it
/// (`(sss)` on the wire). `expected`/`actual` are hex SHA-256 or a word such
/// as `missing` / `unlisted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, zbus::Type)]
pub struct Mismatch {
    pub path: String,
    pub expected: String,
    pub actual: String,
}

impl From<(String, String, String)> for Mismatch {
    /// From the pipeline's `(path, expected, actual)` triple.
    fn from((path, expected, actual): (String, String, String)) -> Mismatch {
        Mismatch {
            path,
            expected,
            actual,
        }
    }
}

/// What a running job tells its frontends: the `Job` signals, in order, and
/// changes of its `State` property.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    PhaseStarted(Phase),
    PhaseFinished(Phase),
    /// Overall fraction (0..=1, monotone) and a short message.
    Progress {
        fraction: f64,
        message: String,
    },
    Warning(String),
    /// Verification failed; the job waits for `OverrideIntegrity(phrase)`
    /// or `Cancel`.
    IntegrityFailed {
        mismatches: Vec<Mismatch>,
        phrase: String,
    },
    StateChanged(JobState),
    /// The job's last word.
    Finished {
        success: bool,
        /// The last phase that finished, if any.
        phase_completed: Option<Phase>,
        error: String,
        warnings: Vec<String>,
    },
}

impl JobEvent {
    /// True for the job's last word.
    pub fn is_last(&self) -> bool {
        matches!(self, JobEvent::Finished { .. })
    }
}

/// The wire form of an optional phase: its name, or `""` for none.
pub fn phase_name(phase: Option<Phase>) -> &'static str {
    phase.map(Phase::as_str).unwrap_or("")
}

// ---- the a{sv} codec -------------------------------------------------------

/// Builds an `a{sv}` dictionary.
#[derive(Default)]
struct DictWriter(HashMap<String, OwnedValue>);

impl DictWriter {
    fn str(mut self, key: &str, v: &str) -> Self {
        // A string variant holds no file descriptor, so this cannot fail.
        if let Ok(v) = OwnedValue::try_from(Value::from(v.to_string())) {
            self.0.insert(key.to_string(), v);
        }
        self
    }

    fn u64(mut self, key: &str, v: u64) -> Self {
        self.0.insert(key.to_string(), OwnedValue::from(v));
        self
    }

    fn u32(mut self, key: &str, v: u32) -> Self {
        self.0.insert(key.to_string(), OwnedValue::from(v));
        self
    }

    fn bool(mut self, key: &str, v: bool) -> Self {
        self.0.insert(key.to_string(), OwnedValue::from(v));
        self
    }
}

/// Reads an `a{sv}` dictionary leniently: a missing key or a value of the
/// wrong type reads as the default (a newer daemon may add keys; an older
/// one may lack some).
struct DictReader<'a>(&'a HashMap<String, OwnedValue>);

impl DictReader<'_> {
    fn str(&self, key: &str) -> String {
        match self.0.get(key).map(|v| &**v) {
            Some(Value::Str(s)) => s.to_string(),
            _ => String::new(),
        }
    }

    fn u64(&self, key: &str) -> u64 {
        match self.0.get(key).map(|v| &**v) {
            Some(Value::U64(n)) => *n,
            Some(Value::U32(n)) => u64::from(*n),
            Some(Value::I64(n)) => u64::try_from(*n).unwrap_or(0),
            Some(Value::I32(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        }
    }

    fn u32(&self, key: &str) -> u32 {
        u32::try_from(self.u64(key)).unwrap_or(u32::MAX)
    }

    fn bool(&self, key: &str) -> bool {
        matches!(self.0.get(key).map(|v| &**v), Some(Value::Bool(true)))
    }
}

impl DiskInfo {
    /// The `a{sv}` form `ListDisks` returns.
    pub fn to_dbus(&self) -> HashMap<String, OwnedValue> {
        DictWriter::default()
            .str(keys::DEVICE, &self.device)
            .str(keys::MODEL, &self.model)
            .u64(keys::SIZE, self.size)
            .bool(keys::REMOVABLE, self.removable)
            .bool(keys::READ_ONLY, self.read_only)
            .str(keys::TRANSPORT, &self.transport)
            .bool(keys::IN_USE, self.in_use)
            .0
    }

    /// Reads the `a{sv}` form; missing or mistyped keys read as defaults.
    pub fn from_dbus(m: &HashMap<String, OwnedValue>) -> DiskInfo {
        let r = DictReader(m);
        DiskInfo {
            device: r.str(keys::DEVICE),
            model: r.str(keys::MODEL),
            size: r.u64(keys::SIZE),
            removable: r.bool(keys::REMOVABLE),
            read_only: r.bool(keys::READ_ONLY),
            transport: r.str(keys::TRANSPORT),
            in_use: r.bool(keys::IN_USE),
        }
    }
}

impl GroupInfo {
    /// The `a{sv}` form `ListPackageGroups` returns.
    pub fn to_dbus(&self) -> HashMap<String, OwnedValue> {
        DictWriter::default()
            .str(keys::NAME, &self.name)
            .str(keys::DESCRIPTION, &self.description)
            .bool(keys::REQUIRED, self.required)
            .u32(keys::PACKAGES, self.packages)
            .u64(keys::DOWNLOAD_SIZE, self.download_size)
            .u64(keys::INSTALLED_SIZE, self.installed_size)
            .0
    }

    /// Reads the `a{sv}` form; missing or mistyped keys read as defaults.
    pub fn from_dbus(m: &HashMap<String, OwnedValue>) -> GroupInfo {
        let r = DictReader(m);
        GroupInfo {
            name: r.str(keys::NAME),
            description: r.str(keys::DESCRIPTION),
            required: r.bool(keys::REQUIRED),
            packages: r.u32(keys::PACKAGES),
            download_size: r.u64(keys::DOWNLOAD_SIZE),
            installed_size: r.u64(keys::INSTALLED_SIZE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_round_trip_with_typed_values() {
        let d = DiskInfo {
            device: "/dev/vda".into(),
            model: "QEMU HARDDISK".into(),
            size: 20 << 30,
            removable: false,
            read_only: true,
            transport: "virtio".into(),
            in_use: true,
        };
        let m = d.to_dbus();
        assert_eq!(m.len(), 7);
        assert!(matches!(&*m[keys::SIZE], Value::U64(n) if *n == 20 << 30));
        assert!(matches!(&*m[keys::IN_USE], Value::Bool(true)));
        assert_eq!(DiskInfo::from_dbus(&m), d);
    }

    #[test]
    fn groups_round_trip_and_packages_is_u32() {
        let g = GroupInfo {
            name: "core".into(),
            description: "The minimal bootable system".into(),
            required: true,
            packages: 42,
            download_size: 1 << 20,
            installed_size: 3 << 20,
        };
        let m = g.to_dbus();
        assert_eq!(m.len(), 6);
        assert!(matches!(&*m[keys::PACKAGES], Value::U32(42)));
        assert_eq!(GroupInfo::from_dbus(&m), g);
    }

    #[test]
    fn missing_or_mistyped_keys_read_as_defaults() {
        let mut m = HashMap::new();
        m.insert(keys::SIZE.to_string(), OwnedValue::from(7u32));
        m.insert(keys::REMOVABLE.to_string(), OwnedValue::from(1u32));
        m.insert("future_key".to_string(), OwnedValue::from(true));
        let d = DiskInfo::from_dbus(&m);
        assert_eq!(
            d,
            DiskInfo {
                size: 7,
                ..DiskInfo::default()
            }
        );
        let mut m = HashMap::new();
        m.insert(keys::PACKAGES.to_string(), OwnedValue::from(u64::MAX));
        assert_eq!(GroupInfo::from_dbus(&m).packages, u32::MAX);
    }

    #[test]
    fn a_mismatch_is_a_three_string_struct_on_the_wire() {
        use zbus::Type;
        assert_eq!(Mismatch::SIGNATURE.to_string(), "(sss)");
        assert_eq!(<Vec<Mismatch>>::SIGNATURE.to_string(), "a(sss)");
    }
}
