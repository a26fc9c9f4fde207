//! Loading the live system's lists (locales, keyboards, time zones).

use forge_proto::SystemCatalog;

/// The live system's lists. forge-proto's loader refuses xkeyboard-config's
/// `evdev.xml` when it carries a DOCTYPE (roxmltree rejects DTDs by
/// default); then the file is loaded again from a copy without that line.
pub fn load_catalog() -> SystemCatalog {
    match SystemCatalog::load() {
        Ok(c) => c,
        Err(first) => {
            let mut paths = forge_proto::catalog::CatalogPaths::default();
            let stripped = std::fs::read_to_string(&paths.xkb_rules).ok().map(|t| {
                t.lines()
                    .filter(|l| !l.trim_start().starts_with("<!DOCTYPE"))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            let tmp =
                std::env::temp_dir().join(format!("forge-gui-evdev-{}.xml", std::process::id()));
            let retry = stripped
                .and_then(|t| std::fs::write(&tmp, t).ok())
                .and_then(|_| {
                    paths.xkb_rules = tmp.clone();
                    SystemCatalog::load_from(&paths).ok()
                });
            let _ = std::fs::remove_file(&tmp);
            retry.unwrap_or_else(|| {
                tracing::warn!("system lists unavailable: {first}");
                SystemCatalog::default()
            })
        }
    }
}
