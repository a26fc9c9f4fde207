//! Phase 8 of the seed: xorriso writes the hybrid image. Debian 12 has
//! xorriso 1.5.4, so reproducibility is asked for explicitly rather than
//! left to its SOURCE_DATE_EPOCH handling (which it also gets):
//! `-volume_date uuid` (= the ISO9660 UUID GRUB searches for, and the boot
//! catalog's date), `-volume_date all_file_dates` and `-iso_nowtime` at
//! SOURCE_DATE_EPOCH, a GPT disk GUID derived from the volume date, `-r`
//! (owners 0, normalized modes).
//!
//! Layout: ISO9660 from block 16 (`-partition_offset 16`), GRUB's
//! `boot_hybrid.img` as MBR boot code (BIOS disk boot), an El Torito BIOS
//! entry (GRUB `eltorito.img`, boot info table) and an El Torito EFI entry
//! pointing at the ESP image, which is appended as GPT partition 2
//! (`-append_partition 2 0xef` + `-appended_part_as_gpt`): CD-ROM and disk,
//! BIOS and EFI, with one copy of the ESP.

use std::path::Path;

use anyhow::Result;

use crate::isoroot::{CATALOG, ELTORITO};
use crate::tools;

/// (year, month, day, hour, minute, second) in UTC.
pub fn civil(sde: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (sde / 86_400) as i64;
    let secs = sde % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

/// `YYYYMMDDhhmmss00`, xorriso's `-volume_date uuid` / `--modification-date`.
pub fn volume_date(sde: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(sde);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}00")
}

/// `YYYY-MM-DD-hh-mm-ss-00`: the ISO9660 UUID as GRUB's `search --fs-uuid` sees it.
pub fn iso_uuid(sde: u64) -> String {
    let v = volume_date(sde);
    format!(
        "{}-{}-{}-{}-{}-{}-{}",
        &v[0..4],
        &v[4..6],
        &v[6..8],
        &v[8..10],
        &v[10..12],
        &v[12..14],
        &v[14..16]
    )
}

/// Writes `out` from the staged `root`, the ESP image and GRUB's hybrid MBR.
pub fn write(
    root: &Path,
    esp_image: &Path,
    grub_bios_dir: &Path,
    label: &str,
    out: &Path,
    sde: u64,
) -> Result<()> {
    if out.exists() {
        std::fs::remove_file(out)?;
    }
    let date = volume_date(sde);
    let mut cmd = tools::command("xorriso", sde);
    cmd.args(["-no_rc", "-report_about", "SORRY"])
        .args(["-volume_date", "uuid", &date])
        .args(["-volume_date", "all_file_dates", &format!("={sde}")])
        .args(["-iso_nowtime", &format!("={sde}")])
        .args(["-boot_image", "any", "gpt_disk_guid=volume_date_uuid"])
        .args(["-as", "mkisofs", "-o"])
        .arg(out)
        .args(["-V", label, "-r", "-iso-level", "3"])
        .arg(format!("--modification-date={date}"))
        .args(["-partition_offset", "16", "--mbr-force-bootable"])
        .arg("--grub2-mbr")
        .arg(grub_bios_dir.join("boot_hybrid.img"))
        .args(["-append_partition", "2", "0xef"])
        .arg(esp_image)
        .arg("-appended_part_as_gpt")
        .args(["-c", CATALOG])
        .args([
            "-b",
            ELTORITO,
            "-no-emul-boot",
            "-boot-load-size",
            "4",
            "-boot-info-table",
        ])
        .arg("--grub2-boot-info")
        .args([
            "-eltorito-alt-boot",
            "-e",
            "--interval:appended_partition_2:all::",
            "-no-emul-boot",
        ])
        .arg(root);
    tools::run(&mut cmd)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil() {
        assert_eq!(volume_date(0), "1970010100000000");
        assert_eq!(volume_date(1_700_000_000), "2023111422132000");
        assert_eq!(iso_uuid(951_782_400), "2000-02-29-00-00-00-00");
    }
}
