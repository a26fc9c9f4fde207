//! Small pure helpers the screens share: sizes, password strength, name
//! suggestions, the installed size of chosen groups. (Disk-layout facts,
//! required bytes and boot-mode detection are `forge_proto::layout`'s.)

use forge_proto::i18n::tr;
use forge_proto::BootMode;

use crate::model::{DiskInfo, GroupInfo};

/// Fills a translated plural message (from `ngettext`, written at the call
/// site so xgettext finds both forms): `{count}` becomes `n`, and each
/// `{name}` its value.
pub fn fill(translated: &str, n: u64, args: &[(&str, &str)]) -> String {
    let mut s = translated.replace("{count}", &n.to_string());
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Human size ("12.3 GB"), translated by GLib.
pub fn format_size(bytes: u64) -> String {
    gtk::glib::format_size(bytes).to_string()
}

/// Installed bytes of the selected groups (what `forge_proto::layout::
/// required_bytes` sizes the root from).
pub fn installed_bytes(groups: &[GroupInfo], selected: &[String]) -> u64 {
    groups
        .iter()
        .filter(|g| selected.iter().any(|s| s == &g.name))
        .map(|g| g.installed_size)
        .sum()
}

/// Why this disk cannot be chosen, or None when it can.
pub fn disk_refusal(disk: &DiskInfo, required: u64) -> Option<String> {
    if disk.read_only {
        Some(tr("Read-only: this disk cannot be written."))
    } else if disk.in_use {
        Some(tr(
            "In use: a partition of this disk is mounted or holds the running system.",
        ))
    } else if disk.size < required {
        Some(forge_proto::i18n::trf(
            "Too small: the chosen software needs at least {size}.",
            &[("size", &format_size(required))],
        ))
    } else {
        None
    }
}

/// Password strength 0 (empty/too short) ..= 4 (strong) with a label.
pub fn password_strength(pw: &str) -> (u32, String) {
    let len = pw.chars().count();
    let classes = [
        pw.chars().any(|c| c.is_lowercase()),
        pw.chars().any(|c| c.is_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let score = if len == 0 {
        0
    } else if len < 8 {
        1
    } else if len < 12 && classes <= 2 {
        2
    } else if len < 16 && classes <= 3 {
        3
    } else {
        4
    };
    let label = match score {
        0 => tr("Enter a password"),
        1 => tr("Too short: use at least 8 characters"),
        2 => tr("Weak: longer, or mix letters, digits and symbols"),
        3 => tr("Good"),
        _ => tr("Strong"),
    };
    (score, label)
}

/// A user name from a full name: the first word, lowercase ASCII letters
/// and digits only ("Alice Liddell" -> "alice"). Empty if nothing fits.
pub fn suggest_user_name(full_name: &str) -> String {
    let first = full_name.split_whitespace().next().unwrap_or("");
    let mut s: String = first
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(32)
        .collect();
    while s.starts_with(|c: char| c.is_ascii_digit()) {
        s.remove(0);
    }
    s
}

/// A host name from the user name ("alice" -> "alice-pc").
pub fn suggest_hostname(user_name: &str) -> String {
    if user_name.is_empty() {
        "intergenos".to_string()
    } else {
        format!("{user_name}-pc")
    }
}

/// Translated name of a boot mode.
pub fn boot_mode_label(mode: BootMode) -> String {
    match mode {
        BootMode::Auto => tr("Automatic"),
        BootMode::Efi => tr("UEFI"),
        BootMode::Bios => tr("BIOS (legacy)"),
    }
}

/// Translated name of a package group (the daemon's description is shown too).
pub fn group_label(name: &str) -> String {
    match name {
        "toolchain" => tr("Toolchain"),
        "core" => tr("Core system"),
        "base" => tr("Base utilities"),
        "desktop" => tr("GNOME desktop"),
        "extra" => tr("Extra applications"),
        "ai" => tr("Local AI assistant"),
        other => other.to_string(),
    }
}

/// The release being installed: `/etc/os-release` PRETTY_NAME of the live
/// system, or FORGE's own version.
pub fn release_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| format!("InterGenOS {}", forge_proto::VERSION))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(suggest_user_name("Alice Liddell"), "alice");
        assert_eq!(suggest_user_name("  42Bob "), "bob");
        assert_eq!(suggest_user_name("أحمد"), "");
        assert_eq!(suggest_hostname("alice"), "alice-pc");
    }

    #[test]
    fn strength_grows() {
        assert_eq!(password_strength("").0, 0);
        assert_eq!(password_strength("abc").0, 1);
        assert_eq!(password_strength("abcdefgh").0, 2);
        assert_eq!(password_strength("Abcdefgh12xy").0, 3);
        assert_eq!(password_strength("Correct-Horse-Battery-9").0, 4);
    }

    #[test]
    fn refusal_reasons() {
        let d = DiskInfo {
            size: 10,
            ..Default::default()
        };
        assert!(disk_refusal(&d, 100).is_some());
        assert!(disk_refusal(&d, 5).is_none());
    }
}
