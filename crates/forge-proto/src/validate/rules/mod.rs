//! The per-field rules of `install.yaml` and `install_io`. Each function
//! checks one field and returns its problems with the field path, so a
//! frontend can give feedback on a single entry while the person types;
//! [`super::validate_plan`] and [`super::validate_io`] run them all.
//! docs/install-yaml.md documents every rule here. The naming rules (host
//! name, user name, full name, reserved names) are in `names`.

mod names;

pub use names::{
    full_name, hostname, is_reserved_user_name, user_name, MAX_FULL_NAME_LEN, MAX_HOSTNAME_LEN,
    MAX_LABEL_LEN, MAX_USER_NAME_LEN, RESERVED_USER_NAMES, RESERVED_USER_PREFIXES,
};

use super::{shown, Problem};
use crate::catalog::SystemCatalog;
use crate::i18n::{tr, trf};
use crate::plan::{BootMode, Filesystem, PackageGroup, PLAN_VERSION};

/// Shortest password accepted for root and the first user, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted, in bytes of UTF-8: the hashing library refuses
/// 512 bytes and more, and validation must say so before anything is
/// written, in every frontend.
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Longest systemd unit name (systemd's UNIT_NAME_MAX - 1).
pub const MAX_UNIT_NAME_LEN: usize = 255;

/// Unit types `services` may name.
pub const SERVICE_SUFFIXES: [&str; 5] = [".service", ".socket", ".timer", ".target", ".path"];

fn one(field: &str, message: String) -> Vec<Problem> {
    vec![Problem::new(field, message)]
}

fn is_control(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// A catalog entry equal to `value` but for case and hyphens
/// (`en_US.utf8` -> `en_US.UTF-8`, `europe/berlin` -> `Europe/Berlin`).
fn suggest<'a>(value: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let want = norm(value);
    candidates.into_iter().find(|c| norm(c) == want)
}

fn unknown(field: &str, message: String, suggestion: Option<&String>) -> Vec<Problem> {
    match suggestion {
        Some(s) => one(
            field,
            trf(
                "{problem}; did you mean “{suggestion}”?",
                &[("problem", &message), ("suggestion", s)],
            ),
        ),
        None => one(field, message),
    }
}

/// `version`: only [`PLAN_VERSION`].
pub fn version(v: u32) -> Vec<Problem> {
    if v == PLAN_VERSION {
        return Vec::new();
    }
    one(
        "version",
        trf(
            "unsupported version {found}; this FORGE reads version {supported}",
            &[
                ("found", &v.to_string()),
                ("supported", &PLAN_VERSION.to_string()),
            ],
        ),
    )
}

/// `locale`: one of the system's supported locales.
pub fn locale(value: &str, catalog: &SystemCatalog) -> Vec<Problem> {
    const F: &str = "locale";
    if value.is_empty() {
        return one(F, tr("must not be empty"));
    }
    if catalog.locales.contains(value) {
        return Vec::new();
    }
    unknown(
        F,
        trf(
            "“{value}” is not a locale this system supports",
            &[("value", &shown(value))],
        ),
        suggest(value, catalog.locales.iter()),
    )
}

/// `keyboard.layout` and `keyboard.variant`: a layout xkeyboard-config
/// knows, and either no variant or one of that layout's variants.
pub fn keyboard(layout: &str, variant: &str, catalog: &SystemCatalog) -> Vec<Problem> {
    if layout.is_empty() {
        return one("keyboard.layout", tr("must not be empty"));
    }
    let Some(info) = catalog.layouts.get(layout) else {
        return unknown(
            "keyboard.layout",
            trf(
                "“{value}” is not a keyboard layout known to xkeyboard-config",
                &[("value", &shown(layout))],
            ),
            suggest(layout, catalog.layouts.keys()),
        );
    };
    if variant.is_empty() || info.variants.contains_key(variant) {
        return Vec::new();
    }
    unknown(
        "keyboard.variant",
        trf(
            "“{variant}” is not a variant of the keyboard layout “{layout}”",
            &[("variant", &shown(variant)), ("layout", &shown(layout))],
        ),
        suggest(variant, info.variants.keys()),
    )
}

/// `timezone`: an IANA time zone name from the system's tzdata.
pub fn timezone(value: &str, catalog: &SystemCatalog) -> Vec<Problem> {
    const F: &str = "timezone";
    if value.is_empty() {
        return one(F, tr("must not be empty"));
    }
    if catalog.timezones.contains(value) {
        return Vec::new();
    }
    unknown(
        F,
        trf(
            "“{value}” is not a time zone known to this system (IANA names such as Europe/Berlin)",
            &[("value", &shown(value))],
        ),
        suggest(value, catalog.timezones.iter()),
    )
}

/// `boot`: auto, efi or bios.
pub fn boot(value: &str) -> Vec<Problem> {
    if [BootMode::Auto, BootMode::Efi, BootMode::Bios]
        .iter()
        .any(|b| b.as_str() == value)
    {
        return Vec::new();
    }
    one(
        "boot",
        trf(
            "“{value}” is not a boot mode; use auto, efi or bios",
            &[("value", &shown(value))],
        ),
    )
}

/// `filesystem`: ext4, xfs or btrfs.
pub fn filesystem(value: &str) -> Vec<Problem> {
    if [Filesystem::Ext4, Filesystem::Xfs, Filesystem::Btrfs]
        .iter()
        .any(|f| f.as_str() == value)
    {
        return Vec::new();
    }
    one(
        "filesystem",
        trf(
            "“{value}” is not a file system FORGE can create; use ext4, xfs or btrfs",
            &[("value", &shown(value))],
        ),
    )
}

/// `package_groups`: at least one; each one of the six tiers, none twice.
pub fn package_groups(groups: &[String]) -> Vec<Problem> {
    if groups.is_empty() {
        return one("package_groups", tr("must name at least one package group"));
    }
    let all = PackageGroup::ALL.map(PackageGroup::as_str).join(", ");
    let mut out = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let field = format!("package_groups[{i}]");
        if PackageGroup::from_name(g).is_none() {
            out.push(Problem::new(
                field,
                trf(
                    "unknown package group “{value}”; the groups are {groups}",
                    &[("value", &shown(g)), ("groups", &all)],
                ),
            ));
        } else if groups[..i].contains(g) {
            out.push(Problem::new(
                field,
                trf(
                    "“{value}” is listed more than once",
                    &[("value", &shown(g))],
                ),
            ));
        }
    }
    out
}

/// `services`: systemd unit names (`name.service`, `.socket`, `.timer`,
/// `.target`, `.path`; templates as `getty@tty1.service`), no paths, none
/// twice.
pub fn services(units: &[String]) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let field = format!("services[{i}]");
        let mut push = |m: String| out.push(Problem::new(field.clone(), m));
        if unit.is_empty() {
            push(tr("must not be empty"));
            continue;
        }
        if unit.contains('/') {
            push(tr("must be a unit name such as ssh.service, not a path"));
            continue;
        }
        let stem = SERVICE_SUFFIXES.iter().find_map(|s| unit.strip_suffix(s));
        match stem {
            None => push(trf(
                "“{value}” is not a unit name ending in .service, .socket, .timer, .target or .path",
                &[("value", &shown(unit))],
            )),
            Some(stem) => {
                let bad_char = stem
                    .chars()
                    .any(|c| !(c.is_ascii_alphanumeric() || ":_.\\@-".contains(c)));
                if stem.is_empty() || stem.starts_with('@') || bad_char {
                    push(trf(
                        "“{value}” is not a valid unit name: use letters, digits and : _ . \\ @ - before the suffix",
                        &[("value", &shown(unit))],
                    ));
                } else if unit.len() > MAX_UNIT_NAME_LEN {
                    push(trf(
                        "is longer than {max} characters",
                        &[("max", &MAX_UNIT_NAME_LEN.to_string())],
                    ));
                } else if units[..i].contains(unit) {
                    push(trf(
                        "“{value}” is listed more than once",
                        &[("value", &shown(unit))],
                    ));
                }
            }
        }
    }
    out
}

/// `install_io.disk`: present, an absolute path, no control characters.
/// Whether it exists and may be used is the daemon's validate phase.
pub fn disk(disk: &str) -> Vec<Problem> {
    const F: &str = "install_io.disk";
    if disk.is_empty() {
        return one(F, tr("no target disk chosen"));
    }
    if disk.chars().any(is_control) {
        return one(F, tr("must not contain control characters"));
    }
    if !disk.starts_with('/') {
        return one(
            F,
            trf(
                "“{value}” is not an absolute path such as /dev/sda",
                &[("value", &shown(disk))],
            ),
        );
    }
    Vec::new()
}

/// A password in `install_io` (`field` is its path): present, at least
/// [`MIN_PASSWORD_LEN`] characters, at most [`MAX_PASSWORD_BYTES`] bytes, no
/// control characters. The password
/// itself never appears in a message.
pub fn password(field: &str, password: &str) -> Vec<Problem> {
    if password.is_empty() {
        return one(field, tr("missing: a password is required"));
    }
    let mut out = Vec::new();
    if password.chars().count() < MIN_PASSWORD_LEN {
        out.push(Problem::new(
            field,
            trf(
                "too short: use at least {min} characters",
                &[("min", &MIN_PASSWORD_LEN.to_string())],
            ),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        out.push(Problem::new(
            field,
            trf(
                "too long: use at most {max} bytes (letters outside ASCII take two to four)",
                &[("max", &MAX_PASSWORD_BYTES.to_string())],
            ),
        ));
    }
    if password.chars().any(is_control) {
        out.push(Problem::new(
            field,
            tr("must not contain line breaks or other control characters"),
        ));
    }
    out
}
