//! Root-only tests of the post-install script sandbox (issue 9, items 4 and
//! 5), through the real `virtual-fs` and `hooks` phases on a job thread with
//! its own mount namespace, as the pipeline runs them: a hostile script
//! cannot reach the host (no `/proc/1/root` escape, no mount, no sysctl
//! write, no device node, no block device), a daemon it leaves behind
//! (`setsid ... &`) neither hangs the job nor survives it, a flood of output
//! is capped with a note, and Cancel kills a running script at once.
//!
//! Run: `cargo test -p forge-daemon --test hooks_sandbox` (as root).

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use forge_daemon::phases::{hooks, virtual_fs};
use forge_daemon::pipeline::context::CancelToken;
use forge_daemon::resources::namespace::enter_private_mount_namespace;

/// A target directory with busybox and the given scripts under /scripts.
fn target(tmp: &Path, scripts: &[(&str, String)]) -> PathBuf {
    let root = tmp.join("target");
    for d in ["bin", "scripts", "tmp", "mnt", "proc", "sys", "dev"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "sleep", "echo", "touch", "setsid", "mount", "mknod", "ls", "cat", "head", "tr",
        "grep",
    ] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    for (name, body) in scripts {
        std::fs::write(root.join("scripts").join(name), body).unwrap();
    }
    root
}

/// What the phase left: the install log and the warnings.
struct Outcome {
    log: String,
    warnings: Vec<String>,
    took: Duration,
}

/// Runs virtual-fs then hooks for `scripts` on a fresh thread in a private
/// mount namespace (as the pipeline does); fails the test if the phase has
/// not returned within `deadline` (today's hang). `cancel_after` fires the
/// job's Cancel that long after the phase starts. `as_unit`: the job
/// thread has only the capabilities the systemd unit leaves the daemon
/// (no CAP_SETPCAP, CAP_KILL, ...: see [`unit_capabilities`]).
fn run_phase(
    root: PathBuf,
    names: Vec<String>,
    limit: Duration,
    cancel_after: Option<Duration>,
    deadline: Duration,
    as_unit: bool,
) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let (tok_tx, tok_rx) = mpsc::channel::<CancelToken>();
    std::thread::spawn(move || {
        enter_private_mount_namespace().expect("private mount namespace");
        if as_unit {
            let kept = unit_capabilities();
            for set in [caps::CapSet::Effective, caps::CapSet::Permitted] {
                for c in caps::all() {
                    if !kept.contains(&c) {
                        caps::drop(None, set, c).expect("dropping a capability");
                    }
                }
            }
        }
        let tmp = root.parent().unwrap().to_path_buf();
        let keyring = common::make_payload(&tmp);
        let image = tmp.join("unused.img");
        let mut job = common::job(&tmp, &keyring, &image, "bios", false);
        job.ctx.state.root = Some(root.clone());
        job.ctx.state.hooks = names
            .iter()
            .map(|n| (n.clone(), PathBuf::from(format!("/scripts/{n}"))))
            .collect();
        let _ = tok_tx.send(job.ctx.cancel.clone());
        virtual_fs::run(&mut job.ctx).expect("virtual-fs phase");
        let start = Instant::now();
        hooks::run_with_timeout(&mut job.ctx, limit).expect("hooks phase");
        let took = start.elapsed();
        let _ = tx.send(Outcome {
            log: job.ctx.log.join("\n"),
            warnings: job.recorder.warnings.lock().unwrap().clone(),
            took,
        });
    });
    let token = tok_rx.recv_timeout(deadline).expect("job set up");
    if let Some(after) = cancel_after {
        std::thread::sleep(after);
        token.cancel();
    }
    rx.recv_timeout(deadline)
        .expect("the hooks phase did not return: a script hung the job")
}

/// The capabilities the systemd unit leaves the daemon: its
/// `CapabilityBoundingSet=` (data/systemd/forge-daemon.service), which is
/// then its permitted set. A job thread run `as_unit` has only these.
fn unit_capabilities() -> std::collections::HashSet<caps::Capability> {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/systemd/forge-daemon.service"),
    )
    .expect("reading the unit");
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("CapabilityBoundingSet="))
        .expect("the unit has CapabilityBoundingSet=");
    let set: std::collections::HashSet<caps::Capability> = line
        .split_whitespace()
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("unknown capability {n}"))
        })
        .collect();
    assert!(
        set.contains(&caps::Capability::CAP_SYS_ADMIN)
            && !set.contains(&caps::Capability::CAP_KILL)
    );
    set
}

/// Pids of processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) || name == std::process::id().to_string() {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(format!("{name}: {cmd}"));
            }
        }
    }
    found
}

#[test]
fn a_hostile_script_is_confined_and_its_daemon_ends_with_it() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("forge-escape-{}", std::process::id());
    let escaped = PathBuf::from(format!("/tmp/escaped-{tag}"));
    let script = format!(
        "setsid sh -c 'sleep 611; : {tag}' &\n\
         touch /proc/1/root/tmp/escaped-{tag}\n\
         if mount -t tmpfs x /mnt; then echo MOUNT-OK; else echo MOUNT-DENIED; fi\n\
         if echo pwned > /proc/sys/kernel/hostname; then echo SYSCTL-OK; else echo SYSCTL-DENIED; fi\n\
         if mknod /tmp/blk b 7 0; then echo MKNOD-OK; else echo MKNOD-DENIED; fi\n\
         for d in /dev/sda /dev/vda /dev/nvme0n1 /dev/loop0 /dev/loop-control /dev/mem /dev/kmsg; do\n\
           if [ -e $d ]; then echo BLOCK-VISIBLE $d; fi\n\
         done\n\
         if [ -e /sys/block ]; then echo SYS-VISIBLE; fi\n\
         echo \"PID1: $(cat /proc/1/cmdline | tr '\\0' ' ')\"\n\
         echo \"DEV: $(ls /dev | tr '\\n' ' ')\"\n\
         grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status\n\
         echo hostile-done\n"
    );
    let root = target(tmp.path(), &[("hostile", script)]);
    let out = run_phase(
        root.clone(),
        vec!["hostile".into()],
        Duration::from_secs(120),
        None,
        Duration::from_secs(60),
        true,
    );
    let log = &out.log;
    assert!(
        out.took < Duration::from_secs(30),
        "took {:?}\n{log}",
        out.took
    );
    assert!(log.contains("[hostile] hostile-done"), "{log}");
    assert!(
        !escaped.exists(),
        "the script wrote on the host: {escaped:?}"
    );
    let _ = std::fs::remove_file(&escaped);
    // /proc/1 is the script itself: its root is the target.
    assert!(
        root.join(format!("tmp/escaped-{tag}")).exists(),
        "/proc/1/root is not the target\n{log}"
    );
    for denied in ["MOUNT-DENIED", "SYSCTL-DENIED", "MKNOD-DENIED"] {
        assert!(log.contains(denied), "{denied} missing:\n{log}");
    }
    assert!(!log.contains("BLOCK-VISIBLE"), "{log}");
    assert!(!log.contains("SYS-VISIBLE"), "{log}");
    assert!(!root.join("tmp/blk").exists());
    assert!(log.contains("DEV: ") && log.contains("null") && log.contains("urandom"));
    // KEPT_CAPS as far as the unit leaves them to the daemon: CHOWN
    // DAC_OVERRIDE FOWNER FSETID SETGID SETUID SETFCAP (not KILL,
    // NET_BIND_SERVICE, AUDIT_WRITE), nothing else; no_new_privs; a
    // seccomp filter.
    for want in [
        "CapInh:\t0000000000000000",
        "CapPrm:\t00000000800000db",
        "CapEff:\t00000000800000db",
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t1",
        "Seccomp:\t2",
    ] {
        assert!(log.contains(want), "{want:?} missing:\n{log}");
    }
    // Nothing the script started is left running.
    std::thread::sleep(Duration::from_millis(300));
    let left = processes_with(&tag);
    assert!(left.is_empty(), "processes survived the script: {left:?}");
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn output_is_capped_with_a_note_and_cancel_kills_the_script() {
    skip_unless_root!();
    // A duration no other test uses, to find leftovers by command line.
    let secs = 700 + std::process::id() % 1000;
    let tmp = tempfile::tempdir().unwrap();
    let root = target(
        tmp.path(),
        &[
            (
                "loud",
                "head -c 2000000 /dev/zero | tr '\\0' x; echo; echo loud-done >&2\n".into(),
            ),
            ("slow", format!("echo slow-started; sleep {secs}\n")),
            ("never", "touch /never-ran\n".into()),
        ],
    );
    let out = run_phase(
        root.clone(),
        vec!["loud".into(), "slow".into(), "never".into()],
        Duration::from_secs(120),
        Some(Duration::from_secs(4)),
        Duration::from_secs(60),
        false,
    );
    let log = &out.log;
    assert!(
        log.contains("[loud] [output truncated: 951435 more bytes not logged]"),
        "{}",
        log.lines()
            .filter(|l| l.len() < 300)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(log.len() < 1024 * 1024 + 64 * 1024, "{}", log.len());
    // Cancel 4 s in: the slow script is killed well before its time and no
    // further script runs.
    assert!(
        out.took < Duration::from_secs(20),
        "Cancel did not stop the script: {:?}",
        out.took
    );
    assert!(log.contains("[slow] slow-started"));
    assert!(!root.join("never-ran").exists());
    let left = processes_with(&format!("sleep {secs}"));
    assert!(left.is_empty(), "processes survived Cancel: {left:?}");
}

#[test]
fn scripts_find_the_shell_through_a_merged_usr_link() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("target");
    for d in ["usr/bin", "scripts", "proc", "dev", "sys"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("usr/bin/busybox")).unwrap();
    for applet in ["sh", "touch"] {
        std::os::unix::fs::symlink("busybox", root.join("usr/bin").join(applet)).unwrap();
    }
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    std::fs::write(root.join("scripts/merged"), "touch /merged-ran\n").unwrap();
    let out = run_phase(
        root.clone(),
        vec!["merged".into()],
        Duration::from_secs(60),
        None,
        Duration::from_secs(60),
        false,
    );
    assert!(out.warnings.is_empty(), "{:?}\n{}", out.warnings, out.log);
    assert!(root.join("merged-ran").exists(), "{}", out.log);
}
