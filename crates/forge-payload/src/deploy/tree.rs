//! Walking and creating directories inside a deployment root, one component
//! at a time without following symlinks, with a per-package cache of open
//! directory descriptors and the list of directories this package created.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

use crate::confined::at::{self, Kind};
use crate::UnsafeReason;

/// A failure of one step of extraction, turned into a `PayloadError` by the caller.
#[derive(Debug)]
pub enum Step {
    Unsafe(UnsafeReason),
    Io(io::Error),
    Corrupt(String),
}

impl From<io::Error> for Step {
    fn from(e: io::Error) -> Self {
        Step::Io(e)
    }
}

/// Splits an archive path into safe components: no absolute path, no `..`,
/// no NUL or newline; `.` and empty components are dropped.
pub fn split(raw: &[u8]) -> Result<Vec<&[u8]>, UnsafeReason> {
    if raw.first() == Some(&b'/') {
        return Err(UnsafeReason::AbsolutePath);
    }
    if raw.contains(&0) || raw.contains(&b'\n') {
        return Err(UnsafeReason::BadName);
    }
    let mut out = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(UnsafeReason::ParentDir),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Joins components with `/` (the cache key and the registered path).
pub fn join(comps: &[&[u8]]) -> Vec<u8> {
    comps.join(&b'/')
}

/// A path this package created and the (device, inode) it created there:
/// rollback removes the path only while it is still that object.
pub type Created = (Vec<u8>, (u64, u64));

/// The (device, inode) of an open descriptor.
pub fn ident_fd(fd: &impl AsFd) -> io::Result<(u64, u64)> {
    let st = nix::sys::stat::fstat(fd.as_fd())?;
    Ok((st.st_dev, st.st_ino))
}

/// Directory descriptors of one package's deployment below the root.
pub struct Tree {
    root: Rc<OwnedFd>,
    cache: HashMap<Vec<u8>, Rc<OwnedFd>>,
    /// Directories created by this package, in creation order (relative paths).
    pub created_dirs: Vec<Created>,
}

impl Tree {
    pub fn new(root: OwnedFd) -> Tree {
        Tree {
            root: Rc::new(root),
            cache: HashMap::new(),
            created_dirs: Vec::new(),
        }
    }

    /// The directory at `comps` (the root for none), created with mode 0755
    /// where missing. A symlink or non-directory on the way is refused.
    pub fn dir(&mut self, comps: &[&[u8]]) -> Result<Rc<OwnedFd>, Step> {
        let Some((last, parent_comps)) = comps.split_last() else {
            return Ok(self.root.clone());
        };
        let key = join(comps);
        if let Some(fd) = self.cache.get(&key) {
            return Ok(fd.clone());
        }
        let parent = self.dir(parent_comps)?;
        let fd = match at::open_dir(parent.as_fd(), last) {
            Ok(fd) => fd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let created = match at::mkdir(parent.as_fd(), last, 0o755) {
                    Ok(()) => true,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
                    Err(e) => return Err(Step::Io(e)),
                };
                let fd =
                    at::open_dir(parent.as_fd(), last).map_err(|e| classify(&parent, last, e))?;
                if created {
                    self.created_dirs.push((key.clone(), ident_fd(&fd)?));
                }
                fd
            }
            Err(e) => return Err(classify(&parent, last, e)),
        };
        let fd = Rc::new(fd);
        self.cache.insert(key, fd.clone());
        Ok(fd)
    }

    /// Looks up an already opened directory (for rollback).
    pub fn cached(&self, comps: &[&[u8]]) -> Option<Rc<OwnedFd>> {
        if comps.is_empty() {
            return Some(self.root.clone());
        }
        self.cache.get(&join(comps)).cloned()
    }

    /// Makes room for a new non-directory at `name` in `parent`: an existing
    /// file or symlink is removed (never followed), a directory is refused.
    pub fn clear_for_file(parent: &OwnedFd, name: &[u8]) -> Result<(), Step> {
        match at::kind(parent.as_fd(), name)? {
            None => Ok(()),
            Some(Kind::Dir) => Err(Step::Unsafe(UnsafeReason::TypeConflict)),
            Some(_) => match at::unlink(parent.as_fd(), name, false) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Step::Io(e)),
            },
        }
    }
}

/// Why opening an existing path component as a directory failed.
fn classify(parent: &OwnedFd, name: &[u8], e: io::Error) -> Step {
    let code = e.raw_os_error();
    if code == Some(libc::ELOOP) || code == Some(libc::ENOTDIR) {
        return match at::kind(parent.as_fd(), name) {
            Ok(Some(Kind::Symlink)) | Err(_) => Step::Unsafe(UnsafeReason::ThroughSymlink),
            Ok(_) => Step::Unsafe(UnsafeReason::TypeConflict),
        };
    }
    Step::Io(e)
}
