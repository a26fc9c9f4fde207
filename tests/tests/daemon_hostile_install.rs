//! A hostile package in a whole install through the real daemon on the
//! private bus (issue 9, items 4 and 5, acceptance): the payload carries a
//! package whose `.INSTALL` starts a daemon that leaves its process group
//! (`setsid sh -c 'sleep 600' &`) and writes through `/proc/1/root` (the
//! host's root, were the script not in its own PID namespace). The install
//! of an image target runs every phase, the job finishes (successfully: the
//! script's own exit status is 0, and this payload has no boot loader, which
//! is a warning), no process of the script is left anywhere, nothing was
//! written on the host, and the job's staging directory is empty.

mod daemon_common;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use daemon_common::*;
use forge_payload::testkit::{self, RawEntry};
use forge_tests::users;

/// The busybox applets the script uses, linked to the package's busybox.
const APPLETS: [&str; 5] = ["sh", "sleep", "setsid", "touch", "echo"];

/// The hostile `.INSTALL`; `tag` makes its processes and its marker file
/// unique to this run.
fn script(tag: &str) -> String {
    format!(
        "echo hostile-started-{tag}\n\
         setsid sh -c 'sleep 600; : {tag}' &\n\
         touch /proc/1/root/tmp/escaped-{tag}\n\
         echo hostile-done-{tag}\n"
    )
}

/// `base-layout` (core) and `hostile-hook` (core, depends on base-layout:
/// busybox with the applets as links, `/tmp`, and the hostile `.INSTALL`),
/// signed by a fresh key.
fn hostile_payload(tag: &str) -> anyhow::Result<TestPayload> {
    let dir = tempfile::Builder::new()
        .prefix("forge-payload-hostile-")
        .tempdir()?;
    let payload = dir.path().join("payload");
    let pkgs = payload.join("packages");
    testkit::make_package(
        &pkgs,
        "base-layout",
        "1.0-1",
        "core",
        &[],
        &[("etc/os-release", b"NAME=InterGenOS\n")],
        None,
    );
    let busybox = std::fs::read("/bin/busybox").context("reading the host's /bin/busybox")?;
    let mut entries = vec![
        RawEntry::pkginfo(&testkit::info(
            "hostile-hook",
            "1.0-1",
            "core",
            &["base-layout"],
            busybox.len() as u64,
        )),
        RawEntry {
            mode: 0o755,
            ..RawEntry::file(".INSTALL", script(tag).as_bytes())
        },
        RawEntry::dir("bin"),
        RawEntry {
            mode: 0o1777,
            ..RawEntry::dir("tmp")
        },
        RawEntry {
            mode: 0o755,
            ..RawEntry::file("bin/busybox", &busybox)
        },
    ];
    for applet in APPLETS {
        entries.push(RawEntry::symlink(&format!("bin/{applet}"), "busybox"));
    }
    testkit::write_raw_archive(&pkgs.join("hostile-hook-1.0-1.igos.tar.gz"), &entries);
    let (secret, public) =
        testkit::generate_key(dir.path(), "FORGE test release key <release@test>");
    forge_payload::build::build_payload(&payload, Some(&secret))
        .context("building the hostile test payload")?;
    Ok(TestPayload {
        payload,
        keyring: public,
        dir,
    })
}

/// Pids and command lines of every process whose command line contains
/// `needle` (arguments joined by spaces).
fn processes_with(needle: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&raw)
            .split('\0')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if cmd.contains(needle) {
            found.push((pid, cmd));
        }
    }
    found
}

fn pids(list: &[(u32, String)]) -> Vec<u32> {
    list.iter().map(|(p, _)| *p).collect()
}

#[test]
fn a_hostile_post_install_script_in_a_whole_install_is_confined_and_ends_with_the_job(
) -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let tag = format!("forge-hostile-{}-{}", std::process::id(), rand_suffix());
    let escaped = Path::new("/tmp").join(format!("escaped-{tag}"));
    let _ = std::fs::remove_file(&escaped);
    // Other tests may run `sleep 600` of their own: only new ones count.
    let sleeps_before = pids(&processes_with("sleep 600"));

    let payload = hostile_payload(&tag)?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut c = env.client(&users::permitted()?)?;
    c.request("watch")?;
    let started = Instant::now();
    let r = install(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    assert_eq!(r["ok"], true, "{r}");
    let path = r["path"].as_str().unwrap().to_string();
    // The old behaviour hung here for good (the daemon's pipe stayed open).
    let fin = finished(&mut c, &path)?;
    let took = started.elapsed();
    let log = env.daemon.log();
    assert_eq!(fin["args"][0], true, "{fin}\n{log}");
    assert_eq!(fin["args"][1], "cleanup", "{fin}");
    assert!(
        took < Duration::from_secs(60),
        "the job took {took:?}\n{log}"
    );
    // The script really ran, to its end, inside the install.
    assert!(
        log.contains(&format!("hostile-started-{tag}"))
            && log.contains(&format!("hostile-done-{tag}")),
        "the hostile script did not run:\n{log}"
    );
    assert!(log.contains("leftover mounts: none"), "{log}");

    // Nothing of the script is left: not its shell, not its sleep.
    std::thread::sleep(Duration::from_millis(300));
    let tagged = processes_with(&tag);
    let new_sleeps: Vec<_> = processes_with("sleep 600")
        .into_iter()
        .filter(|(p, _)| !sleeps_before.contains(p))
        .collect();
    for (pid, _) in tagged.iter().chain(new_sleeps.iter()) {
        // Clean up for the next run before failing.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(
        tagged.is_empty() && new_sleeps.is_empty(),
        "the script's daemon outlived the job: {tagged:?} {new_sleeps:?}"
    );
    // Nothing written on the host.
    let wrote = escaped.exists();
    let _ = std::fs::remove_file(&escaped);
    assert!(
        !wrote,
        "the script wrote on the host: {}",
        escaped.display()
    );
    // And the job cleaned up after itself.
    let left: Vec<_> = std::fs::read_dir(&env.daemon.staging_dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "staging directory not empty: {left:?}");
    let loops = loops_of(&img)?;
    assert!(loops.is_empty(), "loop device left behind: {loops}");
    Ok(())
}

/// A few random hex digits (from the kernel), so parallel runs differ.
fn rand_suffix() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .map(|u| u.trim().chars().take(8).collect())
        .unwrap_or_else(|_| "0".into())
}
