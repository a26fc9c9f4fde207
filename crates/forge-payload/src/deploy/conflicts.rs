//! Between listing and extraction: which paths each package owns, as pacman
//! and dpkg check before unpacking. A non-directory path shipped by two
//! packages, or shipped as a file by one and needed as a directory by
//! another, is a conflict: both packages fail with
//! [`PayloadError::FileConflict`] naming the path and the other package,
//! before either writes anything. Directories may be shared; their owner,
//! mode and mtime come from the first installed package (in deploy order)
//! that lists them, whatever order the workers finish in.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::scan::{DirOwner, Listed};
use super::tree::{join, split};
use crate::index::PackageEntry;
use crate::PayloadError;

/// The paths an entry list puts into the root: (key, directory metadata),
/// skipping archive metadata and entries extraction will refuse anyway.
fn placed(listed: &[Listed]) -> impl Iterator<Item = (Vec<Vec<u8>>, Option<DirOwner>)> + '_ {
    listed.iter().filter_map(|l| {
        let comps = split(&l.raw).ok()?;
        if comps.is_empty() || (comps.len() == 1 && comps[0].starts_with(b".")) {
            return None;
        }
        let is_dir = l.kind == tar::EntryType::Directory.as_byte();
        let meta = if is_dir {
            Some(l.dir.unwrap_or((0o755, 0, 0, 0)))
        } else {
            None
        };
        Some((comps.iter().map(|c| c.to_vec()).collect(), meta))
    })
}

fn key(comps: &[Vec<u8>]) -> Vec<u8> {
    let refs: Vec<&[u8]> = comps.iter().map(|c| c.as_slice()).collect();
    join(&refs)
}

/// For each package (with its listing, `None` when it already failed),
/// the conflict that keeps it out, if any.
pub fn find(
    packages: &[PackageEntry],
    listings: &[Option<(&std::path::Path, &[Listed])>],
) -> Vec<Option<PayloadError>> {
    // path -> first package shipping it as a non-directory / needing it as a directory.
    let mut files: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut dirs: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut found: Vec<Option<(Vec<u8>, usize)>> = vec![None; packages.len()];
    let clash = |found: &mut Vec<Option<(Vec<u8>, usize)>>, path: &[u8], a: usize, b: usize| {
        for (me, other) in [(a, b), (b, a)] {
            if found[me].is_none() {
                found[me] = Some((path.to_vec(), other));
            }
        }
    };
    for (i, l) in listings.iter().enumerate() {
        let Some((_, listed)) = l else { continue };
        for (comps, meta) in placed(listed) {
            for n in 1..comps.len() {
                let k = key(&comps[..n]);
                match files.get(&k) {
                    Some(&j) if j != i => clash(&mut found, &k, j, i),
                    _ => {}
                }
                dirs.entry(k).or_insert(i);
            }
            let k = key(&comps);
            let (mine, theirs) = if meta.is_some() {
                (&mut dirs, &files)
            } else {
                (&mut files, &dirs)
            };
            match theirs.get(&k) {
                Some(&j) if j != i => clash(&mut found, &k, j, i),
                _ => {}
            }
            match mine.get(&k) {
                Some(&j) if j != i && meta.is_none() => clash(&mut found, &k, j, i),
                Some(_) => {}
                None => {
                    mine.insert(k, i);
                }
            }
        }
    }
    found
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let (path, other) = f?;
            Some(PayloadError::FileConflict {
                path: listings[i]
                    .map(|(p, _)| p.to_path_buf())
                    .unwrap_or_default(),
                entry: String::from_utf8_lossy(&path).into_owned(),
                package: packages[i].name.clone(),
                other: packages[other].name.clone(),
            })
        })
        .collect()
}

/// For the installed packages' listings (in deploy order): each listed
/// directory with the metadata of the first package listing it, and every
/// directory an installed package needs (listed or a parent of a path).
pub fn shared_dirs(listings: &[&[Listed]]) -> (BTreeMap<Vec<u8>, DirOwner>, HashSet<Vec<u8>>) {
    let mut meta = BTreeMap::new();
    let mut needed = HashSet::new();
    for listed in listings {
        for (comps, m) in placed(listed) {
            for n in 1..comps.len() {
                needed.insert(key(&comps[..n]));
            }
            if let Some(m) = m {
                let k = key(&comps);
                meta.entry(k.clone()).or_insert(m);
                needed.insert(k);
            }
        }
    }
    (meta, needed)
}
