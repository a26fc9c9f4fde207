//! Stale partition nodes (root; issue 9 item 11): a `/dev/loopNpM` whose
//! device number is another disk's partition is not used — the job makes
//! its own node on a private tmpfs, removed with the guard — and a recorded
//! node replaced later is refused by the state's accessors; a real install
//! whose loop device's `/dev` nodes are stale formats the right partitions.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_daemon::pipeline::InstallState;
use forge_daemon::resources::blockdev;
use forge_daemon::resources::loopdev::partition_path;
use forge_daemon::resources::partnodes::PartitionNodes;

fn detach(dev: &Path) {
    let _ = Command::new("losetup").arg("-d").arg(dev).status();
}

/// Removes planted nodes and detaches loop devices, also when a test fails.
struct Cleanup {
    nodes: Vec<PathBuf>,
    loops: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for n in &self.nodes {
            let _ = std::fs::remove_file(n);
        }
        for l in &self.loops {
            detach(l);
        }
    }
}

/// Replaces `node` by a block node with device number `dev`.
fn plant(node: &Path, dev: blockdev::DevNum) {
    let _ = std::fs::remove_file(node);
    nix::sys::stat::mknod(
        node,
        nix::sys::stat::SFlag::S_IFBLK,
        nix::sys::stat::Mode::from_bits_truncate(0o660),
        nix::sys::stat::makedev(dev.0, dev.1),
    )
    .unwrap();
}

/// The tests plant nodes for loop devices: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What sysfs says partition node `p` should be.
fn sysfs_dev(p: &Path) -> blockdev::DevNum {
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    blockdev::parse_dev(&std::fs::read_to_string(format!("/sys/class/block/{name}/dev")).unwrap())
        .unwrap()
}

fn rdev(p: &Path) -> blockdev::DevNum {
    let r = std::fs::metadata(p).unwrap().rdev();
    (libc::major(r) as u64, libc::minor(r) as u64)
}

#[test]
fn a_stale_node_is_not_used_and_made_nodes_go_with_the_guard() {
    skip_unless_root!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_path_buf();
    common::in_namespace(move || {
        let a = common::attach_two_partition_loop(&t.join("a.img"));
        let b = common::attach_two_partition_loop(&t.join("b.img"));
        let victim = blockdev::dev_of(&partition_path(&b, 1)).unwrap();
        let stale = partition_path(&a, 1);
        let _cleanup = Cleanup {
            nodes: vec![stale.clone()],
            loops: vec![a.clone(), b.clone()],
        };
        // An earlier job's node: a's first partition's name, b's numbers.
        plant(&stale, victim);
        let err = blockdev::partition_node(&stale).unwrap_err();
        assert!(err.contains(&stale.display().to_string()), "{err}");

        let private = t.join("nodes");
        let nodes =
            PartitionNodes::prepare(&a, 2, Duration::from_secs(20), &private).expect("nodes");
        let first = nodes.node(1).unwrap().to_path_buf();
        assert_ne!(first, stale, "the stale node was used");
        assert!(first.starts_with(&private));
        // partx may have re-added the partitions: sysfs now is the truth.
        let want = sysfs_dev(&stale);
        assert_ne!(want, victim);
        assert_eq!(rdev(&first), want);
        assert_eq!(nodes.node(2).unwrap(), partition_path(&a, 2));
        assert_eq!(nodes.made(), std::slice::from_ref(&first));

        // The state refuses a recorded node that went stale.
        let mut state = InstallState {
            root_partition: Some(first.clone()),
            ..Default::default()
        };
        assert_eq!(state.root_partition().unwrap(), first);
        state.root_partition = Some(stale.clone());
        let e = state.root_partition().unwrap_err();
        assert!(e.detail.contains("no longer trusted"), "{}", e.detail);

        drop(nodes);
        assert!(!first.exists(), "made node left behind");
        assert!(!common::mounts_under(&t).iter().any(|m| m == &private));
    });
}

#[test]
fn an_install_with_stale_nodes_formats_its_own_partitions() {
    skip_unless_root!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let keyring = common::make_payload(tmp.path());
    let image = common::make_image(tmp.path(), 1 << 30);
    let t = tmp.path().to_path_buf();
    let img = image.clone();
    common::in_namespace(move || {
        // Someone else's disk, with recognizable bytes on its partition 1.
        let other = common::attach_two_partition_loop(&t.join("other.img"));
        let mut cleanup = Cleanup {
            nodes: Vec::new(),
            loops: vec![other.clone()],
        };
        let victim = partition_path(&other, 1);
        std::fs::write(&victim, vec![0xa5; 1 << 20]).unwrap();
        let before = common::hash_file(&victim);
        // Stale nodes for the loop devices the job may get next.
        let next =
            String::from_utf8(Command::new("losetup").arg("-f").output().unwrap().stdout).unwrap();
        let n: u32 = next.trim().trim_start_matches("/dev/loop").parse().unwrap();
        for i in n..n + 4 {
            for p in 1..=2 {
                let node = PathBuf::from(format!("/dev/loop{i}p{p}"));
                if !node.exists() {
                    plant(&node, blockdev::dev_of(&victim).unwrap());
                    cleanup.nodes.push(node);
                }
            }
        }
        let mut job = common::job(&t, &keyring, &img, "efi", false);
        let r = forge_daemon::phases::partition::run(&mut job.ctx);
        let log = job.ctx.log.join("\n");
        job.ctx.release_all();
        let after = common::hash_file(&victim);
        drop(cleanup);
        r.unwrap_or_else(|e| panic!("partition: {e}\n{log}"));
        assert_eq!(before, after, "another disk's partition was written\n{log}");
        assert!(log.contains("made partition node"), "{log}");
    });
    assert_eq!(common::loops_of(&image), "");
}
