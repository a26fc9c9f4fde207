//! The terminal side of `forgectl install`: passwords from files or typed
//! twice without echo, and plain line reads for the override phrase.
//!
//! [`EchoOff`] restores the terminal on drop (early return, error, panic
//! unwinding) and, while it is alive, on SIGINT (Ctrl-C), SIGTERM, SIGHUP
//! and SIGQUIT: a handler puts the saved settings back and the signal then
//! kills the process as it would have. A signal handler can only reach
//! static data, so the saved settings live in one static slot
//! ([`SIGNAL_RESTORE`]), written before the handlers are installed.
//!
//! Typed passwords are read from fd 0 directly into a buffer that is wiped
//! on drop ([`read_secret_line`]), not through std's stdin buffer, which
//! would keep a copy for the life of the process.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use zeroize::Zeroizing;

use forge_proto::i18n::{tr, trf};
use forge_proto::Secret;

use super::Exit;

/// The settings a signal handler puts back: the terminal as it was before
/// the first [`EchoOff`] (every later one saves the same, restored state).
static SIGNAL_RESTORE: OnceLock<libc::termios> = OnceLock::new();
/// Whether an [`EchoOff`] is alive (the handler restores only then).
static ECHO_OFF: AtomicBool = AtomicBool::new(false);

/// Signals that end forgectl by default and would leave echo off.
const FATAL: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

extern "C" fn restore_and_die(sig: libc::c_int) {
    if ECHO_OFF.load(Ordering::SeqCst) {
        if let Some(t) = SIGNAL_RESTORE.get() {
            // SAFETY: tcsetattr is async-signal-safe; `t` is initialised.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, t);
            }
        }
    }
    // SA_RESETHAND put the default action back: re-raise so the process
    // ends by this signal (exit status 128+sig for the shell), as before.
    // SAFETY: raise is async-signal-safe.
    unsafe {
        libc::raise(sig);
    }
}

/// Turns the terminal's echo off for fd 0; restores the saved settings on
/// drop and on a fatal signal while alive.
pub struct EchoOff {
    saved: libc::termios,
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl EchoOff {
    /// `None` when fd 0 is not a terminal (nothing to restore then).
    pub fn new() -> Option<EchoOff> {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        let _ = SIGNAL_RESTORE.set(saved);
        ECHO_OFF.store(true, Ordering::SeqCst);
        let mut previous = Vec::new();
        for sig in FATAL {
            // SAFETY: a zeroed sigaction is valid; the handler only calls
            // async-signal-safe functions and reads initialised statics.
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = restore_and_die as *const () as libc::sighandler_t;
                act.sa_flags = libc::SA_RESETHAND;
                libc::sigemptyset(&mut act.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &act, &mut old) == 0 {
                    previous.push((sig, old));
                }
            }
        }
        let echo_off = EchoOff { saved, previous };
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        // SAFETY: valid termios for fd 0.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        Some(echo_off)
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new`, then the signal
        // actions that were in place before it.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
        ECHO_OFF.store(false, Ordering::SeqCst);
        for (sig, old) in self.previous.drain(..) {
            // SAFETY: `old` was returned by sigaction for `sig`.
            unsafe {
                libc::sigaction(sig, &old, std::ptr::null_mut());
            }
        }
    }
}

/// One line read from fd 0 byte by byte into a buffer wiped on drop (no
/// copy left in std's stdin buffer or in freed, grown allocations); the
/// line ending is not included. `None` on a read error or invalid UTF-8.
pub fn read_secret_line() -> Option<Zeroizing<String>> {
    let mut buf: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(1024));
    loop {
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into `byte`.
        let n = unsafe { libc::read(0, (&mut byte as *mut u8).cast(), 1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
        if n == 0 || byte == b'\n' {
            break;
        }
        if buf.len() == buf.capacity() {
            // Grow by hand so the old allocation is wiped, not just freed.
            let mut bigger = Zeroizing::new(Vec::with_capacity(buf.capacity() * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.push(byte);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    let s = std::str::from_utf8(&buf).ok()?;
    let mut out = Zeroizing::new(String::with_capacity(s.len()));
    out.push_str(s);
    Some(out)
}

/// One line from stdin without its line ending; `None` on a read error.
pub fn read_line() -> Option<String> {
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s).ok()?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Some(s)
}

/// Asks twice on the terminal without echo; refuses without a terminal.
fn prompt_password(what: &str) -> Result<Secret, Exit> {
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "{}",
            trf(
                "forgectl: the {what} is needed; give it as a file, or run forgectl on a terminal.",
                &[("what", what)]
            )
        );
        return Err(Exit(2));
    }
    for _ in 0..3 {
        eprint!("{}", trf("Enter the {what}: ", &[("what", what)]));
        let _ = std::io::stderr().flush();
        let first = {
            let _echo = EchoOff::new();
            Secret::new(read_secret_line().unwrap_or_default().as_str())
        };
        eprint!("{}", trf("Repeat the {what}: ", &[("what", what)]));
        let _ = std::io::stderr().flush();
        let second = {
            let _echo = EchoOff::new();
            Secret::new(read_secret_line().unwrap_or_default().as_str())
        };
        if first == second {
            return Ok(first);
        }
        eprintln!("{}", tr("The two entries differ; try again."));
    }
    Err(Exit(2))
}

/// Reads a password file: its content without the final newline.
fn read_password_file(path: &Path) -> Result<Secret, Exit> {
    match std::fs::read_to_string(path) {
        Ok(mut s) => {
            if s.ends_with('\n') {
                s.pop();
                if s.ends_with('\r') {
                    s.pop();
                }
            }
            let secret = Secret::new(s.as_str());
            zeroize::Zeroize::zeroize(&mut s);
            Ok(secret)
        }
        Err(e) => {
            eprintln!(
                "{}",
                trf(
                    "forgectl: cannot read {file}: {error}",
                    &[
                        ("file", &path.display().to_string()),
                        ("error", &e.to_string())
                    ]
                )
            );
            Err(Exit(2))
        }
    }
}

/// The password from `file`, or typed on the terminal.
pub fn password(file: &Option<PathBuf>, what: &str) -> Result<Secret, Exit> {
    match file {
        Some(f) => read_password_file(f),
        None => prompt_password(what),
    }
}
