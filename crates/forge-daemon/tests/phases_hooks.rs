//! Root-only test of the hooks phase: post-install scripts run inside the
//! target (in the sandbox of `resources::sandbox`; its hostile-script tests
//! are in `hooks_sandbox.rs`), their output lands in the install log, a failing script
//! and a hanging one (killed at the time limit, with its children) are
//! Warnings and the phase goes on.
//!
//! Run: `cargo test -p forge-daemon --test phases_hooks` (as root).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use forge_daemon::phases::hooks;

#[test]
fn scripts_run_in_the_target_with_a_time_limit() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let keyring = common::make_payload(tmp.path());
    let root = tmp.path().join("target");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep", "echo", "touch"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    let scripts = [
        ("good", "echo good-output; touch /ran-good\n"),
        ("bad", "echo bad-output >&2; exit 3\n"),
        ("hang", "sleep 60 & sleep 60\n"),
        ("after", "touch /ran-after\n"),
    ];
    for (name, body) in scripts {
        std::fs::write(root.join("scripts").join(name), body).unwrap();
    }
    let image = tmp.path().join("unused.img");
    let mut job = common::job(tmp.path(), &keyring, &image, "bios", false);
    job.ctx.state.root = Some(root.clone());
    job.ctx.state.hooks = scripts
        .iter()
        .map(|(n, _)| (n.to_string(), PathBuf::from(format!("/scripts/{n}"))))
        .collect();
    let start = Instant::now();
    hooks::run_with_timeout(&mut job.ctx, Duration::from_secs(2)).expect("hooks phase");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "the hanging script was not stopped in time"
    );
    assert!(
        root.join("ran-good").exists(),
        "the script did not run inside the target"
    );
    assert!(
        root.join("ran-after").exists(),
        "a failing script stopped the phase"
    );
    let log = job.ctx.log.join("\n");
    assert!(
        log.contains("[good] good-output") && log.contains("[bad] bad-output"),
        "{log}"
    );
    let w = job.recorder.warnings.lock().unwrap().clone();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("bad") && w[1].contains("hang"), "{w:?}");
    // The killed script's background child is gone too.
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "sleep 60"])
        .output()
        .unwrap();
    let left: Vec<u32> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter(|pid: &u32| {
            std::fs::read_link(format!("/proc/{pid}/root"))
                .map(|r| r == root)
                .unwrap_or(false)
        })
        .collect();
    assert!(
        left.is_empty(),
        "processes of the hanging script survived: {left:?}"
    );
}
