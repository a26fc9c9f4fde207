//! After every package is extracted: directories failed packages created
//! are removed (deepest first, only when empty, still the very directory
//! that was created — same device and inode — and needed by no installed
//! package), and shared directories get their metadata from the first
//! installed package listing them (see [`super::conflicts::shared_dirs`]).

use std::collections::{BTreeMap, HashSet};
use std::os::fd::{AsFd, OwnedFd};

use super::scan::DirOwner;
use super::tree::{split, Created, Tree};
use crate::confined::at;

/// The directory holding `comps`' last component, opened from `root`
/// without following symlinks.
fn parent_of(root: &OwnedFd, parent: &[&[u8]]) -> Option<OwnedFd> {
    let mut fd = root.try_clone().ok()?;
    for c in parent {
        fd = at::open_dir(fd.as_fd(), c).ok()?;
    }
    Some(fd)
}

/// Removes the now-empty directories failed packages created.
pub fn remove_dirs(root: &OwnedFd, mut dirs: Vec<Created>, needed: &HashSet<Vec<u8>>) {
    dirs.sort_by_key(|(d, _)| std::cmp::Reverse(d.iter().filter(|b| **b == b'/').count()));
    for (d, id) in dirs {
        if needed.contains(&d) {
            continue;
        }
        let Ok(comps) = split(&d) else { continue };
        let Some((last, parent)) = comps.split_last() else {
            continue;
        };
        let Some(fd) = parent_of(root, parent) else {
            continue;
        };
        if matches!(at::ident(fd.as_fd(), last), Ok(Some(now)) if now == id) {
            let _ = at::unlink(fd.as_fd(), last, true);
        }
    }
}

/// Applies each shared directory's chosen owner, mode and mtime (parents
/// first; deterministic whatever order the packages finished in).
pub fn apply_dir_meta(root: &OwnedFd, meta: BTreeMap<Vec<u8>, DirOwner>) {
    let Ok(fd) = root.try_clone() else { return };
    let mut tree = Tree::new(fd);
    for (d, (mode, uid, gid, mtime)) in meta {
        let Ok(comps) = split(&d) else { continue };
        let res = match tree.dir(&comps) {
            Ok(fd) => at::set_meta_fd(fd.as_fd(), uid, gid, mode, Some(mtime)),
            Err(_) => Err(std::io::Error::other("not a directory")),
        };
        if let Err(e) = res {
            tracing::warn!(dir = %String::from_utf8_lossy(&d), error = %e, "directory metadata not applied");
        }
    }
}
