//! Whole paths under a root path: each one walked a component at a time
//! from a descriptor of the root with the primitives of [`super::at`], so a
//! symlink anywhere on the way (say `/etc -> /host/etc`) is refused rather
//! than followed. Files are written to a temporary name and renamed into
//! place: never half-written.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::at;

fn err(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

/// The normal components of `rel` (leading `/` ignored); `..` is refused.
fn components(rel: &Path) -> io::Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n.as_bytes()),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{}: '..' is not allowed in a target path", rel.display()),
                ))
            }
        }
    }
    Ok(out)
}

/// The parent directory's components and the final name of `rel`.
fn split(rel: &Path) -> io::Result<(PathBuf, &[u8])> {
    let comps = components(rel)?;
    let Some((name, parents)) = comps.split_last() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", rel.display()),
        ));
    };
    let parent = parents
        .iter()
        .map(|c| std::ffi::OsStr::from_bytes(c))
        .collect();
    Ok((parent, name))
}

/// Opens directory `rel` under `root` without following any symlink,
/// creating missing directories (mode 0755, owned by the caller) when
/// `create`.
pub fn open_dir(root: &Path, rel: &Path, create: bool) -> io::Result<OwnedFd> {
    let mut fd = at::open_root(root).map_err(|e| err(root, "open", e))?;
    let mut walked = PathBuf::from("/");
    for name in components(rel)? {
        walked.push(std::ffi::OsStr::from_bytes(name));
        let next = match at::open_dir(fd.as_fd(), name) {
            Ok(f) => f,
            Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                match at::mkdir(fd.as_fd(), name, 0o755) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(err(&walked, "mkdir", e)),
                }
                at::open_dir(fd.as_fd(), name).map_err(|e| err(&walked, "open", e))?
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                return Err(io::Error::other(format!(
                    "{} in the target is a symlink or not a directory; refusing to write through it",
                    walked.display()
                )))
            }
            Err(e) => return Err(err(&walked, "open", e)),
        };
        fd = next;
    }
    Ok(fd)
}

/// Writes `contents` to `root/rel` with `mode`, owned by root, atomically
/// (temporary file + rename). Parent directories are created as needed.
pub fn write_file(root: &Path, rel: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_file_owned(root, rel, contents, mode, 0, 0)
}

/// As [`write_file`], owned by `uid:gid`.
pub fn write_file_owned(
    root: &Path,
    rel: &Path,
    contents: &[u8],
    mode: u32,
    uid: u32,
    gid: u32,
) -> io::Result<()> {
    let (parent, name) = split(rel)?;
    let dir = open_dir(root, &parent, true)?;
    let mut tmp = b".".to_vec();
    tmp.extend_from_slice(name);
    tmp.extend_from_slice(b".forge-new");
    let _ = at::unlink(dir.as_fd(), &tmp, false);
    let mut f = at::create_file(dir.as_fd(), &tmp).map_err(|e| err(rel, "create", e))?;
    let result = (|| -> io::Result<()> {
        at::set_meta_fd(f.as_fd(), uid, gid, mode, None).map_err(|e| err(rel, "chown", e))?;
        f.write_all(contents)?;
        f.sync_all()?;
        at::rename(dir.as_fd(), &tmp, name).map_err(|e| err(rel, "rename", e))
    })();
    if result.is_err() {
        let _ = at::unlink(dir.as_fd(), &tmp, false);
    }
    result
}

/// Reads `root/rel`; `Ok(None)` when it does not exist. Refuses symlinks.
pub fn read_file(root: &Path, rel: &Path) -> io::Result<Option<Vec<u8>>> {
    let (parent, name) = split(rel)?;
    let dir = match open_dir(root, &parent, false) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut f = match at::open_file(dir.as_fd(), name) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(rel, "open", e)),
    };
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    Ok(Some(buf))
}

/// Replaces `root/rel` with a symlink to `target` (which is stored as is,
/// never resolved on the host).
pub fn symlink(root: &Path, rel: &Path, target: &Path) -> io::Result<()> {
    let (parent, name) = split(rel)?;
    let dir = open_dir(root, &parent, true)?;
    match at::unlink(dir.as_fd(), name, false) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(rel, "remove", e)),
    }
    at::symlink(target.as_os_str().as_bytes(), dir.as_fd(), name)
        .map_err(|e| err(rel, "symlink", e))
}

/// Creates directory `root/rel` (and parents) with `mode`, owned by `uid:gid`.
pub fn mkdir_owned(root: &Path, rel: &Path, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    let fd = open_dir(root, rel, true)?;
    at::set_meta_fd(fd.as_fd(), uid, gid, mode, None).map_err(|e| err(rel, "chown", e))
}

/// Changes the owner of `root/rel` without following a final symlink.
pub fn lchown(root: &Path, rel: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let (parent, name) = split(rel)?;
    let dir = open_dir(root, &parent, false)?;
    at::chown_at(dir.as_fd(), name, uid, gid).map_err(|e| err(rel, "chown", e))
}

/// Whether `root/rel` exists (as anything, a dangling symlink included),
/// without following symlinks on the way.
pub fn exists(root: &Path, rel: &Path) -> bool {
    let Ok((parent, name)) = split(rel) else {
        return true; // the root itself
    };
    let Ok(dir) = open_dir(root, &parent, false) else {
        return false;
    };
    matches!(at::kind(dir.as_fd(), name), Ok(Some(_)))
}

/// Copies the tree `root/from` to `root/to` (both inside the target),
/// recreating symlinks as symlinks and giving everything to `uid:gid`.
pub fn copy_tree_owned(root: &Path, from: &Path, to: &Path, uid: u32, gid: u32) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // Opening `from` and `to` through open_dir proves neither path passes
    // through a symlink; below them entries are inspected with lstat.
    drop(open_dir(root, from, false)?);
    mkdir_owned(root, to, 0o700, uid, gid)?;
    let rel: PathBuf = components(from)?
        .iter()
        .map(|c| std::ffi::OsStr::from_bytes(c))
        .collect();
    for entry in std::fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        let meta = std::fs::symlink_metadata(entry.path())?;
        let (src, dst) = (from.join(&name), to.join(&name));
        let ft = meta.file_type();
        if ft.is_dir() {
            copy_tree_owned(root, &src, &dst, uid, gid)?;
            let fd = open_dir(root, &dst, false)?;
            at::set_meta_fd(fd.as_fd(), uid, gid, meta.mode(), None)
                .map_err(|e| err(&dst, "chmod", e))?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(entry.path())?;
            symlink(root, &dst, &target)?;
            lchown(root, &dst, uid, gid)?;
        } else if ft.is_file() {
            let data = read_file(root, &src)?.unwrap_or_default();
            write_file_owned(root, &dst, &data, meta.mode() & 0o777, uid, gid)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_symlinks_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("etc")).unwrap();
        let e = write_file(root.path(), Path::new("/etc/hostname"), b"x\n", 0o644).unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(!outside.path().join("hostname").exists());
        // A final symlink is replaced, not followed.
        std::fs::create_dir(root.path().join("var")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("f"), root.path().join("var/f")).unwrap();
        write_file(root.path(), Path::new("var/f"), b"y", 0o600).unwrap();
        assert!(!outside.path().join("f").exists());
        assert_eq!(std::fs::read(root.path().join("var/f")).unwrap(), b"y");
        assert!(write_file(root.path(), Path::new("../x"), b"", 0o600).is_err());
        // Reading through or at a symlink is refused too.
        std::os::unix::fs::symlink("/etc/hostname", root.path().join("var/h")).unwrap();
        assert!(read_file(root.path(), Path::new("var/h")).is_err());
        assert!(read_file(root.path(), Path::new("etc/hostname")).is_err());
    }

    #[test]
    fn writes_reads_and_links() {
        let root = tempfile::tempdir().unwrap();
        write_file(root.path(), Path::new("/a/b/c"), b"hello", 0o640).unwrap();
        assert_eq!(
            read_file(root.path(), Path::new("a/b/c")).unwrap().unwrap(),
            b"hello"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root.path().join("a/b/c"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        assert!(read_file(root.path(), Path::new("a/b/none"))
            .unwrap()
            .is_none());
        symlink(root.path(), Path::new("/a/l"), Path::new("../x")).unwrap();
        assert_eq!(
            std::fs::read_link(root.path().join("a/l")).unwrap(),
            PathBuf::from("../x")
        );
        assert!(exists(root.path(), Path::new("/a/l")));
        assert!(!exists(root.path(), Path::new("/a/none")));
    }
}
