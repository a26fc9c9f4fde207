//! Test support for this crate's and other engineers' tests: real keys, real
//! signatures, real archives (including deliberately malformed ones). Not
//! mocks. Helpers panic with a message on failure; they are for tests only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::serialize::Serialize;
use openpgp::types::{KeyFlags, ReasonForRevocation};
use openpgp::Cert;

use crate::index::PackageEntry;
use crate::pkginfo::{self, PkgInfo};

/// A fixed mtime for archive entries (reproducible archives).
pub const FIXED_MTIME: u64 = 1_700_000_000;

fn file_stem(userid: &str) -> String {
    userid
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Writes `cert` as an armored TSK (`<stem>.sec.asc`) and an armored public
/// keyring (`<stem>.pub.asc`) in `dir`.
pub fn write_cert(dir: &Path, stem: &str, cert: &Cert) -> (PathBuf, PathBuf) {
    let sec = dir.join(format!("{stem}.sec.asc"));
    let public = dir.join(format!("{stem}.pub.asc"));
    let mut f = std::fs::File::create(&sec).expect("create secret key file");
    cert.as_tsk()
        .armored()
        .serialize(&mut f)
        .expect("write secret key");
    let mut f = std::fs::File::create(&public).expect("create public key file");
    cert.armored().serialize(&mut f).expect("write public key");
    (sec, public)
}

/// A certify-only primary key with one signing subkey, created `created`
/// and valid for `validity` (forever when `None`).
pub fn new_cert(userid: &str, created: SystemTime, validity: Option<Duration>) -> Cert {
    CertBuilder::new()
        .add_userid(userid)
        .set_creation_time(created)
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .set_validity_period(validity)
        .generate()
        .expect("generate key")
        .0
}

/// Generates a certify-only primary key with a signing subkey (created a
/// minute ago, no expiry). Returns (secret key file as armored TSK,
/// public keyring armored).
pub fn generate_key(dir: &Path, userid: &str) -> (PathBuf, PathBuf) {
    let created = SystemTime::now() - Duration::from_secs(60);
    let cert = new_cert(userid, created, None);
    write_cert(dir, &file_stem(userid), &cert)
}

/// Reads a certificate (with secrets when present) from a key file.
pub fn read_cert(path: &Path) -> Cert {
    Cert::from_file(path).expect("read key file")
}

/// Revokes the whole certificate in the key file `secret` at time `at`:
/// hard (key compromised) or soft (key retired). Rewrites both files.
pub fn revoke_cert(dir: &Path, secret: &Path, hard: bool, at: SystemTime) -> (PathBuf, PathBuf) {
    let cert = read_cert(secret);
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .expect("secret primary")
        .into_keypair()
        .expect("keypair");
    let reason = if hard {
        ReasonForRevocation::KeyCompromised
    } else {
        ReasonForRevocation::KeyRetired
    };
    let rev = CertRevocationBuilder::new()
        .set_reason_for_revocation(reason, b"test")
        .expect("reason")
        .set_signature_creation_time(at)
        .expect("time")
        .build(&mut signer, &cert, None)
        .expect("revocation");
    let cert = cert.insert_packets(rev).expect("insert revocation").0;
    let stem = secret
        .file_name()
        .map(|s| s.to_string_lossy().trim_end_matches(".sec.asc").to_string())
        .unwrap_or_else(|| "revoked".into());
    write_cert(dir, &stem, &cert)
}

/// Signs `data_path` with the key file `secret`, writing an armored detached
/// signature to `out`, with creation time `at` (now when `None`).
pub fn sign_file(secret: &Path, data_path: &Path, out: &Path, at: Option<SystemTime>) {
    crate::build::sign_file(secret, data_path, out, at).expect("sign");
}

/// Writes a gzipped tar to `path` from raw entries, without any of the
/// `tar` crate's path checks (for adversarial archives).
pub fn write_raw_archive(path: &Path, entries: &[RawEntry]) {
    let mut out = Vec::new();
    for e in entries {
        let mut h = tar::Header::new_gnu();
        {
            let old = h.as_old_mut();
            let n = e.path.len().min(99);
            old.name[..n].copy_from_slice(&e.path[..n]);
            let l = e.link.len().min(99);
            old.linkname[..l].copy_from_slice(&e.link[..l]);
        }
        h.set_entry_type(e.kind);
        h.set_mode(e.mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(FIXED_MTIME);
        h.set_size(e.declared_size.unwrap_or(e.data.len() as u64));
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(&e.data);
        let pad = (512 - e.data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(&out).expect("gzip");
    std::fs::write(path, gz.finish().expect("gzip")).expect("write archive");
}

/// One raw tar entry for [`write_raw_archive`].
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub path: Vec<u8>,
    pub kind: tar::EntryType,
    pub data: Vec<u8>,
    pub link: Vec<u8>,
    pub mode: u32,
    /// A size to declare in the header instead of the data length.
    pub declared_size: Option<u64>,
}

impl RawEntry {
    /// A regular file.
    pub fn file(path: &str, data: &[u8]) -> RawEntry {
        RawEntry {
            path: path.as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            data: data.to_vec(),
            link: Vec::new(),
            mode: 0o644,
            declared_size: None,
        }
    }
    /// A directory.
    pub fn dir(path: &str) -> RawEntry {
        RawEntry {
            kind: tar::EntryType::Directory,
            mode: 0o755,
            ..RawEntry::file(path, b"")
        }
    }
    /// A symlink `path -> target`.
    pub fn symlink(path: &str, target: &str) -> RawEntry {
        RawEntry {
            kind: tar::EntryType::Symlink,
            link: target.as_bytes().to_vec(),
            mode: 0o777,
            ..RawEntry::file(path, b"")
        }
    }
    /// A hard link `path` to `target`.
    pub fn hardlink(path: &str, target: &str) -> RawEntry {
        RawEntry {
            kind: tar::EntryType::Link,
            link: target.as_bytes().to_vec(),
            ..RawEntry::file(path, b"")
        }
    }
    /// Any other entry type (fifo, device, ...).
    pub fn special(path: &str, kind: tar::EntryType) -> RawEntry {
        RawEntry {
            kind,
            ..RawEntry::file(path, b"")
        }
    }
    /// The `.PKGINFO` entry for `info`.
    pub fn pkginfo(info: &PkgInfo) -> RawEntry {
        RawEntry::file(".PKGINFO", pkginfo::render(info).as_bytes())
    }
}

/// A `.PKGINFO` value for tests.
pub fn info(
    name: &str,
    version: &str,
    tier: &str,
    depends: &[&str],
    installed_size: u64,
) -> PkgInfo {
    PkgInfo {
        name: name.into(),
        version: version.into(),
        tier: tier.into(),
        depends: depends.iter().map(|d| d.to_string()).collect(),
        services: Vec::new(),
        installed_size,
    }
}

/// Writes `packages_dir/<name>-<version>.igos.tar.gz` holding `.PKGINFO`
/// (installed size = sum of the file sizes), `.INSTALL` if given, and
/// `files` (paths relative to `/`, mode 0644, root-owned). Returns its path.
pub fn make_package(
    packages_dir: &Path,
    name: &str,
    version: &str,
    tier: &str,
    depends: &[&str],
    files: &[(&str, &[u8])],
    install_script: Option<&str>,
) -> PathBuf {
    std::fs::create_dir_all(packages_dir).expect("create packages dir");
    let size = files.iter().map(|(_, d)| d.len() as u64).sum();
    let mut entries = vec![RawEntry::pkginfo(&info(name, version, tier, depends, size))];
    if let Some(s) = install_script {
        entries.push(RawEntry {
            mode: 0o755,
            ..RawEntry::file(".INSTALL", s.as_bytes())
        });
    }
    for (p, d) in files {
        entries.push(RawEntry::file(p, d));
    }
    let path = packages_dir.join(format!("{name}-{version}.igos.tar.gz"));
    write_raw_archive(&path, &entries);
    path
}

/// Rewrites manifest and index of `dir` from `entries` as they are (no
/// checks beyond the index format) and signs both with `secret`: a payload
/// that is validly signed but whose contents the test chose.
pub fn write_signed(dir: &Path, entries: &[PackageEntry], secret: &Path) {
    crate::build::write_unsigned(dir, entries).expect("write manifest and index");
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

/// A gpg home for tests that need signatures made by gpg itself. Dropping
/// it stops the gpg-agent it started.
#[derive(Debug)]
pub struct Gpg {
    home: PathBuf,
    /// Fingerprint of the certify-only primary key.
    pub primary: String,
}

impl Gpg {
    fn cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new("gpg");
        c.env("GNUPGHOME", &self.home).args([
            "--batch",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        c
    }

    /// Creates `home` (mode 0700) with an ed25519 certify-only primary key and
    /// an ed25519 signing subkey, made by gpg. `None` when gpg is not installed.
    pub fn new(home: &Path, userid: &str) -> Option<Gpg> {
        use std::os::unix::fs::PermissionsExt;
        if std::process::Command::new("gpg")
            .arg("--version")
            .output()
            .is_err()
        {
            return None;
        }
        std::fs::create_dir_all(home).expect("gpg home");
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let mut g = Gpg {
            home: home.to_path_buf(),
            primary: String::new(),
        };
        let ok = g
            .cmd()
            .args(["--quick-gen-key", userid, "ed25519", "cert", "never"])
            .status()
            .expect("run gpg");
        assert!(ok.success(), "gpg --quick-gen-key failed");
        let out = g
            .cmd()
            .args(["--with-colons", "--list-keys", userid])
            .output()
            .expect("run gpg");
        let text = String::from_utf8_lossy(&out.stdout);
        g.primary = text
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("primary fingerprint")
            .to_string();
        let ok = g
            .cmd()
            .args(["--quick-add-key", &g.primary, "ed25519", "sign", "never"])
            .status()
            .expect("run gpg");
        assert!(ok.success(), "gpg --quick-add-key failed");
        Some(g)
    }

    /// Exports the public keys (armored) to `out`.
    pub fn export_public(&self, out: &Path) {
        let o = self
            .cmd()
            .args(["--armor", "--export", &self.primary])
            .output()
            .expect("run gpg");
        assert!(
            o.status.success() && !o.stdout.is_empty(),
            "gpg --export failed"
        );
        std::fs::write(out, o.stdout).expect("write keyring");
    }

    /// `gpg --detach-sign --armor` of `file` into `out` (uses the signing subkey).
    pub fn detach_sign(&self, file: &Path, out: &Path) {
        let ok = self
            .cmd()
            .args(["--yes", "--detach-sign", "--armor", "-o"])
            .arg(out)
            .arg(file)
            .status()
            .expect("run gpg");
        assert!(ok.success(), "gpg --detach-sign failed");
    }

    /// Signs manifest and index of the payload in `dir` with gpg.
    pub fn sign_payload(&self, dir: &Path) {
        use crate::index::{INDEX, INDEX_SIG, MANIFEST, MANIFEST_SIG};
        self.detach_sign(&dir.join(MANIFEST), &dir.join(MANIFEST_SIG));
        self.detach_sign(&dir.join(INDEX), &dir.join(INDEX_SIG));
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

/// Parses a certificate from bytes (armored or binary).
pub fn read_cert_bytes(bytes: &[u8]) -> Cert {
    Cert::from_bytes(bytes).expect("parse certificate")
}
