//! Copying files from the live root tree into the archive at the same
//! paths. Symbolic links are resolved inside the tree (an absolute link
//! target means the tree's root, never the host's), and every link met on
//! the way (merged /usr's `/lib -> usr/lib`, `libfoo.so.1 -> libfoo.so.1.2`)
//! is copied too, so the initramfs has the tree's layout and the dynamic
//! loader finds libraries where the tree's binaries expect them.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::cpio::{Archive, Node};
use super::elf;

/// Where the loader looks for libraries (Debian's multiarch layout).
const LIB_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// The live tree, read-only.
pub struct Tree<'a> {
    root: &'a Path,
}

impl<'a> Tree<'a> {
    pub fn new(root: &'a Path) -> Tree<'a> {
        Tree { root }
    }

    /// Resolves `path` (absolute, in the tree) to the path of a
    /// non-symlink, recording the symbolic links met on the way into
    /// `links` as (link path, target). Errors when it does not exist.
    fn resolve(&self, path: &str, links: &mut Vec<(String, String)>) -> Result<String> {
        let mut done: Vec<String> = Vec::new();
        let mut todo: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let mut hops = 0;
        while let Some(comp) = todo.pop() {
            match comp.as_str() {
                "" | "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            done.push(comp);
            let rel = done.join("/");
            let host = self.root.join(&rel);
            let meta = std::fs::symlink_metadata(&host).with_context(|| {
                format!("/{rel} is not in the live tree {}", self.root.display())
            })?;
            if meta.file_type().is_symlink() {
                hops += 1;
                if hops > 40 {
                    bail!("too many symbolic links resolving {path} in the live tree");
                }
                let target = std::fs::read_link(&host)?;
                let target = target
                    .to_str()
                    .context("non-UTF-8 link target")?
                    .to_string();
                links.push((rel, target.clone()));
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                todo.extend(target.split('/').rev().map(str::to_string));
            }
        }
        Ok(format!("/{}", done.join("/")))
    }

    /// Whether `path` exists in the tree (following links inside it).
    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path, &mut Vec::new()).is_ok()
    }

    /// Copies the file at `path` (and the links leading to it) into
    /// `archive`; returns its real path (no links) and its bytes.
    pub fn copy_file(&self, archive: &mut Archive, path: &str) -> Result<(String, Vec<u8>)> {
        let mut links = Vec::new();
        let real = self.resolve(path, &mut links)?;
        let host = self.root.join(real.trim_start_matches('/'));
        let meta = std::fs::metadata(&host)?;
        if !meta.is_file() {
            bail!("{path} in the live tree is not a regular file");
        }
        for (link, target) in links {
            archive.add(&link, Node::Symlink { target })?;
        }
        let data = std::fs::read(&host).with_context(|| format!("reading {}", host.display()))?;
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        archive.add(
            &real,
            Node::File {
                mode,
                data: data.clone(),
            },
        )?;
        Ok((real, data))
    }

    /// Copies the ELF program at `path`, its interpreter and every library
    /// it needs, transitively, found in the tree's library directories.
    pub fn copy_program(&self, archive: &mut Archive, path: &str) -> Result<()> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![path.to_string()];
        while let Some(p) = todo.pop() {
            if !seen.insert(p.clone()) {
                continue;
            }
            let (_, bytes) = self.copy_file(archive, &p)?;
            let d = elf::dynamic(&bytes).with_context(|| format!("reading {p} as ELF"))?;
            if let Some(interp) = d.interp {
                todo.push(interp);
            }
            for soname in d.needed {
                let lib = LIB_DIRS
                    .iter()
                    .map(|dir| format!("{dir}/{soname}"))
                    .find(|cand| self.exists(cand))
                    .with_context(|| {
                        format!("{p} needs {soname}, which is not in the live tree")
                    })?;
                todo.push(lib);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_resolve_inside_the_tree_and_are_copied() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("usr/lib/x86_64-linux-gnu")).unwrap();
        symlink("usr/lib", r.join("lib")).unwrap();
        std::fs::write(r.join("usr/lib/x86_64-linux-gnu/libx.so.1.2"), b"lib").unwrap();
        symlink("libx.so.1.2", r.join("usr/lib/x86_64-linux-gnu/libx.so.1")).unwrap();
        // An absolute link means the tree's root, not the host's.
        symlink("/lib/x86_64-linux-gnu/libx.so.1", r.join("usr/lib/abs")).unwrap();
        let tree = Tree::new(r);
        let mut a = Archive::default();
        let (real, data) = tree.copy_file(&mut a, "/usr/lib/abs").unwrap();
        assert_eq!(
            (real.as_str(), data.as_slice()),
            ("/usr/lib/x86_64-linux-gnu/libx.so.1.2", b"lib".as_slice())
        );
        let paths: Vec<_> = a.paths().collect();
        assert_eq!(
            paths,
            [
                "lib",
                "usr",
                "usr/lib",
                "usr/lib/abs",
                "usr/lib/x86_64-linux-gnu",
                "usr/lib/x86_64-linux-gnu/libx.so.1",
                "usr/lib/x86_64-linux-gnu/libx.so.1.2"
            ]
        );
        assert!(tree.copy_file(&mut a, "/lib/missing.so").is_err());
        assert!(!tree.exists("/etc/passwd"));
    }
}
