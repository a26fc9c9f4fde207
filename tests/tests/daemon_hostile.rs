//! Hostile callers through the real daemon on the private bus (issue 9):
//! the 64 KiB YAML alias bomb from an unprivileged user is answered in
//! seconds with the alias's position while the daemon stays small, and the
//! daemon answers afterwards (item 1); one user's flood of `ValidatePlan`
//! is capped and does not starve another user (item 1).

mod daemon_common;

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use daemon_common::*;
use forge_tests::env::ForgeEnv;
use forge_tests::users;

const BUSY: &str = "org.intergenos.Forge1.Error.Busy";

/// One anchored list of 16384 zeros, then aliases to it: 64 KiB that
/// expand to ~1.8×10⁸ values.
fn alias_bomb() -> String {
    let mut text = String::from("a: &a [");
    text.push_str(&vec!["0"; 16384].join(","));
    text.push_str("]\nb: [");
    while text.len() < 64 * 1024 - 8 {
        text.push_str("*a,");
    }
    text.push_str("*a]\n");
    text
}

/// The daemon's pid: the process whose command line names its config.
fn daemon_pid(env: &ForgeEnv) -> Result<u32> {
    let want = env.daemon.config_path.to_string_lossy().into_owned();
    for e in std::fs::read_dir("/proc")?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.first().is_some_and(|a| a.ends_with("forge-daemon")) && args.contains(&want) {
            return Ok(pid);
        }
    }
    bail!("no forge-daemon process with --config {want}")
}

/// A `kB` line of /proc/PID/status, in bytes.
fn status_bytes(pid: u32, key: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .with_context(|| format!("no {key} in /proc/{pid}/status"))?;
    let kb: u64 = line
        .trim_start_matches(key)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb * 1024)
}

#[test]
fn the_alias_bomb_is_refused_in_seconds_and_the_daemon_stays_small() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let pid = daemon_pid(&env)?;
    let bomb = alias_bomb();
    assert!(bomb.len() <= 64 * 1024);

    // ValidatePlan needs no authorization: anyone may send the bomb.
    let mut c = env.client(&users::outsider()?)?;
    let file = c.write_file("bomb.yaml", &bomb)?;
    let t = Instant::now();
    let r = c.request_timeout(
        &format!("validate {}", file.display()),
        Duration::from_secs(20),
    )?;
    let took = t.elapsed();
    assert_eq!(r["ok"], true, "{r}");
    let problems = r["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{r}");
    let text = problems[0].to_string();
    assert!(text.contains("document"), "{r}");
    assert!(
        text.contains("anchor or alias") && text.contains("line 1, column 4"),
        "{r}"
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");

    // Install (permitted caller, so it gets past polkit): InvalidPlan
    // naming the position, nothing accepted.
    let img = image(&env)?;
    let mut p = env.client(&users::permitted()?)?;
    let r = install(&mut p, &bomb, &io_json(&img, true))?;
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"], "org.intergenos.Forge1.Error.InvalidPlan", "{r}");
    assert!(r.to_string().contains("line 1, column 4"), "{r}");
    assert!(!env.daemon.accepted_plan.exists());

    let peak = status_bytes(pid, "VmHWM:")?;
    assert!(
        peak < 200 << 20,
        "daemon peak resident memory {} MiB",
        peak >> 20
    );

    // Still answering, and still validating ordinary plans.
    let v = c.request("version")?;
    assert_eq!(v["ok"], true, "{v}");
    let good = c.write_file("good.yaml", &plan_yaml(&["core"]))?;
    let r = c.request(&format!("validate {}", good.display()))?;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["problems"], serde_json::json!([]), "{r}");
    Ok(())
}

/// A legitimate but large plan (64 KiB with a long comment): real work.
fn heavy_plan() -> String {
    let mut text = plan_yaml(&["core"]);
    while text.len() < 60 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    text
}

#[test]
fn one_users_flood_is_capped_and_does_not_starve_another() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let mut flood = env.client(&users::outsider()?)?;
    let mut other = env.client(&users::permitted()?)?;
    let heavy = flood.write_file("heavy.yaml", &heavy_plan())?;
    let good = other.write_file("good.yaml", &plan_yaml(&["core"]))?;

    const FLOOD: usize = 48;
    for _ in 0..FLOOD {
        flood.send(&format!("validate {}", heavy.display()))?;
    }
    // The other user's call is answered while the flood is on.
    let t = Instant::now();
    let r = other.request_timeout(
        &format!("validate {}", good.display()),
        Duration::from_secs(30),
    )?;
    let took = t.elapsed();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["problems"], serde_json::json!([]), "{r}");
    assert!(took < Duration::from_secs(5), "starved for {took:?}");

    // Every flood call is answered: checked, or Busy at once (the cap).
    let (mut answered, mut busy) = (0, 0);
    for _ in 0..FLOOD {
        let r = flood.wait_reply("validate", Duration::from_secs(60))?;
        if r["ok"] == true {
            answered += 1;
        } else {
            assert_eq!(r["error"], BUSY, "{r}");
            busy += 1;
        }
    }
    assert!(answered >= 1, "no flood call was checked");
    assert!(
        busy >= 1,
        "{FLOOD} concurrent calls from one user, none refused"
    );
    assert!(env
        .daemon
        .log()
        .contains("refused: the caller has its share"));

    // The cap is per call in flight, not a ban: the flooder is served again.
    let r = flood.request(&format!("validate {}", heavy.display()))?;
    assert_eq!(r["ok"], true, "{r}");
    Ok(())
}
