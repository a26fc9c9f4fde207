//! Whole payloads: a validly signed payload whose contents the test chose,
//! and a small sample payload for other crates' tests.

use std::path::{Path, PathBuf};

use crate::freshness::Validity;
use crate::index::PackageEntry;
use crate::pkginfo::PkgInfo;

use super::archive::{info, make_package, write_raw_archive, RawEntry};
use super::keys::generate_key;

/// Rewrites manifest and index of `dir` from `entries` as they are (no
/// checks beyond the index format) and signs both with `secret`: a payload
/// that is validly signed but whose contents the test chose.
pub fn write_signed(dir: &Path, entries: &[PackageEntry], secret: &Path) {
    write_signed_valid(
        dir,
        entries,
        secret,
        &Validity::starting_now(crate::freshness::DEFAULT_LIFETIME),
    );
}

/// [`write_signed`] with the index's `created`/`expires` chosen by the test
/// (an expired or not yet valid payload, validly signed).
pub fn write_signed_valid(
    dir: &Path,
    entries: &[PackageEntry],
    secret: &Path,
    validity: &Validity,
) {
    crate::build::write_unsigned(dir, entries, validity).expect("write manifest and index");
    crate::build::sign_payload(dir, secret).expect("sign payload");
}

/// Replaces the index of `dir` by the gzipped `json` as it is and signs
/// manifest and index with `secret`: a validly signed index with whatever
/// (malformed) contents the test chose.
pub fn write_signed_raw_index(dir: &Path, json: &str, secret: &Path) {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(json.as_bytes()).expect("gzip");
    std::fs::write(dir.join(crate::index::INDEX), enc.finish().expect("gzip"))
        .expect("write index");
    crate::build::sign_payload(dir, secret).expect("sign payload");
}

/// The index entry for an archive already in `dir/packages/` (hash and size
/// recomputed), using `info` as its metadata.
pub fn entry_for(dir: &Path, file_name: &str, info: &PkgInfo) -> PackageEntry {
    let file = format!("packages/{file_name}");
    let (sha256, size) = crate::integrity::hash_file(&dir.join(&file)).expect("hash archive");
    PackageEntry {
        name: info.name.clone(),
        version: info.version.clone(),
        tier: info.tier.clone(),
        file,
        sha256,
        size,
        installed_size: info.installed_size,
        depends: info.depends.clone(),
        services: info.services.clone(),
    }
}

/// A small validly signed payload for other crates' tests.
#[derive(Debug, Clone)]
pub struct SamplePayload {
    /// The payload directory (`dir/payload`).
    pub dir: PathBuf,
    /// The secret signing key file (armored TSK).
    pub secret_key: PathBuf,
    /// The public keyring (armored) to verify with.
    pub keyring: PathBuf,
}

/// Builds and signs a payload in `dir/payload` with four packages:
/// `base-layout` (core), `busybox` (core, depends on base-layout, with an
/// `.INSTALL` and a service), `editor` (base, depends on busybox) and
/// `wallpaper` (desktop, depends on base-layout).
pub fn sample_payload(dir: &Path) -> SamplePayload {
    let (secret_key, keyring) = generate_key(dir, "FORGE Test Release <release@example.org>");
    let payload = dir.join("payload");
    let pk = payload.join("packages");
    make_package(
        &pk,
        "base-layout",
        "1.0-1",
        "core",
        &[],
        &[("etc/os-release", b"NAME=InterGenOS\n")],
        None,
    );
    let bb = make_package(
        &pk,
        "busybox",
        "1:1.35.0-4",
        "core",
        &["base-layout"],
        &[
            ("usr/bin/busybox", b"\x7fELF fake busybox\n"),
            ("usr/share/doc/busybox/README", b"busybox\n"),
        ],
        Some("#!/bin/sh\necho post-install busybox\n"),
    );
    // Give busybox a service by rewriting its .PKGINFO.
    let mut i = info("busybox", "1:1.35.0-4", "core", &["base-layout"], 26);
    i.services = vec!["getty@tty1.service".into()];
    write_raw_archive(
        &bb,
        &[
            RawEntry::pkginfo(&i),
            RawEntry {
                mode: 0o755,
                ..RawEntry::file(".INSTALL", b"#!/bin/sh\necho post-install busybox\n")
            },
            RawEntry {
                mode: 0o755,
                ..RawEntry::file("usr/bin/busybox", b"\x7fELF fake busybox\n")
            },
            RawEntry::file("usr/share/doc/busybox/README", b"busybox\n"),
        ],
    );
    make_package(
        &pk,
        "editor",
        "2.0-1",
        "base",
        &["busybox"],
        &[("usr/bin/editor", b"editor\n")],
        None,
    );
    make_package(
        &pk,
        "wallpaper",
        "0.1-1",
        "desktop",
        &["base-layout"],
        &[("usr/share/backgrounds/default.txt", b"blue\n")],
        None,
    );
    crate::build::build_payload(&payload, Some(&secret_key)).expect("build sample payload");
    SamplePayload {
        dir: payload,
        secret_key,
        keyring,
    }
}
