//! Cancel inside a long phase (issue 9, item 6), through the real daemon on
//! the private bus: Cancel while `packages` extracts a payload of many
//! files ends the job within seconds as Cancelled, before `packages`
//! completes, with nothing mounted and no loop device left.

mod daemon_common;

use std::time::{Duration, Instant};

use anyhow::Context;
use daemon_common::*;
use forge_payload::testkit;
use forge_tests::users;

/// Packages in the slow payload, and files per package: enough that
/// extracting them takes seconds in a debug daemon.
const PACKAGES: usize = 40;
const FILES: usize = 500;

/// A signed payload of [`PACKAGES`] core packages of [`FILES`] small files.
fn slow_payload() -> anyhow::Result<TestPayload> {
    let dir = tempfile::Builder::new()
        .prefix("forge-payload-slow-")
        .tempdir()?;
    let payload = dir.path().join("payload");
    let pkgs = payload.join("packages");
    let names: Vec<String> = (0..FILES)
        .map(|i| format!("usr/share/bulk/f{i:04}"))
        .collect();
    for p in 0..PACKAGES {
        let files: Vec<(String, &[u8])> = names
            .iter()
            .map(|n| {
                (
                    n.replace("bulk", &format!("bulk{p:02}")),
                    &b"bulk data\n"[..],
                )
            })
            .collect();
        let files: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        testkit::make_package(
            &pkgs,
            &format!("bulk{p:02}"),
            "1.0-1",
            "core",
            &[],
            &files,
            None,
        );
    }
    let (secret, public) =
        testkit::generate_key(dir.path(), "FORGE test release key <release@test>");
    forge_payload::build::build_payload(&payload, Some(&secret))
        .context("building the slow test payload")?;
    Ok(TestPayload {
        payload,
        keyring: public,
        dir,
    })
}

#[test]
fn cancel_during_packages_ends_the_job_within_seconds_and_releases_everything() -> anyhow::Result<()>
{
    if skip() {
        return Ok(());
    }
    let payload = slow_payload()?;
    let env = start(&payload)?;
    // Room (inodes) for every file of the payload.
    let img = env.daemon.create_image("disk.img", 1 << 30)?;
    let mut c = env.client(&users::permitted()?)?;
    c.request("watch")?;
    let r = install(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    assert_eq!(r["ok"], true, "{r}");
    let path = r["path"].as_str().unwrap().to_string();
    c.wait_signal(
        |s| s["signal"] == "PhaseStarted" && s["args"][0] == "packages",
        JOB_TIMEOUT,
    )?;
    let asked = Instant::now();
    let r = c.request(&format!("cancel {path}"))?;
    assert_eq!(r["ok"], true, "{r}");
    let p = props_when_done(&mut c, &path)?;
    let took = asked.elapsed();
    let log = env.daemon.log();
    assert_eq!(p["props"]["State"], "cancelled", "{p}\n{log}");
    assert!(took < Duration::from_secs(5), "Cancel took {took:?}\n{log}");
    // Stopped inside `packages`, not at the boundary after it.
    assert_eq!(p["props"]["PhaseCompleted"], "virtual-fs", "{p}\n{log}");
    assert!(
        log.contains("cancelled during the deploy")
            && log.contains("leftover mounts: none")
            && log.contains("job finished"),
        "{log}"
    );
    // The deploy stopped part-way (the old behaviour finished every package).
    let installed: usize = log
        .split("cancelled during the deploy: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the deploy logs how far it got");
    eprintln!("{installed} of {PACKAGES} packages installed before Cancel took effect");
    assert!(installed < PACKAGES, "{log}");
    let loops = loops_of(&img)?;
    assert!(loops.is_empty(), "loop device left behind: {loops}");
    Ok(())
}
