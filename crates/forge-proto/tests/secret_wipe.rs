//! A password's bytes are zero when its memory is given back: this test
//! binary's allocator looks at the watched allocation as it is freed (the
//! only sound moment to read it), after the client's path — the borrowed
//! `install_io` dictionary, serialized as the message body — is done.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use forge_proto::{InstallIo, Secret};

/// The allocation being watched (0: none).
static WATCHED: AtomicUsize = AtomicUsize::new(0);
/// 0 not freed yet, 1 freed all zero, 2 freed with secret bytes left.
static VERDICT: AtomicU8 = AtomicU8::new(0);

struct WatchingAllocator;

// SAFETY: forwards every call to `System`; `dealloc` only reads the block
// it is given, before freeing it.
unsafe impl GlobalAlloc for WatchingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ptr as usize == WATCHED.load(Ordering::SeqCst) {
            let bytes = std::slice::from_raw_parts(ptr, layout.size());
            let wiped = bytes.iter().all(|b| *b == 0);
            VERDICT.store(if wiped { 1 } else { 2 }, Ordering::SeqCst);
            WATCHED.store(0, Ordering::SeqCst);
        }
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: WatchingAllocator = WatchingAllocator;

#[test]
fn a_sent_password_is_wiped_when_freed() {
    let io = InstallIo {
        disk: "/dev/vda".into(),
        root_password: Secret::new("rootpass-123"),
        user_password: Secret::new("userpass-123"),
        secure_boot_password: Secret::default(),
        dry_run: false,
    };
    WATCHED.store(
        io.root_password.expose().as_ptr() as usize,
        Ordering::SeqCst,
    );
    {
        let dict = io.to_dbus_borrowed();
        let ctxt = zbus::wire::serialized::Context::new(zbus::wire::LE, 0);
        let body = zbus::wire::to_bytes(ctxt, &("yaml", &dict)).expect("serializes");
        assert!(!body.is_empty());
    }
    assert_eq!(VERDICT.load(Ordering::SeqCst), 0, "freed while in use");
    drop(io);
    assert_eq!(
        VERDICT.load(Ordering::SeqCst),
        1,
        "the root password's memory was freed with its bytes still in it"
    );
    // Control: the watch does see bytes left in a plain, unwiped String
    // (what an owned copy in the dictionary would have been).
    VERDICT.store(0, Ordering::SeqCst);
    let copy = String::from("rootpass-123");
    WATCHED.store(copy.as_ptr() as usize, Ordering::SeqCst);
    drop(copy);
    assert_eq!(VERDICT.load(Ordering::SeqCst), 2, "the watch sees nothing");
}
