//! The live initramfs (Interface 3 of the session plan, docs/live-medium.md):
//! a reproducible newc cpio, gzip-compressed, holding
//!
//! - `/init`: the live init, `crates/forge-iso/init/init.sh` (POSIX shell);
//! - busybox (static, from the tree's busybox-static) as its shell and tools;
//! - `veritysetup` and the shared libraries it needs (DT_NEEDED, resolved in
//!   the tree, never on the host);
//! - the kernel modules the init loads, with their dependencies from the
//!   tree's `modules.dep`, and `/etc/forge-live/modules`, their load order;
//! - for the development UKI only: `/etc/forge-live/squashfs.sha256`, the
//!   whole-file SHA-256 the init checks the squashfs against when the command
//!   line has no `igos.verity.roothash=` (the trust anchor: it is inside the
//!   signed UKI, unlike the medium's `/live/filesystem.sha256`).
//!
//! Everything comes from the live tree, so the initramfs matches the kernel
//! and the libraries the live system boots with. Same inputs, same bytes:
//! entries sorted, mtime = SOURCE_DATE_EPOCH, uid/gid 0, inodes numbered in
//! order (cpio.rs), gzip with a fixed level and no name or time in its header.

mod cpio;
mod elf;
mod modules;
mod tree;

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};

pub use cpio::{Archive, Node};
use modules::ModuleDeps;
use tree::Tree;

/// The live init script, as it goes to `/init`.
pub const INIT_SH: &str = include_str!("../../init/init.sh");

/// Where the init reads the module load order (one absolute path a line).
pub const MODULES_LIST: &str = "/etc/forge-live/modules";
/// Where the development initramfs carries the trusted SHA-256 (hex, one line).
pub const TRUSTED_SHA256: &str = "/etc/forge-live/squashfs.sha256";

/// Modules the init needs: the medium (CD-ROM on virtio-scsi or IDE, disk on
/// virtio-blk, IDE or virtio-scsi), the filesystems, loop and dm-verity.
pub const MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "ata_piix",
    "sd_mod",
    "sr_mod",
    "isofs",
    "loop",
    "dm_verity",
    "squashfs",
    "overlay",
];
/// Loaded when the kernel has them as modules (names differ between builds).
pub const OPTIONAL_MODULES: &[&str] = &[
    "ata_generic",
    "ahci",
    "nvme",
    "usb_storage",
    "uas",
    "xhci_pci",
    "ehci_pci",
    "nls_utf8",
    "sha256_generic",
    "sha256_ssse3",
];

/// What the initramfs is built from.
pub struct InitramfsInput<'a> {
    /// The live root tree (has busybox (static), veritysetup + libs, kernel modules).
    pub tree: &'a Path,
    /// e.g. "6.1.0-28-cloud-amd64": /lib/modules/<it> in the tree.
    pub kernel_release: &'a str,
    /// Some(hex) for the development UKI: the SHA-256 fallback's trust
    /// anchor, carried in the initramfs.
    pub squashfs_sha256: Option<&'a str>,
    /// Every mtime in the archive.
    pub source_date_epoch: u64,
}

/// The initramfs: a reproducible newc cpio, gzip-compressed.
pub fn build(input: &InitramfsInput) -> Result<Vec<u8>> {
    let cpio = archive(input)?.to_newc(input.source_date_epoch)?;
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&cpio)?;
    Ok(gz.finish()?)
}

/// The initramfs's content, before it is serialized.
pub fn archive(input: &InitramfsInput) -> Result<Archive> {
    let tree = Tree::new(input.tree);
    let mut a = Archive::default();
    for dir in [
        "dev",
        "proc",
        "sys",
        "run",
        "tmp",
        "newroot",
        "etc/forge-live",
    ] {
        a.add(dir, Node::Dir { mode: 0o755 })?;
    }
    // The kernel opens /dev/console before /init runs (devtmpfs comes later).
    a.add(
        "dev/console",
        Node::CharDev {
            mode: 0o600,
            major: 5,
            minor: 1,
        },
    )?;
    a.add(
        "dev/null",
        Node::CharDev {
            mode: 0o666,
            major: 1,
            minor: 3,
        },
    )?;
    a.add(
        "init",
        Node::File {
            mode: 0o755,
            data: INIT_SH.as_bytes().to_vec(),
        },
    )?;
    // Merged /usr: /bin -> usr/bin and the like, as in the tree (#!/bin/sh).
    for top in ["bin", "sbin", "lib", "lib64"] {
        let p = input.tree.join(top);
        if p.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            let target = std::fs::read_link(&p)?;
            let target = target.to_str().context("non-UTF-8 link")?.to_string();
            a.add(top, Node::Symlink { target })?;
        }
    }

    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .find(|p| tree.exists(p))
        .context("no busybox in the live tree (install busybox-static)")?;
    let (real, bytes) = tree.copy_file(&mut a, busybox)?;
    if elf::dynamic(&bytes)?.interp.is_some() {
        bail!("{busybox} in the live tree is not static (install busybox-static)");
    }
    // /bin/sh for /init's #! line; the init installs the other applets.
    let dir = real.rsplit_once('/').map_or("", |x| x.0);
    a.add(
        &format!("{dir}/sh"),
        Node::Symlink {
            target: "busybox".into(),
        },
    )?;

    let veritysetup = ["/usr/sbin/veritysetup", "/sbin/veritysetup"]
        .into_iter()
        .find(|p| tree.exists(p))
        .context("no veritysetup in the live tree (install cryptsetup-bin)")?;
    tree.copy_program(&mut a, veritysetup)?;

    let kr = input.kernel_release;
    if kr.is_empty() || kr.contains('/') {
        bail!("bad kernel release {kr:?}");
    }
    let mdir = format!("/lib/modules/{kr}");
    let read = |name: &str| -> Result<String> {
        let p = input.tree.join(mdir.trim_start_matches('/')).join(name);
        std::fs::read_to_string(&p)
            .with_context(|| format!("reading {} (kernel {kr})", p.display()))
    };
    let deps = ModuleDeps::parse(&read("modules.dep")?, &read("modules.builtin")?)?;
    let mut list = String::new();
    for file in deps.load_order(MODULES, OPTIONAL_MODULES)? {
        let path = format!("{mdir}/{file}");
        tree.copy_file(&mut a, &path)?;
        list.push_str(&path);
        list.push('\n');
    }
    a.add(
        MODULES_LIST,
        Node::File {
            mode: 0o644,
            data: list.into_bytes(),
        },
    )?;

    if let Some(hex) = input.squashfs_sha256 {
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            bail!("squashfs_sha256 {hex:?} is not 64 lowercase hex digits");
        }
        a.add(
            TRUSTED_SHA256,
            Node::File {
                mode: 0o644,
                data: format!("{hex}\n").into_bytes(),
            },
        )?;
    }
    Ok(a)
}
