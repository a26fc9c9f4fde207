//! The disk layout FORGE writes, as facts every side shares: the partition
//! sizes, how much disk an install needs, and which boot mode `auto` means
//! on this machine. The daemon's validate and partition phases and the
//! frontends' disk screens all read these, so the estimate a person sees is
//! the one the daemon enforces.

use std::path::Path;

use crate::{BootMode, Filesystem};

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// GPT, alignment and the backup table.
pub const TABLE_OVERHEAD: u64 = 4 * MIB;
/// The EFI system partition of an EFI install.
pub const ESP_SIZE: u64 = 512 * MIB;
/// The BIOS boot partition of a BIOS install (GRUB's core image).
pub const BIOS_BOOT_SIZE: u64 = MIB;
/// Root file system headroom over the packages' installed size.
pub const ROOT_SLACK: u64 = 64 * MIB;

/// Present when the running system booted through UEFI.
pub const EFI_FIRMWARE_DIR: &str = "/sys/firmware/efi";

/// Smallest root file system each type can be made with.
pub fn fs_minimum(fs: Filesystem) -> u64 {
    match fs {
        Filesystem::Xfs => 300 * MIB,
        Filesystem::Btrfs => 128 * MIB,
        Filesystem::Ext4 => 32 * MIB,
    }
}

/// The size of the first partition: the ESP (EFI) or the BIOS boot partition.
pub fn boot_partition_size(boot: BootMode) -> u64 {
    if boot == BootMode::Bios {
        BIOS_BOOT_SIZE
    } else {
        ESP_SIZE
    }
}

/// The bytes an install of `installed` package bytes needs on the disk: the
/// partition table, the boot partition, and a root of the packages plus an
/// eighth plus [`ROOT_SLACK`], at least what the file system can be made with.
pub fn required_bytes(installed: u64, boot: BootMode, fs: Filesystem) -> u64 {
    let root = (installed + installed / 8 + ROOT_SLACK).max(fs_minimum(fs));
    TABLE_OVERHEAD + boot_partition_size(boot) + root
}

/// `efi` when this machine booted through UEFI, else `bios`.
pub fn firmware_boot_mode() -> BootMode {
    if Path::new(EFI_FIRMWARE_DIR).exists() {
        BootMode::Efi
    } else {
        BootMode::Bios
    }
}

/// The boot mode an install uses: an explicit choice is kept, `auto` (or
/// none) is what this machine booted with.
pub fn resolve_boot_mode(choice: Option<BootMode>) -> BootMode {
    match choice {
        Some(BootMode::Efi) => BootMode::Efi,
        Some(BootMode::Bios) => BootMode::Bios,
        _ => firmware_boot_mode(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efi_needs_the_esp_and_file_systems_their_minimum() {
        let bios = required_bytes(0, BootMode::Bios, Filesystem::Ext4);
        let efi = required_bytes(0, BootMode::Efi, Filesystem::Ext4);
        assert_eq!(efi - bios, ESP_SIZE - BIOS_BOOT_SIZE);
        assert!(required_bytes(1 << 30, BootMode::Bios, Filesystem::Ext4) > (1 << 30) + (1 << 27));
        assert!(required_bytes(0, BootMode::Bios, Filesystem::Xfs) >= 300 * MIB);
        assert_eq!(resolve_boot_mode(Some(BootMode::Bios)), BootMode::Bios);
        assert_eq!(resolve_boot_mode(Some(BootMode::Efi)), BootMode::Efi);
        assert_eq!(
            resolve_boot_mode(Some(BootMode::Auto)),
            firmware_boot_mode()
        );
    }
}
