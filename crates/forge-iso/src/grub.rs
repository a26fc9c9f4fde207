//! GRUB for both firmware types. EFI: Debian's signed GRUB, CD flavour
//! (`gcdx64.efi.signed`), whose built-in config finds the medium by
//! `/.disk/info` and sources `/boot/grub/x86_64-efi/grub.cfg`: the menu
//! chainloads the three signed UKIs (their sealed command line carries the
//! root hash; GRUB's config is not trusted). BIOS: an El Torito core image
//! made with grub-mkimage from the i386-pc modules (all needed modules
//! built in), reading `/boot/grub/grub.cfg`, which boots the same kernel,
//! initramfs and command line with `linux`/`initrd`.

use std::path::Path;

use anyhow::Result;

use crate::tools;
use crate::uki::Mode;

/// Modules built into the BIOS core image.
const BIOS_MODULES: &[&str] = &[
    "biosdisk",
    "iso9660",
    "part_msdos",
    "part_gpt",
    "normal",
    "configfile",
    "linux",
    "search",
    "search_fs_uuid",
    "search_label",
    "search_fs_file",
    "echo",
    "test",
    "serial",
    "terminal",
    "sleep",
    "boot",
    "gzio",
    "halt",
    "reboot",
];

/// The El Torito core image (`cdboot.img` + core) for BIOS; its embedded
/// config finds the medium by its ISO9660 UUID.
pub fn bios_eltorito(
    grub_bios_dir: &Path,
    iso_uuid: &str,
    scratch: &Path,
    out: &Path,
    sde: u64,
) -> Result<()> {
    let early = scratch.join("bios-early.cfg");
    std::fs::write(&early, early_cfg(iso_uuid, "/boot/grub"))?;
    tools::run(
        tools::command("grub-mkimage", sde)
            .args(["-O", "i386-pc-eltorito", "-p", "/boot/grub"])
            .arg("-d")
            .arg(grub_bios_dir)
            .arg("-c")
            .arg(&early)
            .arg("-o")
            .arg(out)
            .args(BIOS_MODULES),
    )?;
    std::fs::remove_file(&early)?;
    Ok(())
}

fn early_cfg(iso_uuid: &str, prefix: &str) -> String {
    format!("search --no-floppy --fs-uuid --set=root {iso_uuid}\nset prefix=($root){prefix}\n")
}

/// `EFI/BOOT/grub.cfg` on the ESP (used only if GRUB's built-in config
/// finds no `/boot/grub` on the medium).
pub fn esp_cfg(iso_uuid: &str) -> String {
    format!(
        "{}configfile $prefix/x86_64-efi/grub.cfg\n",
        early_cfg(iso_uuid, "/boot/grub")
    )
}

fn header(iso_uuid: &str, timeout: u32) -> String {
    format!(
        "# FORGE live medium (forge-iso; docs/live-medium.md)\n\
         search --no-floppy --fs-uuid --set=root {iso_uuid}\n\
         set default=0\nset timeout={timeout}\n"
    )
}

/// `/boot/grub/x86_64-efi/grub.cfg`: the three signed UKIs.
pub fn efi_menu(iso_uuid: &str, timeout: u32) -> String {
    let mut s = header(iso_uuid, timeout);
    for mode in Mode::ALL {
        s.push_str(&format!(
            "menuentry \"{}\" {{\n  chainloader /EFI/Linux/{}.efi\n}}\n",
            mode.title(),
            mode.name()
        ));
    }
    s
}

/// `/boot/grub/grub.cfg` (BIOS): kernel + initramfs with each entry's command line.
pub fn bios_menu(iso_uuid: &str, timeout: u32, cmdline: impl Fn(Mode) -> String) -> String {
    let mut s = header(iso_uuid, timeout);
    s.push_str("serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n");
    for mode in Mode::ALL {
        s.push_str(&format!(
            "menuentry \"{}\" {{\n  linux /boot/vmlinuz {}\n  initrd /boot/initrd.img\n}}\n",
            mode.title(),
            cmdline(mode)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus_have_three_entries_with_the_same_root_hash() {
        let bios = bios_menu("2023-11-14-22-13-20-00", 5, |m| {
            crate::uki::cmdline(Some("abc"), "L", m)
        });
        assert_eq!(bios.matches("menuentry").count(), 3);
        assert_eq!(bios.matches("igos.verity.roothash=abc ").count(), 3);
        let efi = efi_menu("2023-11-14-22-13-20-00", 5);
        assert_eq!(efi.matches("chainloader /EFI/Linux/").count(), 3);
    }
}
