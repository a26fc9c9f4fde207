//! The trust roots, read once (issue 9 items 13 and 8): the daemon
//! configuration and the release keyring are opened with `O_NOFOLLOW`,
//! checked on the open descriptor (a regular file, root-owned, not
//! group/world-writable), their parent directories checked too, and the
//! checked bytes kept: the keyring verify checks the payload with, the one
//! `ListPackageGroups` uses and the `/etc/pkm/trusted.gpg` written to the
//! target are all that one copy (the payload carries the keyring that
//! verified it). The payload directory and its parents must be root-owned
//! and not group/world-writable as well.
//!
//! A directory is safe when it is root-owned and not group/world-writable;
//! an *ancestor* may also be a root-owned sticky directory (`/tmp`): there
//! nobody else can rename or remove the root-owned entry below it.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use forge_payload::{open_verified, Keyring, Payload, PayloadError};

/// Largest configuration file accepted (bytes).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Why a trust root was not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustFailure {
    /// Someone other than root could have written it (or its directory), or
    /// it is a symlink or not a regular file: it is not trusted.
    Untrusted(String),
    /// It is trusted but cannot be read or parsed.
    Unreadable(String),
}

impl std::fmt::Display for TrustFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustFailure::Untrusted(d) | TrustFailure::Unreadable(d) => f.write_str(d),
        }
    }
}

/// Checks owner and mode: root-owned, no group/world write bit (unless
/// `sticky_ok` and the sticky bit is set, for an ancestor directory).
fn check_meta(path: &Path, meta: &std::fs::Metadata, sticky_ok: bool) -> Result<(), String> {
    if meta.uid() != 0 {
        return Err(format!(
            "{}: owned by uid {}, not root; refusing it as a trust root",
            path.display(),
            meta.uid()
        ));
    }
    let mode = meta.mode();
    if mode & 0o022 != 0 && !(sticky_ok && meta.is_dir() && mode & 0o1000 != 0) {
        return Err(format!(
            "{}: writable by group or others (mode {:o}); refusing it as a trust root",
            path.display(),
            mode & 0o7777
        ));
    }
    Ok(())
}

/// Every directory above `path` (as given, made absolute, and as resolved)
/// must be root-owned and not group/world-writable (sticky allowed).
pub fn check_parents(path: &Path) -> Result<(), String> {
    let abs = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut dirs: Vec<PathBuf> = abs.ancestors().skip(1).map(Path::to_path_buf).collect();
    if let Some(parent) = abs.parent() {
        let real = parent
            .canonicalize()
            .map_err(|e| format!("{}: {e}", parent.display()))?;
        dirs.extend(real.ancestors().map(Path::to_path_buf));
    }
    for d in dirs {
        let meta = std::fs::metadata(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        check_meta(&d, &meta, true)?;
    }
    Ok(())
}

/// Reads a trust root file once: opened with `O_NOFOLLOW`, checked on the
/// descriptor (regular, root-owned, not group/world-writable), parents
/// checked, at most `cap` bytes. Returns exactly the bytes checked.
pub fn read_trust_root(path: &Path, cap: u64) -> Result<Vec<u8>, TrustFailure> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                TrustFailure::Untrusted(format!(
                    "{}: is a symbolic link; refusing it as a trust root",
                    path.display()
                ))
            } else {
                TrustFailure::Unreadable(format!("{}: {e}", path.display()))
            }
        })?;
    let meta = file
        .metadata()
        .map_err(|e| TrustFailure::Unreadable(format!("{}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(TrustFailure::Untrusted(format!(
            "{}: not a regular file; refusing it as a trust root",
            path.display()
        )));
    }
    check_meta(path, &meta, false).map_err(TrustFailure::Untrusted)?;
    check_parents(path).map_err(TrustFailure::Untrusted)?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TrustFailure::Unreadable(format!("{}: {e}", path.display())))?;
    if bytes.len() as u64 > cap {
        return Err(TrustFailure::Unreadable(format!(
            "{}: larger than {cap} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The release keyring, read once through [`read_trust_root`] and parsed.
pub fn load_keyring(path: &Path) -> Result<Arc<Keyring>, TrustFailure> {
    let bytes = read_trust_root(path, forge_payload::MAX_KEYRING_BYTES)?;
    Keyring::from_bytes(path, &bytes)
        .map(Arc::new)
        .map_err(|e| TrustFailure::Unreadable(e.to_string()))
}

/// The payload directory (and its `packages/`) must be a root-owned
/// directory, not group/world-writable, and so must its parents.
pub fn check_payload_dir(dir: &Path) -> Result<(), String> {
    for d in [
        dir.to_path_buf(),
        dir.join(forge_payload::index::PACKAGES_DIR),
    ] {
        let meta = std::fs::symlink_metadata(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        if !meta.is_dir() {
            return Err(format!(
                "{}: not a directory (or a symlink); refusing it as the payload",
                d.display()
            ));
        }
        check_meta(&d, &meta, false)?;
    }
    check_parents(dir)
}

/// The kept keyring of `config` and the payload verified with it: what
/// `ListPackageGroups` shows. Errors are details for the log.
pub fn open_payload(config: &crate::config::DaemonConfig) -> Result<Payload, String> {
    let keyring = config.trusted_keyring().map_err(|e| e.to_string())?;
    check_payload_dir(&config.payload)?;
    open_verified(&config.payload, &keyring).map_err(|e: PayloadError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn root_only() -> bool {
        if nix::unistd::geteuid().is_root() {
            return true;
        }
        crate::test_skip::skip("trust root ownership checks need root");
        false
    }

    #[test]
    fn a_symlinked_trust_root_is_refused() {
        if !root_only() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.yaml");
        std::fs::write(&real, "override_phrase: x\n").expect("write");
        chmod(&real, 0o644);
        assert!(read_trust_root(&real, 1024).is_ok());
        let link = dir.path().join("forge-daemon.yaml");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        match read_trust_root(&link, 1024) {
            Err(TrustFailure::Untrusted(d)) => {
                assert!(
                    d.contains("forge-daemon.yaml") && d.contains("symbolic link"),
                    "{d}"
                )
            }
            other => panic!("symlinked trust root accepted: {other:?}"),
        }
    }

    #[test]
    fn a_group_writable_parent_is_refused() {
        if !root_only() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let etc = dir.path().join("etc");
        std::fs::create_dir(&etc).expect("mkdir");
        chmod(&etc, 0o755);
        let keys = etc.join("keys.asc");
        std::fs::write(&keys, "x").expect("write");
        chmod(&keys, 0o644);
        assert!(read_trust_root(&keys, 1024).is_ok());
        chmod(&etc, 0o775);
        match read_trust_root(&keys, 1024) {
            Err(TrustFailure::Untrusted(d)) => {
                assert!(d.contains("etc: writable by group"), "{d}")
            }
            other => panic!("group-writable parent accepted: {other:?}"),
        }
        // Sticky (like /tmp) is fine for an ancestor.
        chmod(&etc, 0o1777);
        assert!(read_trust_root(&keys, 1024).is_ok());
    }

    #[test]
    fn a_payload_dir_with_a_world_writable_parent_is_refused() {
        if !root_only() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let parent = dir.path().join("run");
        let payload = parent.join("payload");
        std::fs::create_dir_all(payload.join("packages")).expect("mkdir");
        for d in [&parent, &payload, &payload.join("packages")] {
            chmod(d, 0o755);
        }
        assert_eq!(check_payload_dir(&payload), Ok(()));
        chmod(&parent, 0o777);
        let err = check_payload_dir(&payload).expect_err("world-writable parent accepted");
        assert!(err.contains("run: writable by group or others"), "{err}");
        chmod(&parent, 0o755);
        chmod(&payload.join("packages"), 0o777);
        let err = check_payload_dir(&payload).expect_err("world-writable packages/ accepted");
        assert!(err.contains("packages"), "{err}");
        chmod(&payload.join("packages"), 0o755);
        nix::unistd::chown(&payload, Some(nix::unistd::Uid::from_raw(65534)), None).expect("chown");
        let err = check_payload_dir(&payload).expect_err("payload owned by nobody accepted");
        assert!(err.contains("not root"), "{err}");
    }
}
