//! `forgectl payload build|verify|deploy`: the distributor's tool over the
//! `forge-payload` library (docs/design.md sections 4 and 4a). Owner: issue 3.
//!
//! Exit codes: 0 success; 1 the payload was refused (signature, integrity,
//! confinement, a package failed); 2 bad input (unreadable keyring or
//! directory, unknown group). Every failure message names the file.

use std::path::Path;
use std::process::ExitCode;

use forge_payload::{
    build, freshness, open_verified, IntegrityReport, Keyring, Payload, PayloadError,
};
use forge_proto::i18n::{tr, trf};

use crate::cli::PayloadCommand;

pub fn run(cmd: PayloadCommand) -> ExitCode {
    let r = match cmd {
        PayloadCommand::Build {
            dir,
            sign_key,
            expires,
        } => run_build(&dir, sign_key.as_deref(), expires.as_deref()),
        PayloadCommand::Verify { dir, keyring } => run_verify(&dir, &keyring),
        PayloadCommand::Deploy {
            dir,
            keyring,
            root,
            groups,
        } => run_deploy(&dir, &keyring, &root, &groups),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

/// Prints a refusal (the error names the file) and picks the exit code.
fn fail(e: &PayloadError) -> u8 {
    let code = match e {
        PayloadError::Keyring { .. } | PayloadError::UnknownGroup { .. } => 2,
        PayloadError::Io { path, .. } if !path.exists() => 2,
        _ => 1,
    };
    eprintln!(
        "{}",
        trf("forgectl: refused: {detail}", &[("detail", &e.to_string())])
    );
    code
}

fn run_build(dir: &Path, key: Option<&Path>, expires: Option<&str>) -> Result<(), u8> {
    let now = freshness::unix_secs(std::time::SystemTime::now());
    let validity = match expires {
        None => freshness::Validity::starting_now(freshness::DEFAULT_LIFETIME),
        Some(arg) => match freshness::parse_expires(arg, now) {
            Ok(expires) => freshness::Validity {
                created: now,
                expires,
            },
            Err(detail) => {
                eprintln!(
                    "{}",
                    trf("forgectl: --expires: {detail}", &[("detail", &detail)])
                );
                return Err(2);
            }
        },
    };
    let s = build::build_payload_with(dir, key, validity).map_err(|e| fail(&e))?;
    let n = s.packages.to_string();
    println!(
        "{}",
        trf(
            "Wrote {manifest} and {index} for {count} packages.",
            &[
                ("manifest", &s.manifest.display().to_string()),
                ("index", &s.index.display().to_string()),
                ("count", &n),
            ]
        )
    );
    println!(
        "{}",
        trf(
            "Created {created}; expires {expires}.",
            &[
                ("created", &s.validity.created_utc()),
                ("expires", &s.validity.expires_utc()),
            ]
        )
    );
    match &s.signatures {
        Some((m, i)) => println!(
            "{}",
            trf(
                "Signed: {manifest_sig} and {index_sig}.",
                &[
                    ("manifest_sig", &m.display().to_string()),
                    ("index_sig", &i.display().to_string()),
                ]
            )
        ),
        None => println!(
            "{}",
            tr("Not signed: sign both files with `gpg --detach-sign --armor` (manifest -> .asc, index -> .sig).")
        ),
    }
    Ok(())
}

/// Loads the keyring, checks both signatures, hashes every archive.
fn verified(dir: &Path, keyring: &Path) -> Result<(Keyring, Payload), u8> {
    let keyring = Keyring::load(keyring).map_err(|e| fail(&e))?;
    let payload = open_verified(dir, &keyring).map_err(|e| fail(&e))?;
    Ok((keyring, payload))
}

/// Prints every file that is not ok; Err(1) if any.
fn report_integrity(payload: &Payload, report: &IntegrityReport) -> Result<(), u8> {
    if report.is_clean() {
        return Ok(());
    }
    for (path, expected, actual) in report.mismatches() {
        let full = payload.dir().join(&path).display().to_string();
        eprintln!(
            "{}",
            trf(
                "forgectl: refused: {file}: integrity check failed (expected {expected}, found {actual})",
                &[("file", &full), ("expected", &expected), ("actual", &actual)]
            )
        );
    }
    Err(1)
}

fn run_verify(dir: &Path, keyring: &Path) -> Result<(), u8> {
    let (_k, payload) = verified(dir, keyring)?;
    let report = payload.verify_archives(payload.packages());
    report_integrity(&payload, &report)?;
    println!(
        "{}",
        trf(
            "Payload verified: both signatures and {count} archives.",
            &[("count", &payload.packages().len().to_string())]
        )
    );
    Ok(())
}

fn run_deploy(dir: &Path, keyring: &Path, root: &Path, groups: &[String]) -> Result<(), u8> {
    let (_k, payload) = verified(dir, keyring)?;
    let packages = if groups.is_empty() {
        payload.packages().to_vec()
    } else {
        payload.resolve_groups(groups).map_err(|e| fail(&e))?
    };
    let report = payload.verify_archives(&packages);
    report_integrity(&payload, &report)?;
    let on_event = |ev: forge_payload::DeployEvent| match ev {
        forge_payload::DeployEvent::Finished { name, done, total } => eprintln!(
            "{}",
            trf(
                "[{done}/{total}] installed {name}",
                &[
                    ("done", &done.to_string()),
                    ("total", &total.to_string()),
                    ("name", &name)
                ]
            )
        ),
        forge_payload::DeployEvent::Failed { name, error } => eprintln!(
            "{}",
            trf(
                "forgectl: package {name} failed: {detail}",
                &[("name", &name), ("detail", &error)]
            )
        ),
        forge_payload::DeployEvent::Started { .. } => {}
    };
    let out = forge_payload::deploy(&payload, &report, &packages, root, &on_event);
    println!(
        "{}",
        trf(
            "Deployed {ok} of {total} packages into {root}.",
            &[
                ("ok", &out.installed.len().to_string()),
                ("total", &packages.len().to_string()),
                ("root", &root.display().to_string())
            ]
        )
    );
    if out.failed.is_empty() {
        Ok(())
    } else {
        Err(1)
    }
}
