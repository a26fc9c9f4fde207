//! Test images crafted byte by byte (no xorriso), shaped like forge-iso's
//! output: a protective MBR with boot code, a GPT (primary + backup, ESP as
//! partition 2 with a FAT32 boot sector), an ISO9660 PVD, an El Torito boot
//! record and catalog (BIOS default entry with a boot info table, EFI
//! section entry at the ESP) and `/live/filesystem.{squashfs,verity,sha256}`.
//! [`Crafted`] names the offsets the tests damage.

use super::gpt::ESP_TYPE;

/// 64 blocks of 2048 bytes = 256 LBAs of 512.
pub const SIZE: usize = 64 * 2048;
/// Byte offset of the primary GPT header.
pub const GPT_HEADER: usize = 512;
/// Byte offset of the primary GPT entry array.
pub const GPT_ENTRIES: usize = 1024;
/// Byte offset of the boot catalog (block 19).
pub const CATALOG: usize = 19 * 2048;
/// The ESP: LBA 160..=191 (block 40).
pub const ESP_LBA: u64 = 160;
/// The directory record of `/live/filesystem.verity` (in block 22).
pub const VERITY_BLOCK: u32 = 24;

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn both32(b: &mut [u8], at: usize, v: u32) {
    put32(b, at, v);
    b[at + 4..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// A directory record; `nm` adds a Rock Ridge NM entry.
fn record(name: &[u8], extent: u32, size: u32, dir: bool, nm: Option<&str>) -> Vec<u8> {
    let pad = usize::from(name.len().is_multiple_of(2));
    let su = nm.map_or(0, |n| 5 + n.len());
    let mut len = 33 + name.len() + pad + su;
    len += len % 2;
    let mut r = vec![0u8; len];
    r[0] = len as u8;
    both32(&mut r, 2, extent);
    both32(&mut r, 10, size);
    r[25] = if dir { 2 } else { 0 };
    r[32] = name.len() as u8;
    r[33..33 + name.len()].copy_from_slice(name);
    if let Some(n) = nm {
        let at = 33 + name.len() + pad;
        r[at..at + 2].copy_from_slice(b"NM");
        r[at + 2] = (5 + n.len()) as u8;
        r[at + 3] = 1;
        r[at + 5..at + 5 + n.len()].copy_from_slice(n.as_bytes());
    }
    r
}

fn gpt_header(img: &mut [u8], lba: u64, alternate: u64, entries_lba: u64, entries_crc: u32) {
    let at = lba as usize * 512;
    let h = &mut img[at..at + 512];
    h[..8].copy_from_slice(b"EFI PART");
    put32(h, 8, 0x0001_0000);
    put32(h, 12, 92);
    put64(h, 24, lba);
    put64(h, 32, alternate);
    put64(h, 40, 34);
    put64(h, 48, 222);
    h[56..72].copy_from_slice(&[7u8; 16]);
    put64(h, 72, entries_lba);
    put32(h, 80, 128);
    put32(h, 84, 128);
    put32(h, 88, entries_crc);
    let crc = crc32fast::hash(&h[..92]);
    put32(h, 16, crc);
}

/// Recomputes the validation entry checksum of the catalog at [`CATALOG`].
pub fn fix_catalog_checksum(img: &mut [u8]) {
    let v = &mut img[CATALOG..CATALOG + 32];
    put16(v, 28, 0);
    let sum = (0..16).fold(0u16, |s, i| {
        s.wrapping_add(u16::from_le_bytes([v[2 * i], v[2 * i + 1]]))
    });
    put16(v, 28, 0u16.wrapping_sub(sum));
}

/// A valid image.
pub fn image() -> Vec<u8> {
    let mut img = vec![0u8; SIZE];
    // MBR: boot code, protective partition, signature.
    img[0] = 0xeb;
    img[446 + 4] = 0xee;
    put32(&mut img, 446 + 8, 1);
    put32(&mut img, 446 + 12, 255);
    img[510] = 0x55;
    img[511] = 0xaa;
    // GPT: partition 2 is the ESP.
    let e = GPT_ENTRIES + 128;
    img[e..e + 16].copy_from_slice(&ESP_TYPE);
    put64(&mut img, e + 32, ESP_LBA);
    put64(&mut img, e + 40, ESP_LBA + 31);
    let entries = img[GPT_ENTRIES..GPT_ENTRIES + 128 * 128].to_vec();
    img[223 * 512..223 * 512 + entries.len()].copy_from_slice(&entries);
    let crc = crc32fast::hash(&entries);
    gpt_header(&mut img, 1, 255, 2, crc);
    gpt_header(&mut img, 255, 1, 223, crc);
    // FAT32 boot sector of the ESP.
    let f = ESP_LBA as usize * 512;
    put16(&mut img, f + 11, 512);
    put32(&mut img, f + 32, 32);
    img[f + 82..f + 90].copy_from_slice(b"FAT32   ");
    img[f + 510] = 0x55;
    img[f + 511] = 0xaa;
    // ISO9660 PVD, boot record, terminator.
    let p = 16 * 2048;
    img[p] = 1;
    img[p + 1..p + 6].copy_from_slice(b"CD001");
    img[p + 6] = 1;
    img[p + 40..p + 72].copy_from_slice(format!("{:<32}", "CRAFTED").as_bytes());
    let root = record(&[0], 20, 2048, true, None);
    img[p + 156..p + 156 + 34].copy_from_slice(&root[..34]);
    let b = 17 * 2048;
    img[b + 1..b + 6].copy_from_slice(b"CD001");
    img[b + 6] = 1;
    img[b + 7..b + 30].copy_from_slice(b"EL TORITO SPECIFICATION");
    put32(&mut img, b + 0x47, 19);
    let t = 18 * 2048;
    img[t] = 255;
    img[t + 1..t + 6].copy_from_slice(b"CD001");
    // Catalog: validation, BIOS default entry, EFI section.
    let c = CATALOG;
    img[c] = 1;
    img[c + 30] = 0x55;
    img[c + 31] = 0xaa;
    img[c + 32] = 0x88;
    put16(&mut img, c + 38, 4);
    put32(&mut img, c + 40, 21);
    img[c + 64] = 0x91;
    img[c + 65] = 0xef;
    put16(&mut img, c + 66, 1);
    img[c + 96] = 0x88;
    put32(&mut img, c + 104, (ESP_LBA / 4) as u32);
    fix_catalog_checksum(&mut img);
    // BIOS image with its boot info table.
    put32(&mut img, 21 * 2048 + 8, 16);
    put32(&mut img, 21 * 2048 + 12, 21);
    // Directories: / has live/, live/ has the three files.
    let mut at = 20 * 2048;
    for r in [
        record(&[0], 20, 2048, true, None),
        record(&[1], 20, 2048, true, None),
        record(b"LIVE", 22, 2048, true, Some("live")),
    ] {
        img[at..at + r.len()].copy_from_slice(&r);
        at += r.len();
    }
    let mut at = 22 * 2048;
    for r in [
        record(&[0], 22, 2048, true, None),
        record(&[1], 20, 2048, true, None),
        record(
            b"FILESYST.SQU;1",
            23,
            100,
            false,
            Some("filesystem.squashfs"),
        ),
        record(b"FILESYSTEM.VERITY;1", VERITY_BLOCK, 50, false, None),
        record(b"FILESYST.SHA;1", 25, 10, false, Some("filesystem.sha256")),
    ] {
        img[at..at + r.len()].copy_from_slice(&r);
        at += r.len();
    }
    img
}
