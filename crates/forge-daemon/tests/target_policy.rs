//! The target policy on real devices (root; issue 9 item 10): the validate
//! phase refuses partitions, device-mapper devices and loop devices with a
//! message naming the device and the reason; a disk whose partition belongs
//! to a device-mapper device or to a mounted multi-device btrfs is busy (the
//! verdict ListDisks and validate share) even where mountinfo does not name
//! it; a claimed disk cannot be opened with `O_EXCL` by anyone else; a disk
//! or image swapped after validate is refused before any write.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use forge_daemon::phases;
use forge_daemon::pipeline::context::CancelToken;
use forge_daemon::pipeline::JobContext;
use forge_daemon::resources::blockdev::{self, Busy};
use forge_daemon::resources::claim::TargetClaim;
use forge_proto::{InstallIo, Secret};

/// A loop device over a fresh sparse file, with a GPT of two partitions;
/// detached on drop.
struct Loop {
    dev: PathBuf,
}

impl Loop {
    fn new(dir: &Path, name: &str) -> Loop {
        let dev = common::attach_two_partition_loop(&dir.join(name));
        Loop { dev }
    }

    fn part(&self, n: u32) -> PathBuf {
        forge_daemon::resources::loopdev::partition_path(&self.dev, n)
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}

fn ctx_for(tmp: &Path, disk: &Path) -> JobContext {
    let config = common::daemon_config(tmp, &tmp.join("keyring"));
    let io = InstallIo {
        disk: disk.display().to_string(),
        root_password: Secret::new(common::ROOT_PW),
        user_password: Secret::new(common::USER_PW),
        secure_boot_password: Secret::new(common::SB_PW),
        dry_run: false,
    };
    let staging = tmp.join("staging").join("job-1");
    std::fs::create_dir_all(&staging).unwrap();
    JobContext::new(
        1,
        common::plan("efi"),
        io,
        Arc::new(config),
        Arc::new(common::Recorder::default()),
        CancelToken::default(),
        staging,
    )
}

/// Runs validate on `disk`; the refusal's summary.
fn refusal(tmp: &Path, disk: &Path) -> String {
    let mut ctx = ctx_for(tmp, disk);
    let e = phases::validate::run(&mut ctx).expect_err("validate accepted the target");
    assert!(ctx.state.target_claim.is_none());
    e.summary
}

#[test]
fn partitions_and_loop_devices_are_refused_by_name() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let l = Loop::new(tmp.path(), "a.img");
    let disk = l.dev.display().to_string();
    let s = refusal(tmp.path(), &l.dev);
    assert!(s.contains(&disk) && s.contains("loop device"), "{s}");
    let part = l.part(1);
    let s = refusal(tmp.path(), &part);
    assert!(
        s.contains(&part.display().to_string()) && s.contains("partition"),
        "{s}"
    );
}

// This machine's kernel has no device-mapper driver; run with `--ignored`
// where it has one.
#[test]
#[ignore = "needs the kernel's device-mapper driver"]
fn device_mapper_devices_are_refused_and_their_disks_busy() {
    skip_unless_root!();
    if forge_daemon::resources::command::which("dmsetup").is_none()
        || !Command::new("dmsetup")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    {
        common::skip::skip("no device-mapper (dmsetup, kernel driver)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let l = Loop::new(tmp.path(), "a.img");
    // A linear device-mapper target over the second partition.
    let name = format!("forge-test-{}", std::process::id());
    let sectors = std::fs::read_to_string(format!(
        "/sys/class/block/{}/size",
        l.part(2).file_name().unwrap().to_string_lossy()
    ))
    .unwrap();
    let table = format!("0 {} linear {} 0", sectors.trim(), l.part(2).display());
    let st = Command::new("dmsetup")
        .args(["create", &name, "--table", &table])
        .status()
        .unwrap();
    assert!(st.success(), "dmsetup create");
    let mapper = PathBuf::from(format!("/dev/mapper/{name}"));
    let dm = blockdev::dev_of(&mapper).or_else(|| {
        // Without udev the node may be missing: find dm-N by name.
        std::fs::read_dir("/sys/block")
            .ok()?
            .flatten()
            .find_map(|e| {
                let n = std::fs::read_to_string(e.path().join("dm/name")).ok()?;
                (n.trim() == name).then(|| {
                    blockdev::parse_dev(&std::fs::read_to_string(e.path().join("dev")).ok()?)
                })?
            })
    });
    let result = std::panic::catch_unwind(|| {
        let dm = dm.expect("device-mapper device");
        let node = tmp.path().join("dm-node");
        if !mapper.exists() {
            nix::sys::stat::mknod(
                &node,
                nix::sys::stat::SFlag::S_IFBLK,
                nix::sys::stat::Mode::from_bits_truncate(0o600),
                nix::sys::stat::makedev(dm.0, dm.1),
            )
            .unwrap();
        }
        let target = if mapper.exists() {
            mapper.clone()
        } else {
            node
        };
        let s = refusal(tmp.path(), &target);
        assert!(s.contains("device-mapper"), "{s}");
        // The disk under it is busy: ListDisks and validate share this.
        match blockdev::busy(blockdev::dev_of(&l.dev).unwrap()) {
            Some(Busy::Held { member, holders }) => {
                assert!(l.part(2).ends_with(&member), "{member}");
                assert!(holders.starts_with("dm-"), "{holders}");
            }
            other => panic!("not busy: {other:?}"),
        }
    });
    let _ = Command::new("dmsetup").args(["remove", &name]).status();
    result.unwrap();
    assert_eq!(blockdev::busy(blockdev::dev_of(&l.dev).unwrap()), None);
}

#[test]
fn a_member_of_a_mounted_multi_device_btrfs_is_busy() {
    skip_unless_root!();
    if forge_daemon::resources::command::which("mkfs.btrfs").is_none() {
        common::skip::skip("mkfs.btrfs not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_path_buf();
    common::in_namespace(move || {
        let a = Loop::new(&t, "a.img");
        let b = Loop::new(&t, "b.img");
        let st = Command::new("mkfs.btrfs")
            .args(["-f", "-q", "-d", "single", "-m", "single"])
            .arg(a.part(1))
            .arg(b.part(1))
            .status()
            .unwrap();
        assert!(st.success(), "mkfs.btrfs");
        let _ = Command::new("btrfs").args(["device", "scan"]).status();
        let mnt = t.join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let guard = forge_daemon::resources::mounts::MountGuard::mount_fs(
            &a.part(1),
            &mnt,
            "btrfs",
            Some(&format!("device={}", b.part(1).display())),
        )
        .expect("mount btrfs");
        // mountinfo names only a's partition; b is busy all the same.
        let mi = std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
        assert!(!mi.contains(&b.part(1).display().to_string()));
        match blockdev::busy(blockdev::dev_of(&b.dev).unwrap()) {
            Some(Busy::Btrfs { member, .. }) => assert!(b.part(1).ends_with(&member)),
            other => panic!("b not busy as btrfs member: {other:?}"),
        }
        assert!(blockdev::busy(blockdev::dev_of(&a.dev).unwrap()).is_some());
        drop(guard);
        assert_eq!(blockdev::busy(blockdev::dev_of(&b.dev).unwrap()), None);
    });
}

fn open_excl_in_child(dev: &Path) -> std::process::Output {
    Command::new("python3")
        .arg("-c")
        .arg("import os,sys\ntry:\n os.open(sys.argv[1], os.O_RDONLY|os.O_EXCL)\nexcept OSError as e:\n print(e.errno); sys.exit(1)")
        .arg(dev)
        .output()
        .unwrap()
}

#[test]
fn a_claimed_disk_cannot_be_opened_exclusively_and_a_swapped_one_is_refused() {
    skip_unless_root!();
    if forge_daemon::resources::command::which("python3").is_none() {
        common::skip::skip("python3 not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let l = Loop::new(tmp.path(), "a.img");
    let mut claim = TargetClaim::disk(&l.dev).expect("claim");
    assert!(claim.is_exclusive());
    let out = open_excl_in_child(&l.dev);
    assert!(!out.status.success(), "O_EXCL open succeeded while held");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        libc::EBUSY.to_string()
    );
    // The kernel refuses a second claim in this process too.
    assert!(TargetClaim::disk(&l.dev).is_err());
    claim.recheck().expect("unchanged disk");
    claim.release_exclusive();
    assert!(open_excl_in_child(&l.dev).status.success());

    // Detach, and attach another backing file under the same name.
    let other = tmp.path().join("other.img");
    std::fs::File::create(&other)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    assert!(Command::new("losetup")
        .arg("-d")
        .arg(&l.dev)
        .status()
        .unwrap()
        .success());
    let mut reattached = false;
    for _ in 0..50 {
        let st = Command::new("losetup")
            .arg(&l.dev)
            .arg(&other)
            .status()
            .unwrap();
        if st.success() {
            reattached = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(reattached, "re-attach {}", l.dev.display());
    let e = claim.recheck().expect_err("swapped disk accepted");
    assert!(e.contains("changed since validate"), "{e}");
}

#[test]
fn an_image_replaced_after_validate_is_not_written() {
    skip_unless_root!();
    let tmp = tempfile::tempdir().unwrap();
    let image = common::make_image(tmp.path(), 1 << 30);
    let t = tmp.path().to_path_buf();
    let img = image.clone();
    let (summary, log) = common::in_namespace(move || {
        let mut ctx = ctx_for(&t, &img);
        phases::validate::run(&mut ctx).expect("validate");
        assert!(ctx.state.target_claim.is_some());
        // Someone puts another file at the image's path (rename is atomic).
        let swap = t.join("swap.img");
        std::fs::write(&swap, vec![0x5a; 1 << 20]).unwrap();
        std::fs::rename(&swap, &img).unwrap();
        let e = phases::partition::run(&mut ctx).expect_err("partition wrote a swapped image");
        let log = ctx.log.join("\n");
        ctx.release_all();
        (e.summary, log)
    });
    assert!(
        summary.contains(&image.display().to_string()) && summary.contains("no longer"),
        "{summary}"
    );
    assert!(!log.contains("wipefs"), "{log}");
    assert_eq!(std::fs::read(&image).unwrap(), vec![0x5a; 1 << 20]);
    assert_eq!(common::loops_of(&image), "");
}
