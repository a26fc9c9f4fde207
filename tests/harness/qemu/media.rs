//! Harness: the live media the live tests boot — `target/live/forge-live.iso`
//! (the medium: root hash sealed in its UKIs, signed with `keys/db`) and
//! `forge-live-dev.iso` (the development medium of the same squashfs: no
//! root hash, signed with `keys/foreign`), built or found up to date by
//! `scripts/build-live.sh`; why they cannot be built here; and
//! `FORGE_LIVE_REUSE=1`, which boots the media already there whatever
//! changed since (for working on the tests themselves). Shared by
//! tests/tests/live_boot.rs and tests/tests/live_install.rs.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::test_payload::{target_dir, try_boot_payload, workspace_root};

/// What scripts/build-live.sh runs besides the FORGE binaries.
pub const BUILD_TOOLS: &[&str] = &[
    "mmdebstrap",
    "xorriso",
    "mksquashfs",
    "veritysetup",
    "sbsign",
    "mcopy",
    "mkfs.vfat",
    "openssl",
    "sha256sum",
];

/// The two media, in `target/live/`.
pub struct LiveMedia {
    pub iso: PathBuf,
    pub dev_iso: PathBuf,
    /// The test Secure Boot keys (`db.{key,crt,der}`, `foreign.*`).
    pub keys: PathBuf,
}

impl LiveMedia {
    /// Where the media are (built or not).
    pub fn paths() -> LiveMedia {
        let live = target_dir().join("live");
        LiveMedia {
            iso: live.join("forge-live.iso"),
            dev_iso: live.join("forge-live-dev.iso"),
            keys: live.join("keys"),
        }
    }

    fn exist(&self) -> bool {
        self.iso.is_file() && self.dev_iso.is_file()
    }
}

/// `FORGE_LIVE_REUSE=1`.
pub fn reuse() -> bool {
    std::env::var_os("FORGE_LIVE_REUSE").is_some_and(|v| v == "1")
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// The newest built `forge-iso` (release or debug).
pub fn forge_iso_binary() -> Option<PathBuf> {
    let t = target_dir();
    ["release", "debug"]
        .iter()
        .map(|p| t.join(p).join("forge-iso"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// The wizard with its autopilot (`forge-gui-autopilot`, feature
/// `autopilot`): the test medium's /usr/bin/forge-gui, so the end-to-end
/// test starts it from the installed desktop entry (tests/tests/live_install.rs).
pub fn autopilot_gui() -> Option<PathBuf> {
    let p = target_dir().join("debug/forge-gui-autopilot");
    p.is_file().then_some(p)
}

/// Why the media cannot be had here: not root, a build tool or forge-iso
/// missing (nothing is needed when reusing media that exist).
pub fn skip_reason() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("the live media need root (scripts/build-live.sh: mmdebstrap)".into());
    }
    if reuse() && LiveMedia::paths().exist() {
        return None;
    }
    if let Some(t) = BUILD_TOOLS.iter().find(|t| !on_path(t)) {
        return Some(format!("{t} is not installed (scripts/setup-debian.sh)"));
    }
    if autopilot_gui().is_none() {
        return Some(
            "no forge-gui-autopilot for the test medium: cargo build -p forge-gui --features autopilot"
                .into(),
        );
    }
    if forge_iso_binary().is_none() {
        return Some("no forge-iso binary: cargo build -p forge-iso".into());
    }
    None
}

/// The media, built by scripts/build-live.sh with the binaries already
/// built (no cargo inside cargo test; it returns at once when no input
/// changed), the signed boot test payload in `/payload/`.
pub fn build() -> Result<LiveMedia> {
    let media = LiveMedia::paths();
    if reuse() && media.exist() {
        return Ok(media);
    }
    try_boot_payload().context("building the boot test payload")?;
    let forge_iso = forge_iso_binary().context("no forge-iso binary: cargo build -p forge-iso")?;
    let gui = autopilot_gui().context(
        "no target/debug/forge-gui-autopilot: cargo build -p forge-gui --features autopilot",
    )?;
    let out = Command::new("bash")
        .arg(workspace_root().join("scripts/build-live.sh"))
        .env("FORGE_ISO", forge_iso)
        .env("FORGE_LIVE_NO_BUILD", "1")
        .env("FORGE_LIVE_GUI", gui)
        .output()
        .context("running scripts/build-live.sh")?;
    if !out.status.success() {
        bail!(
            "scripts/build-live.sh failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(media)
}
