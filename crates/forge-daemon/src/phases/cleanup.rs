//! Phase `cleanup`: write the install log and the integrity audit log into
//! the target's /var/log/forge/, flush everything to disk, then release
//! every held resource in reverse (binds, the root mount, the loop device)
//! and report what was installed.

use std::path::Path;

use forge_proto::i18n::{tr, trf};

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::mounts;
use forge_payload::confined;

pub const INSTALL_LOG: &str = "var/log/forge/install.log";
pub const AUDIT_LOG: &str = "var/log/forge/integrity-audit.log";

fn text(lines: &[String]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    if ctx.dry_run {
        ctx.operation(&tr(
            "write the install log to /var/log/forge/install.log (0600)",
        ));
        ctx.operation(&tr(
            "write the integrity audit log to /var/log/forge/integrity-audit.log (0640)",
        ));
        ctx.operation(&tr(
            "unmount everything in reverse order and detach the loop device",
        ));
        return Ok(());
    }
    let root = ctx.state.root()?;
    ctx.log_line(&format!(
        "installed {} packages; {} warnings",
        ctx.state.deployed.len(),
        ctx.warnings.len()
    ));
    // A missing log is a trust-chain gap the person must hear about, but
    // the installed system is complete: a warning, not a failure.
    let audit = text(&ctx.audit);
    if let Err(e) = confined::write_file(&root, Path::new(AUDIT_LOG), &audit, 0o640) {
        ctx.warn(trf(
            "The integrity audit log could not be copied to the new system: {error}",
            &[("error", &e.to_string())],
        ));
    }
    ctx.log_line("releasing mounts and devices");
    let log = text(&ctx.log);
    if let Err(e) = confined::write_file(&root, Path::new(INSTALL_LOG), &log, 0o600) {
        ctx.warn(trf(
            "The install log could not be copied to the new system: {error}",
            &[("error", &e.to_string())],
        ));
    }
    nix::unistd::sync();
    ctx.release_all();
    let left: Vec<String> = mounts::mount_points()
        .into_iter()
        .filter(|p| p.starts_with(&root))
        .map(|p| p.display().to_string())
        .collect();
    if !left.is_empty() {
        return Err(PhaseError::new(
            tr("Some file systems of the new system could not be unmounted"),
            format!("still mounted: {}", left.join(", ")),
        ));
    }
    ctx.progress(1.0, &tr("The installation is complete"));
    Ok(())
}
