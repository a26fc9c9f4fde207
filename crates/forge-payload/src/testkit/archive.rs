//! Archives as the test chose them, including deliberately malformed ones:
//! raw tar entries written without the `tar` crate's path checks, and
//! well-formed packages with a `.PKGINFO`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::pkginfo::{self, PkgInfo};

/// A fixed mtime for archive entries (reproducible archives).
pub const FIXED_MTIME: u64 = 1_700_000_000;
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
