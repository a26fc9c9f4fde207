//! Fault injection through the real daemon (docs/design.md invariant 6): for each
//! of the 13 phases, a daemon configured with `test_fail_at_phase` runs
//! `forgectl install` into a disk image; the install must fail, name that
//! phase, and leave no mount, bind mount or loop device behind (the host's
//! /proc/self/mountinfo, `losetup -j IMAGE`, and the job's own mount
//! namespace, which the daemon inspects after releasing every guard and
//! logs as `leftover mounts: none`).
//!
//! Needs root, dbus-daemon, polkitd; build the binaries first, the daemon
//! with its test-only `fault-injection` feature (a default build refuses
//! `test_fail_at_phase` as an unknown key):
//! `cargo build -p forge-daemon --features fault-injection -p forge-cli`.

mod daemon_common;

use std::path::Path;

use daemon_common::*;
use forge_proto::Phase;
use forge_tests::daemon::DaemonOptions;
use forge_tests::env::ForgeEnv;
use forge_tests::users;

fn mounts_under(mountinfo: &str, dir: &Path) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&*dir.to_string_lossy()))
        .map(str::to_string)
        .collect()
}

/// `forgectl install` into a fresh image with the daemon failing at `phase`.
fn install_failing_at(payload: &TestPayload, phase: Phase) -> anyhow::Result<()> {
    let env = ForgeEnv::start(DaemonOptions {
        payload: Some(payload.payload.clone()),
        keyring: Some(payload.keyring.clone()),
        fail_at_phase: Some(phase.as_str().to_string()),
        ..DaemonOptions::default()
    })?;
    let img = env.daemon.create_image("disk.img", 256 << 20)?;
    let out = env.forgectl_install(
        &users::permitted()?,
        &plan_yaml(&["core", "base"]),
        &img,
        (ROOT_PW, USER_PW),
        &[],
    )?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let log = env.daemon.log();
    let context =
        format!("fault at {phase}\nstdout:\n{stdout}\nstderr:\n{stderr}\ndaemon log:\n{log}");
    assert_ne!(
        out.status.code(),
        Some(0),
        "install succeeded despite the fault: {context}"
    );
    // The final error names the failed phase (`<phase>: <summary>`) and, on
    // the same line, the last completed phase (phase names are untranslated).
    let failed_line = stderr
        .lines()
        .rev()
        .find(|l| l.contains(&format!("{phase}: ")))
        .unwrap_or_else(|| panic!("forgectl did not name the failed phase: {context}"));
    let previous = Phase::ALL
        .iter()
        .position(|p| *p == phase)
        .and_then(|i| i.checked_sub(1))
        .map(|i| Phase::ALL[i]);
    if let Some(previous) = previous {
        assert!(
            failed_line.contains(previous.as_str()),
            "the last completed phase is not {previous}: {failed_line}\n{context}"
        );
    }
    assert!(
        log.contains(&format!("fault injection configured for phase {phase}")),
        "{context}"
    );
    for secret in [ROOT_PW, USER_PW] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret) && !log.contains(secret),
            "secret leaked: {context}"
        );
    }
    let host = std::fs::read_to_string("/proc/self/mountinfo")?;
    let leaked = mounts_under(&host, &env.daemon.staging_dir);
    assert!(
        leaked.is_empty(),
        "host mounts left under the staging dir: {leaked:?}\n{context}"
    );
    assert_eq!(loops_of(&img)?, "", "loop device left attached: {context}");
    // The job's own namespace, where its mounts lived: the daemon checks it
    // after releasing every guard and logs what is left.
    assert!(
        log.contains("leftover mounts: none") && !log.contains("leftover mounts: /"),
        "mounts left in the job's namespace: {context}"
    );
    Ok(())
}

#[test]
fn each_phase_failure_is_reported_and_undone() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    for phase in Phase::ALL {
        let started = std::time::Instant::now();
        install_failing_at(&payload, phase)?;
        eprintln!(
            "fault at {phase}: reported and undone ({:.1?})",
            started.elapsed()
        );
    }
    Ok(())
}
