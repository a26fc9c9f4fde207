//! Hostile corpus, links for host tools (issue 9, item 9): a package may
//! ship `boot -> /tmp/evil` or a GRUB module that is a link to a host file;
//! the daemon hands such paths to host tools (grub-install, grub-mkimage)
//! only after `confined::resolve_in_root`, which keeps every link inside the
//! target, refuses one leading nowhere inside it (naming the path), and
//! lets merged-/usr links (`lib -> usr/lib`) work.

mod common;

use std::path::Path;

use common::Scratch;
use forge_payload::confined::resolve_in_root;
use forge_payload::testkit::RawEntry;

#[test]
fn links_out_of_the_target_are_never_followed_out() {
    let s = Scratch::new();
    let outside = s.outside.display().to_string();
    s.raw_package(
        "evil-links",
        100,
        vec![
            RawEntry::symlink("boot", &outside),
            RawEntry::dir("usr/"),
            RawEntry::dir("usr/lib/"),
            RawEntry::dir("usr/lib/grub/"),
            RawEntry::dir("usr/lib/grub/x86_64-efi/"),
            RawEntry::symlink("usr/lib/grub/x86_64-efi/linux.mod", "/etc/shadow"),
            RawEntry::symlink("lib", "usr/lib"),
        ],
    );
    s.build();
    let out = s.deploy_all();
    assert!(out.is_complete(), "{:?}", out.failed);
    let t = &s.target;
    let e = resolve_in_root(t, Path::new("boot/grub")).unwrap_err();
    assert!(
        e.to_string().contains("/boot") && e.to_string().contains(&outside),
        "{e}"
    );
    let e = resolve_in_root(t, Path::new("lib/grub/x86_64-efi/linux.mod")).unwrap_err();
    assert!(e.to_string().contains("linux.mod"), "{e}");
    // Merged /usr still resolves, inside the target.
    assert_eq!(
        resolve_in_root(t, Path::new("/lib/grub/x86_64-efi")).unwrap(),
        Path::new("usr/lib/grub/x86_64-efi")
    );
    // The outside directory is as it was.
    let names: Vec<_> = std::fs::read_dir(&s.outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("canary")]);
}
