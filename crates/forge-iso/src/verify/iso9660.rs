//! Just enough ISO9660 + Rock Ridge to check the output: the primary volume
//! descriptor (block 16) and a path lookup (Rock Ridge `NM` names, else the
//! ISO name without `;1`), giving a file's byte offset and size.

use anyhow::{ensure, Result};

use super::{u32le, Image};

/// A file found on the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: String,
    pub offset: u64,
    pub size: u64,
}

fn pvd(img: &Image) -> Result<Vec<u8>> {
    let p = img.read(16 * 2048, 2048)?;
    ensure!(
        p[0] == 1 && &p[1..6] == b"CD001",
        "no ISO9660 primary volume descriptor at block 16"
    );
    Ok(p)
}

/// The volume id (the label the live init searches for).
pub fn volume_id(img: &Image) -> Result<String> {
    let p = pvd(img)?;
    Ok(String::from_utf8_lossy(&p[40..72]).trim_end().to_owned())
}

/// Looks `path` (absolute, `/`-separated) up.
pub fn find(img: &Image, path: &str) -> Result<Option<Found>> {
    let p = pvd(img)?;
    let root = &p[156..190];
    let (mut extent, mut size, mut is_dir) = (u32le(root, 2), u32le(root, 10), true);
    for comp in path.split('/').filter(|c| !c.is_empty()) {
        ensure!(
            is_dir,
            "{path}: a component before {comp} is not a directory"
        );
        match lookup(img, extent, size, comp)? {
            Some((e, s, d)) => (extent, size, is_dir) = (e, s, d),
            None => return Ok(None),
        }
    }
    Ok(Some(Found {
        path: path.to_owned(),
        offset: u64::from(extent) * 2048,
        size: u64::from(size),
    }))
}

fn lookup(img: &Image, extent: u32, size: u32, want: &str) -> Result<Option<(u32, u32, bool)>> {
    let dir = img.read(u64::from(extent) * 2048, size as usize)?;
    let mut at = 0;
    while at < dir.len() {
        let len = dir[at] as usize;
        if len == 0 {
            at = (at / 2048 + 1) * 2048;
            continue;
        }
        ensure!(
            at + len <= dir.len() && len >= 34,
            "a directory record at block {extent} is malformed"
        );
        let r = &dir[at..at + len];
        let name_len = r[32] as usize;
        ensure!(
            33 + name_len <= len,
            "a directory record name at block {extent} is malformed"
        );
        let iso_name = &r[33..33 + name_len];
        let su_start = 33 + name_len + usize::from(name_len.is_multiple_of(2));
        let name = rock_ridge_name(&r[su_start.min(len)..]).unwrap_or_else(|| {
            let n = String::from_utf8_lossy(iso_name).to_ascii_lowercase();
            n.trim_end_matches(";1").trim_end_matches('.').to_owned()
        });
        if name == want && !(name_len == 1 && iso_name[0] <= 1) {
            return Ok(Some((u32le(r, 2), u32le(r, 10), r[25] & 2 != 0)));
        }
        at += len;
    }
    Ok(None)
}

/// The name from a System Use area's `NM` entries (continuations joined).
fn rock_ridge_name(su: &[u8]) -> Option<String> {
    let mut at = 0;
    let mut name = Vec::new();
    let mut seen = false;
    while at + 4 <= su.len() {
        let len = su[at + 2] as usize;
        if len < 4 || at + len > su.len() {
            break;
        }
        if &su[at..at + 2] == b"NM" && len >= 5 {
            name.extend_from_slice(&su[at + 5..at + len]);
            seen = true;
        }
        at += len;
    }
    seen.then(|| String::from_utf8_lossy(&name).into_owned())
}
