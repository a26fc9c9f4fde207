//! Phase 7 of the seed: stage the ISO9660 root. Large inputs are hard
//! links when the work directory shares their file system (else copies);
//! their disk timestamps do not matter, xorriso sets every file date to
//! SOURCE_DATE_EPOCH. Ends with the build-time assertion on the staged
//! `/live/filesystem.{verity,sha256}` ([`crate::verity::assert_pair`]).
//!
//! ```text
//! /.disk/info                      what GRUB (EFI, CD flavour) searches for
//! /live/filesystem.squashfs        the root filesystem
//! /live/filesystem.verity          its dm-verity hash tree (with superblock)
//! /live/filesystem.sha256          "<sha256>  filesystem.squashfs" (corruption checks, tools)
//! /EFI/Linux/{live,install-gui,install-tui}.efi   the signed UKIs (chainloaded by EFI GRUB)
//! /boot/vmlinuz, /boot/initrd.img  the same kernel and initramfs, for BIOS GRUB
//! /boot/grub/grub.cfg              BIOS menu   /boot/grub/x86_64-efi/grub.cfg  EFI menu
//! /boot/grub/i386-pc/eltorito.img  BIOS El Torito boot image
//! /payload/...                     the signed FORGE payload
//! /MOK.der                         the signing certificate
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::uki::Mode;
use crate::verity;

/// Everything placed on the ISO9660 tree.
pub struct IsoRootInputs<'a> {
    pub squashfs: &'a Path,
    pub verity: &'a Path,
    pub sha256: &'a Path,
    pub payload: Option<&'a Path>,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    pub ukis: &'a [(Mode, PathBuf)],
    pub eltorito: &'a Path,
    pub mok_der: &'a Path,
    pub efi_cfg: &'a str,
    pub bios_cfg: &'a str,
    pub disk_info: &'a str,
}

/// The path of the El Torito BIOS image inside the tree.
pub const ELTORITO: &str = "boot/grub/i386-pc/eltorito.img";
/// Where xorriso writes the boot catalog.
pub const CATALOG: &str = "boot/grub/boot.cat";

/// Stages the tree in `dir` (emptied first) and asserts the verity/sha256 pair landed.
pub fn stage(inputs: &IsoRootInputs, dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    for sub in [
        ".disk",
        "live",
        "EFI/Linux",
        "boot/grub/x86_64-efi",
        "boot/grub/i386-pc",
    ] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    std::fs::write(dir.join(".disk/info"), inputs.disk_info)?;
    link_or_copy(inputs.squashfs, &dir.join("live/filesystem.squashfs"))?;
    link_or_copy(inputs.verity, &dir.join("live/filesystem.verity"))?;
    link_or_copy(inputs.sha256, &dir.join("live/filesystem.sha256"))?;
    for (mode, uki) in inputs.ukis {
        link_or_copy(uki, &dir.join(format!("EFI/Linux/{}.efi", mode.name())))?;
    }
    link_or_copy(inputs.kernel, &dir.join("boot/vmlinuz"))?;
    link_or_copy(inputs.initrd, &dir.join("boot/initrd.img"))?;
    link_or_copy(inputs.eltorito, &dir.join(ELTORITO))?;
    link_or_copy(inputs.mok_der, &dir.join("MOK.der"))?;
    std::fs::write(dir.join("boot/grub/grub.cfg"), inputs.bios_cfg)?;
    std::fs::write(dir.join("boot/grub/x86_64-efi/grub.cfg"), inputs.efi_cfg)?;
    if let Some(payload) = inputs.payload {
        copy_tree(payload, &dir.join("payload"))?;
    }
    verity::assert_pair(
        &dir.join("live/filesystem.verity"),
        &dir.join("live/filesystem.sha256"),
    )
}

/// Hard link `src` at `dst`, or copy it when that fails (other file system).
/// A missing `src` is left missing (the assertion names it).
fn link_or_copy(src: &Path, dst: &Path) -> Result<()> {
    if !src.exists() {
        return Ok(());
    }
    if std::fs::hard_link(src, dst).is_err() {
        std::fs::copy(src, dst)
            .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
    }
    Ok(())
}

/// Copies a directory tree (files linked or copied, symlinks recreated).
fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst)?;
    let mut entries: Vec<_> = std::fs::read_dir(src)
        .with_context(|| format!("reading {}", src.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let (from, to) = (e.path(), dst.join(e.file_name()));
        let ft = e.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else if ft.is_dir() {
            copy_tree(&from, &to)?;
        } else if ft.is_file() {
            link_or_copy(&from, &to)?;
        }
    }
    Ok(())
}
