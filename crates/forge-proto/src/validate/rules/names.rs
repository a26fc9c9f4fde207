//! The naming rules of `install.yaml`: the host name (RFC 1123), the first
//! user's name (POSIX portable, not reserved for the system) and full name.
//! Re-exported by [`super`], which holds the other per-field rules.

use super::{is_control, one};
use crate::i18n::{tr, trf};
use crate::validate::{shown, Problem};

/// Longest host name (RFC 1123 / RFC 1035), dots included.
pub const MAX_HOSTNAME_LEN: usize = 253;
/// Longest label of a host name.
pub const MAX_LABEL_LEN: usize = 63;
/// Longest user name (useradd's limit on Debian).
pub const MAX_USER_NAME_LEN: usize = 32;
/// Longest full name, in characters.
pub const MAX_FULL_NAME_LEN: usize = 256;

/// User names the first user may not take: accounts and groups that Debian,
/// systemd and common services create, and names that mean "administrator".
/// Names starting with one of [`RESERVED_USER_PREFIXES`] are reserved too.
pub const RESERVED_USER_NAMES: &[&str] = &[
    // base-passwd users and groups
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    "nogroup",
    "adm",
    "tty",
    "disk",
    "kmem",
    "dialout",
    "fax",
    "voice",
    "cdrom",
    "floppy",
    "tape",
    "sudo",
    "audio",
    "dip",
    "operator",
    "src",
    "shadow",
    "utmp",
    "video",
    "sasl",
    "plugdev",
    "staff",
    "users",
    // groups created by udev, systemd and desktop services
    "input",
    "kvm",
    "render",
    "sgx",
    "netdev",
    "lpadmin",
    "scanner",
    "bluetooth",
    "crontab",
    "ssh",
    "ssl-cert",
    "wheel",
    // service accounts
    "messagebus",
    "dbus",
    "polkitd",
    "sshd",
    "avahi",
    "avahi-autoipd",
    "colord",
    "geoclue",
    "gdm",
    "lightdm",
    "sddm",
    "pulse",
    "pipewire",
    "rtkit",
    "saned",
    "usbmux",
    "dnsmasq",
    "tss",
    "uuidd",
    "tcpdump",
    "ntp",
    "chrony",
    "nscd",
    "rpc",
    "statd",
    "ftp",
    "postfix",
    "halt",
    "shutdown",
    "pkm",
    "forge",
    // names that read as "the administrator"
    "admin",
    "administrator",
];

/// Prefixes of reserved user names: systemd's own accounts
/// (`systemd-network`...) and Debian's service accounts (`_apt`...).
pub const RESERVED_USER_PREFIXES: [&str; 2] = ["systemd-", "_"];

/// `hostname`: RFC 1123 labels of lowercase letters, digits and hyphens,
/// 1 to 63 characters each, not starting or ending with a hyphen, joined by
/// dots, at most 253 characters in all.
pub fn hostname(h: &str) -> Vec<Problem> {
    const F: &str = "hostname";
    if h.is_empty() {
        return one(F, tr("must not be empty"));
    }
    let mut out = Vec::new();
    let len = h.chars().count();
    if len > MAX_HOSTNAME_LEN {
        out.push(Problem::new(
            F,
            trf(
                "is {len} characters long; at most {max} are allowed",
                &[
                    ("len", &len.to_string()),
                    ("max", &MAX_HOSTNAME_LEN.to_string()),
                ],
            ),
        ));
    }
    if h.chars().any(|c| c.is_ascii_uppercase()) {
        out.push(Problem::new(F, tr("must be lowercase")));
    }
    if h.chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
    {
        out.push(Problem::new(
            F,
            tr("may contain only the letters a–z, digits and hyphens, with dots between labels"),
        ));
    }
    let mut empty_label = false;
    for label in h.split('.') {
        if label.is_empty() {
            empty_label = true;
            continue;
        }
        let label_len = label.chars().count();
        if label_len > MAX_LABEL_LEN {
            out.push(Problem::new(
                F,
                trf(
                    "label “{label}” is {len} characters long; at most {max} are allowed",
                    &[
                        ("label", &shown(label)),
                        ("len", &label_len.to_string()),
                        ("max", &MAX_LABEL_LEN.to_string()),
                    ],
                ),
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            out.push(Problem::new(
                F,
                trf(
                    "label “{label}” must not start or end with a hyphen",
                    &[("label", &shown(label))],
                ),
            ));
        }
    }
    if empty_label {
        out.push(Problem::new(
            F,
            tr("has an empty label: no dot at the start or end, and no two dots in a row"),
        ));
    }
    out
}

/// Whether `name` is reserved for the system (see [`RESERVED_USER_NAMES`]).
pub fn is_reserved_user_name(name: &str) -> bool {
    RESERVED_USER_NAMES.contains(&name)
        || RESERVED_USER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// `user.name`: POSIX portable (`[a-z_][a-z0-9_-]*`), at most 32
/// characters, not reserved for the system.
pub fn user_name(name: &str) -> Vec<Problem> {
    const F: &str = "user.name";
    if name.is_empty() {
        return one(F, tr("must not be empty"));
    }
    let mut out = Vec::new();
    let len = name.chars().count();
    if len > MAX_USER_NAME_LEN {
        out.push(Problem::new(
            F,
            trf(
                "is {len} characters long; at most {max} are allowed",
                &[
                    ("len", &len.to_string()),
                    ("max", &MAX_USER_NAME_LEN.to_string()),
                ],
            ),
        ));
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        out.push(Problem::new(F, tr("must be lowercase")));
    }
    if name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        out.push(Problem::new(F, tr("must start with a letter a–z")));
    }
    if name
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        out.push(Problem::new(
            F,
            tr("may contain only the letters a–z, digits, “_” and “-”"),
        ));
    }
    if is_reserved_user_name(name) {
        out.push(Problem::new(
            F,
            trf(
                "“{name}” is reserved for the system; choose another name",
                &[("name", &shown(name))],
            ),
        ));
    }
    out
}

/// `user.full_name`: optional; no `:` or `,` (they separate passwd and GECOS
/// fields), no control characters, at most 256 characters.
pub fn full_name(name: &str) -> Vec<Problem> {
    const F: &str = "user.full_name";
    let mut out = Vec::new();
    if name.contains(':') {
        out.push(Problem::new(F, tr("must not contain “:”")));
    }
    if name.contains(',') {
        out.push(Problem::new(
            F,
            tr("must not contain “,” (it separates the parts of the account’s comment)"),
        ));
    }
    if name.chars().any(is_control) {
        out.push(Problem::new(
            F,
            tr("must not contain line breaks or other control characters"),
        ));
    }
    let len = name.chars().count();
    if len > MAX_FULL_NAME_LEN {
        out.push(Problem::new(
            F,
            trf(
                "is {len} characters long; at most {max} are allowed",
                &[
                    ("len", &len.to_string()),
                    ("max", &MAX_FULL_NAME_LEN.to_string()),
                ],
            ),
        ));
    }
    out
}
