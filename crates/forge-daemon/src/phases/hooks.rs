//! Phase `hooks`: each installed package's post-install script (`.INSTALL`),
//! in install order, run as `/bin/sh SCRIPT` inside the sandbox of
//! [`crate::resources::sandbox`]: confined to the new system (its own PID,
//! mount, IPC, UTS and network namespaces, a private /proc, a minimal /dev,
//! no /sys, reduced capabilities, `no_new_privs`, a seccomp filter), with a
//! clean environment and a time limit. Everything a script starts ends with
//! it (it is PID 1 of its namespace); at the limit or on Cancel the whole
//! namespace is killed. Output (stdout and stderr, at most 1 MiB, then a
//! truncation note) goes into the install log; a failing, hanging or
//! unstartable script is a Warning, never an abort. On Cancel the running
//! script is killed and no further script runs (the pipeline then stops at
//! the phase boundary). `/bin/sh` is looked up by the kernel inside the
//! sandbox's root, so a merged-/usr target (`bin -> usr/bin`) works and a
//! link out of the target leads nowhere.

use std::time::Duration;

use forge_proto::i18n::{tr, trf};

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::sandbox::{self, Ended, SandboxError};

/// How long one package's script may run.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(300);

/// The whole environment a script gets.
const SCRIPT_ENV: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
    ("LANG", "C"),
    ("FORGE_INSTALL", "1"),
];

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    run_with_timeout(ctx, HOOK_TIMEOUT)
}

/// [`run`] with a chosen time limit per script (tests use a short one).
pub fn run_with_timeout(ctx: &mut JobContext, limit: Duration) -> Result<(), PhaseError> {
    let hooks = ctx.state.hooks.clone();
    if ctx.dry_run {
        if hooks.is_empty() {
            ctx.operation(&tr("run each installed package's post-install script in the new system (chroot, time limit)"));
        }
        for (pkg, script) in &hooks {
            ctx.operation(&trf(
                "run {package}'s post-install script {script} in the new system",
                &[("package", pkg), ("script", &script.display().to_string())],
            ));
        }
        return Ok(());
    }
    let root = ctx.state.root()?;
    if hooks.is_empty() {
        ctx.log_line("no post-install scripts");
        return Ok(());
    }
    let n = hooks.len() as f64;
    for (i, (pkg, script)) in hooks.into_iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            ctx.log_line("cancelled: no further post-install script is run");
            break;
        }
        ctx.progress(
            i as f64 / n,
            &trf("Running {package}'s script", &[("package", &pkg)]),
        );
        ctx.log_line(&format!(
            "[{pkg}] $ /bin/sh {} (sandboxed in {})",
            script.display(),
            root.display()
        ));
        let cancel = ctx.cancel.clone();
        match sandbox::run_script(&root, &script, SCRIPT_ENV, limit, &cancel) {
            Ok(run) => {
                for line in run.output.lines() {
                    ctx.log_line(&format!("[{pkg}] {line}"));
                }
                if run.dropped > 0 {
                    ctx.log_line(&format!(
                        "[{pkg}] [output truncated: {} more bytes not logged]",
                        run.dropped
                    ));
                }
                report(ctx, &pkg, run.ended, limit);
            }
            Err(SandboxError::NoShell) => ctx.warn(no_shell(&pkg)),
            Err(e) => {
                ctx.log_line(&format!("[{pkg}] {e}"));
                ctx.warn(failed(&pkg));
            }
        }
    }
    Ok(())
}

fn report(ctx: &mut JobContext, pkg: &str, ended: Ended, limit: Duration) {
    match ended {
        Ended::Exited(status) if status.success() => {
            ctx.log_line(&format!("[{pkg}] post-install script finished"))
        }
        Ended::Exited(status) => {
            ctx.log_line(&format!("[{pkg}] post-install script exited with {status}"));
            ctx.warn(failed(pkg));
        }
        Ended::TimedOut => ctx.warn(trf(
            "{package}: its post-install script did not finish within {secs} seconds and was stopped",
            &[("package", pkg), ("secs", &limit.as_secs().to_string())],
        )),
        Ended::Cancelled => {
            ctx.log_line(&format!("[{pkg}] post-install script killed: the job was cancelled"))
        }
    }
}

fn no_shell(pkg: &str) -> String {
    trf(
        "{package}: its post-install script was not run: the new system has no /bin/sh",
        &[("package", pkg)],
    )
}

fn failed(pkg: &str) -> String {
    trf(
        "{package}: its post-install script failed (details in /var/log/forge/install.log)",
        &[("package", pkg)],
    )
}
