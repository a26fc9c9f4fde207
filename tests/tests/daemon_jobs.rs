//! Jobs over the bus: a permitted dry run reports PhaseStarted, Progress
//! and Finished in order with a monotone fraction; one install at a time;
//! a vanished client does not stop a job; ValidatePlan agrees with
//! `forgectl validate`; no password leaks into the log, a signal, a
//! property or the accepted install.yaml; `ActiveJob` names the running
//! job and is "/" once it finished.

mod daemon_common;

use std::time::Duration;

use daemon_common::*;
use forge_tests::{daemon::built_binary, users};

#[test]
fn permitted_dry_run_reports_in_order_and_leaks_no_password() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let before = sha256(&img)?;
    let mut c = watching_client(&env)?;
    let path = started_job(&mut c, &plan_yaml(&["base"]), &io_json(&img, true))?;
    assert!(path.starts_with("/org/intergenos/Forge1/Job/"), "{path}");
    let fin = finished(&mut c, &path)?;
    assert_eq!(
        fin["args"][0],
        true,
        "dry run failed: {fin}\n{}",
        env.daemon.log()
    );
    assert_eq!(fin["args"][1], "cleanup", "{fin}");

    let sigs: Vec<_> = c
        .signals()
        .iter()
        .filter(|s| s["path"] == path.as_str())
        .cloned()
        .collect();
    let first_started = sigs
        .iter()
        .position(|s| s["signal"] == "PhaseStarted")
        .unwrap();
    let first_progress = sigs.iter().position(|s| s["signal"] == "Progress").unwrap();
    let finished_at = sigs.iter().position(|s| s["signal"] == "Finished").unwrap();
    assert!(first_started < first_progress && first_progress < finished_at);
    assert_eq!(finished_at, sigs.len() - 1, "Finished is the last word");
    let started: Vec<_> = sigs
        .iter()
        .filter(|s| s["signal"] == "PhaseStarted")
        .map(|s| s["args"][0].as_str().unwrap().to_string())
        .collect();
    let all: Vec<_> = forge_proto::Phase::ALL
        .iter()
        .map(|p| p.as_str().to_string())
        .collect();
    assert_eq!(started, all, "every phase, in order");
    let fractions: Vec<f64> = sigs
        .iter()
        .filter(|s| s["signal"] == "Progress")
        .map(|s| s["args"][0].as_f64().unwrap())
        .collect();
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]),
        "not monotone: {fractions:?}"
    );
    assert!((fractions.last().copied().unwrap_or(0.0) - 1.0).abs() < 1e-9);
    // The dry run described later phases' operations.
    assert!(sigs.iter().any(|s| s["signal"] == "Progress"
        && s["args"][1]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("partition") || m.contains("GPT"))));

    // PropertiesChanged: Fraction monotone up to 1, State ends succeeded
    // before Finished, PhaseCompleted follows the phases.
    let changed: Vec<&serde_json::Value> = sigs
        .iter()
        .filter(|s| s["signal"] == "PropertiesChanged")
        .map(|s| &s["args"][1])
        .collect();
    let pc_fraction: Vec<f64> = changed
        .iter()
        .filter_map(|c| c["Fraction"].as_f64())
        .collect();
    assert!(pc_fraction.len() > 13, "{pc_fraction:?}");
    assert!(
        pc_fraction.windows(2).all(|w| w[0] <= w[1]),
        "{pc_fraction:?}"
    );
    assert_eq!(pc_fraction.last().copied(), Some(1.0));
    let states: Vec<&str> = changed.iter().filter_map(|c| c["State"].as_str()).collect();
    assert_eq!(states.last().copied(), Some("succeeded"), "{states:?}");
    let completed: Vec<&str> = changed
        .iter()
        .filter_map(|c| c["PhaseCompleted"].as_str())
        .collect();
    // PropertiesChanged carries the value current when it is sent, so
    // values may be skipped, never reordered.
    let index = |n: &&str| forge_proto::Phase::from_name(n).map(|p| p.index());
    let completed_idx: Vec<_> = completed.iter().map(index).collect();
    assert!(completed_idx.iter().all(Option::is_some), "{completed:?}");
    assert!(
        completed_idx.windows(2).all(|w| w[0] <= w[1]),
        "{completed:?}"
    );
    assert_eq!(completed.last(), Some(&"cleanup"), "{completed:?}");
    let phases: Vec<&str> = changed.iter().filter_map(|c| c["Phase"].as_str()).collect();
    let phase_idx: Vec<_> = phases.iter().map(index).collect();
    assert!(phase_idx.windows(2).all(|w| w[0] <= w[1]), "{phases:?}");
    assert_eq!(phases.last(), Some(&"cleanup"), "{phases:?}");

    let p = c.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "succeeded", "{p}");
    assert_eq!(p["props"]["Fraction"], 1.0, "{p}");
    assert_eq!(p["props"]["PhaseCount"], 13, "{p}");
    assert_eq!(p["props"]["PhaseCompleted"], "cleanup", "{p}");

    // Nothing written to the disk; the accepted plan is there, canonical.
    assert_eq!(sha256(&img)?, before, "a dry run wrote to the disk");
    let accepted = std::fs::read_to_string(&env.daemon.accepted_plan)?;
    let plan = forge_proto::validate::parse_plan(&plan_yaml(&["base"])).expect("plan parses");
    assert_eq!(accepted, plan.to_canonical_yaml());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&env.daemon.accepted_plan)?
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644);

    // No secret anywhere.
    let log = env.daemon.log();
    for (what, text) in [
        ("daemon log", &log),
        ("signals and properties", &c.transcript()),
        ("accepted plan", &accepted),
    ] {
        assert!(
            !text.contains(ROOT_PW) && !text.contains(USER_PW) && !text.contains(SB_PW),
            "a password leaked into the {what}"
        );
        assert!(
            !text.contains("LEAKCHECK"),
            "a password leaked into the {what}"
        );
    }
    assert!(log.contains("job finished"), "{log}");
    Ok(())
}

#[test]
fn second_install_is_busy_and_a_vanished_client_does_not_stop_the_job() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("busybox")?; // the first job waits in awaiting-override
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut a = watching_client(&env)?;
    let path = started_job(&mut a, &plan_yaml(&["core"]), &io_json(&img, true))?;
    a.wait_signal(|s| s["signal"] == "IntegrityFailed", JOB_TIMEOUT)?;

    let mut b = env.client(&users::installer_only()?)?;
    let r2 = install(&mut b, &plan_yaml(&["core"]), &io_json(&img, true))?;
    assert_eq!(r2["error"], "org.intergenos.Forge1.Error.Busy", "{r2}");

    // The starter vanishes while the job awaits a decision: the job ends
    // (cancelled, nothing written) and its result stays readable.
    a.kill();
    let deadline = std::time::Instant::now() + JOB_TIMEOUT;
    let state = loop {
        let p = b.request(&format!("props {path}"))?;
        let s = p["props"]["State"].as_str().unwrap_or_default().to_string();
        if s != "running" && s != "awaiting-override" {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job never finished: {p}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(state, "cancelled");
    let log = env.daemon.log();
    assert!(log.contains("job finished"), "{log}");
    Ok(())
}

#[test]
fn active_job_names_the_running_job_and_root_after() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("busybox")?; // the job waits in awaiting-override
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut reader = env.client(&users::outsider()?)?; // reading needs no rights
    let idle = reader.request("active-job")?;
    assert_eq!(idle["ok"], true, "{idle}");
    assert!(idle["path"].is_null(), "no job yet: {idle}");

    let mut a = watching_client(&env)?;
    let path = started_job(&mut a, &plan_yaml(&["core"]), &io_json(&img, true))?;
    let running = reader.request("active-job")?;
    assert_eq!(running["path"], path.as_str(), "while running: {running}");
    a.wait_signal(|s| s["signal"] == "IntegrityFailed", JOB_TIMEOUT)?;
    let waiting = reader.request("active-job")?;
    assert_eq!(
        waiting["path"],
        path.as_str(),
        "while awaiting-override: {waiting}"
    );

    let c = a.request(&format!("cancel {path}"))?;
    assert_eq!(c["ok"], true, "{c}");
    let fin = finished(&mut a, &path)?;
    assert_eq!(fin["args"][0], false, "{fin}");
    let after = reader.request("active-job")?;
    assert!(after["path"].is_null(), "after Finished: {after}");
    Ok(())
}

#[test]
fn job_finishes_after_its_client_disconnects() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut a = env.client(&users::permitted()?)?;
    let path = started_job(&mut a, &plan_yaml(&["base"]), &io_json(&img, true))?;
    a.kill(); // gone right after Install returned

    let mut b = env.client(&users::outsider()?)?; // reading needs no rights
    let deadline = std::time::Instant::now() + JOB_TIMEOUT;
    loop {
        let p = b.request(&format!("props {path}"))?;
        if p["props"]["State"] == "succeeded" {
            assert_eq!(p["props"]["PhaseCompleted"], "cleanup");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job never finished: {p}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = env.daemon.log();
    assert!(
        log.contains("job finished") && log.contains("succeeded"),
        "{log}"
    );
    // The slot is free again.
    let mut c = env.client(&users::permitted()?)?;
    let r = install(&mut c, &plan_yaml(&["core"]), &io_json(&img, true))?;
    assert_eq!(r["ok"], true, "{r}");
    Ok(())
}

#[test]
fn validate_plan_over_the_bus_matches_forgectl_validate() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let user = users::outsider()?;
    let mut c = env.client(&user)?;
    let bad = "version: 1\nhostname: Bad_Host!\nlocale: xx_XX.FOO\nkeyboard: { layout: nosuchlayout }\n\
               timezone: Mars/Olympus\nboot: uefi\nfilesystem: ntfs\nuser: { name: Root, admin: true }\n\
               package_groups: [core, games]\ncolour: blue\n";
    let file = c.write_file("bad.yaml", bad)?;
    let r = c.request(&format!("validate {}", file.display()))?;
    assert_eq!(r["ok"], true, "{r}");
    let mut from_bus: Vec<String> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}: {}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
        .collect();
    assert!(from_bus.len() >= 6, "{from_bus:?}");

    let forgectl = built_binary("forgectl")?;
    let out = forge_tests::users::run_as(
        &user,
        &env.bus,
        &forgectl,
        &["validate", file.to_str().unwrap()],
    )
    .output()?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut from_cli: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    from_bus.sort();
    from_cli.sort();
    assert_eq!(from_bus, from_cli);

    // A valid plan is valid for both.
    let good = c.write_file("good.yaml", &plan_yaml(&["core"]))?;
    let r = c.request(&format!("validate {}", good.display()))?;
    assert_eq!(r["problems"], serde_json::json!([]), "{r}");
    Ok(())
}

#[test]
fn invalid_plan_and_bad_targets_are_refused_before_anything_happens() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut c = env.client(&users::permitted()?)?;
    let r = install(
        &mut c,
        "version: 1\nhostname: Bad_Host!\n",
        &io_json(&img, true),
    )?;
    assert_eq!(r["error"], "org.intergenos.Forge1.Error.InvalidPlan", "{r}");
    assert!(r["message"].as_str().unwrap().contains("hostname"), "{r}");
    // An image outside image_dir, a symlink out of it, a directory.
    let outside = env.daemon.dir().join("outside.img");
    std::fs::File::create(&outside)?.set_len(128 << 20)?;
    let link = env.daemon.image_dir.join("link.img");
    std::os::unix::fs::symlink(&outside, &link)?;
    for disk in [
        outside.clone(),
        link,
        env.daemon.image_dir.clone(),
        "/nonexistent".into(),
    ] {
        let r = install(&mut c, &plan_yaml(&["core"]), &io_json(&disk, true))?;
        assert_eq!(
            r["error"],
            "org.intergenos.Forge1.Error.InvalidPlan",
            "{}: {r}",
            disk.display()
        );
        assert!(
            r["message"].as_str().unwrap().contains("install_io.disk"),
            "{r}"
        );
    }
    // Short passwords are named, never echoed.
    let io = serde_json::json!({"disk": img, "root_password": "x", "user_password": "y", "dry_run": true}).to_string();
    let r = install(&mut c, &plan_yaml(&["core"]), &io)?;
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("install_io.root_password"),
        "{r}"
    );
    // Issue 9, item 14: an EFI install enrolls a key and needs its own
    // Secure Boot password (never the root password's hash).
    let io = serde_json::json!({"disk": img, "root_password": ROOT_PW, "user_password": USER_PW, "dry_run": true}).to_string();
    let efi = plan_yaml(&["core"]).replace("boot: bios", "boot: efi");
    let r = install(&mut c, &efi, &io)?;
    assert!(
        r["message"]
            .as_str()
            .unwrap_or_default()
            .contains("install_io.secure_boot_password"),
        "{r}"
    );
    assert!(!env.daemon.accepted_plan.exists());
    Ok(())
}

#[test]
fn a_failing_phase_is_reported_and_leaves_no_loop_device() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start_with(
        &payload,
        forge_tests::daemon::DaemonOptions {
            fail_at_phase: Some("mount".into()),
            ..Default::default()
        },
    )?;
    let img = image(&env)?;
    let mut c = watching_client(&env)?;
    let path = started_job(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    let fin = finished(&mut c, &path)?;
    assert_eq!(fin["args"][0], false, "{fin}");
    assert_eq!(fin["args"][1], "partition", "phase_completed: {fin}");
    assert!(
        fin["args"][2].as_str().unwrap().starts_with("mount:"),
        "{fin}"
    );
    let p = c.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "failed", "{p}");
    assert_eq!(p["props"]["PhaseCompleted"], "partition", "{p}");
    let loops = loops_of(&img)?;
    assert!(loops.is_empty(), "loop device left behind: {loops}");
    assert!(!c.transcript().contains("LEAKCHECK") && !env.daemon.log().contains("LEAKCHECK"));
    Ok(())
}

#[test]
fn a_real_install_goes_on_after_its_client_vanishes_mid_job() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    // A real (not dry) install; this small payload has no boot loader, so
    // the job is made to stop at `bootloader` after the disk phases ran.
    let env = start_with(
        &payload,
        forge_tests::daemon::DaemonOptions {
            fail_at_phase: Some("bootloader".into()),
            ..Default::default()
        },
    )?;
    let img = image(&env)?;
    let mut a = env.client(&users::permitted()?)?;
    let path = started_job(&mut a, &plan_yaml(&["base"]), &io_json(&img, false))?;
    a.kill(); // gone while the disk phases run

    let mut b = env.client(&users::outsider()?)?;
    let p = b.request(&format!("props {path}"))?;
    assert_eq!(
        p["props"]["State"], "running",
        "the job was not mid-way when its client left: {p}"
    );
    let p = props_when_done(&mut b, &path)?;
    // It went on to the planned stop and reported it.
    assert_eq!(p["props"]["State"], "failed", "{p}\n{}", env.daemon.log());
    assert_eq!(p["props"]["PhaseCompleted"], "mok", "{p}");
    let log = env.daemon.log();
    assert!(
        log.contains("fault injection configured for phase bootloader")
            && log.contains("job finished"),
        "{log}"
    );
    let loops = loops_of(&img)?;
    assert!(loops.is_empty(), "loop device left behind: {loops}");
    Ok(())
}

/// A phase that panics still ends the job with its last word (state
/// `failed`, the panicking phase named, the phase before it completed), and
/// every guard is released: no loop device, no mount left in the job's
/// namespace.
#[test]
fn a_panicking_phase_still_finishes_the_job_and_releases_everything() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start_with(
        &payload,
        forge_tests::daemon::DaemonOptions {
            panic_at_phase: Some("config".into()),
            ..Default::default()
        },
    )?;
    let img = image(&env)?;
    let mut a = env.client(&users::permitted()?)?;
    let path = started_job(&mut a, &plan_yaml(&["base"]), &io_json(&img, false))?;
    let p = props_when_done(&mut a, &path)?;
    let log = env.daemon.log();
    assert_eq!(p["props"]["State"], "failed", "{p}\n{log}");
    assert_eq!(p["props"]["PhaseCompleted"], "packages", "{p}\n{log}");
    assert!(
        log.contains("panic injection configured for phase config")
            && log.contains("leftover mounts: none")
            && log.contains("job finished"),
        "{log}"
    );
    let loops = loops_of(&img)?;
    assert!(
        loops.is_empty(),
        "loop device left behind after a panic: {loops}"
    );
    Ok(())
}
