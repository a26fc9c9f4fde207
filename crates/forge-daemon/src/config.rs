//! The daemon's root-owned configuration (`/etc/forge/forge-daemon.yaml`):
//! the trust roots and the target policy. Nothing a caller sends can change
//! these (docs/design.md invariant 3).

use std::path::{Path, PathBuf};

#[cfg(feature = "fault-injection")]
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
    /// Test-only (cargo feature `fault-injection`): make the pipeline fail
    /// at this phase. A build without the feature refuses the key as
    /// unknown.
    #[cfg(feature = "fault-injection")]
    #[serde(default, deserialize_with = "de_phase")]
    pub test_fail_at_phase: Option<Phase>,
    /// Test-only (cargo feature `fault-injection`): make the pipeline
    /// *panic* at this phase, to prove a panicking phase still ends the job
    /// with its last word and releases everything.
    #[cfg(feature = "fault-injection")]
    #[serde(default, deserialize_with = "de_phase")]
    pub test_panic_at_phase: Option<Phase>,
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

#[cfg(feature = "fault-injection")]
fn de_phase<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Phase>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) => Phase::from_name(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown phase {s:?}"))),
    }
}

/// Refuses a trust root (the configuration file, the release keyring) that
/// someone other than root could have written: it must be owned by root and
/// not writable by group or others. Returns the reason, naming the file.
pub fn check_root_owned(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.uid() != 0 {
        return Err(format!(
            "{}: owned by uid {}, not root; refusing it as a trust root",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{}: writable by group or others (mode {:o}); refusing it as a trust root",
            path.display(),
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

impl DaemonConfig {
    /// Reads and parses the configuration; errors name the file and field.
    /// The file must be root-owned and not group/world-writable.
    pub fn load(path: &Path) -> anyhow::Result<DaemonConfig> {
        check_root_owned(path).map_err(anyhow::Error::msg)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn fault_injection_keys_exist_only_with_the_feature() {
        let yaml = "test_fail_at_phase: config\n";
        let parsed = serde_yaml::from_str::<DaemonConfig>(yaml);
        #[cfg(feature = "fault-injection")]
        assert_eq!(
            parsed.expect("known with the feature").test_fail_at_phase,
            Some(Phase::Config)
        );
        #[cfg(not(feature = "fault-injection"))]
        assert!(parsed
            .expect_err("unknown without the feature")
            .to_string()
            .contains("unknown field"),);
        let yaml = "test_panic_at_phase: nonsense\n";
        assert!(serde_yaml::from_str::<DaemonConfig>(yaml).is_err());
    }

    #[test]
    fn a_world_writable_or_foreign_trust_root_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("forge-daemon.yaml");
        std::fs::write(&p, "override_phrase: x\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let me = nix::unistd::geteuid().as_raw();
        if me == 0 {
            assert!(check_root_owned(&p).is_ok());
            assert!(DaemonConfig::load(&p).is_ok());
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let err = check_root_owned(&p).expect_err("world-writable config refused");
        assert!(err.contains("forge-daemon.yaml"), "{err}");
        assert!(DaemonConfig::load(&p).is_err());
        if me == 0 {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            nix::unistd::chown(&p, Some(nix::unistd::Uid::from_raw(65534)), None).expect("chown");
            let err = check_root_owned(&p).expect_err("config owned by nobody refused");
            assert!(err.contains("not root"), "{err}");
        } else {
            crate::test_skip::skip("(part) the ownership check needs root");
        }
    }
}
