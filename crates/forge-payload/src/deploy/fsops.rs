//! Confined filesystem operations relative to directory file descriptors.
//! Nothing here follows a symlink: directories are opened component by
//! component with `O_NOFOLLOW | O_DIRECTORY`, files are created with
//! `O_EXCL | O_NOFOLLOW`, metadata calls use `AT_SYMLINK_NOFOLLOW`.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cstr(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Opens the root directory of a deployment (the root path itself may be
/// anything the caller chose; everything below it is confined).
pub fn open_root(path: &Path) -> io::Result<OwnedFd> {
    let c = cstr(path.as_os_str().as_bytes())?;
    // SAFETY: valid NUL-terminated path; the returned fd is owned below.
    let fd = check(unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens the directory `name` in `dir`, refusing symlinks (ELOOP) and
/// non-directories (ENOTDIR).
pub fn open_dir(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: valid dirfd and NUL-terminated name.
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates directory `name` in `dir` with `mode`.
pub fn mkdir(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: valid dirfd and NUL-terminated name.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) }).map(|_| ())
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
    let c = cstr(name)?;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid dirfd, name, and a stat buffer to fill.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::NotFound {
            Ok(None)
        } else {
            Err(e)
        };
    }
    // SAFETY: fstatat succeeded, so st is initialized.
    let mode = unsafe { st.assume_init() }.st_mode & libc::S_IFMT;
    Ok(Some(match mode {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    }))
}

/// Removes `name` in `dir` (a directory when `dir_flag`).
pub fn unlink(dir: BorrowedFd<'_>, name: &[u8], dir_flag: bool) -> io::Result<()> {
    let c = cstr(name)?;
    let flags = if dir_flag { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: valid dirfd and NUL-terminated name.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), flags) }).map(|_| ())
}

/// Creates a new regular file (never an existing one, never through a symlink).
pub fn create_file(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<File> {
    let c = cstr(name)?;
    // SAFETY: valid dirfd and NUL-terminated name.
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o600 as libc::c_uint,
        )
    })?;
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Creates symlink `name` in `dir` pointing at `target`.
pub fn symlink(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    let (t, c) = (cstr(target)?, cstr(name)?);
    // SAFETY: valid strings and dirfd.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), c.as_ptr()) }).map(|_| ())
}

/// Hard-links `old_name` in `old_dir` as `new_name` in `new_dir` (flags 0:
/// a symlink is linked itself, never followed).
pub fn hardlink(
    old_dir: BorrowedFd<'_>,
    old_name: &[u8],
    new_dir: BorrowedFd<'_>,
    new_name: &[u8],
) -> io::Result<()> {
    let (o, n) = (cstr(old_name)?, cstr(new_name)?);
    // SAFETY: valid strings and dirfds.
    check(unsafe {
        libc::linkat(
            old_dir.as_raw_fd(),
            o.as_ptr(),
            new_dir.as_raw_fd(),
            n.as_ptr(),
            0,
        )
    })
    .map(|_| ())
}

/// Sets owner (no follow) of `name` in `dir`.
pub fn chown_at(dir: BorrowedFd<'_>, name: &[u8], uid: u32, gid: u32) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: valid dirfd and NUL-terminated name.
    check(unsafe {
        libc::fchownat(
            dir.as_raw_fd(),
            c.as_ptr(),
            uid,
            gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(|_| ())
}

/// Sets the mtime (and atime) of `name` in `dir` without following a symlink.
pub fn set_mtime_at(dir: BorrowedFd<'_>, name: &[u8], mtime: i64) -> io::Result<()> {
    let c = cstr(name)?;
    let ts = libc::timespec {
        tv_sec: mtime as libc::time_t,
        tv_nsec: 0,
    };
    let times = [ts, ts];
    // SAFETY: valid dirfd, name and a two-element timespec array.
    check(unsafe {
        libc::utimensat(
            dir.as_raw_fd(),
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(|_| ())
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
    let raw = fd.as_raw_fd();
    // SAFETY: valid fd for all three calls.
    check(unsafe { libc::fchown(raw, uid, gid) })?;
    // SAFETY: as above.
    check(unsafe { libc::fchmod(raw, (mode & 0o7777) as libc::mode_t) })?;
    if let Some(m) = mtime {
        let ts = libc::timespec {
            tv_sec: m as libc::time_t,
            tv_nsec: 0,
        };
        let times = [ts, ts];
        // SAFETY: valid fd and a two-element timespec array.
        check(unsafe { libc::futimens(raw, times.as_ptr()) })?;
    }
    Ok(())
}
