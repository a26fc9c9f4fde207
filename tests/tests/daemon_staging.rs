//! Every job leaves its staging directory empty (issue 13, item 6), through
//! the real daemon on the private bus, for each way a job can end: a dry
//! run, a real install that succeeds (this small payload has no boot
//! loader: success with warnings), one that fails after the new root was
//! mounted (test-only fault at `hooks`), and one cancelled while its root
//! is mounted (held at `packages` by the test-only pause). Before the fix
//! each real install left an empty `job-N/root` and logged "staging
//! directory left".

mod daemon_common;

use std::path::Path;

use daemon_common::*;
use forge_tests::daemon::DaemonOptions;
use forge_tests::env::ForgeEnv;

/// Everything under the daemon's staging directory, as relative paths.
fn staging_entries(staging: &Path) -> Vec<String> {
    walkdir(staging)
        .into_iter()
        .map(|p| p.strip_prefix(staging).unwrap_or(&p).display().to_string())
        .collect()
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walkdir(&p));
        }
        out.push(p);
    }
    out
}

fn assert_staging_empty(env: &ForgeEnv, what: &str) {
    let left = staging_entries(&env.daemon.staging_dir);
    let log = env.daemon.log();
    assert!(
        left.is_empty(),
        "{what}: the staging directory is not empty: {left:?}\n{log}"
    );
    assert!(
        !log.contains("staging directory left"),
        "{what}: the daemon kept a staging directory\n{log}"
    );
}

#[test]
fn a_dry_run_and_a_real_install_leave_the_staging_directory_empty() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut c = watching_client(&env)?;

    let path = started_job(&mut c, &plan_yaml(&["core"]), &io_json(&img, true))?;
    let fin = finished(&mut c, &path)?;
    assert_eq!(fin["args"][0], true, "dry run: {fin}");
    assert_staging_empty(&env, "dry run");

    // This payload has no boot loader: the install succeeds with warnings.
    let path = started_job(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    let fin = finished(&mut c, &path)?;
    let log = env.daemon.log();
    assert_eq!(fin["args"][0], true, "{fin}\n{log}");
    assert!(log.contains("holding root mount point"), "{log}");
    assert_staging_empty(&env, "successful install");
    Ok(())
}

#[test]
fn a_failed_install_leaves_the_staging_directory_empty() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start_with(
        &payload,
        DaemonOptions {
            fail_at_phase: Some("hooks".into()),
            ..DaemonOptions::default()
        },
    )?;
    let img = image(&env)?;
    let mut c = watching_client(&env)?;
    let path = started_job(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    let fin = finished(&mut c, &path)?;
    // It failed after the new root was mounted in the staging directory.
    assert_eq!(fin["args"][0], false, "{fin}");
    assert_eq!(fin["args"][1], "bootloader", "{fin}");
    assert_staging_empty(&env, "failed install");
    Ok(())
}

#[test]
fn a_cancelled_install_leaves_the_staging_directory_empty() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start_with(
        &payload,
        DaemonOptions {
            pause_at_phase: Some(("packages".into(), 60)),
            ..DaemonOptions::default()
        },
    )?;
    let img = image(&env)?;
    let mut c = watching_client(&env)?;
    let path = started_job(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    c.wait_signal(
        |s| s["signal"] == "PhaseStarted" && s["args"][0] == "packages",
        JOB_TIMEOUT,
    )?;
    let mid = staging_entries(&env.daemon.staging_dir);
    assert!(
        mid.iter().any(|p| p.ends_with("/root")),
        "the job's root is mounted in its staging directory: {mid:?}"
    );
    let r = c.request(&format!("cancel {path}"))?;
    assert_eq!(r["ok"], true, "{r}");
    let p = props_when_done(&mut c, &path)?;
    assert_eq!(p["props"]["State"], "cancelled", "{p}");
    assert_eq!(p["props"]["PhaseCompleted"], "virtual-fs", "{p}");
    assert_staging_empty(&env, "cancelled install");
    let loops = loops_of(&img)?;
    assert!(loops.is_empty(), "loop device left behind: {loops}");
    Ok(())
}
