//! A reproducible newc ("070701") cpio archive: entries sorted by path,
//! every mtime the same (SOURCE_DATE_EPOCH), uid/gid 0, inode numbers
//! 1, 2, 3… in that order, no hard links, parent directories implied.
//! Nothing of the building machine (owners, times, inode numbers) leaks in.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

/// What one path in the archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory with permission bits `mode`.
    Dir { mode: u32 },
    /// A regular file.
    File { mode: u32, data: Vec<u8> },
    /// A symbolic link to `target` (stored as written).
    Symlink { target: String },
    /// A character device node.
    CharDev { mode: u32, major: u32, minor: u32 },
}

/// The archive being assembled: paths are relative, without a leading `/`.
#[derive(Debug, Default)]
pub struct Archive {
    entries: BTreeMap<String, Node>,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

fn normalize(path: &str) -> Result<String> {
    let p = path.trim_start_matches('/').trim_end_matches('/');
    if p.is_empty() || p.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        bail!("bad archive path {path:?}");
    }
    Ok(p.to_string())
}

impl Archive {
    /// Adds `node` at `path`, and its missing parent directories (0755).
    /// Adding the same node twice is fine; a different node at a path
    /// already taken is an error (two sources disagree).
    pub fn add(&mut self, path: &str, node: Node) -> Result<()> {
        let p = normalize(path)?;
        let mut parent = String::new();
        for comp in p
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map(|x| x.1)
            .unwrap_or(&[])
        {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(comp);
            match self.entries.get(&parent) {
                None => {
                    self.entries
                        .insert(parent.clone(), Node::Dir { mode: 0o755 });
                }
                Some(Node::Dir { .. }) => {}
                Some(other) => bail!("{parent} is {other:?}, not a directory (needed for {p})"),
            }
        }
        match self.entries.get(&p) {
            None => {
                self.entries.insert(p, node);
                Ok(())
            }
            Some(old) if *old == node => Ok(()),
            // A directory implied first, then given explicitly.
            Some(Node::Dir { .. }) if matches!(node, Node::Dir { .. }) => {
                self.entries.insert(p, node);
                Ok(())
            }
            Some(old) => bail!("{p} added twice, differently ({old:?})"),
        }
    }

    /// Whether `path` is in the archive.
    pub fn contains(&self, path: &str) -> bool {
        normalize(path).is_ok_and(|p| self.entries.contains_key(&p))
    }

    /// The archive's paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The newc bytes, with `mtime` on every entry and the trailer.
    pub fn to_newc(&self, mtime: u64) -> Result<Vec<u8>> {
        let mtime =
            u32::try_from(mtime).map_err(|_| anyhow::anyhow!("mtime {mtime} does not fit newc"))?;
        let mut out = Vec::new();
        for (ino, (path, node)) in self.entries.iter().enumerate() {
            let (mode, nlink, data, rdev): (u32, u32, &[u8], (u32, u32)) = match node {
                Node::Dir { mode } => (S_IFDIR | mode, 2, &[], (0, 0)),
                Node::File { mode, data } => (S_IFREG | mode, 1, data, (0, 0)),
                Node::Symlink { target } => (S_IFLNK | 0o777, 1, target.as_bytes(), (0, 0)),
                Node::CharDev { mode, major, minor } => (S_IFCHR | mode, 1, &[], (*major, *minor)),
            };
            let ino = u32::try_from(ino + 1)?;
            header(&mut out, ino, mode, nlink, mtime, data.len(), rdev, path)?;
            out.extend_from_slice(data);
            pad4(&mut out);
        }
        header(&mut out, 0, 0, 1, 0, 0, (0, 0), "TRAILER!!!")?;
        Ok(out)
    }
}

#[allow(clippy::too_many_arguments)]
fn header(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    mtime: u32,
    size: usize,
    rdev: (u32, u32),
    name: &str,
) -> Result<()> {
    let size = u32::try_from(size).map_err(|_| anyhow::anyhow!("{name}: too big for newc"))?;
    let namesize = u32::try_from(name.len() + 1)?;
    // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
    // rdevmajor, rdevminor, namesize, check
    let fields = [
        ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev.0, rdev.1, namesize, 0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    Ok(())
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() & 3 != 0 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_implied_and_sorted() {
        let mut a = Archive::default();
        a.add(
            "/usr/bin/busybox",
            Node::File {
                mode: 0o755,
                data: b"x".to_vec(),
            },
        )
        .unwrap();
        a.add(
            "bin",
            Node::Symlink {
                target: "usr/bin".into(),
            },
        )
        .unwrap();
        a.add("usr-x", Node::Dir { mode: 0o700 }).unwrap();
        let paths: Vec<_> = a.paths().collect();
        assert_eq!(paths, ["bin", "usr", "usr-x", "usr/bin", "usr/bin/busybox"]);
        assert!(a.add("bin", Node::Dir { mode: 0o755 }).is_err());
        assert!(a.add("bin/sh", Node::Dir { mode: 0o755 }).is_err());
        assert!(a.add("../etc", Node::Dir { mode: 0o755 }).is_err());
    }

    #[test]
    fn newc_layout_is_fixed() {
        let mut a = Archive::default();
        a.add(
            "init",
            Node::File {
                mode: 0o755,
                data: b"#!/bin/sh\n".to_vec(),
            },
        )
        .unwrap();
        let bytes = a.to_newc(1_700_000_000).unwrap();
        let head = std::str::from_utf8(&bytes[..110]).unwrap();
        // ino 1, regular 0755, uid 0, gid 0, nlink 1, mtime, size 10, ..., namesize 5
        assert_eq!(
            head,
            "07070100000001000081ED000000000000000000000001\
             6553F1000000000A00000000000000000000000000000000000000050000000\
             0"
        );
        assert_eq!(&bytes[110..115], b"init\0");
        // 110 + 5 = 115 -> padded to 116; data 10 -> 126 -> 128
        assert_eq!(&bytes[116..126], b"#!/bin/sh\n");
        assert_eq!(&bytes[128..134], b"070701");
        assert!(bytes.windows(10).any(|w| w == b"TRAILER!!!"));
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(bytes, a.to_newc(1_700_000_000).unwrap());
    }
}
