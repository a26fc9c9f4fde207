//! Phase 9 of the seed: self-verification of the written image, parsed
//! here rather than trusted from xorriso's exit code: the protective MBR and
//! its boot code ([`gpt`]), the primary and backup GPT with header and
//! entry-array CRCs and the EFI system partition holding a FAT32 file
//! system ([`gpt`]), the El Torito boot record and catalog with its
//! validation checksum, the BIOS entry and the EFI entry — which must point
//! at the ESP partition ([`eltorito`]) — and the ISO9660 tree's
//! `/live/filesystem.{squashfs,verity,sha256}`, non-empty ([`iso9660`]).

pub mod eltorito;
pub mod gpt;
pub mod iso9660;

use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};

/// An image file read at offsets.
pub struct Image {
    file: File,
    len: u64,
}

impl Image {
    pub fn open(path: &Path) -> Result<Image> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let len = file.metadata()?.len();
        Ok(Image { file, len })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `len` bytes at `offset`; an error past the end.
    pub fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        ensure!(
            offset
                .checked_add(len as u64)
                .is_some_and(|end| end <= self.len),
            "the image ({} bytes) ends before {len} bytes at offset {offset}",
            self.len
        );
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }
}

pub(crate) fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

pub(crate) fn u64le(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// What the verification found (printed by `forge-iso verify`, kept in the manifest).
#[derive(Debug, Clone)]
pub struct Report {
    pub volume_id: String,
    pub esp: gpt::Partition,
    pub bios_boot_lba: u32,
    pub efi_boot_lba: u32,
    pub files: Vec<iso9660::Found>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "volume id {}", self.volume_id)?;
        writeln!(
            f,
            "GPT: ESP partition {} at 512-byte LBA {}..={} (FAT32)",
            self.esp.index, self.esp.first_lba, self.esp.last_lba
        )?;
        writeln!(
            f,
            "El Torito: BIOS image at 2048-byte block {}, EFI image at block {} (= the ESP)",
            self.bios_boot_lba, self.efi_boot_lba
        )?;
        for file in &self.files {
            writeln!(
                f,
                "{} at byte {} ({} bytes)",
                file.path, file.offset, file.size
            )?;
        }
        write!(f, "image OK")
    }
}

/// The files the live init needs, which must be on the ISO9660 tree and non-empty.
pub const LIVE_FILES: [&str; 3] = [
    "/live/filesystem.squashfs",
    "/live/filesystem.verity",
    "/live/filesystem.sha256",
];

/// Verifies the image at `path`.
pub fn verify_image(path: &Path) -> Result<Report> {
    let img = Image::open(path)?;
    verify(&img).with_context(|| format!("self-verification of {} failed", path.display()))
}

/// Verifies an opened image.
pub fn verify(img: &Image) -> Result<Report> {
    ensure!(
        img.len().is_multiple_of(2048),
        "the image size {} is not a multiple of 2048",
        img.len()
    );
    gpt::check_mbr(img)?;
    let gpt = gpt::read(img)?;
    let esp = gpt
        .partitions
        .iter()
        .find(|p| p.type_guid == gpt::ESP_TYPE)
        .cloned()
        .context("the GPT has no EFI system partition")?;
    gpt::check_fat32(img, &esp)?;
    let volume_id = iso9660::volume_id(img)?;
    let cat = eltorito::read(img)?;
    let efi = cat.efi.context("the El Torito catalog has no EFI entry")?;
    if u64::from(efi.load_rba) * 2048 != esp.first_lba * 512 {
        bail!(
            "the El Torito EFI entry points at block {} but the ESP partition starts at 512-byte LBA {}",
            efi.load_rba,
            esp.first_lba
        );
    }
    let mut files = Vec::new();
    for name in LIVE_FILES {
        let found = iso9660::find(img, name)?
            .with_context(|| format!("{name} is missing from the ISO9660 tree"))?;
        ensure!(found.size > 0, "{name} is empty on the ISO9660 tree");
        files.push(found);
    }
    Ok(Report {
        volume_id,
        esp,
        bios_boot_lba: cat.bios.load_rba,
        efi_boot_lba: efi.load_rba,
        files,
    })
}

#[cfg(test)]
pub(crate) mod craft;

#[cfg(test)]
mod tests {
    use super::craft::{self, CATALOG, GPT_ENTRIES, GPT_HEADER};
    use super::*;

    fn check(img: &[u8]) -> Result<Report> {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), img).unwrap();
        verify(&Image::open(f.path()).unwrap())
    }

    fn err(img: &[u8]) -> String {
        format!("{:#}", check(img).expect_err("the damage must be caught"))
    }

    #[test]
    fn a_sound_crafted_image_passes() {
        let r = check(&craft::image()).unwrap();
        assert_eq!(r.volume_id, "CRAFTED");
        assert_eq!(r.esp.index, 2);
        assert_eq!((r.bios_boot_lba, r.efi_boot_lba), (21, 40));
        let sizes: Vec<_> = r.files.iter().map(|f| (f.path.as_str(), f.size)).collect();
        assert_eq!(
            sizes,
            [
                ("/live/filesystem.squashfs", 100),
                ("/live/filesystem.verity", 50),
                ("/live/filesystem.sha256", 10)
            ]
        );
    }

    #[test]
    fn a_damaged_el_torito_catalog_is_caught() {
        let mut img = craft::image();
        img[CATALOG + 4] ^= 0x20; // id string: the checksum no longer matches
        assert!(
            err(&img).contains("validation entry checksum"),
            "{}",
            err(&img)
        );

        let mut img = craft::image();
        img[CATALOG + 31] = 0; // key byte
        assert!(err(&img).contains("0x55 0xAA"));

        let mut img = craft::image();
        img[CATALOG + 96] = 0; // EFI entry not bootable
        craft::fix_catalog_checksum(&mut img);
        assert!(err(&img).contains("not bootable"), "{}", err(&img));

        let mut img = craft::image();
        img[CATALOG + 104] += 1; // EFI entry beside the ESP
        assert!(err(&img).contains("ESP partition starts"), "{}", err(&img));

        let mut img = craft::image();
        img[CATALOG + 40] = 22; // BIOS entry loads a block without its boot info table
        assert!(err(&img).contains("boot info table"), "{}", err(&img));

        let mut img = craft::image();
        img[17 * 2048 + 8] = b'X'; // boot record
        assert!(err(&img).contains("EL TORITO"), "{}", err(&img));
    }

    #[test]
    fn a_damaged_gpt_is_caught() {
        let mut img = craft::image();
        img[GPT_HEADER + 40] ^= 1; // first usable LBA: header CRC32 mismatch
        assert!(
            err(&img).contains("GPT header at LBA 1 has CRC32"),
            "{}",
            err(&img)
        );

        let mut img = craft::image();
        img[GPT_ENTRIES + 128 + 33] ^= 1; // the ESP's first LBA: entry array CRC32 mismatch
        assert!(err(&img).contains("entry array"), "{}", err(&img));

        let mut img = craft::image();
        let last = img.len() - 512;
        img[last] = b'X'; // backup header signature
        assert!(err(&img).contains("backup GPT header"), "{}", err(&img));

        let mut img = craft::image();
        img[510] = 0; // MBR signature
        assert!(err(&img).contains("0x55AA"));

        let mut img = craft::image();
        img[446 + 4] = 0x83; // no protective partition
        assert!(err(&img).contains("protective"));

        let mut img = craft::image();
        img[(craft::ESP_LBA as usize) * 512 + 82] = b'X'; // not FAT32
        assert!(err(&img).contains("not FAT32"));
    }

    #[test]
    fn an_empty_or_missing_verity_file_on_the_image_is_caught() {
        let mut img = craft::image();
        // filesystem.verity's record: set its size (both-endian) to 0.
        let dir = 22 * 2048;
        let pos = img[dir..dir + 2048]
            .windows(19)
            .position(|w| w == b"FILESYSTEM.VERITY;1")
            .unwrap()
            + dir
            - 33;
        img[pos + 10..pos + 18].fill(0);
        assert!(
            err(&img).contains("/live/filesystem.verity is empty"),
            "{}",
            err(&img)
        );
        img[pos + 33] = b'X';
        assert!(
            err(&img).contains("/live/filesystem.verity is missing"),
            "{}",
            err(&img)
        );
        let _ = craft::VERITY_BLOCK;
    }
}
