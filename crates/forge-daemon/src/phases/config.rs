//! Phase `config`: the installed system's configuration from the plan:
//! /etc/fstab by UUID, hostname, hosts, locale, console and X11 keyboard,
//! the /etc/localtime link, and pkm's trust settings (/etc/pkm/trusted.gpg
//! with the public parts of the keyring verify checked the payload with, /etc/pkm/repos.conf with
//! `gpg_verify = true`), and the payload's signed `created`/`expires` in
//! the pkm database (/var/lib/pkm/payload). Every write is confined to the
//! target root.

use std::path::Path;

use forge_proto::i18n::{tr, trf};
use forge_proto::{BootMode, Filesystem, InstallPlan};

use crate::pipeline::{JobContext, PhaseError};
use forge_payload::confined;

/// `/etc/fstab` for a root file system `fs` with `root_uuid` and, for EFI,
/// the ESP's FAT volume id.
pub fn fstab(fs: Filesystem, root_uuid: &str, esp_uuid: Option<&str>) -> String {
    let pass = if fs == Filesystem::Ext4 { 1 } else { 0 };
    let mut s = String::from("# /etc/fstab: static file system information, written by FORGE.\n");
    s.push_str("# <file system>\t<mount point>\t<type>\t<options>\t<dump>\t<pass>\n");
    s.push_str(&format!(
        "UUID={root_uuid}\t/\t{}\tdefaults\t0\t{pass}\n",
        fs.as_str()
    ));
    if let Some(esp) = esp_uuid {
        s.push_str(&format!("UUID={esp}\t/boot/efi\tvfat\tumask=0077\t0\t2\n"));
    }
    s
}

pub fn hosts(hostname: &str) -> String {
    format!(
        "127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n"
    )
}

/// `/etc/vconsole.conf`: the console keymap named as kbd names it
/// (`de-nodeadkeys` for layout `de`, variant `nodeadkeys`), plus the X11
/// names systemd-localed reads.
pub fn vconsole(plan: &InstallPlan) -> String {
    let k = &plan.keyboard;
    let keymap = if k.variant.is_empty() {
        k.layout.clone()
    } else {
        format!("{}-{}", k.layout, k.variant)
    };
    format!(
        "KEYMAP={keymap}\nXKBLAYOUT={}\nXKBVARIANT={}\n",
        k.layout, k.variant
    )
}

pub fn x11_keyboard(plan: &InstallPlan) -> String {
    let k = &plan.keyboard;
    format!(
        "# Written by FORGE from the installation's keyboard choice.\nSection \"InputClass\"\n\tIdentifier \"system-keyboard\"\n\tMatchIsKeyboard \"on\"\n\tOption \"XkbLayout\" \"{}\"\n\tOption \"XkbVariant\" \"{}\"\nEndSection\n",
        k.layout, k.variant
    )
}

pub const REPOS_CONF: &str = "# pkm repository settings, written by FORGE.\n# The index must carry a valid signature by a key in /etc/pkm/trusted.gpg.\ngpg_verify = true\n# Each archive's SHA-256 must match the signed index.\narchive_trust = strict\n";

/// Every file this phase writes: (path in the target, contents, mode).
fn files(ctx: &JobContext, keyring: &[u8]) -> Result<Vec<(String, Vec<u8>, u32)>, PhaseError> {
    let plan = &ctx.plan;
    let fs = ctx.state.filesystem()?;
    let efi = ctx.state.boot_mode()? == BootMode::Efi;
    let root_uuid = ctx
        .state
        .root_uuid
        .clone()
        .unwrap_or_else(|| "<root UUID>".into());
    let esp_uuid = if efi {
        Some(
            ctx.state
                .esp_uuid
                .clone()
                .unwrap_or_else(|| "<ESP UUID>".into()),
        )
    } else {
        None
    };
    Ok(vec![
        (
            "etc/fstab".into(),
            fstab(fs, &root_uuid, esp_uuid.as_deref()).into_bytes(),
            0o644,
        ),
        (
            "etc/hostname".into(),
            format!("{}\n", plan.hostname).into_bytes(),
            0o644,
        ),
        (
            "etc/hosts".into(),
            hosts(&plan.hostname).into_bytes(),
            0o644,
        ),
        (
            "etc/locale.conf".into(),
            format!("LANG={}\n", plan.locale).into_bytes(),
            0o644,
        ),
        (
            "etc/vconsole.conf".into(),
            vconsole(plan).into_bytes(),
            0o644,
        ),
        (
            "etc/X11/xorg.conf.d/00-keyboard.conf".into(),
            x11_keyboard(plan).into_bytes(),
            0o644,
        ),
        ("etc/pkm/trusted.gpg".into(), keyring.to_vec(), 0o644),
        (
            "etc/pkm/repos.conf".into(),
            REPOS_CONF.as_bytes().to_vec(),
            0o644,
        ),
        // The pkm database records the signed `created`/`expires` of the
        // payload the system came from.
        (
            forge_payload::PKM_PAYLOAD_RECORD.into(),
            ctx.state
                .payload
                .as_ref()
                .map(|p| p.pkm_record())
                .unwrap_or_default(),
            0o644,
        ),
    ])
}

/// The systemd-style relative target of /etc/localtime for `tz`.
pub fn localtime_target(tz: &str) -> String {
    format!("../usr/share/zoneinfo/{tz}")
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let failed = tr("Could not write the system configuration");
    let tz = ctx.plan.timezone.clone();
    if tz.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(PhaseError::new(
            trf("timezone: {tz} is not a time zone name", &[("tz", &tz)]),
            format!("timezone {tz:?} has an empty or '..' component"),
        ));
    }
    if ctx.dry_run {
        for (path, _, mode) in files(ctx, b"")? {
            ctx.operation(&trf(
                "write /{path} (mode {mode})",
                &[("path", &path), ("mode", &format!("{mode:o}"))],
            ));
        }
        ctx.operation(&trf(
            "link /etc/localtime to {target}",
            &[("target", &localtime_target(&tz))],
        ));
        return Ok(());
    }
    let root = ctx.state.root()?;
    ctx.state.root_uuid()?;
    // The very keyring verify checked the payload with (read once, at start).
    let public = match &ctx.state.payload {
        Some(p) => p.keyring().public_bytes(),
        None => {
            return Err(PhaseError::new(
                tr("Could not read the release keyring"),
                "no verified payload (the verify phase did not run)",
            ))
        }
    };
    let all = files(ctx, &public)?;
    let n = all.len() as f64;
    for (i, (path, contents, mode)) in all.into_iter().enumerate() {
        confined::write_file(&root, Path::new(&path), &contents, mode)
            .map_err(|e| PhaseError::new(failed.clone(), e.to_string()))?;
        ctx.log_line(&format!("wrote /{path}"));
        ctx.progress(
            i as f64 / (n + 1.0),
            &trf("Writing /{path}", &[("path", &path)]),
        );
    }
    let target = localtime_target(&tz);
    confined::symlink(&root, Path::new("etc/localtime"), Path::new(&target))
        .map_err(|e| PhaseError::new(failed, e.to_string()))?;
    ctx.log_line(&format!("linked /etc/localtime -> {target}"));
    let zone = Path::new("usr/share/zoneinfo").join(&tz);
    if !confined::exists(&root, &zone) {
        ctx.warn(trf(
            "The time zone {tz} is not installed in the new system (no /usr/share/zoneinfo/{tz}); the clock will show UTC until a package provides it",
            &[("tz", &tz)],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fstab_by_uuid() {
        let f = fstab(Filesystem::Ext4, "r-uuid", Some("AB12-CD34"));
        assert!(f.contains("UUID=r-uuid\t/\text4\tdefaults\t0\t1\n"));
        assert!(f.contains("UUID=AB12-CD34\t/boot/efi\tvfat\tumask=0077\t0\t2\n"));
        let f = fstab(Filesystem::Xfs, "x", None);
        assert!(f.contains("UUID=x\t/\txfs\tdefaults\t0\t0\n") && !f.contains("/boot/efi"));
    }

    #[test]
    fn localtime_is_relative() {
        assert_eq!(
            localtime_target("Europe/Berlin"),
            "../usr/share/zoneinfo/Europe/Berlin"
        );
    }
}
