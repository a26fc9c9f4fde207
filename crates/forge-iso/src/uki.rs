//! Phase 4: the Unified Kernel Images. Each is Debian's `linuxx64.efi.stub`
//! (systemd-boot-efi; Debian 12 has no ukify) with four sections added by
//! objcopy at the stub's documented addresses — `.osrel` 0x20000,
//! `.cmdline` 0x30000, `.linux` 0x2000000, `.initrd` 0x3000000 — then
//! signed with `sbsign` (under `faketime`, so the signature's signing time
//! is SOURCE_DATE_EPOCH and two builds sign identically). Under Secure Boot the stub ignores any command line
//! passed by GRUB and uses the sealed `.cmdline`, so the root hash in it is
//! covered by the signature. [`sealed_cmdline`] reads it back to check.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};

use crate::tools;

/// The three boot entries (seed 003) and their UKIs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Live,
    InstallGui,
    InstallTui,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Live, Mode::InstallGui, Mode::InstallTui];

    /// `igos.mode=` value, also the UKI's file stem.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::InstallGui => "install-gui",
            Mode::InstallTui => "install-tui",
        }
    }

    /// The GRUB menu title.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Live => "InterGenOS live session",
            Mode::InstallGui => "Install InterGenOS (graphical)",
            Mode::InstallTui => "Install InterGenOS (text)",
        }
    }
}

/// The kernel command line of Interface 3 (docs/live-medium.md). Without a
/// root hash (development medium) the live init takes the SHA-256 fallback.
pub fn cmdline(root_hash: Option<&str>, label: &str, mode: Mode) -> String {
    let mut parts = Vec::new();
    if let Some(h) = root_hash {
        parts.push(format!("igos.verity.roothash={h}"));
    }
    parts.push(format!("igos.live.label={label}"));
    parts.push("console=ttyS0,115200 console=tty0".to_owned());
    parts.push(format!("igos.mode={}", mode.name()));
    parts.join(" ")
}

/// What one UKI is made of.
pub struct UkiParts<'a> {
    pub stub: &'a Path,
    pub os_release: &'a Path,
    pub cmdline: &'a str,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
}

/// Assembles `parts` into `out` (signed) using `scratch` for the unsigned
/// image and the command-line file.
pub fn build(
    parts: &UkiParts,
    key: &Path,
    cert: &Path,
    out: &Path,
    scratch: &Path,
    sde: u64,
) -> Result<()> {
    let stem = out
        .file_name()
        .context("UKI path has no file name")?
        .to_string_lossy();
    let cmdline_file = scratch.join(format!("{stem}.cmdline"));
    std::fs::write(&cmdline_file, parts.cmdline.as_bytes())?;
    let unsigned = scratch.join(format!("{stem}.unsigned"));
    ensure!(
        std::fs::metadata(parts.os_release)?.len() < 0x10000,
        "os-release is larger than the 64 KiB between .osrel and .cmdline"
    );
    ensure!(
        std::fs::metadata(parts.kernel)?.len() < 0x100_0000,
        "the kernel is larger than the 16 MiB between .linux and .initrd"
    );
    let mut cmd = tools::command("objcopy", sde);
    for (section, file, vma) in [
        (".osrel", parts.os_release, "0x20000"),
        (".cmdline", cmdline_file.as_path(), "0x30000"),
        (".linux", parts.kernel, "0x2000000"),
        (".initrd", parts.initrd, "0x3000000"),
    ] {
        cmd.arg("--add-section")
            .arg(format!("{section}={}", file.display()))
            .arg("--change-section-vma")
            .arg(format!("{section}={vma}"));
    }
    cmd.arg(parts.stub).arg(&unsigned);
    tools::run(&mut cmd)?;
    let mut image = std::fs::read(&unsigned)?;
    pin_pe_timestamp(&mut image, sde)?;
    std::fs::write(&unsigned, &image)?;
    // sbsign puts the current time into the signature's signed attributes
    // (PKCS#7 signingTime): run it on a clock stopped at SOURCE_DATE_EPOCH.
    let (y, mo, d, h, mi, s) = crate::xorriso::civil(sde);
    tools::run(
        tools::command("faketime", sde)
            .arg("-f")
            .arg(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
            .arg("sbsign")
            .arg("--key")
            .arg(key)
            .arg("--cert")
            .arg(cert)
            .arg("--output")
            .arg(out)
            .arg(&unsigned),
    )?;
    std::fs::remove_file(&unsigned)?;
    std::fs::remove_file(&cmdline_file)?;
    Ok(())
}

/// objcopy stamps the PE/COFF header with the current time: set it to
/// SOURCE_DATE_EPOCH and recompute the optional header's checksum (before
/// signing, so the signature covers the pinned header).
pub fn pin_pe_timestamp(image: &mut [u8], sde: u64) -> Result<()> {
    let word = |b: &[u8], at: usize| -> Result<u32> {
        let s = b.get(at..at + 4).context("truncated PE image")?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let pe = word(image, 0x3c)? as usize;
    ensure!(
        image.get(pe..pe + 4) == Some(b"PE\0\0".as_slice()),
        "not a PE image"
    );
    let stamp = u32::try_from(sde).unwrap_or(u32::MAX);
    image[pe + 8..pe + 12].copy_from_slice(&stamp.to_le_bytes());
    let checksum_at = pe + 24 + 64;
    ensure!(
        image.len() > checksum_at + 4,
        "truncated PE optional header"
    );
    image[checksum_at..checksum_at + 4].fill(0);
    let mut sum: u64 = 0;
    for chunk in image.chunks(2) {
        let w = u64::from(chunk[0]) | chunk.get(1).map_or(0, |&b| u64::from(b) << 8);
        sum += w;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let sum = ((sum & 0xffff) + (sum >> 16)) as u32 & 0xffff;
    let checksum = sum + image.len() as u32;
    image[checksum_at..checksum_at + 4].copy_from_slice(&checksum.to_le_bytes());
    Ok(())
}

/// The `.cmdline` section of a (signed) UKI, read back with objcopy.
pub fn sealed_cmdline(uki: &Path, scratch: &Path, sde: u64) -> Result<String> {
    let out = scratch.join("cmdline.readback");
    tools::run(
        tools::command("objcopy", sde)
            .args(["-O", "binary", "--only-section=.cmdline"])
            .arg(uki)
            .arg(&out),
    )?;
    let bytes = std::fs::read(&out)?;
    std::fs::remove_file(&out)?;
    let text = String::from_utf8(bytes).context("the sealed command line is not UTF-8")?;
    Ok(text.trim_end_matches('\0').to_owned())
}

/// Checks a built UKI carries exactly `expected` as its sealed command line.
pub fn check_sealed(uki: &Path, expected: &str, scratch: &Path, sde: u64) -> Result<()> {
    let found = sealed_cmdline(uki, scratch, sde)?;
    if found != expected {
        bail!("{} seals {found:?}, expected {expected:?}", uki.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_is_interface_3() {
        assert_eq!(
            cmdline(Some("ab12"), "IGOS_LIVE", Mode::InstallTui),
            "igos.verity.roothash=ab12 igos.live.label=IGOS_LIVE console=ttyS0,115200 console=tty0 igos.mode=install-tui"
        );
        assert!(!cmdline(None, "X", Mode::Live).contains("roothash"));
    }
}
