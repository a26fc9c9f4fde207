//! The El Torito boot record (block 17) and boot catalog: the validation
//! entry (header id, key bytes 0x55 0xAA, 16-bit word sum zero), the
//! default entry for BIOS (bootable, no emulation, its image carrying a
//! boot info table that names it) and a section for platform 0xEF (EFI)
//! with a bootable no-emulation entry.

use anyhow::{bail, ensure, Context, Result};

use super::{u16le, u32le, Image};

/// A boot entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub platform: u8,
    pub sector_count: u16,
    pub load_rba: u32,
}

/// The checked catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub catalog_lba: u32,
    pub bios: Entry,
    pub efi: Option<Entry>,
}

const EFI_PLATFORM: u8 = 0xef;

/// Reads and checks the boot record and catalog.
pub fn read(img: &Image) -> Result<Catalog> {
    let br = img.read(17 * 2048, 2048)?;
    ensure!(
        br[0] == 0 && &br[1..6] == b"CD001" && br[6] == 1,
        "no El Torito boot record volume descriptor at block 17"
    );
    let spec = b"EL TORITO SPECIFICATION";
    ensure!(
        &br[7..7 + spec.len()] == spec && br[7 + spec.len()..39].iter().all(|&b| b == 0),
        "the boot record at block 17 is not \"EL TORITO SPECIFICATION\""
    );
    let catalog_lba = u32le(&br, 0x47);
    let cat = img
        .read(u64::from(catalog_lba) * 2048, 2048)
        .with_context(|| format!("the boot catalog at block {catalog_lba} is outside the image"))?;
    parse(img, &cat, catalog_lba)
}

/// Parses the 2048-byte `cat` (read at `catalog_lba`).
pub fn parse(img: &Image, cat: &[u8], catalog_lba: u32) -> Result<Catalog> {
    let v = &cat[..32];
    ensure!(
        v[0] == 1,
        "the boot catalog's validation entry has header id {:#x}, not 1",
        v[0]
    );
    ensure!(
        v[30] == 0x55 && v[31] == 0xaa,
        "the boot catalog's validation entry lacks the 0x55 0xAA key"
    );
    let sum = (0..16).fold(0u16, |s, i| s.wrapping_add(u16le(v, 2 * i)));
    if sum != 0 {
        bail!("the boot catalog's validation entry checksum is wrong (word sum {sum:#06x}, must be 0)");
    }
    let bios = entry(img, &cat[32..64], v[1]).context("the default (BIOS) boot entry")?;
    ensure!(
        bios.platform == 0,
        "the default boot entry is for platform {:#x}, not x86 BIOS",
        bios.platform
    );
    check_boot_info_table(img, &bios)?;
    let mut efi = None;
    let mut at = 64;
    while at + 32 <= cat.len() && matches!(cat[at], 0x90 | 0x91) {
        let (last, platform, count) = (cat[at] == 0x91, cat[at + 1], u16le(cat, at + 2));
        at += 32;
        for _ in 0..count {
            ensure!(
                at + 32 <= cat.len(),
                "the boot catalog's section runs past its block"
            );
            if cat[at] != 0x44 {
                let e = entry(img, &cat[at..at + 32], platform)
                    .with_context(|| format!("a section entry for platform {platform:#x}"))?;
                if platform == EFI_PLATFORM && efi.is_none() {
                    efi = Some(e);
                }
            }
            at += 32;
        }
        if last {
            break;
        }
    }
    Ok(Catalog {
        catalog_lba,
        bios,
        efi,
    })
}

fn entry(img: &Image, e: &[u8], platform: u8) -> Result<Entry> {
    ensure!(
        e[0] == 0x88,
        "the entry is not bootable (indicator {:#x})",
        e[0]
    );
    ensure!(
        e[1] & 0x0f == 0,
        "the entry is not no-emulation (media type {:#x})",
        e[1]
    );
    let entry = Entry {
        platform,
        sector_count: u16le(e, 6),
        load_rba: u32le(e, 8),
    };
    ensure!(
        entry.sector_count > 0 || platform == EFI_PLATFORM,
        "the entry loads 0 sectors"
    );
    ensure!(
        u64::from(entry.load_rba) * 2048 < img.len(),
        "the entry's image at block {} is outside the image",
        entry.load_rba
    );
    Ok(entry)
}

/// `-boot-info-table` wrote {PVD block, own block, length, checksum} at
/// byte 8 of the BIOS image: it must name the block the entry loads.
fn check_boot_info_table(img: &Image, bios: &Entry) -> Result<()> {
    let head = img.read(u64::from(bios.load_rba) * 2048, 64)?;
    ensure!(
        u32le(&head, 8) == 16,
        "the BIOS image's boot info table does not name the PVD at block 16"
    );
    ensure!(
        u32le(&head, 12) == bios.load_rba,
        "the BIOS image's boot info table names block {}, the catalog loads block {}",
        u32le(&head, 12),
        bios.load_rba
    );
    Ok(())
}
