//! File operations confined to the target root. Every path is walked one
//! component at a time from a directory descriptor of the root with
//! `O_NOFOLLOW`, so a symlink a package put into the target (say
//! `/etc -> /host/etc`) can never redirect a write outside it. Files are
//! written to a temporary name and renamed into place: never half-written.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, mkdirat, Mode};
use nix::unistd::{fchown, fchownat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};

fn err(path: &Path, what: &str, e: Errno) -> io::Error {
    io::Error::new(
        io::Error::from(e).kind(),
        format!("{what} {}: {e}", path.display()),
    )
}

/// The normal components of `rel` (leading `/` ignored); `..` is refused.
fn components(rel: &Path) -> io::Result<Vec<&std::ffi::OsStr>> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
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

/// The target root as a directory descriptor.
pub fn open_root(root: &Path) -> io::Result<OwnedFd> {
    nix::fcntl::open(
        root,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| err(root, "open", e))
}

/// Opens directory `rel` under `root` without following any symlink,
/// creating missing directories (mode 0755, root-owned) when `create`.
pub fn open_dir(root: &Path, rel: &Path, create: bool) -> io::Result<OwnedFd> {
    let mut fd = open_root(root)?;
    let mut walked = PathBuf::from("/");
    for name in components(rel)? {
        walked.push(name);
        let flags = OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
        let next = match openat(fd.as_fd(), name, flags, Mode::empty()) {
            Ok(f) => f,
            Err(Errno::ENOENT) if create => {
                match mkdirat(fd.as_fd(), name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(err(&walked, "mkdir", e)),
                }
                openat(fd.as_fd(), name, flags, Mode::empty())
                    .map_err(|e| err(&walked, "open", e))?
            }
            Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => {
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

fn split(rel: &Path) -> io::Result<(PathBuf, &std::ffi::OsStr)> {
    let comps = components(rel)?;
    let Some((name, parents)) = comps.split_last() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", rel.display()),
        ));
    };
    Ok((parents.iter().collect(), name))
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
    let tmp = format!(".{}.forge-new", name.to_string_lossy());
    let _ = unlinkat(dir.as_fd(), tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    let fd = openat(
        dir.as_fd(),
        tmp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| err(rel, "create", e))?;
    let result = (|| -> io::Result<()> {
        fchown(
            fd.as_fd(),
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
        )
        .map_err(|e| err(rel, "chown", e))?;
        fchmod(fd.as_fd(), Mode::from_bits_truncate(mode)).map_err(|e| err(rel, "chmod", e))?;
        let mut f = File::from(fd);
        f.write_all(contents)?;
        f.sync_all()?;
        renameat(dir.as_fd(), tmp.as_str(), dir.as_fd(), name).map_err(|e| err(rel, "rename", e))
    })();
    if result.is_err() {
        let _ = unlinkat(dir.as_fd(), tmp.as_str(), UnlinkatFlags::NoRemoveDir);
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
    let fd = match openat(
        dir.as_fd(),
        name,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(err(rel, "open", e)),
    };
    let mut buf = Vec::new();
    File::from(fd).read_to_end(&mut buf)?;
    Ok(Some(buf))
}

/// Replaces `root/rel` with a symlink to `target` (which is stored as is,
/// never resolved on the host).
pub fn symlink(root: &Path, rel: &Path, target: &Path) -> io::Result<()> {
    let (parent, name) = split(rel)?;
    let dir = open_dir(root, &parent, true)?;
    match unlinkat(dir.as_fd(), name, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(err(rel, "remove", e)),
    }
    symlinkat(target, dir.as_fd(), name).map_err(|e| err(rel, "symlink", e))
}

/// Creates directory `root/rel` (and parents) with `mode`, owned by `uid:gid`.
pub fn mkdir_owned(root: &Path, rel: &Path, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    let fd = open_dir(root, rel, true)?;
    fchown(
        fd.as_fd(),
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
    )
    .map_err(|e| err(rel, "chown", e))?;
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode)).map_err(|e| err(rel, "chmod", e))
}

/// Changes the owner of `root/rel` without following a final symlink.
pub fn lchown(root: &Path, rel: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let (parent, name) = split(rel)?;
    let dir = open_dir(root, &parent, false)?;
    fchownat(
        dir.as_fd(),
        name,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| err(rel, "chown", e))
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
    nix::sys::stat::fstatat(dir.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW).is_ok()
}

/// Copies the tree `root/from` to `root/to` (both inside the target),
/// recreating symlinks as symlinks and giving everything to `uid:gid`.
pub fn copy_tree_owned(root: &Path, from: &Path, to: &Path, uid: u32, gid: u32) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // Opening `from` and `to` through open_dir proves neither path passes
    // through a symlink; below them entries are inspected with lstat.
    drop(open_dir(root, from, false)?);
    mkdir_owned(root, to, 0o700, uid, gid)?;
    let host_from = root.join(components(from)?.iter().collect::<PathBuf>());
    for entry in std::fs::read_dir(&host_from)? {
        let entry = entry?;
        let name = entry.file_name();
        let meta = std::fs::symlink_metadata(entry.path())?;
        let (src, dst) = (from.join(&name), to.join(&name));
        let ft = meta.file_type();
        if ft.is_dir() {
            copy_tree_owned(root, &src, &dst, uid, gid)?;
            let fd = open_dir(root, &dst, false)?;
            fchmod(fd.as_fd(), Mode::from_bits_truncate(meta.mode() & 0o7777))
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
    }

    #[test]
    fn writes_reads_and_links() {
        let root = tempfile::tempdir().unwrap();
        write_file(root.path(), Path::new("/a/b/c"), b"hello", 0o640).unwrap();
        assert_eq!(
            read_file(root.path(), Path::new("a/b/c")).unwrap().unwrap(),
            b"hello"
        );
        assert!(read_file(root.path(), Path::new("a/b/none"))
            .unwrap()
            .is_none());
        symlink(root.path(), Path::new("/a/l"), Path::new("../x")).unwrap();
        assert_eq!(
            std::fs::read_link(root.path().join("a/l")).unwrap(),
            PathBuf::from("../x")
        );
        assert!(exists(root.path(), Path::new("/a/l")));
    }
}
