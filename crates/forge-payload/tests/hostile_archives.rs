//! Adversarial corpus, archive bytes (issue 9, item 8): extension records
//! (GNU long names, pax) declaring huge sizes are refused quickly with
//! bounded memory, legitimate long names still work, and an archive swapped
//! on disk after deploy verified it is not the one extracted.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{base_package, built, Scratch};
use forge_payload::testkit::{self, RawEntry};
use forge_payload::{DeployEvent, PayloadError};

/// Peak resident memory of this process, in KiB.
fn max_rss_kib() -> i64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes the struct it is given.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }, 0);
    ru.ru_maxrss
}

/// Appends `mib` MiB of zeros to a gzipped archive, as further gzip members
/// (cheap to write; the decoder reads on through them).
fn append_zeros(path: &std::path::Path, mib: usize) {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = gz.finish().unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for _ in 0..mib {
        f.write_all(&member).unwrap();
    }
}

/// Deploys `base` plus an `evil` package whose archive is `entries` followed
/// by 128 MiB of zeros, and returns evil's error, checking the refusal was
/// quick and did not grow the process by the declared size.
fn refused_extension(entries: Vec<RawEntry>) -> PayloadError {
    let s = Scratch::new();
    base_package(&s);
    let p = s.raw_package("evil", 100, entries);
    append_zeros(&p, 128);
    s.build();
    let before = max_rss_kib();
    let started = Instant::now();
    let mut report = s.deploy_all();
    let took = started.elapsed();
    let grown_mib = (max_rss_kib() - before) / 1024;
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(grown_mib < 24, "peak memory grew by {grown_mib} MiB");
    assert_eq!(report.installed.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed.len(), 1);
    let (name, err) = report.failed.remove(0);
    assert_eq!(name, "evil");
    assert!(s.target.join("etc/base.conf").exists());
    assert!(!s.target.join("var/lib/pkm/local/evil").exists());
    err
}

fn assert_extension_refused(err: &PayloadError) {
    match err {
        PayloadError::CorruptArchive { path, reason } => {
            assert!(path.ends_with("packages/evil-1.0.igos.tar.gz"), "{path:?}");
            assert!(reason.contains("extension header"), "{reason}");
            assert!(reason.contains("limit 65536"), "{reason}");
        }
        other => panic!("expected an extension header refusal, got {other:?}"),
    }
}

#[test]
fn gnu_long_name_of_16_gib_is_refused_with_bounded_memory() {
    let mut long = RawEntry::special("././@LongLink", tar::EntryType::GNULongName);
    long.declared_size = Some(16 << 30);
    let err = refused_extension(vec![long]);
    assert_extension_refused(&err);
}

#[test]
fn huge_pax_record_is_refused_with_bounded_memory() {
    let mut pax = RawEntry::special("PaxHeaders/evil", tar::EntryType::XHeader);
    pax.declared_size = Some(1 << 30);
    let err = refused_extension(vec![pax]);
    assert_extension_refused(&err);
}

#[test]
fn long_names_and_pax_records_within_the_cap_still_deploy() {
    let s = Scratch::new();
    let long_dir = format!("usr/share/{}", "d".repeat(150));
    let long_file = format!("{long_dir}/{}", "f".repeat(120));
    let mut b = tar::Builder::new(Vec::new());
    let add = |b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(testkit::FIXED_MTIME);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    };
    let info = forge_payload::testkit::info("longname", "1.0", "core", &[], 100);
    add(
        &mut b,
        ".PKGINFO",
        forge_payload::pkginfo::render(&info).as_bytes(),
    );
    add(&mut b, &long_file, b"long\n");
    // A pax record (ustar header) naming a file and overriding its size.
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(0);
    h.set_path("usr/share/short").unwrap();
    h.set_mtime(testkit::FIXED_MTIME);
    b.append_pax_extensions([("path", &b"usr/share/pax-named"[..]), ("size", &b"4"[..])])
        .unwrap();
    h.set_size(4);
    h.set_cksum();
    b.append(&h, &b"pax\n"[..]).unwrap();
    add(&mut b, "usr/share/after", b"after\n");
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    std::fs::write(
        s.packages().join("longname-1.0.igos.tar.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    s.build();
    let report = s.deploy_all();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(s.target_bytes(&long_file), b"long\n");
    assert_eq!(s.target_bytes("usr/share/pax-named"), b"pax\n");
    assert_eq!(s.target_bytes("usr/share/after"), b"after\n");
}

#[test]
fn archive_swapped_during_deploy_is_not_the_one_extracted() {
    let s = built();
    let p = s.open();
    let pkgs = p.packages().to_vec();
    let report = p.verify_archives(&pkgs);
    assert!(report.is_clean());
    let app = pkgs.iter().find(|e| e.name == "app").unwrap();
    let path = s.payload.join(&app.file);
    // The evil archive, ready to be renamed over app's once deploy started.
    let evil_dir = s.tmp.path().join("evil");
    let evil = testkit::make_package(
        &evil_dir,
        "app",
        "2.0",
        "base",
        &["base"],
        &[("usr/bin/app", b"#!/bin/sh\necho EVIL\n")],
        None,
    );
    let out = forge_payload::deploy(&p, &report, &pkgs, &s.target, &|ev| {
        if let DeployEvent::Started { name } = ev {
            if name == "app" {
                std::fs::rename(&evil, &path).unwrap();
            }
        }
    });
    assert!(!evil.exists(), "the swap happened");
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(
        s.target_bytes("usr/bin/app"),
        b"#!/bin/sh\necho app\n",
        "the verified bytes landed"
    );
}
