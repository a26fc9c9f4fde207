//! The daemon's root-owned configuration (`/etc/forge/forge-daemon.yaml`):
//! the trust roots and the target policy. Nothing a caller sends can change
//! these (docs/design.md invariant 3). The file and the keyring it names
//! are read once, checked ([`crate::trust`]), and the checked keyring kept
//! in [`DaemonConfig::trusted_keyring`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use forge_payload::Keyring;

use crate::trust::{self, TrustFailure};

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
    /// Test-only (cargo feature `fault-injection`): hold the pipeline at
    /// the start of this phase for `test_pause_seconds` (Cancel ends the
    /// wait at once), so a test can act while a real install is mid-way.
    #[cfg(feature = "fault-injection")]
    #[serde(default, deserialize_with = "de_phase")]
    pub test_pause_at_phase: Option<Phase>,
    /// How long `test_pause_at_phase` holds (default 30 s).
    #[cfg(feature = "fault-injection")]
    #[serde(default = "d_pause_seconds")]
    pub test_pause_seconds: u64,
    /// The keyring as read and checked once by [`DaemonConfig::load`]
    /// (`None` for a configuration made otherwise, e.g. by a test).
    #[serde(skip)]
    pub trust: Option<Result<Arc<Keyring>, TrustFailure>>,
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
fn d_pause_seconds() -> u64 {
    30
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

impl DaemonConfig {
    /// Reads and parses the configuration once ([`trust::read_trust_root`]:
    /// no symlink, root-owned, not group/world-writable, parents too);
    /// errors name the file and field. Then reads and checks the keyring it
    /// names the same way and keeps it: a keyring that fails is kept as its
    /// failure (the daemon still starts; verify refuses to install).
    pub fn load(path: &Path) -> anyhow::Result<DaemonConfig> {
        let bytes =
            trust::read_trust_root(path, trust::MAX_CONFIG_BYTES).map_err(anyhow::Error::msg)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: not UTF-8: {e}", path.display()))?;
        let mut config: DaemonConfig =
            serde_yaml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config.trust = Some(trust::load_keyring(&config.keyring));
        Ok(config)
    }

    /// The release keyring checked at load time. A configuration not made by
    /// [`DaemonConfig::load`] reads (and checks) it now.
    pub fn trusted_keyring(&self) -> Result<Arc<Keyring>, TrustFailure> {
        match &self.trust {
            Some(kept) => kept.clone(),
            None => trust::load_keyring(&self.keyring),
        }
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

    /// A config whose keyring is `keys` in `dir` (root-owned, 0644).
    fn config_with_keyring(dir: &Path, keys: &Path) -> PathBuf {
        let p = dir.join("forge-daemon.yaml");
        std::fs::write(&p, format!("keyring: {}\n", keys.display())).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        p
    }

    /// A temporary directory holding a fresh release keyring (0644), or
    /// `None` (after reporting the skip) when not root: trust roots must be
    /// root-owned.
    fn root_owned_keyring() -> Option<(tempfile::TempDir, PathBuf)> {
        if !nix::unistd::geteuid().is_root() {
            crate::test_skip::skip("trust roots must be root-owned: needs root");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (_sec, keys) = forge_payload::testkit::generate_key(dir.path(), "Rel <r@example.org>");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        Some((dir, keys))
    }

    #[test]
    fn the_keyring_is_read_once_and_kept() {
        let Some((dir, keys)) = root_owned_keyring() else {
            return;
        };
        let config = DaemonConfig::load(&config_with_keyring(dir.path(), &keys)).expect("load");
        let kept = config.trusted_keyring().expect("keyring").public_bytes();
        // Replaced after the daemon read it: the kept copy is what counts.
        let other = dir.path().join("other");
        std::fs::create_dir(&other).expect("mkdir");
        let (_s, other_pub) = forge_payload::testkit::generate_key(&other, "X <x@example.org>");
        std::fs::copy(&other_pub, &keys).expect("replace");
        assert_eq!(
            config.trusted_keyring().expect("keyring").public_bytes(),
            kept
        );
        assert_ne!(Keyring::load(&keys).expect("load").public_bytes(), kept);
    }

    #[test]
    fn a_symlinked_keyring_or_config_is_refused() {
        let Some((dir, keys)) = root_owned_keyring() else {
            return;
        };
        let link = dir.path().join("release-keys.asc");
        std::os::unix::fs::symlink(&keys, &link).expect("symlink");
        let cfg = config_with_keyring(dir.path(), &link);
        let config = DaemonConfig::load(&cfg).expect("the config itself is fine");
        match config.trusted_keyring() {
            Err(TrustFailure::Untrusted(d)) => {
                assert!(
                    d.contains("release-keys.asc") && d.contains("symbolic link"),
                    "{d}"
                )
            }
            other => panic!("symlinked keyring accepted: {other:?}"),
        }
        let cfg_link = dir.path().join("linked.yaml");
        std::os::unix::fs::symlink(&cfg, &cfg_link).expect("symlink");
        let err = DaemonConfig::load(&cfg_link).expect_err("symlinked config accepted");
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }

    #[test]
    fn a_world_writable_or_foreign_trust_root_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("forge-daemon.yaml");
        std::fs::write(&p, "override_phrase: x\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let me = nix::unistd::geteuid().as_raw();
        if me == 0 {
            assert!(DaemonConfig::load(&p).is_ok());
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let err = DaemonConfig::load(&p).expect_err("world-writable config refused");
        assert!(err.to_string().contains("forge-daemon.yaml"), "{err}");
        if me == 0 {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            nix::unistd::chown(&p, Some(nix::unistd::Uid::from_raw(65534)), None).expect("chown");
            let err = DaemonConfig::load(&p).expect_err("config owned by nobody refused");
            assert!(err.to_string().contains("not root"), "{err}");
        } else {
            crate::test_skip::skip("(part) the ownership check needs root");
        }
    }
}
