//! Harness: a running QEMU and its serial console on stdio, the layer under
//! every machine of this directory ([`super::boot`], [`super::live`],
//! [`super::serial::SerialVm`], [`super::session::SessionVm`]).
//!
//! [`Console::start`] spawns the command with piped stdout and stderr (and
//! stdin when the console is typed into); a thread pumps stdout into a
//! channel, another collects stderr. [`Console::read`] takes the next chunk
//! of console output into [`Console::raw`] (and, when asked for, appends it
//! to a log file as it arrives, for `tail -f`). [`Console::stop`] kills QEMU,
//! reads what is left and appends QEMU's stderr after a
//! `--- qemu stderr ---` line; dropping the [`Console`] stops it too (also
//! on a panic). [`watch`] is a whole boot read until a verdict.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::QEMU;

/// The line between the console and QEMU's stderr in a log.
pub(super) const STDERR_HEADER: &[u8] = b"\n--- qemu stderr ---\n";

/// What [`Console::read`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// New output, appended to [`Console::raw`].
    Data,
    /// Nothing before the deadline.
    Timeout,
    /// QEMU closed its stdout (it exited or was killed).
    Exited,
}

/// A running QEMU and its console. Dropping it kills QEMU.
pub(super) struct Console {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Vec<u8>>,
    reader: Option<JoinHandle<()>>,
    err_reader: Option<JoinHandle<Vec<u8>>>,
    started: Instant,
    raw: Vec<u8>,
    /// Where the console is logged as it arrives, when asked for.
    log_file: Option<PathBuf>,
    log: Option<std::fs::File>,
    /// `raw`'s length before QEMU's stderr, once stopped.
    stopped_at: Option<usize>,
}

fn pump(mut from: impl std::io::Read, to: &mpsc::Sender<Vec<u8>>) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        }
    }
}

impl Console {
    /// Spawns `cmd` with its console on pipes; `typed`: stdin is a pipe
    /// for [`send`](Self::send) (else `/dev/null`); `log_file`: the console
    /// is appended there as it arrives (a file that cannot be created is
    /// reported when stopping, not an error).
    pub(super) fn start(mut cmd: Command, typed: bool, log_file: Option<&Path>) -> Result<Console> {
        cmd.stdin(if typed { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("starting {QEMU}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let mut con = Console {
            child: Some(child),
            stdin,
            rx,
            reader: None,
            err_reader: None,
            started,
            raw: Vec::new(),
            log_file: log_file.map(Path::to_path_buf),
            log: None,
            stopped_at: None,
        };
        let stdout = stdout.context("QEMU stdout")?;
        let mut stderr = stderr.context("QEMU stderr")?;
        con.reader = Some(std::thread::spawn(move || pump(stdout, &tx)));
        con.err_reader = Some(std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr.read_to_end(&mut s);
            s
        }));
        con.log = log_file.and_then(|p| std::fs::File::create(p).ok());
        Ok(con)
    }

    /// Everything the console printed so far (after [`stop`](Self::stop):
    /// then QEMU's stderr).
    pub(super) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// When QEMU was started.
    pub(super) fn started(&self) -> Instant {
        self.started
    }

    fn take(&mut self, chunk: &[u8]) {
        self.raw.extend_from_slice(chunk);
        if let Some(f) = self.log.as_mut() {
            if f.write_all(chunk).is_err() {
                self.log = None;
            }
        }
    }

    /// Waits until `deadline` for the next chunk of console output.
    pub(super) fn read(&mut self, deadline: Instant) -> Read {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Read::Timeout;
        };
        match self.rx.recv_timeout(left) {
            Ok(chunk) => {
                self.take(&chunk);
                Read::Data
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Read::Timeout,
            Err(mpsc::RecvTimeoutError::Disconnected) => Read::Exited,
        }
    }

    /// Takes the output already received, without waiting.
    pub(super) fn drain(&mut self) {
        while let Ok(chunk) = self.rx.try_recv() {
            self.take(&chunk);
        }
    }

    /// Reads until `deadline` or until `classify` decides on the new text
    /// (with a 512-byte overlap for split patterns).
    pub(super) fn verdict<T>(
        &mut self,
        deadline: Instant,
        classify: impl Fn(&str) -> Option<T>,
    ) -> Verdict<T> {
        loop {
            let from = self.raw.len().saturating_sub(512);
            match self.read(deadline) {
                Read::Data => {
                    if let Some(d) = classify(&String::from_utf8_lossy(&self.raw[from..])) {
                        return Verdict::Seen(d);
                    }
                }
                Read::Timeout => return Verdict::Timeout,
                Read::Exited => return Verdict::Exited,
            }
        }
    }

    /// Types `bytes` into the console (stdin must be `typed`).
    pub(super) fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let stdin = self.stdin.as_mut().context("console closed")?;
        stdin
            .write_all(bytes)
            .and_then(|()| stdin.flush())
            .context("writing to the serial console")
    }

    /// QEMU's exit status if it has exited by itself.
    pub(super) fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Kills and reaps QEMU, reads the rest of the console, then appends
    /// QEMU's stderr (after [`STDERR_HEADER`], when there is any) to
    /// [`raw`](Self::raw) and the log. Returns the console's length
    /// without the stderr. Only the first call does anything.
    pub(super) fn stop(&mut self) -> usize {
        if let Some(at) = self.stopped_at {
            return at;
        }
        self.stdin = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The readers now see EOF.
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.drain();
        let at = self.raw.len();
        self.stopped_at = Some(at);
        let err = self
            .err_reader
            .take()
            .and_then(|r| r.join().ok())
            .unwrap_or_default();
        if !err.is_empty() {
            self.take(STDERR_HEADER);
            self.take(&err);
        }
        if let (Some(path), None) = (&self.log_file, &self.log) {
            eprintln!("could not write {}", path.display());
        }
        at
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How a [`watch`]ed boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict<T> {
    /// What the classifier decided.
    Seen(T),
    /// QEMU exited first.
    Exited,
    Timeout,
}

/// A [`watch`]ed boot.
pub(super) struct Watched<T> {
    pub verdict: Verdict<T>,
    /// The console, then QEMU's stderr (see [`Console::stop`]).
    pub serial_log: String,
    /// From QEMU's start to the verdict.
    pub elapsed: Duration,
}

/// Starts `cmd` (nothing typed, no log file) and reads its console until
/// `classify` decides (see [`Console::verdict`]), QEMU exits or `timeout`
/// passes; a verdict for which `linger`
/// says so is followed by up to 1.5 s more of the console (the reason that
/// follows a headline). QEMU is then killed. Errors only when QEMU cannot
/// start.
pub(super) fn watch<T>(
    cmd: Command,
    timeout: Duration,
    classify: impl Fn(&str) -> Option<T>,
    linger: impl Fn(&T) -> bool,
) -> Result<Watched<T>> {
    let mut con = Console::start(cmd, false, None)?;
    let verdict = con.verdict(con.started() + timeout, classify);
    let elapsed = con.started().elapsed();
    if matches!(&verdict, Verdict::Seen(d) if linger(d)) {
        let grace = Instant::now() + Duration::from_millis(1500);
        while con.read(grace) == Read::Data {}
    }
    con.stop();
    Ok(Watched {
        verdict,
        serial_log: String::from_utf8_lossy(con.raw()).into_owned(),
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn a_watch_decides_on_split_text_and_keeps_stderr_after_the_console() {
        let w = watch(
            sh("printf 'boot MARK'; sleep 0.2; printf 'ER x\\n'; echo oops >&2; exec sleep 30"),
            Duration::from_secs(20),
            |t| t.contains("MARKER x\n").then_some(1),
            |_| false,
        )
        .unwrap();
        assert_eq!(w.verdict, Verdict::Seen(1));
        assert!(w.elapsed < Duration::from_secs(20));
        assert!(
            w.serial_log.starts_with("boot MARKER x\n"),
            "{}",
            w.serial_log
        );
        let w = watch(
            sh("echo gone"),
            Duration::from_secs(20),
            |_| None::<()>,
            |_| true,
        )
        .unwrap();
        assert_eq!(w.verdict, Verdict::Exited);
        assert_eq!(w.serial_log, "gone\n");
    }

    #[test]
    fn the_log_grows_as_the_console_arrives_and_ends_with_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c.log");
        let mut con = Console::start(sh("cat; echo bad >&2"), true, Some(&log)).unwrap();
        con.send(b"hello\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !con.raw().ends_with(b"hello\n") {
            assert_eq!(con.read(deadline), Read::Data);
        }
        assert_eq!(std::fs::read(&log).unwrap(), b"hello\n");
        assert_eq!(con.stop(), 6);
        assert_eq!(con.stop(), 6);
        assert_eq!(std::fs::read(&log).unwrap(), con.raw());
    }
}
