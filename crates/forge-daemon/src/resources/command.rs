//! Running external tools (sfdisk, mkfs, grub-mkimage, chroot scripts, ...)
//! with a time limit: output captured, the whole process group killed when
//! the limit passes, when the job's cancel flag is raised (checked every
//! 20 ms) or when the guard is dropped early. Arguments are logged, so
//! a secret must never be an argument: feed it through `stdin` instead, which
//! is never logged. (A phase runs a tool through `JobContext::run_logged`,
//! which logs the command line and output; this module knows no job.)

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// What a finished child produced.
#[derive(Debug)]
pub struct CmdOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Why a command did not finish successfully. The `Display` form names the
/// command line (no secrets: see the module doc) and carries its stderr.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("{cmd}: could not start: {err}")]
    Spawn { cmd: String, err: std::io::Error },
    #[error("{cmd}: timed out after {secs} s (killed)")]
    Timeout {
        cmd: String,
        secs: u64,
        output: String,
    },
    #[error("{cmd}: cancelled (killed)")]
    Cancelled { cmd: String, output: String },
    #[error("{cmd}: exited with {status}: {stderr}")]
    Failed {
        cmd: String,
        status: ExitStatus,
        stdout: String,
        stderr: String,
    },
}

impl CmdError {
    /// Everything the child printed, for the install log.
    pub fn output(&self) -> String {
        match self {
            CmdError::Spawn { .. } => String::new(),
            CmdError::Timeout { output, .. } | CmdError::Cancelled { output, .. } => output.clone(),
            CmdError::Failed { stdout, stderr, .. } => format!("{stdout}{stderr}"),
        }
    }
}

/// A running child in its own process group; killed (the whole group) on
/// drop unless it was waited for.
struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let pgid = Pid::from_raw(child.id() as i32);
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
        }
        self.child = None;
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The command line as text, for logs and errors.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&quote(a));
    }
    s
}

fn quote(a: &OsStr) -> String {
    let a = a.to_string_lossy();
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        a.into_owned()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

fn reader<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `cmd` to completion within `timeout`, feeding `stdin` (may be a
/// secret: it is never logged or kept). A non-zero exit is an error.
pub fn run_with_input(
    cmd: &mut Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> Result<CmdOutput, CmdError> {
    run_cancellable(cmd, stdin, timeout, &AtomicBool::new(false))
}

/// As [`run_with_input`], also killing the tool's whole process group
/// within about 20 ms of `cancel` being raised ([`CmdError::Cancelled`]).
pub fn run_cancellable(
    cmd: &mut Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<CmdOutput, CmdError> {
    let line = describe(cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let child = cmd.spawn().map_err(|err| CmdError::Spawn {
        cmd: line.clone(),
        err,
    })?;
    let mut guard = ChildGuard { child: Some(child) };
    let child = guard.child.as_mut().expect("child just spawned");
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A child that exits without reading gives EPIPE; its exit status
        // tells the story, so the write error is not fatal by itself.
        let _ = pipe.write_all(input);
    }
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() >= timeout => break None,
            Ok(None) if cancel.load(Ordering::SeqCst) => break None,
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let Some(status) = status else {
        guard.kill();
        let output = format!(
            "{}{}",
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default()
        );
        if cancel.load(Ordering::SeqCst) {
            return Err(CmdError::Cancelled { cmd: line, output });
        }
        return Err(CmdError::Timeout {
            cmd: line,
            secs: timeout.as_secs(),
            output,
        });
    };
    // The direct child is gone; kill any leftover in its group (a daemon a
    // post-install script started) so the pipes close and nothing lingers.
    let pgid = Pid::from_raw(guard.child.as_ref().map(|c| c.id()).unwrap_or(0) as i32);
    let _ = killpg(pgid, Signal::SIGKILL);
    guard.child = None;
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if status.success() {
        Ok(CmdOutput {
            status,
            stdout,
            stderr,
        })
    } else {
        Err(CmdError::Failed {
            cmd: line,
            status,
            stdout,
            stderr,
        })
    }
}

/// Runs `cmd` with no input; see [`run_with_input`].
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<CmdOutput, CmdError> {
    run_with_input(cmd, None, timeout)
}

/// Whether a program is found on `PATH` (or is an existing absolute path).
pub fn have(program: &str) -> bool {
    which(program).is_some()
}

/// The full path of a program on `PATH`.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    if program.contains('/') {
        let p = std::path::PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let out = run(
            Command::new("sh").args(["-c", "echo hi; echo err >&2"]),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.stderr, "err\n");
        let e = run(
            Command::new("sh").args(["-c", "exit 3"]),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(matches!(e, CmdError::Failed { .. }), "{e}");
    }

    #[test]
    fn kills_on_timeout() {
        let start = Instant::now();
        let e = run(
            Command::new("sh").args(["-c", "sleep 30 & sleep 30"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(e, CmdError::Timeout { .. }), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn cancel_kills_the_tool_and_its_group_within_a_second() {
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survivor");
        let flag = cancel.clone();
        let raiser = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            flag.store(true, Ordering::SeqCst);
        });
        let start = Instant::now();
        // A slow "grub-install": a child in the same group that would write
        // the marker later, and the tool itself sleeping for a minute.
        let script = format!("(sleep 2; touch {}) & sleep 60", marker.display());
        let e = run_cancellable(
            Command::new("sh").args(["-c", &script]),
            None,
            Duration::from_secs(120),
            &cancel,
        )
        .unwrap_err();
        raiser.join().unwrap();
        assert!(matches!(e, CmdError::Cancelled { .. }), "{e}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        thread::sleep(Duration::from_millis(2500));
        assert!(
            !marker.exists(),
            "a process of the cancelled tool's group survived"
        );
    }

    #[test]
    fn stdin_is_fed_and_not_in_the_description() {
        let mut cmd = Command::new("cat");
        let out = run_with_input(&mut cmd, Some(b"s3cret"), Duration::from_secs(5)).unwrap();
        assert_eq!(out.stdout, "s3cret");
        assert!(!describe(&cmd).contains("s3cret"));
    }
}
