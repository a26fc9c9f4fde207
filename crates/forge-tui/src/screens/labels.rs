//! Translated names shared by several screens (the GUI's msgids): boot
//! modes and package groups (the wizard model's labels), file systems.

use forge_proto::i18n::tr;
use forge_proto::{BootMode, Filesystem};

pub const BOOT_MODES: [BootMode; 3] = [BootMode::Auto, BootMode::Efi, BootMode::Bios];
pub const FILESYSTEMS: [Filesystem; 3] = [Filesystem::Ext4, Filesystem::Xfs, Filesystem::Btrfs];

pub fn boot_mode(mode: BootMode) -> String {
    forge_proto::wizard::boot_mode_label(mode)
}

pub fn filesystem(fs: Filesystem) -> String {
    match fs {
        Filesystem::Ext4 => tr("ext4 (recommended)"),
        Filesystem::Xfs => tr("XFS"),
        Filesystem::Btrfs => tr("Btrfs"),
    }
}

pub fn group(name: &str) -> String {
    forge_proto::wizard::group_label(name)
}

/// Fills a translated plural message: `{count}` becomes `n`, and each
/// `{name}` its value.
pub fn fill(translated: &str, n: u64, args: &[(&str, &str)]) -> String {
    let mut s = translated.replace("{count}", &n.to_string());
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// A GUI label's translation without its mnemonic underscore (the same
/// msgid as the GUI's, e.g. "_Full name").
pub fn plain(msgid: &str) -> String {
    forge_proto::i18n::tr(msgid).replace('_', "")
}
