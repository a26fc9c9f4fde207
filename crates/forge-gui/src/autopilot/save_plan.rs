//! The autopilot's "save plan" mode (issue 11, the byte-identical plan
//! test): with `FORGE_GUI_SAVE_PLAN=FILE` the wizard walks its steps with
//! scripted choices and writes the plan (`Wizard::plan_yaml`, the bytes it
//! would send to the daemon) to FILE instead of installing, then quits
//! (exit status 1 and no FILE when a step refused its choices). The
//! choices come from the `FORGE_GUI_AUTOPILOT` script when one is named,
//! else from `FORGE_PLAN_*` variables with fixed defaults
//! (/work/team/H1-save-plan.md and [`script_from_env`] list them).

use std::path::PathBuf;

use super::Script;

/// The file to write the plan to, when this mode is on.
pub fn requested() -> Option<PathBuf> {
    std::env::var_os("FORGE_GUI_SAVE_PLAN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The choices from the environment. Unset variables take these defaults:
///
/// | variable | default | effect |
/// |---|---|---|
/// | FORGE_PLAN_LOCALE | en_US.UTF-8 | selected in the locale list |
/// | FORGE_PLAN_LAYOUT | us | keyboard layout |
/// | FORGE_PLAN_VARIANT | (empty) | layout variant ("" = the layout's default) |
/// | FORGE_PLAN_TIMEZONE | UTC | selected in the zone list |
/// | FORGE_PLAN_BOOT | (unset: left at auto) | auto, efi or bios (Advanced) |
/// | FORGE_PLAN_FILESYSTEM | (unset: left at ext4) | ext4, xfs or btrfs (Advanced) |
/// | FORGE_PLAN_DISK | (unset: the first selectable disk) | device path |
/// | FORGE_PLAN_FULL_NAME | Alice Liddell | full name |
/// | FORGE_PLAN_USER_NAME | (unset: suggested, "alice") | user name |
/// | FORGE_PLAN_HOSTNAME | (unset: suggested, "alice-pc") | host name |
/// | FORGE_PLAN_ADMIN | 1 | administrator switch (1/0, true/false) |
/// | FORGE_PLAN_PASSWORD | Looking-Glass-1865 | user password, typed twice |
/// | FORGE_PLAN_ROOT_PASSWORD | (empty: same as user) | root password |
/// | FORGE_PLAN_SECURE_BOOT_PASSWORD | Secure-Boot-1865 | MokManager password |
/// | FORGE_PLAN_GROUPS | (unset: defaults kept) | comma list of the optional groups to select; the others are unselected |
pub fn script_from_env() -> Result<Script, String> {
    let admin = match var("FORGE_PLAN_ADMIN").as_deref() {
        None | Some("1") | Some("true") => true,
        Some("0") | Some("false") => false,
        Some(other) => return Err(format!("FORGE_PLAN_ADMIN={other}: use 1 or 0")),
    };
    Ok(Script {
        locale: Some(var("FORGE_PLAN_LOCALE").unwrap_or_else(|| "en_US.UTF-8".into())),
        layout: Some(var("FORGE_PLAN_LAYOUT").unwrap_or_else(|| "us".into())),
        variant: Some(var("FORGE_PLAN_VARIANT").unwrap_or_default()),
        timezone: Some(var("FORGE_PLAN_TIMEZONE").unwrap_or_else(|| "UTC".into())),
        boot: var("FORGE_PLAN_BOOT"),
        filesystem: var("FORGE_PLAN_FILESYSTEM"),
        disk: var("FORGE_PLAN_DISK").unwrap_or_default(),
        full_name: var("FORGE_PLAN_FULL_NAME").unwrap_or_else(|| "Alice Liddell".into()),
        user_name: var("FORGE_PLAN_USER_NAME"),
        admin: Some(admin),
        password: var("FORGE_PLAN_PASSWORD").unwrap_or_else(|| "Looking-Glass-1865".into()),
        root_password: var("FORGE_PLAN_ROOT_PASSWORD").unwrap_or_default(),
        secure_boot_password: var("FORGE_PLAN_SECURE_BOOT_PASSWORD")
            .unwrap_or_else(|| "Secure-Boot-1865".into()),
        hostname: var("FORGE_PLAN_HOSTNAME"),
        groups: var("FORGE_PLAN_GROUPS").map(|g| {
            g.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        ..Script::default()
    })
}

/// Writes the plan bytes to `path` (replacing it).
pub fn write(path: &std::path::Path, yaml: &str) -> Result<(), String> {
    std::fs::write(path, yaml).map_err(|e| format!("{}: {e}", path.display()))
}
