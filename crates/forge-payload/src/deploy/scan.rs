//! Before anything is extracted: open each archive once (`O_NOFOLLOW`),
//! hash it from that descriptor and compare with the verified hash, then
//! list its entries from the same descriptor. Extraction re-reads the same
//! descriptor from offset 0, so a file renamed or swapped over the payload
//! path after this point no longer matters. (Rewriting the same inode in
//! place needs root on a root-owned payload and is out of scope; extraction
//! still checks it meets the listed entries again, in order.)
//!
//! The listing is one streaming pass with the extension-header cap of
//! [`super::guard`], keeping only paths, entry types and directory metadata
//! (bounded by the archive, never by a size an entry declares).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::guard::TarGuard;
use super::tree::split;
use crate::integrity::{hash_reader, open_regular};
use crate::{PayloadError, UnsafeReason};

/// Directory metadata from the archive: (mode, uid, gid, mtime).
pub type DirOwner = (u32, u32, u32, i64);

/// One archive entry as listed (before any path check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The raw path bytes, as the `tar` crate reports them.
    pub raw: Vec<u8>,
    /// The tar type flag.
    pub kind: u8,
    /// For directories: owner, mode and mtime.
    pub dir: Option<DirOwner>,
}

/// A verified, listed archive: the open descriptor extraction reads again.
pub struct Scanned {
    pub file: File,
    pub entries: Vec<Listed>,
}

/// The tar stream of a gzipped archive, behind the framing guard.
pub fn tar_stream<R: Read>(inner: R) -> TarGuard<flate2::bufread::MultiGzDecoder<BufReader<R>>> {
    TarGuard::new(flate2::bufread::MultiGzDecoder::new(
        BufReader::with_capacity(256 << 10, inner),
    ))
}

/// Rewinds `file` to its first byte.
pub fn rewind(mut file: &File) -> io::Result<()> {
    file.seek(SeekFrom::Start(0)).map(|_| ())
}

/// Opens `archive`, checks its SHA-256 is `expected` (nothing is parsed
/// before), and lists its entries. Regular files declaring more than
/// `installed_size` bytes in all are refused here, before their data is read.
pub fn scan(archive: &Path, expected: &str, installed_size: u64) -> Result<Scanned, PayloadError> {
    let io_err = |e| PayloadError::io(archive, e);
    let file = open_regular(archive).map_err(io_err)?;
    let (actual, _) = hash_reader(&file).map_err(io_err)?;
    if actual != expected {
        return Err(PayloadError::HashMismatch {
            path: archive.to_path_buf(),
            expected: expected.to_string(),
            actual,
        });
    }
    rewind(&file).map_err(io_err)?;
    let corrupt = |e: io::Error| PayloadError::CorruptArchive {
        path: archive.to_path_buf(),
        reason: e.to_string(),
    };
    let mut entries = Vec::new();
    let mut declared = 0u64;
    {
        let mut ar = tar::Archive::new(tar_stream(&file));
        for ent in ar.entries().map_err(corrupt)? {
            let ent = ent.map_err(corrupt)?;
            let h = ent.header();
            let kind = h.entry_type().as_byte();
            let path = ent.path_bytes();
            let metadata = matches!(split(&path).as_deref(), Ok([one]) if one.starts_with(b"."));
            if !metadata
                && matches!(
                    h.entry_type(),
                    tar::EntryType::Regular | tar::EntryType::Continuous
                )
            {
                declared = declared.saturating_add(ent.size());
                if declared > installed_size {
                    return Err(PayloadError::UnsafeEntry {
                        path: archive.to_path_buf(),
                        entry: String::from_utf8_lossy(&path).into_owned(),
                        reason: UnsafeReason::EntryTooLarge,
                    });
                }
            }
            let dir = if h.entry_type().is_dir() {
                super::extract::owner(h).ok()
            } else {
                None
            };
            entries.push(Listed {
                raw: path.into_owned(),
                kind,
                dir,
            });
        }
    }
    Ok(Scanned { file, entries })
}
