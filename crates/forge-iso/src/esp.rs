//! Phases 5 and 6 of the seed: stage the ESP layout, then write it into a
//! FAT32 image (`mkfs.vfat -F 32 -n IGOS_ESP`, volume id from
//! SOURCE_DATE_EPOCH) with mtools — nothing is mounted (the build host's
//! kernel may have no vfat). mkfs.fat runs with `--invariant` (its label
//! entry's time is fixed), mtools takes its timestamps from
//! SOURCE_DATE_EPOCH and `mcopy -m` keeps the staged files' mtimes, which are
//! set to it, so the image is reproducible.
//!
//! ```text
//! EFI/BOOT/BOOTX64.EFI  shim          EFI/BOOT/mmx64.efi  MokManager
//! EFI/BOOT/grubx64.efi  GRUB (CD)     EFI/BOOT/grub.cfg   fallback: finds the ISO9660 tree
//! MOK.der               the signing certificate, for MokManager's "enroll key from disk"
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::tools;

/// FAT32 needs 65525 clusters; with 512-byte clusters that is a bit over 32 MiB.
const MIN_IMAGE: u64 = 34 << 20;

/// What goes on the ESP.
pub struct EspInputs<'a> {
    pub shim: &'a Path,
    pub grub: &'a Path,
    pub mokmanager: &'a Path,
    /// The certificate in DER.
    pub mok_der: &'a Path,
    /// `EFI/BOOT/grub.cfg` text.
    pub grub_cfg: &'a str,
}

/// Copies the ESP files into `dir` (mtimes = SOURCE_DATE_EPOCH); returns
/// (ESP path, staged file) pairs in a fixed order.
pub fn stage(inputs: &EspInputs, dir: &Path, sde: u64) -> Result<Vec<(String, PathBuf)>> {
    std::fs::create_dir_all(dir.join("EFI/BOOT"))?;
    let cfg = dir.join("grub.cfg.staged");
    std::fs::write(&cfg, inputs.grub_cfg)?;
    let files = [
        ("EFI/BOOT/BOOTX64.EFI", inputs.shim),
        ("EFI/BOOT/grubx64.efi", inputs.grub),
        ("EFI/BOOT/mmx64.efi", inputs.mokmanager),
        ("EFI/BOOT/grub.cfg", cfg.as_path()),
        ("MOK.der", inputs.mok_der),
    ];
    let mut out = Vec::new();
    for (rel, src) in files {
        let dst = dir.join(rel);
        if src != dst {
            std::fs::copy(src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
        }
        set_mtime(&dst, sde)?;
        out.push((rel.to_owned(), dst));
    }
    std::fs::remove_file(&cfg)?;
    Ok(out)
}

/// Sets a file's mtime to `sde`.
pub fn set_mtime(path: &Path, sde: u64) -> Result<()> {
    let f = std::fs::File::options()
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.set_modified(UNIX_EPOCH + Duration::from_secs(sde))
        .with_context(|| format!("setting the mtime of {}", path.display()))
}

/// Writes the FAT32 image `out` holding `files`.
pub fn make_image(files: &[(String, PathBuf)], out: &Path, sde: u64) -> Result<()> {
    let content: u64 = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()))
        .sum::<std::io::Result<u64>>()?;
    let size = (content + (8 << 20))
        .max(MIN_IMAGE)
        .next_multiple_of(1 << 20);
    if out.exists() {
        std::fs::remove_file(out)?;
    }
    std::fs::File::create(out)?.set_len(size)?;
    tools::run(
        tools::command("mkfs.vfat", sde)
            // --invariant: fixed time in the label entry (mkfs.fat 4.2 ignores
            // SOURCE_DATE_EPOCH); -i then sets our volume id.
            .args(["--invariant", "-F", "32", "-n", "IGOS_ESP", "-i"])
            .arg(volume_id(sde))
            .arg(out),
    )?;
    let img = out.to_str().context("ESP image path is not UTF-8")?;
    let mut dirs: Vec<String> = Vec::new();
    for (rel, _) in files {
        let mut acc = String::new();
        for comp in Path::new(rel).parent().into_iter().flat_map(|p| p.iter()) {
            acc = format!("{acc}/{}", comp.to_string_lossy());
            if !dirs.contains(&acc) {
                dirs.push(acc.clone());
            }
        }
    }
    for d in &dirs {
        tools::run(
            tools::command("mmd", sde)
                .args(["-i", img])
                .arg(format!("::{d}")),
        )?;
    }
    for (rel, src) in files {
        tools::run(
            tools::command("mcopy", sde)
                .args(["-m", "-i", img])
                .arg(src)
                .arg(format!("::/{rel}")),
        )?;
    }
    Ok(())
}

/// The FAT volume id: the low 32 bits of SOURCE_DATE_EPOCH, in hex.
pub fn volume_id(sde: u64) -> String {
    format!("{:08X}", sde as u32)
}
