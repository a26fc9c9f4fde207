//! Phase `verify`: the security gate (docs/design.md sections 4 and 5). Takes the
//! keyring the daemon read and checked once at start ([`crate::trust`]),
//! refuses a payload directory others could write, checks both detached
//! signatures (manifest and index), resolves the plan's package groups, and
//! hashes every archive that will be deployed (in parallel; Cancel stops
//! the hashing at once). Every result goes to the integrity audit log
//! (`ctx.audit`).
//!
//! A bad signature, an unreadable keyring or a group the payload cannot
//! satisfy fails the phase: there is nothing trustworthy to override. So
//! does a target too small for the resolved packages' installed size (the
//! signed index is the first trustworthy source of it; validate checked the
//! partitions alone). An
//! archive that is missing, unlisted or does not hash to its signed SHA-256
//! halts the job in awaiting-override: it continues only after an
//! authorized caller types the exact phrase, and stops with the disk
//! untouched on Cancel. In both cases, nothing has been written yet.

use forge_payload::{open_verified, PayloadError};
use forge_proto::i18n::{tr, trf};

use crate::phases::validate;
use crate::pipeline::{IntegrityDecision, JobContext, PhaseError};
use crate::trust::{check_payload_dir, TrustFailure};

fn audit(ctx: &mut JobContext, line: String) {
    tracing::info!(target: "forge::audit", job = ctx.job_id, "{line}");
    ctx.audit.push(line);
}

/// A short, translated summary for a failure to open the payload.
fn open_failure(e: &PayloadError) -> String {
    match e {
        PayloadError::Signature { .. } => {
            tr("The package set's signature is not valid. Nothing was installed.")
        }
        PayloadError::Keyring { .. } => tr("The installer's release keys cannot be read."),
        PayloadError::Expired { .. } => {
            tr("The package set has expired: its signed metadata is out of date. Nothing was installed.")
        }
        PayloadError::NotYetValid { .. } => tr(
            "The package set's signed metadata is dated in the future; check the system clock. Nothing was installed.",
        ),
        PayloadError::Io { .. } => tr("The package set cannot be read."),
        _ => tr("The package set is damaged or inconsistent."),
    }
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let keyring_path = ctx.config.keyring.clone();
    let payload_dir = ctx.config.payload.clone();
    let keyring = match ctx.config.trusted_keyring() {
        Ok(k) => k,
        Err(TrustFailure::Untrusted(detail)) => {
            audit(ctx, format!("KEYRING-REFUSED {detail}"));
            return Err(PhaseError::new(
                tr("The installer's release keys cannot be trusted."),
                detail,
            ));
        }
        Err(TrustFailure::Unreadable(detail)) => {
            audit(ctx, format!("KEYRING-FAILED {detail}"));
            return Err(PhaseError::new(
                tr("The installer's release keys cannot be read."),
                detail,
            ));
        }
    };
    if let Err(detail) = check_payload_dir(&payload_dir) {
        audit(ctx, format!("PAYLOAD-REFUSED {detail}"));
        return Err(PhaseError::new(
            tr("The package set's directory could be changed by other users; it cannot be trusted."),
            detail,
        ));
    }
    audit(
        ctx,
        format!(
            "KEYRING {} certificates={}",
            keyring_path.display(),
            keyring.fingerprints().join(",")
        ),
    );
    ctx.progress(0.05, &tr("Checking the package set's signatures"));
    let payload = match open_verified(&payload_dir, &keyring) {
        Ok(p) => p,
        Err(e) => {
            audit(
                ctx,
                format!("SIGNATURE-FAILED {}: {e}", payload_dir.display()),
            );
            return Err(PhaseError::new(open_failure(&e), e.to_string()));
        }
    };
    audit(
        ctx,
        format!(
            "SIGNATURES-OK {} manifest+index, {} packages in the index, created {} expires {}",
            payload_dir.display(),
            payload.packages().len(),
            payload.validity().created_utc(),
            payload.validity().expires_utc()
        ),
    );
    let packages = payload
        .resolve_groups(&ctx.plan.package_groups)
        .map_err(|e| {
            PhaseError::new(
                tr("The chosen package groups cannot be installed from this package set."),
                e.to_string(),
            )
        })?;
    validate::check_fits(ctx, packages.iter().map(|p| p.installed_size).sum())?;
    let n = packages.len().to_string();
    ctx.progress(
        0.1,
        &trf(
            "Checking {count} packages against their signed checksums",
            &[("count", &n)],
        ),
    );
    // Cancel stops the hashing within about one read per thread.
    let Some(report) = payload.verify_archives_until(&packages, ctx.cancel.flag()) else {
        audit(
            ctx,
            "CANCELLED while hashing the archives; nothing was written".into(),
        );
        return Err(PhaseError::new(
            tr("The installation was cancelled."),
            "cancelled while hashing the archives",
        ));
    };
    for line in report.audit_lines() {
        audit(ctx, line);
    }
    if !report.is_clean() {
        let mismatches = report.mismatches();
        audit(
            ctx,
            format!(
                "INTEGRITY-FAILED {} file(s); awaiting a decision",
                mismatches.len()
            ),
        );
        match ctx.await_integrity_decision(mismatches) {
            IntegrityDecision::Override => {
                audit(
                    ctx,
                    "OVERRIDE accepted: an authorized caller typed the override phrase; continuing with unverified files".into(),
                );
                ctx.warn(tr(
                    "Packages that failed verification are being installed because the check was overridden.",
                ));
            }
            IntegrityDecision::Cancel => {
                audit(
                    ctx,
                    "CANCELLED at the integrity failure; nothing was written".into(),
                );
                ctx.cancel.cancel();
                return Err(PhaseError::new(
                    tr("Cancelled: packages failed verification. Nothing was written."),
                    "integrity failure not overridden",
                ));
            }
        }
    } else {
        audit(ctx, format!("INTEGRITY-OK {} archive(s)", packages.len()));
    }
    ctx.state.payload = Some(payload);
    ctx.state.packages = packages;
    ctx.state.integrity = Some(report);
    Ok(())
}
