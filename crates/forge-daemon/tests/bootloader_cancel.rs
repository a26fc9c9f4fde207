//! Cancel during `bootloader` (issue 9, item 6): the phase runs a slow
//! boot loader tool (a `grub-install` on PATH that sleeps, standing in for
//! one stuck on a slow disk); Cancel kills it within seconds and the phase
//! fails (the pipeline then undoes the job as on any failure). Its own test
//! binary, since it changes PATH.
//!
//! Run: `cargo test -p forge-daemon --test bootloader_cancel` (as root).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use forge_daemon::phases;

#[test]
fn cancel_kills_a_running_grub_install_within_seconds() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let keyring = common::make_payload(tmp.path());
    let image = common::make_image(tmp.path(), 64 << 20);
    // The slow tool, first on PATH; it records that it started.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let started = tmp.path().join("started");
    let tool = bin.join("grub-install");
    std::fs::write(
        &tool,
        format!("#!/bin/sh\ntouch {}\nexec sleep 120\n", started.display()),
    )
    .unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{}:{path}", bin.display()));

    let mut job = common::job(tmp.path(), &keyring, &image, "bios", false);
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("usr/lib/grub/i386-pc")).unwrap();
    std::fs::write(root.join("usr/lib/grub/i386-pc/normal.mod"), b"").unwrap();
    job.ctx.state.root = Some(root);
    job.ctx.state.root_uuid = Some("0000-test".into());
    job.ctx.state.disk_device = Some(image.clone());
    let cancel = job.ctx.cancel.clone();
    let flag = started.clone();
    let canceller = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !flag.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        cancel.cancel();
        Instant::now()
    });
    let r = phases::bootloader::run(&mut job.ctx);
    let ended = Instant::now();
    let asked = canceller.join().unwrap();
    let log = job.ctx.log.join("\n");
    let e = r.expect_err("the phase went on after Cancel");
    assert!(started.exists(), "the fake grub-install never ran\n{log}");
    assert!(e.detail.contains("cancelled"), "{e}\n{log}");
    assert!(
        ended.duration_since(asked) < Duration::from_secs(3),
        "the tool outlived Cancel by {:?}",
        ended.duration_since(asked)
    );
}
