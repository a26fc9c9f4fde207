//! `forgectl install`: starts an install through `forge_proto::client`
//! (which subscribes to the job's signals, from the daemon's unique name
//! only, before it calls `Install`), prints live progress and warnings,
//! asks for the override phrase on a terminal when verification fails,
//! cancels on Ctrl-C, and exits 0 only on success. Its secrets are read
//! first; `Install` and the override then run with the text polkit agent
//! when one is wanted ([`super::authz`]).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use forge_proto::client::Daemon;
use forge_proto::i18n::{tr, trf};
use forge_proto::wire::{phase_name, JobEvent, Mismatch};
use forge_proto::{BootMode, ForgeError, InstallIo, JobState, Phase, Secret};

use super::authz::{authorized, install_refused, override_refused};
use super::terminal::{password, read_line};
use super::{connect, describe, report, run_async, Exit};
use crate::cli::InstallArgs;

pub fn install(a: InstallArgs) -> ExitCode {
    // The passwords will be in this process's memory: no core dumps.
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) only changes this process's flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let yaml = match std::fs::read_to_string(&a.plan) {
        Ok(y) => y,
        Err(e) => {
            eprintln!(
                "{}",
                trf(
                    "forgectl: cannot read {file}: {error}",
                    &[
                        ("file", &a.plan.display().to_string()),
                        ("error", &e.to_string())
                    ]
                )
            );
            return ExitCode::from(2);
        }
    };
    let root_password = match password(&a.root_password_file, &tr("root password")) {
        Ok(p) => p,
        Err(Exit(c)) => return ExitCode::from(c),
    };
    let user_password = match password(&a.user_password_file, &tr("user password")) {
        Ok(p) => p,
        Err(Exit(c)) => return ExitCode::from(c),
    };
    let secure_boot_password = match secure_boot_password(&a, &yaml) {
        Ok(p) => p,
        Err(Exit(c)) => return ExitCode::from(c),
    };
    let io = InstallIo {
        disk: a.disk.clone(),
        root_password,
        user_password,
        secure_boot_password,
        dry_run: a.dry_run,
    };
    run_async(run_install(yaml, io))
}

/// The Secure Boot password: from its file when given, else asked for
/// (hidden, twice) when the plan installs for EFI, which enrolls a key;
/// empty otherwise (a plan that does not parse is the daemon's to report).
fn secure_boot_password(a: &InstallArgs, yaml: &str) -> Result<Secret, Exit> {
    if a.secure_boot_password_file.is_some() {
        return password(&a.secure_boot_password_file, &tr("Secure Boot password"));
    }
    let efi = forge_proto::validate::parse_plan(yaml)
        .map(|p| forge_proto::layout::resolve_boot_mode(p.boot_mode()) == BootMode::Efi)
        .unwrap_or(false);
    if efi {
        eprintln!(
            "{}",
            tr("The next start asks for a Secure Boot password in the blue MokManager screen, to enroll this computer's key: choose one now.")
        );
        password(&None, &tr("Secure Boot password"))
    } else {
        Ok(Secret::default())
    }
}

async fn run_install(yaml: String, io: InstallIo) -> Result<(), Exit> {
    let daemon = connect().await?;
    let dry_run = io.dry_run;
    let mut job = match authorized(daemon.install(&yaml, io)).await {
        Ok(job) => job,
        Err(e @ ForgeError::NotAuthorized(_)) => {
            eprintln!("{}", install_refused(&e));
            return Err(Exit(1));
        }
        Err(ForgeError::InvalidPlan(msg)) => {
            eprintln!("{}", tr("The installer refused the plan:"));
            for line in msg.lines() {
                eprintln!("  {line}");
            }
            return Err(Exit(1));
        }
        Err(e) => {
            report(&e);
            return Err(Exit(1));
        }
    };
    if dry_run {
        println!("{}", tr("Dry run: nothing will be written."));
    }

    let mut last_message = String::new();
    let mut current_label = String::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    let mut cancelling = false;
    // Ticks on which the job was already in a final state without its
    // Finished signal having reached us (a lost or malformed signal).
    let mut final_ticks = 0u8;
    loop {
        tokio::select! {
            ev = job.events.recv() => {
                let Some(ev) = ev else {
                    if daemon.is_alive().await {
                        eprintln!("{}", tr("forgectl: lost the connection to the installer service."));
                    } else {
                        eprintln!("{}", tr("forgectl: the installer service stopped before the installation finished."));
                    }
                    return Err(Exit(1));
                };
                match ev {
                    JobEvent::PhaseStarted(phase) => {
                        current_label = phase.label();
                        println!("[{}/{}] {}", phase.index() + 1, Phase::ALL.len(), current_label);
                    }
                    JobEvent::Progress { message, .. } => {
                        if !message.is_empty() && message != current_label && message != last_message {
                            println!("      {message}");
                            last_message = message;
                        }
                    }
                    JobEvent::Warning(message) => {
                        println!("{}", trf("  warning: {message}", &[("message", &message)]));
                    }
                    JobEvent::IntegrityFailed { mismatches, phrase } => {
                        answer_integrity(&daemon, &job.path, &mismatches, &phrase).await;
                    }
                    JobEvent::Finished { success, phase_completed, error, warnings } => {
                        return report_finished(success, dry_run, phase_name(phase_completed), &error, &warnings);
                    }
                    JobEvent::PhaseFinished(_) | JobEvent::StateChanged(_) => {}
                }
            }
            _ = tokio::signal::ctrl_c(), if !cancelling => {
                cancelling = true;
                eprintln!("{}", tr("Cancelling at the next safe point..."));
                if let Err(e) = daemon.cancel(&job.path).await {
                    report(&e);
                }
            }
            _ = tick.tick() => {
                if !daemon.is_alive().await {
                    eprintln!("{}", tr("forgectl: the installer service stopped before the installation finished."));
                    return Err(Exit(1));
                }
                let Ok(proxy) = daemon.job(&job.path).await else { continue };
                let state = proxy.state().await.ok().and_then(|s| JobState::from_name(&s));
                if state.is_some_and(JobState::is_final) {
                    final_ticks += 1;
                } else {
                    final_ticks = 0;
                }
                // Two ticks in a final state and still no Finished: report
                // from the job's properties instead of waiting forever.
                if final_ticks >= 2 {
                    let completed = proxy.phase_completed().await.unwrap_or_default();
                    let warnings = proxy.warnings().await.unwrap_or_default();
                    let success = state == Some(JobState::Succeeded);
                    let error = if success {
                        String::new()
                    } else {
                        tr("the job ended without reporting why; see the installer's log")
                    };
                    return report_finished(success, dry_run, &completed, &error, &warnings);
                }
            }
        }
    }
}

fn report_finished(
    success: bool,
    dry_run: bool,
    completed: &str,
    error: &str,
    warnings: &[String],
) -> Result<(), Exit> {
    if !warnings.is_empty() {
        println!("{}", tr("Warnings:"));
        for w in warnings {
            println!("  {w}");
        }
    }
    if success && dry_run {
        println!("{}", tr("Dry run finished; nothing was written."));
        Ok(())
    } else if success {
        println!("{}", tr("Installation finished successfully."));
        Ok(())
    } else {
        let last = if completed.is_empty() {
            tr("none")
        } else {
            completed.to_string()
        };
        eprintln!(
            "{}",
            trf(
                "Installation did not finish: {error} (last completed phase: {phase})",
                &[("error", error), ("phase", &last)]
            )
        );
        Err(Exit(1))
    }
}

/// Shows the mismatches and lets a person on a terminal type the phrase;
/// anything else cancels the job with the disk untouched.
async fn answer_integrity(daemon: &Daemon, job: &str, mismatches: &[Mismatch], phrase: &str) {
    eprintln!(
        "{}",
        tr("Package verification FAILED. These files do not match the signed manifest:")
    );
    for m in mismatches {
        eprintln!(
            "  {}",
            trf(
                "{path}: expected {expected}, found {actual}",
                &[
                    ("path", &m.path),
                    ("expected", &m.expected),
                    ("actual", &m.actual)
                ]
            )
        );
    }
    let cancel = || async {
        if let Err(e) = daemon.cancel(job).await {
            report(&e);
        }
    };
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "{}",
            tr("An override must be typed on a terminal; cancelling. The disk was not touched.")
        );
        cancel().await;
        return;
    }
    for _ in 0..3 {
        eprintln!(
            "{}",
            tr("To install anyway, type this phrase exactly; press Enter alone to cancel:")
        );
        eprintln!("  {phrase}");
        eprint!("> ");
        let _ = std::io::stderr().flush();
        let typed = tokio::task::spawn_blocking(read_line)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        if typed.is_empty() {
            cancel().await;
            return;
        }
        match authorized(daemon.override_integrity(job, &typed)).await {
            Ok(()) => {
                eprintln!("{}", tr("Override accepted; continuing."));
                return;
            }
            Err(e @ ForgeError::WrongPhrase(_)) => {
                eprintln!("{}", describe(&e));
            }
            Err(e @ ForgeError::NotAuthorized(_)) => {
                eprintln!("{}", override_refused(&e));
                cancel().await;
                return;
            }
            Err(e) => {
                report(&e);
                cancel().await;
                return;
            }
        }
    }
    cancel().await;
}
