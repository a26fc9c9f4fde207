//! Root-only phase tests on real loop devices: the phases after verify run
//! against a 1 GiB sparse image with a small signed test payload, then the
//! image is inspected read-only (fstab by UUID, hostname, shadow hashes, the
//! pkm database, the ESP's files through mtools) and nothing may be left
//! mounted or attached. A dry run must leave the image byte for byte as it was.
//!
//! Run: `cargo test -p forge-daemon --test phases_install` (as root).

mod common;

use std::path::Path;

use forge_daemon::phases;
use forge_daemon::pipeline::{JobContext, PhaseError};
use forge_proto::Phase;

type PhaseFn = fn(&mut JobContext) -> Result<(), PhaseError>;

/// The phases after verify, in pipeline order.
pub const AFTER_VERIFY: [(Phase, PhaseFn); 11] = [
    (Phase::Partition, phases::partition::run),
    (Phase::Mount, phases::mount::run),
    (Phase::VirtualFs, phases::virtual_fs::run),
    (Phase::Packages, phases::packages::run),
    (Phase::Config, phases::config::run),
    (Phase::Users, phases::users::run),
    (Phase::Mok, phases::mok::run),
    (Phase::Bootloader, phases::bootloader::run),
    (Phase::Hooks, phases::hooks::run),
    (Phase::Services, phases::services::run),
    (Phase::Cleanup, phases::cleanup::run),
];

fn run_all(ctx: &mut JobContext) {
    for (phase, run) in AFTER_VERIFY {
        if let Err(e) = run(ctx) {
            let log = ctx.log.join("\n");
            ctx.release_all();
            panic!("phase {phase} failed: {e}\n--- log ---\n{log}");
        }
    }
}

fn install_and_inspect(boot: &'static str) {
    let tmp = tempfile::tempdir().unwrap();
    let keyring = common::make_payload(tmp.path());
    let keyring2 = keyring.clone();
    // What verify checked: the target must get exactly this, even if the
    // keyring file is replaced after verify (below).
    let verified_public = forge_payload::Keyring::load(&keyring)
        .unwrap()
        .public_bytes();
    let image = common::make_image(tmp.path(), 1 << 30);
    let t = tmp.path().to_path_buf();
    let img = image.clone();
    let (log, warnings, leftover, state_root_uuid, esp) = common::in_namespace(move || {
        let mut job = common::job(&t, &keyring, &img, boot, false);
        // Someone replaces the keyring file after verify: it must not matter.
        let other = t.join("other-key");
        std::fs::create_dir_all(&other).unwrap();
        let (_, other_pub) =
            forge_payload::testkit::generate_key(&other, "Intruder <intruder@example.org>");
        std::fs::copy(&other_pub, &keyring).unwrap();
        run_all(&mut job.ctx);
        let leftover = common::mounts_under(&t);
        let warnings = job.recorder.warnings.lock().unwrap().clone();
        (
            job.ctx.log.join("\n"),
            warnings,
            leftover,
            job.ctx.state.root_uuid.clone().unwrap(),
            job.ctx.state.esp_uuid.clone(),
        )
    });
    assert!(
        leftover.is_empty(),
        "left mounted in the job namespace: {leftover:?}"
    );
    assert_eq!(common::loops_of(&image), "", "loop device left attached");
    for secret in [common::ROOT_PW, common::USER_PW, common::SB_PW] {
        assert!(!log.contains(secret), "a password reached the install log");
        assert!(
            !warnings.iter().any(|w| w.contains(secret)),
            "a password reached a warning"
        );
    }
    assert!(
        warnings.iter().any(|w| w.contains("missing.service")),
        "no warning for the plan's missing unit: {warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("hello")),
        "hello failed: {warnings:?}"
    );
    if boot == "efi" {
        assert!(
            warnings.iter().any(|w| w.contains("mokutil --import")),
            "{warnings:?}"
        );
        // An image target never queues enrollment in this machine's EFI
        // variables, whatever the host has.
        assert!(
            warnings.iter().any(|w| w.contains("image file")),
            "{warnings:?}"
        );
        assert!(!log.contains("$ mokutil"), "{log}");
    }

    let img = image.clone();
    let esp_uuid = esp.clone();
    common::in_namespace(move || {
        let root_part = 2;
        common::with_partition_ro(&img, root_part, "ext4", |root| {
            let fstab = std::fs::read_to_string(root.join("etc/fstab")).unwrap();
            assert!(
                fstab.contains(&format!("UUID={state_root_uuid}\t/\text4")),
                "{fstab}"
            );
            match &esp_uuid {
                Some(u) => assert!(
                    fstab.contains(&format!("UUID={u}\t/boot/efi\tvfat\tumask=0077")),
                    "{fstab}"
                ),
                None => assert!(!fstab.contains("/boot/efi"), "{fstab}"),
            }
            assert_eq!(
                std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
                "forge-test\n"
            );
            assert!(std::fs::read_to_string(root.join("etc/hosts"))
                .unwrap()
                .contains("127.0.1.1\tforge-test"));
            assert_eq!(
                std::fs::read_to_string(root.join("etc/locale.conf")).unwrap(),
                "LANG=en_US.UTF-8\n"
            );
            assert!(std::fs::read_to_string(root.join("etc/vconsole.conf"))
                .unwrap()
                .starts_with("KEYMAP=de-nodeadkeys\n"));
            let x11 =
                std::fs::read_to_string(root.join("etc/X11/xorg.conf.d/00-keyboard.conf")).unwrap();
            assert!(
                x11.contains("\"XkbLayout\" \"de\"")
                    && x11.contains("\"XkbVariant\" \"nodeadkeys\"")
            );
            assert_eq!(
                std::fs::read_link(root.join("etc/localtime")).unwrap(),
                Path::new("../usr/share/zoneinfo/Europe/Berlin")
            );
            assert!(std::fs::read_to_string(root.join("etc/pkm/repos.conf"))
                .unwrap()
                .contains("gpg_verify = true"));
            let trusted = std::fs::read(root.join("etc/pkm/trusted.gpg")).unwrap();
            assert!(
                !trusted.is_empty() && trusted == verified_public,
                "trusted.gpg is not the public part of the keyring verify checked"
            );
            assert_ne!(
                forge_payload::Keyring::load(&keyring2)
                    .unwrap()
                    .public_bytes(),
                verified_public,
                "the keyring file was not replaced"
            );

            // Accounts.
            let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
            let alice: Vec<&str> = passwd
                .lines()
                .find(|l| l.starts_with("alice:"))
                .unwrap()
                .split(':')
                .collect();
            let uid: u32 = alice[2].parse().unwrap();
            assert!(uid >= 1000 && alice[5] == "/home/alice", "{alice:?}");
            assert!(
                passwd.contains("bin:x:1:1:bin:/bin:/bin/false"),
                "existing entries kept"
            );
            let group = std::fs::read_to_string(root.join("etc/group")).unwrap();
            assert!(
                group
                    .lines()
                    .any(|l| l.starts_with("wheel:") && l.ends_with(":alice")),
                "{group}"
            );
            let shadow = std::fs::read_to_string(root.join("etc/shadow")).unwrap();
            for user in ["root", "alice"] {
                let hash = shadow
                    .lines()
                    .find(|l| l.starts_with(&format!("{user}:")))
                    .unwrap()
                    .split(':')
                    .nth(1)
                    .unwrap();
                assert!(
                    hash.starts_with("$6$") || hash.starts_with("$y$"),
                    "{user}: {hash}"
                );
            }
            assert!(!shadow.contains(common::ROOT_PW) && !shadow.contains(common::USER_PW));
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(root.join("etc/shadow")).unwrap();
            assert!(
                m.mode() & 0o007 == 0 && m.uid() == 0,
                "shadow mode {:o}",
                m.mode()
            );
            let home = std::fs::metadata(root.join("home/alice")).unwrap();
            assert_eq!((home.uid(), home.mode() & 0o777), (uid, 0o700));
            let prof = std::fs::metadata(root.join("home/alice/.profile")).unwrap();
            assert_eq!(prof.uid(), uid);

            // The pkm database records the payload's signed `created`.
            let record =
                std::fs::read_to_string(root.join(forge_payload::PKM_PAYLOAD_RECORD)).unwrap();
            assert!(record.starts_with("created = 20"), "{record}");
            // pkm database lists every deployed package, hooks and services ran.
            for pkg in ["base-layout", "hello"] {
                assert!(
                    root.join(forge_payload::PKM_DB_DIR).join(pkg).is_dir(),
                    "{pkg} not registered"
                );
            }
            assert!(!root
                .join(forge_payload::PKM_DB_DIR)
                .join("extra-tool")
                .exists());
            assert_eq!(
                std::fs::read_to_string(root.join("var/lib/hello/hook")).unwrap(),
                "ran\n"
            );
            assert!(root
                .join("etc/systemd/system/multi-user.target.wants/hello.service")
                .symlink_metadata()
                .is_ok());

            // Logs, with no secrets.
            let install_log =
                std::fs::read_to_string(root.join("var/log/forge/install.log")).unwrap();
            assert!(
                install_log.contains("hook-output"),
                "hook output not logged"
            );
            assert!(!install_log.contains(common::ROOT_PW));
            let m = std::fs::metadata(root.join("var/log/forge/install.log")).unwrap();
            assert_eq!(m.mode() & 0o777, 0o600);
            let audit =
                std::fs::read_to_string(root.join("var/log/forge/integrity-audit.log")).unwrap();
            assert!(audit.contains("hello"), "{audit}");

            // Boot loader.
            let cfg = std::fs::read_to_string(root.join("boot/grub/grub.cfg")).unwrap();
            assert!(
                cfg.contains(&format!("--set=root {state_root_uuid}")),
                "{cfg}"
            );
            if esp_uuid.is_some() {
                let key = std::fs::metadata(root.join("var/lib/shim-signed/mok/MOK.priv")).unwrap();
                assert_eq!(key.mode() & 0o777, 0o600);
                assert!(root.join("var/lib/shim-signed/mok/MOK.der").is_file());
            } else {
                assert!(
                    root.join("boot/grub/i386-pc/core.img").is_file(),
                    "grub-install did not run"
                );
            }
        });
    });

    if let Some(_esp) = esp {
        // The ESP (never mounted) holds the signed GRUB and its grub.cfg.
        common::in_namespace(move || {
            let out = std::process::Command::new("losetup")
                .args(["-r", "--find", "--show", "--partscan"])
                .arg(&image)
                .output()
                .unwrap();
            let dev = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            let part = forge_daemon::resources::loopdev::wait_for_partitions(
                &dev,
                2,
                std::time::Duration::from_secs(20),
            )
            .map(|p| p[0].clone());
            let listing = part
                .as_ref()
                .ok()
                .map(|p| forge_daemon::resources::esp::list(p));
            let cfg = part
                .as_ref()
                .ok()
                .map(|p| forge_daemon::resources::esp::read(p, "/EFI/BOOT/grub.cfg"));
            let _ = std::process::Command::new("losetup")
                .arg("-d")
                .arg(&dev)
                .status();
            let listing = listing.unwrap().unwrap().join("\n");
            assert!(
                listing.contains("EFI/BOOT/BOOTX64.EFI")
                    || listing.contains("EFI/BOOT/BOOTX64.efi"),
                "{listing}"
            );
            assert!(listing.contains("MOK.der"), "{listing}");
            assert!(cfg
                .unwrap()
                .unwrap()
                .stdout
                .contains("search --no-floppy --fs-uuid"));
        });
    }
}

#[test]
fn efi_install_into_image() {
    skip_unless_root!();
    install_and_inspect("efi");
}

#[test]
fn bios_install_into_image() {
    skip_unless_root!();
    if forge_daemon::resources::command::which("grub-install").is_none()
        || !Path::new("/usr/lib/grub/i386-pc").is_dir()
    {
        common::skip::skip("grub-install or /usr/lib/grub/i386-pc missing");
        return;
    }
    install_and_inspect("bios");
}

#[test]
fn dry_run_writes_nothing() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let keyring = common::make_payload(tmp.path());
    let image = common::make_image(tmp.path(), 256 << 20);
    // Give the image recognizable content so "nothing written" is meaningful.
    std::fs::write(&image, vec![0x5a; 1 << 20]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&image)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let before = common::hash_file(&image);
    let t = tmp.path().to_path_buf();
    let img = image.clone();
    let (log, leftover) = common::in_namespace(move || {
        let mut job = common::job(&t, &keyring, &img, "efi", true);
        run_all(&mut job.ctx);
        (job.ctx.log.clone(), common::mounts_under(&t))
    });
    assert_eq!(
        common::hash_file(&image),
        before,
        "a dry run changed the image"
    );
    assert!(leftover.is_empty());
    assert_eq!(common::loops_of(&image), "");
    let ops: Vec<&String> = log.iter().filter(|l| l.starts_with("would: ")).collect();
    for needle in [
        "wipefs",
        "sfdisk",
        "mkfs.vfat",
        "mount the root",
        "bind-mount /proc",
        "hello 2.12-1",
        "/etc/fstab",
        "wheel",
        "Machine Owner Key",
        "grub-mkimage",
        "hello.service",
        "install.log",
    ] {
        assert!(
            ops.iter().any(|l| l.contains(needle)),
            "no dry-run operation mentions {needle:?}: {ops:#?}"
        );
    }
    assert!(
        !tmp.path().join("staging/job-1/root").exists(),
        "a dry run created the mount point"
    );
}

#[test]
fn xfs_and_btrfs_roots() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let keyring = common::make_payload(tmp.path());
    for fs in ["xfs", "btrfs"] {
        if forge_daemon::resources::command::which(&format!("mkfs.{fs}")).is_none() {
            common::skip::skip(format!("mkfs.{fs} not installed"));
            continue;
        }
        let image = common::make_image(tmp.path(), 1 << 30);
        let (t, kr, img) = (tmp.path().to_path_buf(), keyring.clone(), image.clone());
        let leftover = common::in_namespace(move || {
            let mut job = common::job(&t, &kr, &img, "bios", false);
            job.ctx.plan.filesystem = fs.to_string();
            job.ctx.state.filesystem = job.ctx.plan.filesystem_kind();
            for (phase, run) in [
                (Phase::Partition, phases::partition::run as PhaseFn),
                (Phase::Mount, phases::mount::run),
                (Phase::Config, phases::config::run),
                (Phase::Cleanup, phases::cleanup::run),
            ] {
                if let Err(e) = run(&mut job.ctx) {
                    let log = job.ctx.log.join("\n");
                    job.ctx.release_all();
                    panic!("{fs}: phase {phase} failed: {e}\n{log}");
                }
            }
            common::mounts_under(&t)
        });
        assert!(leftover.is_empty(), "{fs}: {leftover:?}");
        assert_eq!(
            common::loops_of(&image),
            "",
            "{fs}: loop device left attached"
        );
        let img = image.clone();
        common::in_namespace(move || {
            common::with_partition_ro(&img, 2, fs, |root| {
                let fstab = std::fs::read_to_string(root.join("etc/fstab")).unwrap();
                assert!(
                    fstab.contains(&format!("\t/\t{fs}\tdefaults\t0\t0")),
                    "{fstab}"
                );
                assert!(root.join("var/log/forge/install.log").is_file());
            })
        });
        std::fs::remove_file(&image).unwrap();
    }
}

#[test]
fn a_package_changed_after_verify_is_a_warning_not_an_abort() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let keyring = common::make_payload(tmp.path());
    let image = common::make_image(tmp.path(), 1 << 30);
    let (t, img) = (tmp.path().to_path_buf(), image.clone());
    let (deployed, warnings, leftover) = common::in_namespace(move || {
        let mut job = common::job(&t, &keyring, &img, "bios", false);
        // Swapped on disk after verify hashed it: deploy's re-hash refuses it.
        let archive = t.join("payload/packages/hello-2.12-1.igos.tar.gz");
        let mut bytes = std::fs::read(&archive).unwrap();
        bytes.extend_from_slice(b"swapped after verification");
        std::fs::write(&archive, bytes).unwrap();
        for (phase, run) in [
            (Phase::Partition, phases::partition::run as PhaseFn),
            (Phase::Mount, phases::mount::run),
            (Phase::Packages, phases::packages::run),
            (Phase::Hooks, phases::hooks::run),
            (Phase::Cleanup, phases::cleanup::run),
        ] {
            if let Err(e) = run(&mut job.ctx) {
                let log = job.ctx.log.join("\n");
                job.ctx.release_all();
                panic!("phase {phase} failed: {e}\n{log}");
            }
        }
        let names: Vec<String> = job
            .ctx
            .state
            .deployed
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        let warnings = job.recorder.warnings.lock().unwrap().clone();
        (names, warnings, common::mounts_under(&t))
    });
    assert!(
        deployed.contains(&"base-layout".to_string()),
        "{deployed:?}"
    );
    assert!(!deployed.contains(&"hello".to_string()), "{deployed:?}");
    assert_eq!(
        warnings.iter().filter(|w| w.contains("hello")).count(),
        1,
        "one warning for the refused package: {warnings:?}"
    );
    assert!(leftover.is_empty());
    assert_eq!(common::loops_of(&image), "");
    common::in_namespace(move || {
        common::with_partition_ro(&image, 2, "ext4", |root| {
            assert!(
                !root.join("usr/bin/hello").exists(),
                "the refused package left files"
            );
            assert!(!root.join("var/lib/hello/hook").exists(), "its hook ran");
            assert!(root.join("etc/os-release").is_file());
        })
    });
}
