//! Phase `hooks`: each installed package's post-install script (`.INSTALL`),
//! in install order, run in the target (`chroot ROOT /bin/sh SCRIPT`) with a
//! clean environment and a time limit (the script's whole process group is
//! killed when it passes). Output goes into the install log; a failing or
//! hanging script is a Warning, never an abort.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use forge_proto::i18n::{tr, trf};

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::command::{self, CmdError};
use forge_payload::confined;

/// How long one package's script may run.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(300);

fn chroot_sh(root: &Path, script: &Path) -> Command {
    let mut c = Command::new("chroot");
    c.arg(root)
        .arg("/bin/sh")
        .arg(script)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", "/root")
        .env("LANG", "C")
        .env("FORGE_INSTALL", "1");
    c
}

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
    let has_sh = confined::exists(&root, Path::new("bin/sh"));
    let n = hooks.len() as f64;
    for (i, (pkg, script)) in hooks.into_iter().enumerate() {
        ctx.progress(
            i as f64 / n,
            &trf("Running {package}'s script", &[("package", &pkg)]),
        );
        if !has_sh {
            ctx.warn(trf(
                "{package}: its post-install script was not run: the new system has no /bin/sh",
                &[("package", &pkg)],
            ));
            continue;
        }
        let mut cmd = chroot_sh(&root, &script);
        ctx.log_line(&format!("[{pkg}] $ {}", command::describe(&cmd)));
        let result = command::run(&mut cmd, limit);
        let output = match &result {
            Ok(o) => format!("{}{}", o.stdout, o.stderr),
            Err(e) => e.output(),
        };
        for line in output.lines() {
            ctx.log_line(&format!("[{pkg}] {line}"));
        }
        match result {
            Ok(_) => ctx.log_line(&format!("[{pkg}] post-install script finished")),
            Err(CmdError::Timeout { secs, .. }) => ctx.warn(trf(
                "{package}: its post-install script did not finish within {secs} seconds and was stopped",
                &[("package", &pkg), ("secs", &secs.to_string())],
            )),
            Err(e) => {
                ctx.log_line(&format!("[{pkg}] {e}"));
                ctx.warn(trf(
                    "{package}: its post-install script failed (details in /var/log/forge/install.log)",
                    &[("package", &pkg)],
                ))
            }
        }
    }
    Ok(())
}
