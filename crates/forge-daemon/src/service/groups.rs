//! `ListPackageGroups`: the package groups (tiers) of the configured payload,
//! read only after both of its signatures verified against the configured
//! keyring, with their sizes. `toolchain` and `core` are reported as
//! required: nothing boots without them.

use std::collections::HashMap;

use forge_proto::i18n::tr;
use zbus::{OwnedVariant, Variant};

use crate::config::DaemonConfig;

/// Groups every installed system needs.
pub const REQUIRED_GROUPS: [&str; 2] = ["toolchain", "core"];

/// A translated one-line description of a tier.
pub fn describe(tier: &str) -> String {
    match tier {
        "toolchain" => tr("Compiler, C library and build tools the system is made with"),
        "core" => tr("The minimal bootable system"),
        "base" => tr("Standard command-line system: networking, editors, utilities"),
        "desktop" => tr("Graphical desktop"),
        "extra" => tr("Additional applications"),
        "ai" => tr("Machine-learning tools and runtimes"),
        _ => String::new(),
    }
}

/// The groups as `aa{sv}` dictionaries, or a detail for the log.
pub fn list(config: &DaemonConfig) -> Result<Vec<HashMap<String, OwnedVariant>>, String> {
    let keyring = forge_payload::Keyring::load(&config.keyring).map_err(|e| e.to_string())?;
    let payload =
        forge_payload::open_verified(&config.payload, &keyring).map_err(|e| e.to_string())?;
    Ok(payload
        .group_summaries()
        .into_iter()
        .map(|g| {
            let mut m = HashMap::new();
            let s = |v: String| OwnedVariant::try_from(Variant::from(v));
            if let Ok(v) = s(describe(&g.name)) {
                m.insert("description".to_string(), v);
            }
            m.insert(
                "required".to_string(),
                OwnedVariant::from(REQUIRED_GROUPS.contains(&g.name.as_str())),
            );
            m.insert("packages".to_string(), OwnedVariant::from(g.packages));
            m.insert(
                "download_size".to_string(),
                OwnedVariant::from(g.download_size),
            );
            m.insert(
                "installed_size".to_string(),
                OwnedVariant::from(g.installed_size),
            );
            if let Ok(v) = s(g.name) {
                m.insert("name".to_string(), v);
            }
            m
        })
        .collect())
}
