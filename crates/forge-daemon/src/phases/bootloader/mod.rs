//! Phase `bootloader`: GRUB for the installed system.
//!
//! EFI: a standalone GRUB image (`grub-mkimage -O x86_64-efi`, every module
//! the boot needs built in, because a Secure Boot GRUB cannot load modules,
//! with the SBAT metadata shim requires), signed with the MOK key (`sbsign`).
//! With shim in the target (shim-signed's `shimx64.efi.signed`) the ESP gets
//! `EFI/BOOT/BOOTX64.EFI` = shim, `EFI/BOOT/grubx64.efi` = our GRUB and
//! `EFI/BOOT/mmx64.efi` = MokManager; without shim, GRUB itself is
//! `BOOTX64.EFI`. `EFI/BOOT/grub.cfg` boots the installed kernel and initrd
//! with `root=UUID=`. The ESP is written with mtools, never mounted.
//!
//! BIOS: `grub-install --target=i386-pc` onto the disk (core image in the
//! BIOS boot partition) and `/boot/grub/grub.cfg` in the root.
//!
//! GRUB modules come from the target (`/usr/lib/grub/<platform>`, what the
//! payload's GRUB packages deployed) so the boot loader matches the
//! installed distribution; the live system's modules are the fallback.
//!
//! Every path in the target handed to a host tool (the boot directory for
//! grub-install, the module directory for grub-mkimage, the MOK key and
//! certificate for sbsign) and every lookup (kernels, os-release) is first
//! resolved inside the target with [`confined::resolve_in_root`]: symlinks
//! are followed the way the installed system will see them (merged /usr
//! works) and never lead out of it; one that leads nowhere inside it is
//! refused with an error naming the path. A module directory holding a
//! symlink is refused (grub-mkimage would embed the file it points at).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_proto::i18n::tr;
use forge_proto::BootMode;

use crate::pipeline::{JobContext, PhaseError};
use forge_payload::confined;

mod efi;

pub use efi::{DEFAULT_SBAT, EFI_MODULES};

const TIMEOUT: Duration = Duration::from_secs(300);

/// The newest kernel in the target's /boot and its initrd, as paths on the
/// root file system (`/boot/vmlinuz-6.1.0-28-cloud-amd64`).
pub fn find_kernel(root: &Path) -> Option<(String, Option<String>)> {
    let boot = root.join(confined::resolve_in_root(root, Path::new("boot")).ok()?);
    let mut versions: Vec<String> = std::fs::read_dir(&boot)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("vmlinuz-").map(str::to_string)
        })
        .collect();
    versions.sort_by(|a, b| version_cmp(a, b));
    let v = versions.pop()?;
    let initrd = [
        format!("initrd.img-{v}"),
        format!("initramfs-{v}.img"),
        format!("initrd-{v}"),
    ]
    .into_iter()
    .find(|n| {
        std::fs::symlink_metadata(boot.join(n))
            .map(|m| !m.is_dir())
            .unwrap_or(false)
    })
    .map(|n| format!("/boot/{n}"));
    Some((format!("/boot/vmlinuz-{v}"), initrd))
}

/// Compares version strings number by number ("6.1.0-28" < "6.1.0-112").
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<(u64, String)> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .map(|p| (p.parse().unwrap_or(0), p.to_string()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// grub.cfg: find the root file system by UUID, boot the kernel with
/// `root=UUID=`, console on screen and on the first serial port.
pub fn grub_cfg(root_uuid: &str, kernel: Option<&(String, Option<String>)>, title: &str) -> String {
    // The serial terminal only for BIOS: under EFI, GRUB's console already
    // reaches the serial port through the firmware (docs/boot-chain.md).
    let mut s = String::from(
        "# GRUB configuration written by FORGE.\nset timeout=0\nset default=0\nif [ \"$grub_platform\" = \"pc\" ]; then\n  serial --unit=0 --speed=115200\n  terminal_input serial console\n  terminal_output serial console\nfi\n",
    );
    match kernel {
        Some((k, initrd)) => {
            s.push_str(&format!("menuentry '{title}' {{\n"));
            s.push_str(&format!(
                "\tsearch --no-floppy --fs-uuid --set=root {root_uuid}\n"
            ));
            s.push_str(&format!(
                "\tlinux {k} root=UUID={root_uuid} ro console=tty0 console=ttyS0,115200\n"
            ));
            if let Some(i) = initrd {
                s.push_str(&format!("\tinitrd {i}\n"));
            }
            s.push_str("}\n");
        }
        None => {
            s.push_str(&format!(
                "search --no-floppy --fs-uuid --set=root {root_uuid}\n"
            ));
            s.push_str("echo 'No kernel was installed.'\n");
        }
    }
    s
}

/// The distribution's name from the target's os-release (for the menu).
fn os_name(root: &Path) -> String {
    let text = read_in_target(root, Path::new("etc/os-release"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').replace('\'', ""))
        .unwrap_or_else(|| "InterGenOS".into())
}

/// The contents of the regular file `rel` of the target, symlinks resolved
/// inside it; `None` when it is missing or leads out of the target.
pub(crate) fn read_in_target(root: &Path, rel: &Path) -> Option<Vec<u8>> {
    let p = confined::resolve_in_root(root, rel).ok()?;
    confined::read_file(root, &p).ok().flatten()
}

/// `rel` in the target as a host path that stays inside it (see the module
/// doc), or an error naming the path.
pub(crate) fn in_target(root: &Path, rel: &Path) -> Result<PathBuf, PhaseError> {
    let rel = rel.strip_prefix("/").unwrap_or(rel);
    confined::resolve_in_root(root, rel)
        .map(|p| root.join(p))
        .map_err(|e| refused(&e))
}

fn refused(e: &std::io::Error) -> PhaseError {
    PhaseError::new(
        tr("Could not install the boot loader"),
        format!("refusing to run a host tool on a path of the target: {e}"),
    )
}

/// The directory `rel` of the target (created when missing, without
/// following any symlink), as a path relative to the root with every
/// symlink resolved inside the target.
pub(crate) fn dir_in_target(root: &Path, rel: &Path) -> Result<PathBuf, PhaseError> {
    let parent = match rel.parent() {
        Some(p) if !p.as_os_str().is_empty() => dir_in_target(root, p)?,
        _ => PathBuf::new(),
    };
    let here = match rel.file_name() {
        Some(name) => parent.join(name),
        None => return Ok(parent),
    };
    if let Err(e) = std::fs::symlink_metadata(root.join(&here)) {
        if e.kind() == std::io::ErrorKind::NotFound {
            confined::open_dir(root, &here, true).map_err(|e| refused(&e))?;
        }
    }
    let p = confined::resolve_in_root(root, &here).map_err(|e| refused(&e))?;
    if !std::fs::symlink_metadata(root.join(&p)).is_ok_and(|m| m.is_dir()) {
        return Err(refused(&std::io::Error::other(format!(
            "/{} is not a directory",
            rel.display()
        ))));
    }
    Ok(p)
}

/// The GRUB module directory for `platform`: the target's, else the host's.
/// The target's is refused (error naming it) when it leads out of the
/// target or holds a symlink.
pub fn module_dir(root: &Path, platform: &str) -> Result<Option<PathBuf>, PhaseError> {
    let rel = Path::new("usr/lib/grub").join(platform);
    match confined::resolve_in_root(root, &rel) {
        Ok(p) => {
            let dir = root.join(p);
            let entries = std::fs::read_dir(&dir).map_err(|e| refused(&e))?;
            for e in entries {
                let e = e.map_err(|e| refused(&e))?;
                if e.file_type().map_err(|e| refused(&e))?.is_symlink() {
                    return Err(refused(&std::io::Error::other(format!(
                        "/{}/{} is a symlink (GRUB modules must be regular files)",
                        rel.display(),
                        e.file_name().to_string_lossy()
                    ))));
                }
            }
            if std::fs::symlink_metadata(dir.join("normal.mod")).is_ok_and(|m| m.is_file()) {
                return Ok(Some(dir));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(refused(&e)),
    }
    let host = Path::new("/usr/lib/grub").join(platform);
    Ok(host.join("normal.mod").is_file().then_some(host))
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let mode = ctx.state.boot_mode()?;
    if ctx.dry_run {
        match mode {
            BootMode::Bios => {
                ctx.operation(&tr(
                    "install GRUB for BIOS (grub-install --target=i386-pc) on the disk",
                ));
                ctx.operation(&tr(
                    "write /boot/grub/grub.cfg booting the installed kernel with root=UUID",
                ));
            }
            _ => {
                ctx.operation(&tr(
                    "build a GRUB EFI image with SBAT metadata (grub-mkimage) and sign it with the Machine Owner Key (sbsign)",
                ));
                ctx.operation(&tr(
                    "write EFI/BOOT/BOOTX64.EFI (shim when installed), grubx64.efi and grub.cfg to the EFI system partition (mtools)",
                ));
            }
        }
        return Ok(());
    }
    let failed = tr("Could not install the boot loader");
    let (root, uuid) = (ctx.state.root()?, ctx.state.root_uuid()?);
    let kernel = find_kernel(&root);
    match &kernel {
        Some((k, i)) => ctx.log_line(&format!(
            "kernel {k}, initrd {}",
            i.as_deref().unwrap_or("(none)")
        )),
        None => ctx.warn(tr(
            "No kernel was installed (nothing in /boot); the new system will not start until one is",
        )),
    }
    let cfg = grub_cfg(&uuid, kernel.as_ref(), &os_name(&root));
    let grub_dir = dir_in_target(&root, Path::new("boot/grub"))?;
    confined::write_file(&root, &grub_dir.join("grub.cfg"), cfg.as_bytes(), 0o644)
        .map_err(|e| PhaseError::new(failed.clone(), e.to_string()))?;
    match mode {
        BootMode::Bios => bios(ctx, &root),
        _ => efi::install(ctx, &root, &cfg),
    }
}

fn bios(ctx: &mut JobContext, root: &Path) -> Result<(), PhaseError> {
    let failed = tr("Could not install the boot loader");
    let disk = ctx.state.disk_device()?;
    let boot = root.join(dir_in_target(root, Path::new("boot"))?);
    let Some(modules) = module_dir(root, "i386-pc")? else {
        return Err(PhaseError::new(
            failed,
            "no GRUB i386-pc modules in the target or on this system (/usr/lib/grub/i386-pc)",
        ));
    };
    ctx.log_line(&format!("GRUB modules from {}", modules.display()));
    ctx.run_logged(
        Command::new("grub-install")
            .arg("--target=i386-pc")
            .arg(format!("--directory={}", modules.display()))
            .arg(format!("--boot-directory={}", boot.display()))
            .arg("--modules=part_gpt part_msdos ext2 xfs btrfs search_fs_uuid")
            .arg("--no-floppy")
            .arg(&disk),
        TIMEOUT,
        &failed,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfg_boots_by_uuid_on_serial() {
        let k = (
            "/boot/vmlinuz-6.1".to_string(),
            Some("/boot/initrd.img-6.1".to_string()),
        );
        let c = grub_cfg("abcd", Some(&k), "X");
        assert!(
            c.contains("search --no-floppy --fs-uuid --set=root abcd")
                && c.contains("set timeout=0")
        );
        assert!(c.contains(
            "linux /boot/vmlinuz-6.1 root=UUID=abcd ro console=tty0 console=ttyS0,115200"
        ));
        assert!(c.contains("initrd /boot/initrd.img-6.1"));
    }

    /// Hostile corpus (issue 9, item 9): a target whose /boot, GRUB module
    /// directory or key leads out of it is refused, naming the path, and
    /// nothing is written or listed outside.
    #[test]
    fn paths_leading_out_of_the_target_are_refused() {
        use std::os::unix::fs::symlink;
        let d = tempfile::tempdir().unwrap();
        let evil = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::write(evil.path().join("vmlinuz-9.9-host"), b"").unwrap();
        symlink(evil.path(), r.join("boot")).unwrap();
        let e = dir_in_target(r, Path::new("boot/grub")).unwrap_err();
        assert!(
            e.detail.contains("/boot") && e.detail.contains(&evil.path().display().to_string()),
            "{e}"
        );
        assert!(
            find_kernel(r).is_none(),
            "a kernel listed outside the target"
        );
        assert_eq!(
            std::fs::read_dir(evil.path()).unwrap().count(),
            1,
            "something was written outside the target"
        );
        // The key sbsign would read.
        std::fs::create_dir_all(r.join("etc/forge")).unwrap();
        symlink("/etc/shadow", r.join("etc/forge/MOK.priv")).unwrap();
        let e = in_target(r, Path::new("/etc/forge/MOK.priv")).unwrap_err();
        assert!(e.detail.contains("/etc/forge/MOK.priv"), "{e}");
        // A GRUB module directory out of the target, or a module in it
        // pointing at a host file.
        std::fs::create_dir_all(r.join("usr/lib/grub")).unwrap();
        symlink(evil.path(), r.join("usr/lib/grub/i386-pc")).unwrap();
        let e = module_dir(r, "i386-pc").unwrap_err();
        assert!(e.detail.contains("/usr/lib/grub/i386-pc"), "{e}");
        std::fs::create_dir_all(r.join("usr/lib/grub/x86_64-efi")).unwrap();
        std::fs::write(r.join("usr/lib/grub/x86_64-efi/normal.mod"), b"").unwrap();
        symlink("/etc/shadow", r.join("usr/lib/grub/x86_64-efi/linux.mod")).unwrap();
        let e = module_dir(r, "x86_64-efi").unwrap_err();
        assert!(e.detail.contains("linux.mod"), "{e}");
    }

    /// Merged /usr and symlinks that stay inside the target keep working.
    #[test]
    fn symlinks_inside_the_target_are_followed_within_it() {
        use std::os::unix::fs::symlink;
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("usr/lib/grub/i386-pc")).unwrap();
        std::fs::create_dir_all(r.join("usr/lib/modules/6.1/kernel")).unwrap();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(r.join("usr/lib/grub/i386-pc/normal.mod"), b"").unwrap();
        symlink("usr/lib", r.join("lib")).unwrap();
        symlink("usr/bin", r.join("bin")).unwrap();
        std::fs::write(r.join("usr/lib/os-release"), b"PRETTY_NAME=\"Merged\"\n").unwrap();
        symlink("../usr/lib/os-release", r.join("etc/os-release")).unwrap();
        assert_eq!(os_name(r), "Merged");
        assert_eq!(
            in_target(r, Path::new("/lib/modules/6.1/kernel")).unwrap(),
            r.join("usr/lib/modules/6.1/kernel")
        );
        assert_eq!(
            module_dir(r, "i386-pc").unwrap(),
            Some(r.join("usr/lib/grub/i386-pc"))
        );
        // /boot an absolute link to another directory of the target.
        std::fs::create_dir_all(r.join("efi/boot")).unwrap();
        std::fs::write(r.join("efi/boot/vmlinuz-6.1"), b"").unwrap();
        symlink("/efi/boot", r.join("boot")).unwrap();
        assert_eq!(
            dir_in_target(r, Path::new("boot/grub")).unwrap(),
            Path::new("efi/boot/grub")
        );
        assert!(r.join("efi/boot/grub").is_dir());
        assert_eq!(find_kernel(r).unwrap().0, "/boot/vmlinuz-6.1");
    }

    #[test]
    fn newest_kernel_wins() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("boot")).unwrap();
        for v in ["6.1.0-9-cloud-amd64", "6.1.0-28-cloud-amd64"] {
            std::fs::write(d.path().join(format!("boot/vmlinuz-{v}")), b"").unwrap();
        }
        std::fs::write(d.path().join("boot/initrd.img-6.1.0-28-cloud-amd64"), b"").unwrap();
        let (k, i) = find_kernel(d.path()).unwrap();
        assert_eq!(k, "/boot/vmlinuz-6.1.0-28-cloud-amd64");
        assert_eq!(i.as_deref(), Some("/boot/initrd.img-6.1.0-28-cloud-amd64"));
    }
}
