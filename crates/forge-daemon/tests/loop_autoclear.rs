//! The loop-device guard sets autoclear, so a daemon that dies without
//! running its guards still leaves no loop device behind once its
//! descriptors and mounts are gone; and dropping the guard detaches.

use std::time::{Duration, Instant};

use forge_daemon::resources::loopdev::{has_autoclear, is_bound, LoopDevice};

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../tests/harness/skip.rs"]
mod skip;

#[test]
fn the_guard_sets_autoclear_and_detaches_on_drop() {
    if !nix::unistd::geteuid().is_root() {
        skip::skip("loop devices need root");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image)
        .and_then(|f| f.set_len(64 << 20))
        .expect("image");
    let guard = LoopDevice::attach(&image).expect("attach");
    let device = guard.device().to_path_buf();
    assert!(is_bound(&device), "{} not bound", device.display());
    assert!(
        has_autoclear(&device),
        "{} attached without autoclear",
        device.display()
    );
    drop(guard);
    assert!(!is_bound(&device), "{} still attached", device.display());

    // A process that dies holding only the guard's descriptor (as a killed
    // daemon would) leaves nothing attached: simulate it by leaking the
    // guard's Drop and closing the descriptor the way process exit does.
    let guard = LoopDevice::attach(&image).expect("attach again");
    let device = guard.device().to_path_buf();
    assert!(has_autoclear(&device));
    guard.close_without_detach_for_tests();
    let start = Instant::now();
    while is_bound(&device) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !is_bound(&device),
        "{} survived its last close",
        device.display()
    );
}
