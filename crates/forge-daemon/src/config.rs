//! The daemon's root-owned configuration (`/etc/forge/forge-daemon.yaml`):
//! the trust roots and the target policy. Nothing a caller sends can change
//! these (DESIGN.md invariant 3).

use std::path::{Path, PathBuf};

use forge_proto::Phase;
use serde::Deserialize;

pub const DEFAULT_CONFIG_PATH: &str = "/etc/forge/forge-daemon.yaml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// The signed payload directory.
    #[serde(default = "d_payload")]
    pub payload: PathBuf,
    /// Armored OpenPGP keyring of the release keys.
    #[serde(default = "d_keyring")]
    pub keyring: PathBuf,
    /// The phrase a person must type to override an integrity failure.
    #[serde(default = "d_phrase")]
    pub override_phrase: String,
    /// Per-job working directories are made under this.
    #[serde(default = "d_staging")]
    pub staging_dir: PathBuf,
    /// When true, `disk` may be a regular file inside `image_dir`.
    #[serde(default)]
    pub allow_image_targets: bool,
    #[serde(default = "d_image_dir")]
    pub image_dir: PathBuf,
    /// Where the accepted install.yaml is written (no secrets).
    #[serde(default = "d_state_file")]
    pub accepted_plan: PathBuf,
    /// Test-only: make the pipeline fail at this phase. Never set in
    /// production configuration.
    #[serde(default, deserialize_with = "de_phase")]
    pub test_fail_at_phase: Option<Phase>,
}

fn d_payload() -> PathBuf {
    "/run/forge/payload".into()
}
fn d_keyring() -> PathBuf {
    "/usr/share/forge/release-keys.asc".into()
}
fn d_phrase() -> String {
    "I understand this system may be compromised".into()
}
fn d_staging() -> PathBuf {
    "/run/forge".into()
}
fn d_image_dir() -> PathBuf {
    "/var/lib/forge/images".into()
}
fn d_state_file() -> PathBuf {
    forge_proto::plan::ACCEPTED_PLAN_PATH.into()
}

fn de_phase<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Phase>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) => Phase::from_name(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown phase {s:?}"))),
    }
}

impl DaemonConfig {
    /// Reads and parses the configuration; errors name the file and field.
    pub fn load(path: &Path) -> anyhow::Result<DaemonConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}
