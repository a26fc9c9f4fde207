//! The sandbox a package's post-install script runs in: it sees the new
//! system and nothing of the live host, and everything it starts ends with
//! it.
//!
//! # What the script gets
//! - its own PID, mount, IPC, UTS and network namespaces. The script is PID 1
//!   of its PID namespace, so when it exits, or is killed at the time limit
//!   or on Cancel, the kernel kills every process it left behind (a
//!   `setsid daemon &` included) and the output pipe closes;
//! - the target as its root (`pivot_root`, the old root detached: there is
//!   no path back to the host, `/proc/1/root` is the script itself);
//! - a private `/proc` of its PID namespace, with `/proc/sys`,
//!   `/proc/sysrq-trigger`, `/proc/irq`, `/proc/bus` and `/proc/fs`
//!   read-only (global knobs); the live system's /proc, /dev and /sys binds
//!   of the `virtual-fs` phase are detached;
//! - a minimal read-only `/dev` on a small tmpfs: null, zero, full, random,
//!   urandom, tty and the fd links; no block device, no /dev/pts;
//! - `/sys` as an empty read-only tmpfs;
//! - effective and permitted sets of [`KEPT_CAPS`] only, inheritable and
//!   ambient sets empty, and with `no_new_privs` exec cannot give root its
//!   capabilities back (the bounding set is cut down too where the daemon
//!   holds CAP_SETPCAP, which the systemd unit does not grant):
//!   no CAP_SYS_ADMIN, CAP_SYS_RAWIO, CAP_SYS_MODULE, CAP_MKNOD,
//!   CAP_SYS_PTRACE, CAP_SYS_BOOT, CAP_SYS_CHROOT, CAP_NET_ADMIN ...;
//! - `no_new_privs` and a seccomp filter answering EPERM to mount and the
//!   new mount API, pivot_root, kexec, module loading, bpf, ptrace, reboot,
//!   swapon/swapoff, open_by_handle_at, unshare and setns (see
//!   [`confine::DENIED_SYSCALLS`]); a foreign syscall ABI kills the process.
//!
//! # Output and time
//! stdout and stderr share one pipe, read by a thread that keeps the first
//! [`OUTPUT_CAP`] bytes and drains the rest (so the script never blocks on
//! a full pipe); the result says how much was dropped. The waiting side
//! polls the child, the deadline and the job's [`CancelToken`]; on either
//! of the last two it SIGKILLs the namespace's init, which ends all of it.
//! The reader is awaited with its own short deadline, so even a write end
//! that somehow escaped cannot hang the job.
//!
//! # Why this shape (threads, not a helper binary)
//! Namespaces, capability sets, `no_new_privs` and seccomp filters are all
//! per *thread* on Linux and inherited by `fork`. So the setup runs on a
//! dedicated, short-lived thread ([`confine::enter`]) in ordinary Rust
//! (`nix`, `caps`, `seccompiler`: allocation and error reporting are fine
//! there), and the rest of the daemon keeps its own root, namespaces and
//! capabilities. Only two things must happen in the forked child, because
//! they depend on it being PID 1 of the new namespace or must come after
//! that: mounting its /proc, lowering its capability sets (the mount needs
//! CAP_SYS_ADMIN) and applying the prebuilt seccomp program. All are plain
//! syscalls (mount, capset, prctl) on memory prepared before the fork (no
//! allocation, no lock: async-signal-safe, as `Command::pre_exec` requires).
//! The filter goes in through prctl(PR_SET_SECCOMP), not seccomp(2), which
//! the unit's `SystemCallFilter=` does not allow; the unit must allow the
//! namespaces (`RestrictNamespaces=mnt pid ipc uts net`). Re-executing
//! the daemon binary in a hidden mode would also be safe, but the phase
//! tests run inside the test binary, where there is no daemon to re-exec.
//! The thread spawns no thread after `unshare(CLONE_NEWPID)` (the kernel
//! refuses that), which is why the output reader is started by the caller.

mod child;
mod confine;

use std::io::Read;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::pipeline::context::CancelToken;

pub use confine::{DENIED_SYSCALLS, KEPT_CAPS};

/// How much of a script's output is kept for the install log.
pub const OUTPUT_CAP: usize = 1024 * 1024;

/// How a sandboxed run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The script exited by itself (with this status).
    Exited(ExitStatus),
    /// Killed at the time limit.
    TimedOut,
    /// Killed because the job was cancelled.
    Cancelled,
}

/// What a sandboxed script did.
#[derive(Debug)]
pub struct Run {
    pub ended: Ended,
    /// stdout and stderr, interleaved, at most [`OUTPUT_CAP`] bytes.
    pub output: String,
    /// Bytes printed beyond [`OUTPUT_CAP`] (dropped).
    pub dropped: u64,
}

/// Why a script could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Setting up the namespaces, mounts, capabilities or filter failed.
    #[error("setting up the sandbox: {0}")]
    Setup(String),
    /// `/bin/sh` (or what it links to) is not in the target.
    #[error("the new system has no /bin/sh")]
    NoShell,
    #[error("starting the script: {0}")]
    Spawn(std::io::Error),
}

/// Runs `/bin/sh SCRIPT` (`script` is a path inside the target) confined to
/// `root`, with `env` as its whole environment, for at most `limit`, killed
/// early when `cancel` fires.
pub fn run_script(
    root: &Path,
    script: &Path,
    env: &[(&str, &str)],
    limit: Duration,
    cancel: &CancelToken,
) -> Result<Run, SandboxError> {
    let (reader, writer) = std::io::pipe().map_err(|e| SandboxError::Setup(e.to_string()))?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(read_capped(reader));
    });
    let spec = confine::Spec {
        root: root.to_path_buf(),
        program: "/bin/sh".into(),
        args: vec![script.as_os_str().to_owned()],
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let cancel = cancel.clone();
    // The confining thread owns the write end: it is closed when the thread
    // ends, whatever happens, and the child's copies die with the namespace.
    let worker = thread::spawn(move || {
        let child = confine::enter(&spec, writer)?;
        Ok(wait(child, limit, &cancel))
    });
    let ended = worker
        .join()
        .map_err(|_| SandboxError::Setup("the sandbox thread panicked".into()))??;
    let (bytes, dropped) = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| {
            (
                b"[output not collected: the pipe stayed open]\n".to_vec(),
                0,
            )
        });
    Ok(Run {
        ended,
        output: String::from_utf8_lossy(&bytes).into_owned(),
        dropped,
    })
}

/// Waits for the namespace's init; kills it at the deadline or on Cancel.
fn wait(mut child: std::process::Child, limit: Duration, cancel: &CancelToken) -> Ended {
    let start = Instant::now();
    let why = loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ended::Exited(status),
            Ok(None) if cancel.is_cancelled() => break Ended::Cancelled,
            Ok(None) if start.elapsed() >= limit => break Ended::TimedOut,
            Ok(None) => thread::sleep(Duration::from_millis(25)),
            Err(_) => break Ended::TimedOut,
        }
    };
    // SIGKILL to PID 1 of the namespace: the kernel ends every process in it.
    let _ = child.kill();
    let _ = child.wait();
    why
}

/// Reads to EOF, keeping the first [`OUTPUT_CAP`] bytes and counting the rest.
fn read_capped(mut r: impl Read) -> (Vec<u8>, u64) {
    let mut kept = Vec::new();
    let mut dropped = 0u64;
    let mut buf = [0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = OUTPUT_CAP.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buf[..room]);
                dropped += (n - room) as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_capped_and_the_rest_counted() {
        let data = vec![b'x'; OUTPUT_CAP + 4096];
        let (kept, dropped) = read_capped(&data[..]);
        assert_eq!(kept.len(), OUTPUT_CAP);
        assert_eq!(dropped, 4096);
    }
}
