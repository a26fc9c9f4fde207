//! Registering an installed package in the target's pkm database
//! (`ROOT/var/lib/pkm/local/<name>/{desc,files,install}`; layout in
//! docs/package-format.md). Written with the same confined operations as the
//! archive contents, so a symlink planted by a package cannot redirect it.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;

use super::extract::{Extracted, RecordKind};
use super::tree::{Step, Tree};
use crate::confined::at;
use crate::index::PackageEntry;
use crate::PayloadError;

/// The pkm database of installed packages, relative to the root.
pub const PKM_DB_DIR: &str = "var/lib/pkm/local";

fn desc(entry: &PackageEntry, archive_sha256: &str) -> Vec<u8> {
    let mut s = format!(
        "name = {}\nversion = {}\ntier = {}\narchive = {}\narchive_sha256 = {}\ninstalled_size = {}\n",
        entry.name, entry.version, entry.tier, entry.file, archive_sha256, entry.installed_size
    );
    for d in &entry.depends {
        s.push_str(&format!("depend = {d}\n"));
    }
    for u in &entry.services {
        s.push_str(&format!("service = {u}\n"));
    }
    s.into_bytes()
}

fn files(ex: &Extracted) -> Vec<u8> {
    let mut out = Vec::new();
    let mut recs: Vec<_> = ex.records.iter().collect();
    recs.sort_by(|a, b| a.path.cmp(&b.path));
    recs.dedup_by(|a, b| a.path == b.path);
    for r in recs {
        match &r.kind {
            RecordKind::File { sha256, mode } => {
                out.extend_from_slice(format!("f {sha256} {mode:04o} /").as_bytes());
                out.extend_from_slice(&r.path);
            }
            RecordKind::Dir { mode } => {
                out.extend_from_slice(format!("d - {mode:04o} /").as_bytes());
                out.extend_from_slice(&r.path);
            }
            RecordKind::Symlink { target } => {
                out.extend_from_slice(b"l - 0777 /");
                out.extend_from_slice(&r.path);
                out.extend_from_slice(b" -> ");
                out.extend_from_slice(target);
            }
        }
        out.push(b'\n');
    }
    out
}

fn write(tree: &mut Tree, dir: &[&[u8]], name: &str, data: &[u8], mode: u32) -> Result<(), Step> {
    let fd = tree.dir(dir)?;
    Tree::clear_for_file(&fd, name.as_bytes())?;
    let mut f = at::create_file(fd.as_fd(), name.as_bytes())?;
    f.write_all(data)?;
    at::set_meta_fd(f.as_fd(), 0, 0, mode, None)?;
    Ok(())
}

/// Writes the package's `desc`, `files` and (if any) `install`. Returns the
/// path of the saved install script inside the root (`/var/lib/pkm/...`).
pub fn register(
    tree: &mut Tree,
    entry: &PackageEntry,
    archive_sha256: &str,
    ex: &Extracted,
) -> Result<Option<PathBuf>, PayloadError> {
    let rel = format!("{PKM_DB_DIR}/{}", entry.name);
    let comps: Vec<&[u8]> = rel.split('/').map(str::as_bytes).collect();
    let err = |s: Step| match s {
        Step::Io(e) => PayloadError::io(format!("/{rel}"), e),
        Step::Unsafe(reason) => PayloadError::UnsafeEntry {
            path: PathBuf::from(format!("/{rel}")),
            entry: rel.clone(),
            reason,
        },
        Step::Corrupt(reason) => PayloadError::Index {
            path: PathBuf::from(format!("/{rel}")),
            reason,
        },
    };
    write(tree, &comps, "desc", &desc(entry, archive_sha256), 0o644).map_err(err)?;
    write(tree, &comps, "files", &files(ex), 0o644).map_err(err)?;
    match &ex.install {
        Some(script) => {
            write(tree, &comps, "install", script, 0o755).map_err(err)?;
            Ok(Some(PathBuf::from(format!("/{rel}/install"))))
        }
        None => {
            // A re-deployment must not leave an older version's script behind.
            let fd = tree.dir(&comps).map_err(err)?;
            Tree::clear_for_file(&fd, b"install").map_err(err)?;
            Ok(None)
        }
    }
}
