//! Entering the sandbox (see the parent module's header for what it is and
//! why it is built on a dedicated thread): namespaces, the new root, /dev,
//! /sys, the capability bounding set and the seccomp program on the calling
//! thread; /proc, the lowered capability sets and the filter itself in the
//! forked child ([`super::child`]), with raw syscalls on memory prepared
//! before the fork.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::PipeWriter;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use caps::{CapSet, Capability};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use nix::unistd::{chdir, pivot_root};
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, SeccompRule, TargetArch};

use super::child::{install_filter, kept_mask, lower_capabilities, ProcMounts};
use super::SandboxError;

/// The capabilities a package script keeps (file ownership and modes,
/// switching user for `su`/`runuser`-style steps, signalling its own
/// processes, file capabilities for `setcap`). Everything else leaves the
/// bounding set before the script is executed.
pub const KEPT_CAPS: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FOWNER,
    Capability::CAP_FSETID,
    Capability::CAP_KILL,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_AUDIT_WRITE,
];

/// Syscalls the filter answers with EPERM.
pub const DENIED_SYSCALLS: &[(&str, i64)] = &[
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("open_tree", libc::SYS_open_tree),
    ("move_mount", libc::SYS_move_mount),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("bpf", libc::SYS_bpf),
    ("ptrace", libc::SYS_ptrace),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
];

/// The devices of the sandbox's /dev: name, major, minor.
const DEVICES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// What to run: a program inside the new root, its arguments, its whole
/// environment.
pub struct Spec {
    pub root: PathBuf,
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> SandboxError + '_ {
    move |e| SandboxError::Setup(format!("{what}: {e}"))
}

/// Confines the calling thread (which must be a dedicated one that ends
/// afterwards, and must not start threads) and starts `spec` in it as PID 1
/// of a new PID namespace, stdout and stderr to `out`.
pub fn enter(spec: &Spec, out: PipeWriter) -> Result<Child, SandboxError> {
    unshare(
        CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWIPC
            | CloneFlags::CLONE_NEWUTS
            | CloneFlags::CLONE_NEWNET,
    )
    .map_err(setup("unshare"))?;
    let none = None::<&str>;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(setup("making / private"))?;
    new_root(&spec.root)?;
    for p in ["/proc", "/sys", "/dev"] {
        // The live system's binds of the virtual-fs phase (and anything
        // stacked on them) leave this namespace.
        for _ in 0..16 {
            if umount2(p, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW).is_err() {
                break;
            }
        }
    }
    ensure_dir(Path::new("/proc"), 0o555)?;
    minimal_dev()?;
    if Path::new("/sys").is_dir() {
        mount(
            Some("tmpfs"),
            "/sys",
            Some("tmpfs"),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("size=4k,mode=0555"),
        )
        .map_err(setup("mounting an empty /sys"))?;
    }
    bound_capabilities()?;
    let filter = seccomp_program()?;
    let proc_mounts = ProcMounts::new();
    let keep = kept_mask().map_err(setup("reading the capability sets"))?;

    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(setup("output pipe"))?)
        .stderr(out);
    // SAFETY: the closure runs in the forked child of a multi-threaded
    // process, so it may only make async-signal-safe calls: it issues
    // mount(2), capset(2) and prctl(2) on memory allocated before the fork
    // (the CStrings and the BPF program it owns) or on its stack, and
    // allocates nothing (errors are raw OS errors).
    unsafe {
        cmd.pre_exec(move || {
            proc_mounts.apply()?;
            lower_capabilities(keep)?;
            install_filter(&filter)
        });
    }
    let child = cmd.spawn();
    // The parent's copies of the pipe's write end go with the Command.
    drop(cmd);
    child.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SandboxError::NoShell,
        _ => SandboxError::Spawn(e),
    })
}

/// Makes `root` the thread's `/` with no way back: the old root is detached.
fn new_root(root: &Path) -> Result<(), SandboxError> {
    let none = None::<&str>;
    mount(
        Some(root),
        root,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .map_err(setup("binding the target root"))?;
    chdir(root).map_err(setup("entering the target root"))?;
    // pivot_root(".", "."): the old root ends up stacked on the new one and
    // is detached right away (no put_old directory in the target needed).
    pivot_root(".", ".").map_err(setup("pivot_root"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(setup("detaching the old root"))?;
    chdir("/").map_err(setup("chdir /"))
}

fn ensure_dir(p: &Path, mode: u32) -> Result<(), SandboxError> {
    if std::fs::symlink_metadata(p).is_err() {
        std::fs::create_dir(p).map_err(setup("creating a mount point"))?;
        let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
    }
    Ok(())
}

/// A small read-only tmpfs /dev with the harmless character devices only.
fn minimal_dev() -> Result<(), SandboxError> {
    ensure_dir(Path::new("/dev"), 0o755)?;
    mount(
        Some("tmpfs"),
        "/dev",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("size=64k,nr_inodes=64,mode=0755"),
    )
    .map_err(setup("mounting /dev"))?;
    for (name, major, minor) in DEVICES {
        let p = Path::new("/dev").join(name);
        mknod(
            &p,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(*major, *minor),
        )
        .map_err(setup("creating a device node"))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666))
            .map_err(setup("device node mode"))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, Path::new("/dev").join(name))
            .map_err(setup("creating a /dev link"))?;
    }
    mount(
        None::<&str>,
        "/dev",
        None::<&str>,
        MsFlags::MS_REMOUNT
            | MsFlags::MS_BIND
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(setup("making /dev read-only"))
}

/// Bounding set down to [`KEPT_CAPS`] and the ambient set empty, on this
/// thread (inherited by the child). The bounding set needs CAP_SETPCAP,
/// which the systemd unit does not grant: there it is best effort, and what
/// confines the script is [`lower_capabilities`] in the child plus
/// `no_new_privs` (with it, exec never gives more than the permitted set
/// had). The effective set stays full until then, so the child can still
/// mount its /proc.
fn bound_capabilities() -> Result<(), SandboxError> {
    if caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).unwrap_or(false) {
        for c in caps::runtime::thread_all_supported() {
            if !KEPT_CAPS.contains(&c) {
                caps::drop(None, CapSet::Bounding, c).map_err(setup("dropping a capability"))?;
            }
        }
    }
    caps::clear(None, CapSet::Ambient).map_err(setup("ambient capabilities"))
}

fn seccomp_program() -> Result<BpfProgram, SandboxError> {
    let rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED_SYSCALLS
        .iter()
        .map(|(_, nr)| (*nr, vec![]))
        .collect();
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(setup("seccomp arch"))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(setup("seccomp filter"))?;
    BpfProgram::try_from(filter).map_err(setup("compiling the seccomp filter"))
}
