//! `ListPackageGroups`: the package groups (tiers) of the configured payload,
//! read only after both of its signatures verified against the configured
//! keyring, with their sizes. `toolchain` and `core` are reported as
//! required: nothing boots without them. The record and its `a{sv}` form
//! are `forge_proto::wire::GroupInfo`.

use forge_proto::i18n::tr;
use forge_proto::wire::GroupInfo;

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

/// The groups of the verified payload, or a detail for the log.
pub fn list(config: &DaemonConfig) -> Result<Vec<GroupInfo>, String> {
    // The keyring read and checked once at start (forge_daemon::trust).
    let payload = forge_daemon::trust::open_payload(config)?;
    Ok(payload
        .group_summaries()
        .into_iter()
        .map(|g| GroupInfo {
            description: describe(&g.name),
            required: REQUIRED_GROUPS.contains(&g.name.as_str()),
            packages: g.packages,
            download_size: g.download_size,
            installed_size: g.installed_size,
            name: g.name,
        })
        .collect())
}
