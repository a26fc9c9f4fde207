//! What both frontends show the same way: password strength, the user and
//! host names suggested from what was typed, and the translated names of
//! boot modes and package groups.

use crate::i18n::tr;
use crate::BootMode;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(suggest_user_name("Alice Liddell"), "alice");
        assert_eq!(suggest_user_name("  42Bob "), "bob");
        assert_eq!(suggest_user_name("أحمد"), "");
        assert_eq!(suggest_hostname("alice"), "alice-pc");
        assert_eq!(suggest_hostname(""), "intergenos");
    }

    #[test]
    fn strength_grows() {
        assert_eq!(password_strength("").0, 0);
        assert_eq!(password_strength("abc").0, 1);
        assert_eq!(password_strength("abcdefgh").0, 2);
        assert_eq!(password_strength("Abcdefgh12xy").0, 3);
        assert_eq!(password_strength("Correct-Horse-Battery-9").0, 4);
    }
}
