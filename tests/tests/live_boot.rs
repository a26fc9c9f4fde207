//! The live medium boots (issue 12), under QEMU TCG: scripts/build-live.sh
//! builds (or reuses) `target/live/forge-live.iso` (root hash sealed in the
//! UKIs, signed with the test key `keys/db`) and `forge-live-dev.iso` (the
//! development medium of the same squashfs: no root hash, the initramfs
//! carries the squashfs SHA-256; signed with `keys/foreign`, a key no boot
//! here enrolls). Eight boots, two at a time, logs in `<target>/live-boot/`:
//!
//! | boot | medium | firmware | expected |
//! |---|---|---|---|
//! | cd-bios | ISO as CD-ROM (ide-cd, `pc`) | SeaBIOS | live session, dm-verity root |
//! | disk-bios | ISO as disk (virtio-blk) | SeaBIOS | live session, dm-verity root |
//! | cd-efi-sb | CD-ROM (virtio-scsi) | OVMF, Secure Boot, `keys/db` as MOK | live session, dm-verity root |
//! | dev-disk-efi | dev ISO as disk | OVMF | live session through the SHA-256 fallback (its control) |
//! | verity-flip | ISO, one byte of the squashfs flipped, CD | SeaBIOS | the init refuses: `check=dm-verity` |
//! | dev-flip | dev ISO, same flip, CD | OVMF | refuses: `check=sha256` |
//! | dev-flip-sha | dev ISO, same flip, `/live/filesystem.sha256` rewritten to match, disk | SeaBIOS | still refuses: `check=sha256` (the trusted value is in the UKI) |
//! | sb-foreign | dev ISO (UKIs signed by `keys/foreign`), CD | OVMF, Secure Boot, `keys/db` as MOK | refused before Linux starts |
//!
//! Together the first three cover CD-ROM, disk, BIOS, EFI and Secure Boot
//! with the real medium. The flip is in the squashfs's first 4 KiB block:
//! dm-verity checks blocks lazily, when read, and that block (the
//! superblock's) is read by every mount.
//!
//! Needs root, mmdebstrap (and the network on the first run), xorriso,
//! squashfs-tools, cryptsetup-bin, sbsigntool, mtools, dosfstools, openssl,
//! QEMU, OVMF, virt-fw-vars, and a built forge-iso (`cargo build -p forge-iso`).
//! `FORGE_LIVE_REUSE=1` boots the ISOs already in `target/live/` without
//! rebuilding them (when working on this test).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use forge_tests::cmd::run_ok;
use forge_tests::qemu::live::{self, Firmware, LiveBoot, LiveOutcome, LiveResult, Medium};
use forge_tests::qemu::media::{self, LiveMedia};
use forge_tests::skip::skip;
use forge_tests::test_payload::target_dir;

const SESSION_TIMEOUT: Duration = Duration::from_secs(420);
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(150);
/// Offset inside filesystem.squashfs of the flipped byte: in the first
/// 4 KiB block, past the 96-byte superblock.
const FLIP_AT: u64 = 2000;

fn skip_reason(vars_needed: &Firmware) -> Option<String> {
    if let Some(why) = media::skip_reason() {
        return Some(why);
    }
    [Firmware::Bios, Firmware::Efi, vars_needed.clone()]
        .iter()
        .find_map(live::missing_prerequisite)
}

/// Byte offset and size of `path` inside the ISO (xorriso's report_lba).
fn extent(iso: &Path, path: &str) -> (u64, u64) {
    let out = run_ok(Command::new("xorriso").arg("-indev").arg(iso).args([
        "-find",
        path,
        "-exec",
        "report_lba",
        "--",
    ]));
    let line = out
        .lines()
        .find(|l| l.starts_with("File data lba:") && l.contains(&format!("'{path}'")))
        .unwrap_or_else(|| panic!("{path} not in {}:\n{out}", iso.display()));
    let f: Vec<u64> = line["File data lba:".len()..]
        .split(',')
        .take(4)
        .map(|x| x.trim().parse().expect("report_lba number"))
        .collect();
    (f[1] * 2048, f[3])
}

fn flip_byte(iso: &Path, at: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(iso)
        .expect("open ISO copy");
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut b).unwrap();
    b[0] ^= 0x01;
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&b).unwrap();
}

/// A copy of `src` with one byte of /live/filesystem.squashfs flipped;
/// with `rewrite_sha`, /live/filesystem.sha256 then says the flipped file's
/// SHA-256 (same length, written in place).
fn tampered_copy(src: &Path, dst: &Path, rewrite_sha: bool) {
    std::fs::copy(src, dst).expect("copying the ISO");
    let (sq_at, sq_len) = extent(dst, "/live/filesystem.squashfs");
    assert!(sq_len > FLIP_AT);
    flip_byte(dst, sq_at + FLIP_AT);
    if rewrite_sha {
        let sq = dst.with_extension("squashfs");
        run_ok(
            Command::new("xorriso")
                .args(["-osirrox", "on", "-indev"])
                .arg(dst)
                .args(["-extract", "/live/filesystem.squashfs"])
                .arg(&sq),
        );
        let sum = run_ok(Command::new("sha256sum").arg(&sq));
        std::fs::remove_file(&sq).unwrap();
        let hex = &sum[..64];
        let (sha_at, sha_len) = extent(dst, "/live/filesystem.sha256");
        assert!(sha_len >= 64, "filesystem.sha256 is {sha_len} bytes");
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(dst).unwrap();
        f.seek(SeekFrom::Start(sha_at)).unwrap();
        f.write_all(hex.as_bytes()).unwrap();
    }
}

fn boot(
    name: &str,
    iso: &Path,
    firmware: &Firmware,
    medium: Medium,
    timeout: Duration,
) -> LiveBoot {
    LiveBoot {
        name: name.into(),
        iso: iso.to_path_buf(),
        firmware: firmware.clone(),
        medium,
        timeout,
    }
}

fn check_session(r: &LiveResult, verity: &str, problems: &mut Vec<String>) {
    let LiveOutcome::Session(line) = &r.outcome else {
        problems.push(format!(
            "{}: no live session ({:?}); log {}; tail:\n{}",
            r.name,
            r.outcome,
            r.log_file.display(),
            r.log_tail(2500)
        ));
        return;
    };
    for want in [
        "user=live",
        "target=active",
        "mode=live",
        "medium=yes",
        "root=overlay",
        &format!("verity={verity}"),
    ] {
        if !line.split_whitespace().any(|w| w == want) {
            problems.push(format!("{}: marker {line:?} lacks {want}", r.name));
        }
    }
}

fn check_refused(r: &LiveResult, check: &str, problems: &mut Vec<String>) {
    let ok = r.outcome == LiveOutcome::Refused(check.into())
        && r.serial_log
            .contains(&format!("BOOT REFUSED: the {check} check failed"))
        && !r.serial_log.contains(live::SESSION_MARKER);
    if !ok {
        problems.push(format!(
            "{}: expected the init to refuse with check={check}, got {:?}; log {}; tail:\n{}",
            r.name,
            r.outcome,
            r.log_file.display(),
            r.log_tail(2500)
        ));
    }
}

#[test]
fn live_medium_boots_and_refuses_tampering() {
    let target = target_dir();
    let vars_probe = Firmware::SecureBoot {
        vars: PathBuf::new(),
    };
    if let Some(why) = skip_reason(&vars_probe) {
        skip(why);
        return;
    }
    let started = Instant::now();
    let LiveMedia { iso, dev_iso, keys } =
        media::build().unwrap_or_else(|e| panic!("the live media: {e:#}"));
    eprintln!("live media ready after {:.1?}", started.elapsed());

    let work = tempfile::Builder::new()
        .prefix("live-boot-work")
        .tempdir_in(&target)
        .expect("work directory");
    let flip = work.path().join("verity-flip.iso");
    let dev_flip = work.path().join("dev-flip.iso");
    let dev_flip_sha = work.path().join("dev-flip-sha.iso");
    tampered_copy(&iso, &flip, false);
    tampered_copy(&dev_iso, &dev_flip, false);
    tampered_copy(&dev_iso, &dev_flip_sha, true);
    let vars = work.path().join("OVMF_VARS_MOK.fd");
    forge_tests::qemu::secure_boot_vars_with_mok(&keys.join("db.der"), &vars)
        .expect("enrolling the test key as MOK");
    let sb = Firmware::SecureBoot { vars };
    let (bios, efi) = (Firmware::Bios, Firmware::Efi);

    // Two at a time, each worker taking the next when one ends: the long
    // boots first, the short refusals fill in.
    let boots = [
        boot("cd-efi-sb", &iso, &sb, Medium::Cdrom, SESSION_TIMEOUT),
        boot("disk-bios", &iso, &bios, Medium::Disk, SESSION_TIMEOUT),
        boot("cd-bios", &iso, &bios, Medium::Cdrom, SESSION_TIMEOUT),
        boot(
            "dev-disk-efi",
            &dev_iso,
            &efi,
            Medium::Disk,
            SESSION_TIMEOUT,
        ),
        boot("dev-flip", &dev_flip, &efi, Medium::Cdrom, REFUSAL_TIMEOUT),
        boot(
            "dev-flip-sha",
            &dev_flip_sha,
            &bios,
            Medium::Disk,
            REFUSAL_TIMEOUT,
        ),
        boot("verity-flip", &flip, &bios, Medium::Cdrom, REFUSAL_TIMEOUT),
        boot("sb-foreign", &dev_iso, &sb, Medium::Cdrom, REFUSAL_TIMEOUT),
    ];
    let log_dir = target.join("live-boot");
    let results: Vec<LiveResult> = live::boot_all(&boots, &log_dir, 2)
        .into_iter()
        .map(|r| r.expect("starting QEMU"))
        .collect();
    eprintln!("live boots done after {:.1?} in all", started.elapsed());

    let mut problems = Vec::new();
    let by = |n: &str| results.iter().find(|r| r.name == n).expect("boot ran");
    for n in ["cd-bios", "cd-efi-sb", "disk-bios"] {
        check_session(by(n), "yes", &mut problems);
    }
    check_session(by("dev-disk-efi"), "no", &mut problems);
    if !by("cd-efi-sb").serial_log.contains("Secure boot enabled") {
        problems.push("cd-efi-sb: the kernel did not report \"Secure boot enabled\"".into());
    }
    check_refused(by("verity-flip"), "dm-verity", &mut problems);
    check_refused(by("dev-flip"), "sha256", &mut problems);
    check_refused(by("dev-flip-sha"), "sha256", &mut problems);
    let foreign = by("sb-foreign");
    if foreign.outcome != LiveOutcome::SecureBootRefused
        || foreign.serial_log.contains("Linux version")
    {
        problems.push(format!(
            "sb-foreign: expected a Secure Boot refusal before Linux, got {:?}; log {}; tail:\n{}",
            foreign.outcome,
            foreign.log_file.display(),
            foreign.log_tail(2500)
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
