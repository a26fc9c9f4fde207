//! What `Wizard::from_system` reads from the live system: the lists
//! (locales, keyboards, time zones), the defaults the environment suggests
//! (LANG, /etc/timezone) and the release name. Kept apart so the model
//! itself stays pure and testable with fixtures.

use crate::catalog::CatalogPaths;
use crate::SystemCatalog;

/// The live system's lists. forge-proto's loader refuses xkeyboard-config's
/// `evdev.xml` when it carries a DOCTYPE (roxmltree rejects DTDs by
/// default); then the file is loaded again from a copy without that line.
/// The error is the first load's.
pub fn load_system_catalog() -> std::io::Result<SystemCatalog> {
    let first = match SystemCatalog::load() {
        Ok(c) => return Ok(c),
        Err(e) => e,
    };
    let mut paths = CatalogPaths::default();
    let stripped = std::fs::read_to_string(&paths.xkb_rules).ok().map(|t| {
        t.lines()
            .filter(|l| !l.trim_start().starts_with("<!DOCTYPE"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let tmp = std::env::temp_dir().join(format!("forge-evdev-{}.xml", std::process::id()));
    let retry = stripped
        .and_then(|t| std::fs::write(&tmp, t).ok())
        .and_then(|_| {
            paths.xkb_rules = tmp.clone();
            SystemCatalog::load_from(&paths).ok()
        });
    let _ = std::fs::remove_file(&tmp);
    retry.ok_or(first)
}

/// The locale (`LANG`) and time zone (`/etc/timezone`) of the live system,
/// each empty when unset.
pub fn environment_defaults() -> (String, String) {
    let locale = std::env::var("LANG").unwrap_or_default();
    let tz = std::fs::read_to_string("/etc/timezone").unwrap_or_default();
    (locale, tz.trim().to_string())
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
        .unwrap_or_else(|| format!("InterGenOS {}", crate::VERSION))
}
