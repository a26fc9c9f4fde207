//! The primitives: one operation on one name in a directory descriptor.
//! Nothing here follows a symlink: directories are opened with
//! `O_NOFOLLOW | O_DIRECTORY`, files are created with `O_EXCL | O_NOFOLLOW`,
//! metadata calls use `AT_SYMLINK_NOFOLLOW`. Names are single path
//! components (the callers split paths and refuse `..`).

use std::fs::File;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstatat, futimens, mkdirat, utimensat, Mode, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};

fn ids(uid: u32, gid: u32) -> (Option<Uid>, Option<Gid>) {
    (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
}

fn at_time(secs: i64) -> TimeSpec {
    TimeSpec::new(secs as _, 0)
}

/// Opens a root directory (the path itself may be anything the caller
/// chose; everything below it is confined).
pub fn open_root(path: &Path) -> io::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    Ok(nix::fcntl::open(path, flags, Mode::empty())?)
}

/// Opens the directory `name` in `dir`, refusing symlinks (ELOOP) and
/// non-directories (ENOTDIR).
pub fn open_dir(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    Ok(openat(dir, name, flags, Mode::empty())?)
}

/// Opens the regular file `name` in `dir` for reading, refusing a symlink.
pub fn open_file(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<File> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    Ok(File::from(openat(dir, name, flags, Mode::empty())?))
}

/// Creates directory `name` in `dir` with `mode` (less the umask).
pub fn mkdir(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> io::Result<()> {
    Ok(mkdirat(dir, name, Mode::from_bits_truncate(mode))?)
}

/// What exists at `name` in `dir`, without following a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    Symlink,
    Other,
}

/// The kind of `name` in `dir`, or `None` when it does not exist.
pub fn kind(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Option<Kind>> {
    let st = match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(nix::errno::Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    }))
}

/// The identity (device, inode) of `name` in `dir`, without following a
/// symlink, or `None` when it does not exist.
pub fn ident(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Option<(u64, u64)>> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some((st.st_dev, st.st_ino))),
        Err(nix::errno::Errno::ENOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Removes `name` in `dir` (a directory when `dir_flag`).
pub fn unlink(dir: BorrowedFd<'_>, name: &[u8], dir_flag: bool) -> io::Result<()> {
    let flags = if dir_flag {
        UnlinkatFlags::RemoveDir
    } else {
        UnlinkatFlags::NoRemoveDir
    };
    Ok(unlinkat(dir, name, flags)?)
}

/// Creates a new regular file, mode 0600 (never an existing one, never
/// through a symlink).
pub fn create_file(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<File> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    Ok(File::from(openat(
        dir,
        name,
        flags,
        Mode::from_bits_truncate(0o600),
    )?))
}

/// Creates symlink `name` in `dir` pointing at `target` (stored as is).
pub fn symlink(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    Ok(symlinkat(target, dir, name)?)
}

/// Hard-links `old_name` in `old_dir` as `new_name` in `new_dir` (a
/// symlink is linked itself, never followed).
pub fn hardlink(
    old_dir: BorrowedFd<'_>,
    old_name: &[u8],
    new_dir: BorrowedFd<'_>,
    new_name: &[u8],
) -> io::Result<()> {
    Ok(linkat(
        old_dir,
        old_name,
        new_dir,
        new_name,
        AtFlags::empty(),
    )?)
}

/// Renames `old_name` to `new_name`, both in `dir` (replacing atomically).
pub fn rename(dir: BorrowedFd<'_>, old_name: &[u8], new_name: &[u8]) -> io::Result<()> {
    Ok(nix::fcntl::renameat(dir, old_name, dir, new_name)?)
}

/// Sets the owner of `name` in `dir` without following a symlink.
pub fn chown_at(dir: BorrowedFd<'_>, name: &[u8], uid: u32, gid: u32) -> io::Result<()> {
    let (u, g) = ids(uid, gid);
    Ok(fchownat(dir, name, u, g, AtFlags::AT_SYMLINK_NOFOLLOW)?)
}

/// Sets the mtime (and atime) of `name` in `dir` without following a symlink.
pub fn set_mtime_at(dir: BorrowedFd<'_>, name: &[u8], mtime: i64) -> io::Result<()> {
    let t = at_time(mtime);
    Ok(utimensat(
        dir,
        name,
        &t,
        &t,
        UtimensatFlags::NoFollowSymlink,
    )?)
}

/// Owner, mode and mtime of an open file or directory, in the order that
/// keeps set-id bits (chown clears them, so chmod comes after).
pub fn set_meta_fd(
    fd: BorrowedFd<'_>,
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: Option<i64>,
) -> io::Result<()> {
    let (u, g) = ids(uid, gid);
    fchown(fd, u, g)?;
    fchmod(fd, Mode::from_bits_truncate(mode & 0o7777))?;
    if let Some(m) = mtime {
        let t = at_time(m);
        futimens(fd, &t, &t)?;
    }
    Ok(())
}
