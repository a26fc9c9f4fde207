//! What earlier phases hand to later ones ([`InstallState`]), and the
//! accessors later phases read it through: `ctx.state.root()?` is the
//! mounted target root or a [`PhaseError`] naming what is missing and which
//! phase should have recorded it, so no phase re-derives (or re-probes) a
//! decision another phase made.

use std::path::PathBuf;

use forge_proto::i18n::tr;
use forge_proto::{BootMode, Filesystem};

use super::PhaseError;

/// What earlier phases hand to later ones. Phases add fields here as they
/// need them; keep each field documented with the phase that fills it, and
/// read it through its accessor.
#[derive(Default)]
pub struct InstallState {
    /// validate: `efi` or `bios` (never `auto` once resolved).
    pub boot_mode: Option<BootMode>,
    /// validate: the root file system to make.
    pub filesystem: Option<Filesystem>,
    /// validate: the block device or image file the install goes to.
    pub target_path: Option<PathBuf>,
    /// validate: the target, held (`O_EXCL` for a disk) until the job's
    /// state is dropped; partition checks it is still the same device.
    pub target_claim: Option<crate::resources::claim::TargetClaim>,
    /// validate: the target's size in bytes (verify checks the packages fit).
    pub target_size: Option<u64>,
    /// verify: the payload whose signatures held, the packages of the
    /// plan's groups (dependency closure), and what hashing them observed;
    /// the packages phase deploys exactly these.
    pub payload: Option<forge_payload::Payload>,
    pub packages: Vec<forge_payload::PackageEntry>,
    pub integrity: Option<forge_payload::IntegrityReport>,
    /// mount: where the target root is mounted (inside the job's namespace).
    pub root: Option<PathBuf>,
    /// packages: units the installed packages ask to be enabled.
    pub package_services: Vec<String>,
    /// packages: `.INSTALL` scripts to run in the hooks phase, in order
    /// (package name, path of the script inside the target).
    pub hooks: Vec<(String, PathBuf)>,
    /// partition: the whole-disk device partitioned (the block device, or
    /// the loop device an image file was attached to).
    pub disk_device: Option<PathBuf>,
    /// partition: the root partition's node and file system UUID.
    pub root_partition: Option<PathBuf>,
    pub root_uuid: Option<String>,
    /// partition (EFI): the ESP's node and its FAT volume id (`ABCD-1234`).
    pub esp_partition: Option<PathBuf>,
    pub esp_uuid: Option<String>,
    /// mount (EFI): host directory collecting the ESP's content; bootloader
    /// copies it onto the FAT file system with mtools.
    pub esp_staging: Option<PathBuf>,
    /// packages: (name, version) of every package deployed.
    pub deployed: Vec<(String, String)>,
    /// mok: the MOK certificate (PEM) and private key, paths in the target.
    pub mok_cert: Option<PathBuf>,
    pub mok_key: Option<PathBuf>,
}

/// A value a phase needs that no earlier phase recorded: the pipeline ran
/// out of order, an internal error (the detail names the value and phase).
fn missing(what: &str, phase: &str) -> PhaseError {
    PhaseError::new(
        tr("The installer hit an internal error. The system log has details."),
        format!("{what} is not recorded: the {phase} phase did not run"),
    )
}

fn need<T: Clone>(v: &Option<T>, what: &str, phase: &str) -> Result<T, PhaseError> {
    v.clone().ok_or_else(|| missing(what, phase))
}

/// `node` when it is still the partition sysfs names it (a node replaced
/// meanwhile would lead a phase to another device's partition).
fn checked_node(node: PathBuf) -> Result<PathBuf, PhaseError> {
    crate::resources::blockdev::partition_node(&node).map_err(|d| {
        PhaseError::new(
            tr("The installer hit an internal error. The system log has details."),
            format!("partition node no longer trusted: {d}"),
        )
    })?;
    Ok(node)
}

impl InstallState {
    /// The resolved boot mode, `efi` or `bios` (validate).
    pub fn boot_mode(&self) -> Result<BootMode, PhaseError> {
        need(&self.boot_mode, "the boot mode", "validate")
    }

    /// The root file system type (validate).
    pub fn filesystem(&self) -> Result<Filesystem, PhaseError> {
        need(&self.filesystem, "the root file system type", "validate")
    }

    /// The checked target, a block device or an image file (validate).
    pub fn target(&self) -> Result<PathBuf, PhaseError> {
        need(&self.target_path, "the target disk", "validate")
    }

    /// True when the target is an image file (not a disk of this machine).
    pub fn target_is_image(&self) -> bool {
        self.target_path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.file_type().is_file())
    }

    /// The target's size in bytes (validate).
    pub fn target_size(&self) -> Result<u64, PhaseError> {
        need(&self.target_size, "the target disk's size", "validate")
    }

    /// The whole disk partitioned: the device, or the image's loop device
    /// (partition).
    pub fn disk_device(&self) -> Result<PathBuf, PhaseError> {
        need(&self.disk_device, "the partitioned disk", "partition")
    }

    /// The root partition's node (partition), checked against sysfs on
    /// every use.
    pub fn root_partition(&self) -> Result<PathBuf, PhaseError> {
        checked_node(need(
            &self.root_partition,
            "the root partition",
            "partition",
        )?)
    }

    /// The root file system's UUID (partition).
    pub fn root_uuid(&self) -> Result<String, PhaseError> {
        need(&self.root_uuid, "the root file system's UUID", "partition")
    }

    /// The EFI system partition's node (partition, EFI only), checked
    /// against sysfs on every use.
    pub fn esp_partition(&self) -> Result<PathBuf, PhaseError> {
        checked_node(need(
            &self.esp_partition,
            "the EFI system partition",
            "partition",
        )?)
    }

    /// Where the target root is mounted (mount).
    pub fn root(&self) -> Result<PathBuf, PhaseError> {
        need(&self.root, "the mounted target root", "mount")
    }

    /// The host directory collecting the ESP's content (mount, EFI only).
    pub fn esp_staging(&self) -> Result<PathBuf, PhaseError> {
        need(&self.esp_staging, "the ESP staging directory", "mount")
    }

    /// The Machine Owner Key's private key and certificate, paths in the
    /// target (mok).
    pub fn mok(&self) -> Result<(PathBuf, PathBuf), PhaseError> {
        Ok((
            need(&self.mok_key, "the Machine Owner Key", "mok")?,
            need(&self.mok_cert, "the Machine Owner Key's certificate", "mok")?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_value_names_itself_and_its_phase() {
        let mut s = InstallState::default();
        let e = s.root().unwrap_err();
        assert!(e.detail.contains("mounted target root") && e.detail.contains("mount phase"));
        s.root = Some("/r".into());
        assert_eq!(s.root().unwrap(), PathBuf::from("/r"));
        assert!(s.boot_mode().unwrap_err().detail.contains("validate"));
    }
}
