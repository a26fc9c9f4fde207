//! Phase 1: the root squashfs. Reproducible: mksquashfs (4.4+) sorts
//! directory entries and is deterministic across processor counts;
//! `-mkfs-time`/`-all-time` clamp every timestamp to SOURCE_DATE_EPOCH;
//! the compressor settings are fixed per [`Compressor`]. Ownership, modes
//! and extended attributes (file capabilities) come from the tree as they
//! are. The image is padded to 4 KiB (mksquashfs' default), which the
//! dm-verity data block size needs.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::tools;

/// The squashfs compressor. zstd is the default: on the test tree it built
/// 14x faster than xz and unpacked ~4x faster (boot time under TCG and on
/// slow machines) for a ~20 % larger image (docs/benchmarks.md).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Compressor {
    Xz,
    Zstd,
}

impl Compressor {
    /// Name in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Compressor::Xz => "xz",
            Compressor::Zstd => "zstd",
        }
    }

    /// Fixed mksquashfs options: 1 MiB blocks, plus the compressor's own
    /// (zstd level 9: levels 15 and 19 cost 4x and 16x the time for 0 % and 9 %).
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Compressor::Xz => &["-comp", "xz", "-b", "1M", "-Xdict-size", "100%"],
            Compressor::Zstd => &["-comp", "zstd", "-b", "1M", "-Xcompression-level", "9"],
        }
    }
}

/// Builds `out` from `tree`.
pub fn build(
    tree: &Path,
    out: &Path,
    compressor: Compressor,
    source_date_epoch: u64,
) -> Result<()> {
    if out.exists() {
        std::fs::remove_file(out).with_context(|| format!("removing {}", out.display()))?;
    }
    let sde = source_date_epoch.to_string();
    tools::run(
        tools::command("mksquashfs", source_date_epoch)
            // mksquashfs refuses SOURCE_DATE_EPOCH together with the explicit options.
            .env_remove("SOURCE_DATE_EPOCH")
            .arg(tree)
            .arg(out)
            .args(["-noappend", "-no-progress", "-quiet"])
            .args(["-mkfs-time", &sde, "-all-time", &sde])
            .args(compressor.args()),
    )?;
    check_aligned(out)
}

/// dm-verity hashes 4 KiB data blocks: the squashfs (built or given) must be a whole number of them.
pub fn check_aligned(squashfs: &Path) -> Result<()> {
    let len = std::fs::metadata(squashfs)
        .with_context(|| format!("stat {}", squashfs.display()))?
        .len();
    if len == 0 || len % 4096 != 0 {
        bail!(
            "{} is {len} bytes, not a non-zero multiple of 4096 (mksquashfs without -nopad pads to 4 KiB)",
            squashfs.display()
        );
    }
    Ok(())
}
