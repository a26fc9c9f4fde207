//! SHA-256 of files and of whole directory trees (path, type, mode, owner,
//! link target and content of every entry, in sorted order), for the
//! manifest and for deriving the dm-verity salt and UUID.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Hex SHA-256 of a file's bytes.
pub fn file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Hex SHA-256 of bytes.
pub fn bytes(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Hex SHA-256 over a sorted walk of `root` (timestamps excluded: they are
/// clamped on the medium anyway).
pub fn tree(root: &Path) -> Result<String> {
    let mut h = Sha256::new();
    walk(root, Path::new(""), &mut h)?;
    Ok(hex::encode(h.finalize()))
}

fn walk(root: &Path, rel: &Path, h: &mut Sha256) -> Result<()> {
    let dir = root.join(rel);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    names.sort();
    for name in names {
        let rel = rel.join(&name);
        let path = root.join(&rel);
        let md =
            std::fs::symlink_metadata(&path).with_context(|| format!("stat {}", path.display()))?;
        h.update(rel.as_os_str().as_encoded_bytes());
        h.update(format!("\0{:o}:{}:{}\0", md.mode(), md.uid(), md.gid()).as_bytes());
        if md.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            h.update(target.as_os_str().as_encoded_bytes());
        } else if md.is_file() {
            h.update(file(&path)?.as_bytes());
        } else if md.is_dir() {
            walk(root, &rel, h)?;
        } else {
            h.update(md.rdev().to_le_bytes());
        }
        h.update(b"\n");
    }
    Ok(())
}
