//! `install.yaml` version 1: the declarative intent of an install
//! (docs/design.md section 2). Parsing is strict (unknown keys and a wrong
//! `version` are problems), and serialization is canonical: the same plan
//! always yields the same bytes, whichever frontend wrote it.

use serde::{Deserialize, Serialize};

/// The only `version` this build understands.
pub const PLAN_VERSION: u32 = 1;

/// Where the accepted plan is written on the live system.
pub const ACCEPTED_PLAN_PATH: &str = "/var/lib/forge/install.yaml";

/// Firmware boot mode to install for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BootMode {
    #[default]
    Auto,
    Efi,
    Bios,
}

impl BootMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BootMode::Auto => "auto",
            BootMode::Efi => "efi",
            BootMode::Bios => "bios",
        }
    }
}

/// Root file system type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Filesystem {
    #[default]
    Ext4,
    Xfs,
    Btrfs,
}

impl Filesystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Filesystem::Ext4 => "ext4",
            Filesystem::Xfs => "xfs",
            Filesystem::Btrfs => "btrfs",
        }
    }
}

/// The six package tiers, which are also the package groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageGroup {
    Toolchain,
    Core,
    Base,
    Desktop,
    Extra,
    Ai,
}

impl PackageGroup {
    pub const ALL: [PackageGroup; 6] = [
        PackageGroup::Toolchain,
        PackageGroup::Core,
        PackageGroup::Base,
        PackageGroup::Desktop,
        PackageGroup::Extra,
        PackageGroup::Ai,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PackageGroup::Toolchain => "toolchain",
            PackageGroup::Core => "core",
            PackageGroup::Base => "base",
            PackageGroup::Desktop => "desktop",
            PackageGroup::Extra => "extra",
            PackageGroup::Ai => "ai",
        }
    }

    pub fn from_name(name: &str) -> Option<PackageGroup> {
        PackageGroup::ALL.into_iter().find(|g| g.as_str() == name)
    }
}

/// Keyboard layout and variant, as xkeyboard-config names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Keyboard {
    pub layout: String,
    #[serde(default)]
    pub variant: String,
}

/// The first user of the installed system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub admin: bool,
}

/// `install.yaml` v1. Field order here is the canonical key order on disk.
///
/// Enumerated fields that a person can get wrong (`boot`, `filesystem`,
/// `package_groups`) are kept as strings so that a wrong value is a
/// validation [`crate::Problem`] naming the field, not a parse failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallPlan {
    pub version: u32,
    pub hostname: String,
    pub locale: String,
    pub keyboard: Keyboard,
    pub timezone: String,
    #[serde(default = "default_boot")]
    pub boot: String,
    #[serde(default = "default_filesystem")]
    pub filesystem: String,
    pub user: User,
    pub package_groups: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
}

fn default_boot() -> String {
    BootMode::Auto.as_str().to_string()
}

fn default_filesystem() -> String {
    Filesystem::Ext4.as_str().to_string()
}

impl InstallPlan {
    /// The boot mode, if `boot` names one.
    pub fn boot_mode(&self) -> Option<BootMode> {
        [BootMode::Auto, BootMode::Efi, BootMode::Bios]
            .into_iter()
            .find(|b| b.as_str() == self.boot)
    }

    /// The file system, if `filesystem` names one.
    pub fn filesystem_kind(&self) -> Option<Filesystem> {
        [Filesystem::Ext4, Filesystem::Xfs, Filesystem::Btrfs]
            .into_iter()
            .find(|f| f.as_str() == self.filesystem)
    }

    /// The package groups that name known tiers, in plan order.
    pub fn groups(&self) -> Vec<PackageGroup> {
        self.package_groups
            .iter()
            .filter_map(|g| PackageGroup::from_name(g))
            .collect()
    }

    /// Canonical YAML: fixed key order, no comments, trailing newline.
    /// Two frontends given the same choices write identical bytes.
    pub fn to_canonical_yaml(&self) -> String {
        // serde_yaml emits struct fields in declaration order and strings in a
        // deterministic style, so this is byte-stable for equal plans.
        serde_yaml::to_string(self).unwrap_or_default()
    }
}
