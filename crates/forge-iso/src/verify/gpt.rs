//! The protective MBR, the GPT (primary and backup: signature, revision,
//! header CRC32, the entry array's CRC32, the headers pointing at each
//! other) and the EFI system partition's FAT32 boot sector.

use anyhow::{bail, ensure, Context, Result};

use super::{u16le, u32le, u64le, Image};

/// The EFI system partition type, C12A7328-F81F-11D2-BA4B-00A0C93EC93B, as stored.
pub const ESP_TYPE: [u8; 16] = [
    0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b,
];

/// One used GPT entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// 1-based.
    pub index: u32,
    pub type_guid: [u8; 16],
    pub first_lba: u64,
    pub last_lba: u64,
}

/// A parsed, checked GPT.
#[derive(Debug, Clone)]
pub struct Gpt {
    pub disk_guid: [u8; 16],
    pub partitions: Vec<Partition>,
}

/// The MBR: boot signature, boot code present (GRUB's hybrid MBR for BIOS
/// disk boot) and a protective 0xEE partition starting at LBA 1.
pub fn check_mbr(img: &Image) -> Result<()> {
    let mbr = img.read(0, 512)?;
    ensure!(
        mbr[510] == 0x55 && mbr[511] == 0xaa,
        "the MBR has no 0x55AA boot signature"
    );
    ensure!(
        mbr[..440].iter().any(|&b| b != 0),
        "the MBR has no boot code (BIOS could not boot the image as a disk)"
    );
    let protective = (0..4)
        .map(|i| &mbr[446 + 16 * i..462 + 16 * i])
        .any(|e| e[4] == 0xee && u32le(e, 8) == 1);
    ensure!(
        protective,
        "the MBR has no protective (0xEE) partition starting at LBA 1"
    );
    Ok(())
}

/// Reads and checks the primary GPT at LBA 1 and the backup it names.
pub fn read(img: &Image) -> Result<Gpt> {
    let last_lba = img.len() / 512 - 1;
    let primary = header(img, 1).context("primary GPT header")?;
    ensure!(
        primary.alternate_lba == last_lba,
        "the primary GPT names its backup at LBA {}, the image's last LBA is {last_lba}",
        primary.alternate_lba
    );
    let backup = header(img, last_lba).context("backup GPT header")?;
    ensure!(
        backup.alternate_lba == 1,
        "the backup GPT header does not point back at LBA 1"
    );
    ensure!(
        backup.entries_crc == primary.entries_crc && backup.disk_guid == primary.disk_guid,
        "the backup GPT differs from the primary"
    );
    let mut partitions = Vec::new();
    for (i, e) in primary.entries.chunks(primary.entry_size).enumerate() {
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let p = Partition {
            index: i as u32 + 1,
            type_guid: e[..16].try_into().expect("16"),
            first_lba: u64le(e, 32),
            last_lba: u64le(e, 40),
        };
        ensure!(
            p.first_lba >= primary.first_usable
                && p.first_lba <= p.last_lba
                && p.last_lba <= primary.last_usable,
            "GPT partition {} ({}..={}) lies outside the usable LBAs {}..={}",
            p.index,
            p.first_lba,
            p.last_lba,
            primary.first_usable,
            primary.last_usable
        );
        partitions.push(p);
    }
    Ok(Gpt {
        disk_guid: primary.disk_guid,
        partitions,
    })
}

struct Header {
    alternate_lba: u64,
    first_usable: u64,
    last_usable: u64,
    disk_guid: [u8; 16],
    entries_crc: u32,
    entry_size: usize,
    entries: Vec<u8>,
}

fn header(img: &Image, lba: u64) -> Result<Header> {
    let h = img.read(lba * 512, 512)?;
    ensure!(
        &h[..8] == b"EFI PART",
        "no \"EFI PART\" signature at LBA {lba}"
    );
    ensure!(
        u32le(&h, 8) == 0x0001_0000,
        "GPT revision {:#x} is not 1.0",
        u32le(&h, 8)
    );
    let size = u32le(&h, 12) as usize;
    ensure!(
        (92..=512).contains(&size),
        "GPT header size {size} is invalid"
    );
    let mut copy = h[..size].to_vec();
    copy[16..20].fill(0);
    let crc = crc32fast::hash(&copy);
    if crc != u32le(&h, 16) {
        bail!(
            "the GPT header at LBA {lba} has CRC32 {:#010x}, computed {crc:#010x}",
            u32le(&h, 16)
        );
    }
    ensure!(
        u64le(&h, 24) == lba,
        "the GPT header at LBA {lba} says it is at LBA {}",
        u64le(&h, 24)
    );
    let entries_lba = u64le(&h, 72);
    let count = u32le(&h, 80) as usize;
    let entry_size = u32le(&h, 84) as usize;
    ensure!(
        entry_size >= 128 && entry_size.is_multiple_of(8) && (1..=1024).contains(&count),
        "GPT entry array {count} x {entry_size} is invalid"
    );
    let entries = img.read(entries_lba * 512, count * entry_size)?;
    let entries_crc = crc32fast::hash(&entries);
    if entries_crc != u32le(&h, 88) {
        bail!(
            "the GPT entry array of the header at LBA {lba} has CRC32 {:#010x}, computed {entries_crc:#010x}",
            u32le(&h, 88)
        );
    }
    Ok(Header {
        alternate_lba: u64le(&h, 32),
        first_usable: u64le(&h, 40),
        last_usable: u64le(&h, 48),
        disk_guid: h[56..72].try_into().expect("16"),
        entries_crc,
        entry_size,
        entries,
    })
}

/// The partition begins with a FAT32 boot sector that fits in it.
pub fn check_fat32(img: &Image, p: &Partition) -> Result<()> {
    let bs = img.read(p.first_lba * 512, 512)?;
    ensure!(
        bs[510] == 0x55 && bs[511] == 0xaa,
        "the ESP has no boot sector signature"
    );
    ensure!(&bs[82..90] == b"FAT32   ", "the ESP is not FAT32");
    let sector = u64::from(u16le(&bs, 11));
    let total = u64::from(u32le(&bs, 32));
    let part_bytes = (p.last_lba - p.first_lba + 1) * 512;
    ensure!(
        sector * total <= part_bytes,
        "the ESP's FAT32 ({} bytes) is larger than its partition ({part_bytes} bytes)",
        sector * total
    );
    Ok(())
}
