//! Phase `packages`: extract and register every package verify resolved for
//! the plan's groups, through [`forge_payload::deploy`] (parallel; each
//! archive opened once, hashed and listed from that descriptor before
//! anything is extracted, refused if it no longer matches what verify saw;
//! every path confined to the target, pkm database entries under
//! /var/lib/pkm/local). A package that fails is rolled back by the
//! payload library and reported here as one Warning: the install goes on
//! with a partial state. Services and post-install scripts of the installed
//! packages are handed to the services and hooks phases.
//!
//! Cancel is honoured within the phase: the deploy checks the job's cancel
//! flag before each archive and between entries, rolls back the packages it
//! stopped, and the phase then fails so the pipeline undoes the job as on
//! any failure (the job ends Cancelled, not Failed).

use std::sync::mpsc;

use forge_payload::DeployEvent;
use forge_proto::i18n::{tr, trf};

use crate::pipeline::{JobContext, PhaseError};

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let failed = tr("Could not install the packages");
    if ctx.dry_run {
        let list: Vec<(String, String)> = ctx
            .state
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        if list.is_empty() {
            ctx.operation(&tr(
                "extract and register the packages of the chosen groups",
            ));
        }
        for (name, version) in list {
            ctx.operation(&trf(
                "extract and register {name} {version}",
                &[("name", &name), ("version", &version)],
            ));
        }
        return Ok(());
    }
    let root = ctx.state.root()?;
    let (Some(payload), Some(report)) = (ctx.state.payload.take(), ctx.state.integrity.take())
    else {
        return Err(PhaseError::new(
            failed,
            "no verified payload: the verify phase did not hand one over",
        ));
    };
    let packages = std::mem::take(&mut ctx.state.packages);
    let total = packages.len().max(1) as f64;
    ctx.log_line(&format!(
        "deploying {} packages into {}",
        packages.len(),
        root.display()
    ));

    // deploy() reports from its worker threads; the events come back to
    // this (the pipeline) thread, which owns the context.
    let (tx, rx) = mpsc::channel::<DeployEvent>();
    let cancel = ctx.cancel.clone();
    let deployed = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let tx = std::sync::Mutex::new(tx);
            let send = |ev: DeployEvent| {
                if let Ok(tx) = tx.lock() {
                    let _ = tx.send(ev);
                }
            };
            forge_payload::deploy_until(&payload, &report, &packages, &root, &send, cancel.flag())
        });
        for ev in rx.iter() {
            match ev {
                DeployEvent::Started { name } => ctx.log_line(&format!("extracting {name}")),
                DeployEvent::Finished { name, done, .. } => {
                    ctx.progress(
                        done as f64 / total,
                        &trf("Installed {name}", &[("name", &name)]),
                    );
                }
                DeployEvent::Failed { name, error } => {
                    ctx.log_line(&format!("package {name} failed: {error}"));
                }
            }
        }
        worker.join()
    });
    let deployed =
        deployed.map_err(|_| PhaseError::new(failed.clone(), "the deploy thread panicked"))?;
    if ctx.cancel.is_cancelled() {
        ctx.log_line(&format!(
            "cancelled during the deploy: {} packages were installed, {} stopped or failed",
            deployed.installed.len(),
            deployed.failed.len()
        ));
        return Err(PhaseError::new(failed, "the job was cancelled"));
    }
    for (name, error) in &deployed.failed {
        ctx.log_line(&format!("package {name} not installed: {error}"));
        ctx.warn(trf(
            "The package {name} could not be installed and was left out (details in the install log)",
            &[("name", name)],
        ));
    }
    for p in &deployed.installed {
        ctx.log_line(&format!(
            "installed {} {} ({} paths)",
            p.name, p.version, p.files
        ));
        ctx.state.deployed.push((p.name.clone(), p.version.clone()));
        for s in &p.services {
            if !ctx.state.package_services.contains(s) {
                ctx.state.package_services.push(s.clone());
            }
        }
        if let Some(script) = &p.install_script {
            ctx.state.hooks.push((p.name.clone(), script.clone()));
        }
    }
    // Keep what verify produced for later phases or reports.
    ctx.state.payload = Some(payload);
    ctx.state.integrity = Some(report);
    ctx.state.packages = packages;
    if deployed.installed.is_empty() && !deployed.failed.is_empty() {
        return Err(PhaseError::new(
            tr("None of the packages could be installed"),
            format!("all {} packages failed", deployed.failed.len()),
        ));
    }
    Ok(())
}
