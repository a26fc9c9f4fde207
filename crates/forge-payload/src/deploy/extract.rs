//! Extracting one archive into the root: one streaming pass over the
//! already verified and listed descriptor (see [`super::scan`]), every
//! entry confined and checked against the listing, everything this package
//! created removed again if anything fails.
//!
//! (Over 400 lines on purpose: the one pass, every entry kind it writes and
//! the rollback that must undo each of them share one per-archive state.)

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::scan::{rewind, tar_stream, Listed, Scanned};
use super::tree::{ident_fd, join, split, Created, Step, Tree};
use crate::confined::at;
use crate::index::PackageEntry;
use crate::pkginfo::{self, PkgInfo, MAX_META_BYTES};
use crate::{PayloadError, UnsafeReason};

/// What one registered path is.
#[derive(Debug, Clone)]
pub enum RecordKind {
    File { sha256: String, mode: u32 },
    Dir { mode: u32 },
    Symlink { target: Vec<u8> },
}

/// One path the package installed (relative to the root).
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub path: Vec<u8>,
    pub kind: RecordKind,
}

/// A successfully extracted package.
pub struct Extracted {
    pub install: Option<Vec<u8>>,
    pub records: Vec<FileRecord>,
}

/// Per-archive extraction state.
struct State<'a> {
    entry: &'a PackageEntry,
    archive: &'a Path,
    tree: &'a mut Tree,
    /// Non-directories created so far, with their identity (for rollback).
    created: Vec<Created>,
    /// Regular files extracted so far: path -> (sha256, mode); hard links may only point here.
    regular: HashMap<Vec<u8>, (String, u32)>,
    records: Vec<FileRecord>,
    written: u64,
    info: Option<PkgInfo>,
    install: Option<Vec<u8>>,
    /// Copy buffer, reused for every file.
    buf: Vec<u8>,
    /// The entries the scan listed, which this pass must see again in order.
    listed: &'a [Listed],
    seen: usize,
}

pub(super) fn owner(h: &tar::Header) -> Result<(u32, u32, u32, i64), Step> {
    let bad = |e: io::Error| Step::Corrupt(format!("bad header: {e}"));
    let mode = h.mode().map_err(bad)?;
    let uid = u32::try_from(h.uid().map_err(bad)?)
        .map_err(|_| Step::Corrupt("uid out of range".into()))?;
    let gid = u32::try_from(h.gid().map_err(bad)?)
        .map_err(|_| Step::Corrupt("gid out of range".into()))?;
    let mtime = i64::try_from(h.mtime().map_err(bad)?).unwrap_or(0);
    Ok((mode, uid, gid, mtime))
}

/// Symlink target check: absolute targets are taken relative to the root
/// (as the installed system sees them); relative ones must not climb above it.
fn symlink_escapes(parent: &[&[u8]], target: &[u8]) -> bool {
    let mut depth: usize = if target.first() == Some(&b'/') {
        0
    } else {
        parent.len()
    };
    for c in target.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

impl State<'_> {
    fn read_meta(&self, ent: &mut tar::Entry<'_, impl Read>) -> Result<Vec<u8>, Step> {
        if !matches!(
            ent.header().entry_type(),
            tar::EntryType::Regular | tar::EntryType::Continuous
        ) {
            return Err(Step::Unsafe(UnsafeReason::SpecialFile));
        }
        if ent.size() > MAX_META_BYTES {
            return Err(Step::Unsafe(UnsafeReason::EntryTooLarge));
        }
        let mut buf = Vec::new();
        ent.read_to_end(&mut buf)
            .map_err(|e| Step::Corrupt(e.to_string()))?;
        if buf.len() as u64 != ent.size() {
            return Err(Step::Corrupt("truncated entry".into()));
        }
        Ok(buf)
    }

    fn check_pkginfo(&mut self, text: &[u8]) -> Result<(), PayloadError> {
        let info = pkginfo::parse(text, self.archive)?;
        for (field, expected, found) in [
            ("pkgname", &self.entry.name, &info.name),
            ("pkgver", &self.entry.version, &info.version),
            ("tier", &self.entry.tier, &info.tier),
        ] {
            if expected != found {
                return Err(PayloadError::PkgInfoMismatch {
                    path: self.archive.to_path_buf(),
                    field: field.into(),
                    expected: expected.clone(),
                    found: found.clone(),
                });
            }
        }
        self.info = Some(info);
        Ok(())
    }

    /// Handles one archive entry.
    fn entry(&mut self, ent: &mut tar::Entry<'_, impl Read>) -> Result<(), PayloadError> {
        let raw = ent.path_bytes().into_owned();
        let kind = ent.header().entry_type().as_byte();
        match self.listed.get(self.seen) {
            Some(l) if l.raw == raw && l.kind == kind => self.seen += 1,
            _ => return Err(self.changed()),
        }
        let wrap = |s: Step| self.step_err(&raw, s);
        let comps = split(&raw).map_err(|r| wrap(Step::Unsafe(r)))?;
        let et = ent.header().entry_type();
        let Some((last, parent)) = comps.split_last() else {
            return if et.is_dir() {
                Ok(())
            } else {
                Err(wrap(Step::Unsafe(UnsafeReason::BadName)))
            };
        };
        if parent.is_empty() && last.starts_with(b".") {
            // Package metadata at the archive root: never extracted.
            match *last {
                b".PKGINFO" => {
                    let text = self.read_meta(ent).map_err(wrap)?;
                    self.check_pkginfo(&text)?;
                }
                b".INSTALL" => self.install = Some(self.read_meta(ent).map_err(wrap)?),
                _ => {}
            }
            return Ok(());
        }
        if comps.len() >= 4 && comps[..4] == [&b"var"[..], b"lib", b"pkm", b"local"] {
            return Err(wrap(Step::Unsafe(UnsafeReason::ReservedPath)));
        }
        let (mode, uid, gid, mtime) = owner(ent.header()).map_err(wrap)?;
        let key = join(&comps);
        let res = match et {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                self.regular_file(ent, &comps, key, (mode, uid, gid, mtime))
            }
            // Directory metadata is applied once every package is done,
            // from the first package listing it (super::finish).
            tar::EntryType::Directory => self.tree.dir(&comps).map(|_| {
                self.records.push(FileRecord {
                    path: key,
                    kind: RecordKind::Dir {
                        mode: mode & 0o7777,
                    },
                });
            }),
            tar::EntryType::Symlink => {
                let target = ent
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                self.symlink(&comps, key, &target, (uid, gid, mtime))
            }
            tar::EntryType::Link => {
                let target = ent
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                self.hardlink(&comps, key, &target)
            }
            _ => Err(Step::Unsafe(UnsafeReason::SpecialFile)),
        };
        res.map_err(|s| self.step_err(&raw, s))
    }

    fn regular_file(
        &mut self,
        ent: &mut tar::Entry<'_, impl Read>,
        comps: &[&[u8]],
        key: Vec<u8>,
        (mode, uid, gid, mtime): (u32, u32, u32, i64),
    ) -> Result<(), Step> {
        let size = ent.size();
        if self.written.saturating_add(size) > self.entry.installed_size {
            return Err(Step::Unsafe(UnsafeReason::EntryTooLarge));
        }
        let (last, parent) = comps
            .split_last()
            .ok_or(Step::Unsafe(UnsafeReason::BadName))?;
        let dir = self.tree.dir(parent)?;
        Tree::clear_for_file(&dir, last)?;
        let mut f = at::create_file(dir.as_fd(), last)?;
        self.created.push((key.clone(), ident_fd(&f)?));
        let mut h = Sha256::new();
        let mut n = 0u64;
        let buf = &mut self.buf;
        loop {
            let k = match ent.read(buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Step::Corrupt(e.to_string())),
            };
            h.update(&buf[..k]);
            f.write_all(&buf[..k])?;
            n += k as u64;
        }
        if n != size {
            return Err(Step::Corrupt("truncated entry".into()));
        }
        self.written += n;
        at::set_meta_fd(f.as_fd(), uid, gid, mode, Some(mtime))?;
        let sha = hex::encode(h.finalize());
        self.regular
            .insert(key.clone(), (sha.clone(), mode & 0o7777));
        self.records.push(FileRecord {
            path: key,
            kind: RecordKind::File {
                sha256: sha,
                mode: mode & 0o7777,
            },
        });
        Ok(())
    }

    fn symlink(
        &mut self,
        comps: &[&[u8]],
        key: Vec<u8>,
        target: &[u8],
        (uid, gid, mtime): (u32, u32, i64),
    ) -> Result<(), Step> {
        let (last, parent) = comps
            .split_last()
            .ok_or(Step::Unsafe(UnsafeReason::BadName))?;
        if target.is_empty() || target.contains(&0) || target.contains(&b'\n') {
            return Err(Step::Unsafe(UnsafeReason::BadName));
        }
        if symlink_escapes(parent, target) {
            return Err(Step::Unsafe(UnsafeReason::SymlinkEscapes));
        }
        let dir = self.tree.dir(parent)?;
        Tree::clear_for_file(&dir, last)?;
        at::symlink(target, dir.as_fd(), last)?;
        self.created_at(&dir, last, &key)?;
        at::chown_at(dir.as_fd(), last, uid, gid)?;
        at::set_mtime_at(dir.as_fd(), last, mtime)?;
        self.regular.remove(&key);
        self.records.push(FileRecord {
            path: key,
            kind: RecordKind::Symlink {
                target: target.to_vec(),
            },
        });
        Ok(())
    }

    fn hardlink(&mut self, comps: &[&[u8]], key: Vec<u8>, target: &[u8]) -> Result<(), Step> {
        let tcomps = split(target).map_err(|_| Step::Unsafe(UnsafeReason::HardLinkTarget))?;
        let tkey = join(&tcomps);
        let Some((sha, mode)) = self.regular.get(&tkey).cloned() else {
            return Err(Step::Unsafe(UnsafeReason::HardLinkTarget));
        };
        if tkey == key {
            return Err(Step::Unsafe(UnsafeReason::HardLinkTarget));
        }
        let (tlast, tparent) = tcomps
            .split_last()
            .ok_or(Step::Unsafe(UnsafeReason::HardLinkTarget))?;
        let (last, parent) = comps
            .split_last()
            .ok_or(Step::Unsafe(UnsafeReason::BadName))?;
        let src = self.tree.dir(tparent)?;
        let dst = self.tree.dir(parent)?;
        Tree::clear_for_file(&dst, last)?;
        at::hardlink(src.as_fd(), tlast, dst.as_fd(), last)?;
        self.created_at(&dst, last, &key)?;
        self.regular.insert(key.clone(), (sha.clone(), mode));
        self.records.push(FileRecord {
            path: key,
            kind: RecordKind::File { sha256: sha, mode },
        });
        Ok(())
    }

    /// Records what now stands at `name` in `dir` as created by this package.
    fn created_at(&mut self, dir: &OwnedFd, name: &[u8], key: &[u8]) -> Result<(), Step> {
        if let Some(id) = at::ident(dir.as_fd(), name)? {
            self.created.push((key.to_vec(), id));
        }
        Ok(())
    }

    /// The archive no longer lists what the scan listed (rewritten in place).
    fn changed(&self) -> PayloadError {
        PayloadError::CorruptArchive {
            path: self.archive.to_path_buf(),
            reason: "the archive changed after it was verified".into(),
        }
    }

    fn step_err(&self, raw: &[u8], s: Step) -> PayloadError {
        let entry = String::from_utf8_lossy(raw).into_owned();
        match s {
            Step::Unsafe(reason) => PayloadError::UnsafeEntry {
                path: self.archive.to_path_buf(),
                entry,
                reason,
            },
            Step::Corrupt(reason) => PayloadError::CorruptArchive {
                path: self.archive.to_path_buf(),
                reason: format!("{entry}: {reason}"),
            },
            Step::Io(e) => PayloadError::Io {
                path: PathBuf::from(entry),
                source: e,
            },
        }
    }

    /// Removes every non-directory this package created, each only while
    /// the path still holds the very object it created (same device and
    /// inode): what something else put there since is left alone.
    /// (Directories are removed by the caller once every package is done.)
    fn rollback(&mut self) {
        for (key, id) in self.created.iter().rev() {
            let Ok(comps) = split(key) else { continue };
            if let Some((last, parent)) = comps.split_last() {
                if let Some(dir) = self.tree.cached(parent) {
                    if matches!(at::ident(dir.as_fd(), last), Ok(Some(now)) if now == *id) {
                        let _ = at::unlink(dir.as_fd(), last, false);
                    }
                }
            }
        }
        self.created.clear();
    }
}

/// Extracts `entry`'s archive (`archive` is its path, `scanned` its verified
/// descriptor and listing) into the tree's root, reading the descriptor from
/// its start and refusing it (and removing what it wrote) when its entries
/// are not the listed ones. The descriptor is not hashed again: it is the
/// very file whose hash the scan checked (a rename over the path does not
/// reach it; rewriting the inode in place needs root and is out of scope —
/// the entry-by-entry comparison with the listing still catches a changed
/// listing).
pub fn extract(
    scanned: &Scanned,
    archive: &Path,
    entry: &PackageEntry,
    tree: &mut Tree,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Extracted, PayloadError> {
    let file: &File = &scanned.file;
    rewind(file).map_err(|e| PayloadError::io(archive, e))?;
    let mut ar = tar::Archive::new(tar_stream(file));
    let mut st = State {
        entry,
        archive,
        tree,
        created: Vec::new(),
        regular: HashMap::new(),
        records: Vec::new(),
        written: 0,
        info: None,
        install: None,
        buf: vec![0u8; 256 << 10],
        listed: &scanned.entries,
        seen: 0,
    };
    let corrupt = |reason: String| PayloadError::CorruptArchive {
        path: archive.to_path_buf(),
        reason,
    };
    let mut run = || -> Result<(), PayloadError> {
        let entries = ar.entries().map_err(|e| corrupt(e.to_string()))?;
        for ent in entries {
            if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(super::cancelled(archive));
            }
            let mut ent = ent.map_err(|e| corrupt(e.to_string()))?;
            st.entry(&mut ent)?;
        }
        if st.seen != st.listed.len() {
            return Err(st.changed());
        }
        Ok(())
    };
    let mut result = run();
    // Finish the pass: the rest of the gzip stream (its CRC is checked).
    let mut gz = ar.into_inner();
    if result.is_ok() {
        if let Err(e) = io::copy(&mut gz, &mut io::sink()) {
            result = Err(corrupt(e.to_string()));
        }
    }
    match (result, st.info.take()) {
        (Ok(()), Some(_)) => {}
        (Ok(()), None) => {
            st.rollback();
            return Err(PayloadError::PkgInfo {
                path: archive.to_path_buf(),
                field: None,
                reason: "missing".into(),
            });
        }
        (Err(e), _) => {
            st.rollback();
            return Err(e);
        }
    }
    Ok(Extracted {
        install: st.install.take(),
        records: std::mem::take(&mut st.records),
    })
}
