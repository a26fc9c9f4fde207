//! Resolving a path inside a root the way the installed system will see it
//! (the semantics of openat2's `RESOLVE_IN_ROOT`): symlinks are followed,
//! but an absolute link starts again at the root and `..` never climbs
//! above it. The answer is a path relative to the root with no symlink in
//! it, so a host tool handed `root.join(answer)` (grub-install's boot
//! directory, grub-mkimage's module directory, sbsign's key) touches only
//! what lies inside the target, while merged-/usr layouts (`bin -> usr/bin`,
//! `lib -> usr/lib`) keep working. Done in user space, one `lstat` and
//! `readlink` per component on paths that contain no symlink; the targets
//! are written only by FORGE up to this point (no package code has run), so
//! nothing races the walk.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// More symlinks than this on one path is a loop (Linux's limit).
const MAX_LINKS: usize = 40;

/// `rel` resolved inside `root` (see the module doc): every component
/// exists, every one but the last is a directory, none is a symlink. The
/// error names the path in the target and, for a symlink that leads
/// nowhere inside it, where the link points; its kind is `NotFound` only
/// when no symlink was followed on the way (a plain missing path), and
/// `InvalidInput` for a link into nothing.
pub fn resolve_in_root(root: &Path, rel: &Path) -> io::Result<PathBuf> {
    let shown = Path::new("/").join(rel.strip_prefix("/").unwrap_or(rel));
    // Components still to walk, last one at the end of the vector's front.
    let mut todo: Vec<OsString> = Vec::new();
    push_front(&mut todo, rel);
    let mut done: Vec<OsString> = Vec::new();
    let mut links = 0usize;
    let mut via: Option<(PathBuf, PathBuf)> = None;
    while let Some(name) = todo.pop() {
        if name == ".." {
            done.pop();
            continue;
        }
        let here: PathBuf = done.iter().collect::<PathBuf>().join(&name);
        let meta = match std::fs::symlink_metadata(root.join(&here)) {
            Ok(m) => m,
            Err(e) => {
                let kind = match &via {
                    Some(_) if e.kind() == io::ErrorKind::NotFound => io::ErrorKind::InvalidInput,
                    _ => e.kind(),
                };
                let why = match &via {
                    Some((link, to)) => format!(
                        "{} (the symlink {} points to {}, which is not inside the target)",
                        Path::new("/").join(&here).display(),
                        link.display(),
                        to.display()
                    ),
                    None => Path::new("/").join(&here).display().to_string(),
                };
                return Err(io::Error::new(
                    kind,
                    format!("{}: {why}: {e}", shown.display()),
                ));
            }
        };
        if meta.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(io::Error::other(format!(
                    "{}: too many levels of symbolic links inside the target",
                    shown.display()
                )));
            }
            let to = std::fs::read_link(root.join(&here))?;
            via = Some((Path::new("/").join(&here), to.clone()));
            if to.is_absolute() {
                done.clear();
            }
            push_front(&mut todo, &to);
            continue;
        }
        if !todo.is_empty() && !meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!(
                    "{}: {} is not a directory",
                    shown.display(),
                    Path::new("/").join(&here).display()
                ),
            ));
        }
        done.push(name);
    }
    Ok(done.iter().collect())
}

/// Puts `path`'s components in front of what is still to walk (`todo` is
/// a stack: its last element is walked next).
fn push_front(todo: &mut Vec<OsString>, path: &Path) {
    for c in path.components().rev() {
        match c {
            Component::Normal(n) => todo.push(n.to_os_string()),
            Component::ParentDir => todo.push("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn merged_usr_resolves_within_the_root() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("usr/lib/modules/6.1")).unwrap();
        symlink("usr/lib", r.join("lib")).unwrap();
        symlink("/usr/lib/modules", r.join("usr/mods")).unwrap();
        assert_eq!(
            resolve_in_root(r, Path::new("/lib/modules/6.1")).unwrap(),
            Path::new("usr/lib/modules/6.1")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("usr/mods/../../lib/modules")).unwrap(),
            Path::new("usr/lib/modules")
        );
    }

    #[test]
    fn links_out_of_the_root_stay_in_it_or_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        symlink(outside.path(), r.join("boot")).unwrap();
        symlink("../../../../../..", r.join("etc/up")).unwrap();
        let e = resolve_in_root(r, Path::new("boot"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/boot") && e.contains(&outside.path().display().to_string()),
            "{e}"
        );
        // `..` stops at the root.
        assert_eq!(
            resolve_in_root(r, Path::new("etc/up/etc")).unwrap(),
            Path::new("etc")
        );
        symlink("loop", r.join("loop")).unwrap();
        assert!(resolve_in_root(r, Path::new("loop")).is_err());
    }
}
