//! Harness: the boot test payload. Runs `scripts/build-test-payload.sh`
//! (real Debian packages repacked into FORGE archives plus the project's own
//! base-layout, initramfs and marker-printing init; cached, flock-serialized)
//! into `<target>/forge-test-payload/`, then signs its manifest and index with
//! a key generated once for the tests (`forge_payload::testkit::generate_key`)
//! unless the payload already verifies against that key.
//!
//! Layout:
//! - `<target>/forge-test-payload/` — the payload (packages/, manifest, index, signatures)
//! - `<target>/forge-test-payload-keys/keyring.asc` — public keyring for the daemon config
//! - `<target>/forge-test-payload-keys/signing-key.asc` — the secret key (tests only)
//! - `/var/cache/forge-test/debs/` (machine-wide, shared by clones; else
//!   `<target>/forge-deb-cache/`) — the downloaded .debs

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};

/// A built, signed boot test payload.
#[derive(Debug, Clone)]
pub struct BootPayload {
    /// The payload directory (what the daemon config's `payload:` names).
    pub dir: PathBuf,
    /// Armored public keyring that verifies it (the config's `keyring:`).
    pub keyring: PathBuf,
    /// Armored secret key it was signed with.
    pub signing_key: PathBuf,
    /// Kernel release the payload installs (`/boot/vmlinuz-<kernel_release>`).
    pub kernel_release: String,
}

/// The workspace root (parent of this `tests/` crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo target directory of this build: `CARGO_TARGET_DIR` when set,
/// else the ancestor of the test executable's `deps/` directory.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        };
    }
    if let Ok(exe) = std::env::current_exe() {
        // <target>/<profile>/deps/<test>-<hash>
        if let Some(t) = exe
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "deps"))
        {
            if let Some(target) = t.parent().and_then(Path::parent) {
                return target.to_path_buf();
            }
        }
    }
    workspace_root().join("target")
}

/// Builds (or reuses) the payload and returns its paths. Panics with the
/// reason when it cannot be built (a test failure, not a skip).
pub fn boot_payload() -> BootPayload {
    match try_boot_payload() {
        Ok(p) => p,
        Err(e) => panic!("building the boot test payload failed: {e:#}"),
    }
}

/// [`boot_payload`] returning the error instead of panicking.
pub fn try_boot_payload() -> Result<BootPayload> {
    let target = target_dir();
    std::fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    let dir = target.join("forge-test-payload");
    let keys = target.join("forge-test-payload-keys");
    let script = workspace_root().join("scripts/build-test-payload.sh");

    let out = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} {} failed ({}):\n{}",
            script.display(),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Signing is serialized on its own lock (the script holds `<dir>.lock`
    // only while it runs).
    let lock_path = target.join("forge-test-payload.sign.lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .with_context(|| format!("locking {}", lock_path.display()))?;

    let keyring = keys.join("keyring.asc");
    let signing_key = keys.join("signing-key.asc");
    if !signing_key.is_file() || !keyring.is_file() {
        std::fs::create_dir_all(&keys).with_context(|| format!("creating {}", keys.display()))?;
        let (sec, public) = forge_payload::testkit::generate_key(
            &keys,
            "FORGE boot test payload <boot-test@forge.invalid>",
        );
        std::fs::rename(&sec, &signing_key).context("storing the signing key")?;
        std::fs::rename(&public, &keyring).context("storing the keyring")?;
    }
    if !verifies(&dir, &keyring) {
        forge_payload::build::build_payload(&dir, Some(&signing_key))
            .with_context(|| format!("signing the payload in {}", dir.display()))?;
        if !verifies(&dir, &keyring) {
            bail!(
                "the freshly signed payload in {} does not verify",
                dir.display()
            );
        }
    }
    let kernel_release = read_env_value(&dir.join("boot-payload.env"), "kernel_version")?;
    Ok(BootPayload {
        dir,
        keyring,
        signing_key,
        kernel_release,
    })
}

fn verifies(dir: &Path, keyring: &Path) -> bool {
    let Ok(kr) = forge_payload::Keyring::load(keyring) else {
        return false;
    };
    forge_payload::open_verified(dir, &kr).is_ok()
}

fn read_env_value(path: &Path, key: &str) -> Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('=').map(str::to_string))
        .with_context(|| format!("{} has no {key}=", path.display()))
}
