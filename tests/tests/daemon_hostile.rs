//! Hostile callers through the real daemon on the private bus (issue 9):
//! the 64 KiB YAML alias bomb from an unprivileged user is answered in
//! seconds with the alias's position while the daemon stays small, and the
//! daemon answers afterwards (item 1); one user's flood of `ValidatePlan`
//! is capped and does not starve another user (item 1); two consecutive
//! jobs each run in a namespace of their own time: a host mount made between
//! them is what the second job reads, and no thread of the first job's
//! namespace survives it (item 12).

mod daemon_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use daemon_common::*;
use forge_tests::client::Client;
use forge_tests::env::ForgeEnv;
use forge_tests::hostile_yaml::alias_bomb;
use forge_tests::users;
use serde_json::Value;

const BUSY: &str = "org.intergenos.Forge1.Error.Busy";

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

/// The mount namespace of every thread of `pid` other than the main one's,
/// after waiting (up to 5 s) for job threads to go.
fn stray_namespaces(pid: u32) -> Result<Vec<String>> {
    let main = std::fs::read_link(format!("/proc/{pid}/ns/mnt"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stray = Vec::new();
        for t in std::fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
            let Ok(ns) = std::fs::read_link(t.path().join("ns/mnt")) else {
                continue; // the thread just ended
            };
            if ns != main {
                let name = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                stray.push(format!("{} {}", name.trim(), ns.display()));
            }
        }
        if stray.is_empty() || Instant::now() > deadline {
            return Ok(stray);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A tmpfs mounted on the host for the test, lazily unmounted on drop.
struct TmpfsMount(PathBuf);

impl TmpfsMount {
    fn new(at: &Path) -> Result<TmpfsMount> {
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "mode=0755,size=64m", "forge-test"])
            .arg(at)
            .status()?;
        if !st.success() {
            bail!("mount tmpfs on {}: {st}", at.display());
        }
        Ok(TmpfsMount(at.to_path_buf()))
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let st = Command::new("cp").arg("-a").arg(from).arg(to).status()?;
    if !st.success() {
        bail!("cp -a {} {}: {st}", from.display(), to.display());
    }
    Ok(())
}

/// Runs one dry run as `c` and returns its `Finished`, or the
/// `IntegrityFailed` that stopped it (a job awaiting an override).
fn dry_run(c: &mut Client, img: &Path) -> Result<Value> {
    let r = install(c, &plan_yaml(&["core", "base"]), &io_json(img, true))?;
    assert_eq!(r["ok"], true, "{r}");
    let path = r["path"].as_str().unwrap_or_default().to_string();
    c.wait_signal(
        |s| {
            s["path"] == path.as_str()
                && (s["signal"] == "Finished" || s["signal"] == "IntegrityFailed")
        },
        JOB_TIMEOUT,
    )
}

#[test]
fn each_job_sees_the_host_as_it_is_and_leaves_no_namespace_behind() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    // The payload the daemon reads lives in `shelf`, a directory a host
    // mount will cover between the jobs.
    let outer = tempfile::Builder::new().prefix("forge-shelf-").tempdir()?;
    let shelf = outer.path().join("shelf");
    std::fs::create_dir(&shelf)?;
    std::fs::set_permissions(
        outer.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    copy_dir(&payload.payload, &shelf)?;
    let env = ForgeEnv::start(forge_tests::daemon::DaemonOptions {
        payload: Some(shelf.join("payload")),
        keyring: Some(payload.keyring.clone()),
        ..Default::default()
    })?;
    let pid = daemon_pid(&env)?;
    let img = image(&env)?;
    let mut c = env.client(&users::permitted()?)?;
    c.request("watch")?;

    // Job 1 verifies (hashes) the payload, then is gone with its threads.
    let fin = dry_run(&mut c, &img)?;
    assert_eq!(fin["signal"], "Finished", "{fin}\n{}", env.daemon.log());
    assert_eq!(fin["args"][0], true, "{fin}\n{}", env.daemon.log());
    let stray = stray_namespaces(pid)?;
    assert!(
        stray.is_empty(),
        "threads of job 1's mount namespace outlive it: {stray:?}"
    );

    // Between the jobs: the copy job 1 read is damaged, and a host mount
    // covers it with a good copy. Only a namespace of today sees the good one.
    let hello = shelf
        .join("payload/packages")
        .join("hello-1.0-1.igos.tar.gz");
    let mut bytes = std::fs::read(&hello)?;
    bytes.extend_from_slice(b"damaged under the mount");
    std::fs::write(&hello, bytes)?;
    let _mount = TmpfsMount::new(&shelf)?;
    copy_dir(&payload.payload, &shelf)?;

    let fin = dry_run(&mut c, &img)?;
    assert_eq!(
        fin["signal"],
        "Finished",
        "job 2 read the payload through job 1's namespace: {fin}\n{}",
        env.daemon.log()
    );
    assert_eq!(fin["args"][0], true, "{fin}\n{}", env.daemon.log());
    let stray = stray_namespaces(pid)?;
    assert!(stray.is_empty(), "threads of job 2's namespace: {stray:?}");
    assert!(env.daemon.log().contains("job threads: all ended"));
    Ok(())
}
