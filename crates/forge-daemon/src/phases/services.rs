//! Phase `services`: enable, offline, the systemd units the installed
//! packages ask for (`service =` in .PKGINFO) and those the plan names.
//! With `systemctl` on the live system: `systemctl --root=ROOT enable UNIT`;
//! otherwise FORGE makes the `[Install]` symlinks itself (WantedBy,
//! RequiredBy, Alias). A unit that does not exist is a Warning.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_proto::i18n::trf;

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::command;
use forge_payload::confined;

const UNIT_DIRS: &[&str] = &[
    "etc/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
];

/// A unit name systemd would accept (and that cannot be an option).
pub fn valid_unit(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name.len() <= 255
        && name.contains('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":-_.@\\".contains(c))
}

/// The units to enable: packages' first, then the plan's, without repeats.
pub fn units(ctx: &JobContext) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in ctx
        .state
        .package_services
        .iter()
        .chain(ctx.plan.services.iter())
    {
        if !out.contains(u) {
            out.push(u.clone());
        }
    }
    out
}

/// Finds a unit's file in the target: (path in the target, file contents).
/// A template instance (`getty@tty1.service`) uses `getty@.service`.
fn find_unit(root: &Path, unit: &str) -> Option<(PathBuf, String)> {
    let template = unit.split_once('@').and_then(|(a, b)| {
        b.rsplit_once('.')
            .map(|(_, suffix)| format!("{a}@.{suffix}"))
    });
    for name in std::iter::once(unit.to_string()).chain(template) {
        for dir in UNIT_DIRS {
            let rel = Path::new(dir).join(&name);
            if let Ok(Some(data)) = confined::read_file(root, &rel) {
                return Some((
                    Path::new("/").join(rel),
                    String::from_utf8_lossy(&data).into_owned(),
                ));
            }
        }
    }
    None
}

/// `[Install]` entries: (key, value) for WantedBy, RequiredBy, Alias.
fn install_section(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_install = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_install = line == "[Install]";
        } else if in_install {
            if let Some((k, v)) = line.split_once('=') {
                let k = k.trim();
                if ["WantedBy", "RequiredBy", "Alias"].contains(&k) {
                    for v in v.split_whitespace() {
                        out.push((k.to_string(), v.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// Enables `unit` by making its `[Install]` symlinks in /etc/systemd/system.
fn enable_by_hand(root: &Path, unit: &str, file: &Path, text: &str) -> Result<usize, String> {
    let entries = install_section(text);
    let mut made = 0;
    for (key, value) in entries {
        if !valid_unit(&value) {
            continue;
        }
        let link = match key.as_str() {
            "WantedBy" => format!("etc/systemd/system/{value}.wants/{unit}"),
            "RequiredBy" => format!("etc/systemd/system/{value}.requires/{unit}"),
            _ => format!("etc/systemd/system/{value}"),
        };
        confined::symlink(root, Path::new(&link), file).map_err(|e| e.to_string())?;
        made += 1;
    }
    Ok(made)
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let units = units(ctx);
    if ctx.dry_run {
        for u in &units {
            ctx.operation(&trf(
                "enable the service {unit} in the new system",
                &[("unit", u)],
            ));
        }
        return Ok(());
    }
    let root = ctx.state.root()?;
    let systemctl = command::have("systemctl");
    for unit in units {
        if !valid_unit(&unit) {
            ctx.warn(trf(
                "The service name {unit} is not valid; it was not enabled",
                &[("unit", &unit)],
            ));
            continue;
        }
        let Some((file, text)) = find_unit(&root, &unit) else {
            ctx.warn(trf(
                "The service {unit} does not exist in the new system; it was not enabled",
                &[("unit", &unit)],
            ));
            continue;
        };
        if systemctl {
            let mut cmd = Command::new("systemctl");
            cmd.arg(format!("--root={}", root.display()))
                .arg("enable")
                .arg(&unit);
            let r = ctx.run_logged(&mut cmd, Duration::from_secs(60), "");
            if let Err(e) = r {
                ctx.log_line(&e.detail);
                ctx.warn(trf(
                    "The service {unit} could not be enabled",
                    &[("unit", &unit)],
                ));
            }
            continue;
        }
        match enable_by_hand(&root, &unit, &file, &text) {
            Ok(0) => ctx.warn(trf(
                "The service {unit} has no [Install] section; it was not enabled",
                &[("unit", &unit)],
            )),
            Ok(_) => ctx.log_line(&format!("enabled {unit} ({})", file.display())),
            Err(d) => {
                ctx.log_line(&format!("enabling {unit}: {d}"));
                ctx.warn(trf(
                    "The service {unit} could not be enabled",
                    &[("unit", &unit)],
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enables_by_hand_from_the_install_section() {
        let d = tempfile::tempdir().unwrap();
        let text = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=y.service\n";
        confined::write_file(
            d.path(),
            Path::new("usr/lib/systemd/system/x.service"),
            text.as_bytes(),
            0o644,
        )
        .unwrap();
        confined::write_file(
            d.path(),
            Path::new("usr/lib/systemd/system/getty@.service"),
            text.as_bytes(),
            0o644,
        )
        .unwrap();
        let (file, text) = find_unit(d.path(), "x.service").unwrap();
        assert_eq!(
            enable_by_hand(d.path(), "x.service", &file, &text).unwrap(),
            2
        );
        let link = d
            .path()
            .join("etc/systemd/system/multi-user.target.wants/x.service");
        assert_eq!(
            std::fs::read_link(link).unwrap(),
            PathBuf::from("/usr/lib/systemd/system/x.service")
        );
        assert!(find_unit(d.path(), "getty@tty1.service").is_some());
        assert!(find_unit(d.path(), "nope.service").is_none());
        assert!(!valid_unit("--root=/") && valid_unit("getty@tty1.service"));
    }
}
