//! The terminal side of `forgectl install`: passwords from files or typed
//! twice without echo ([`EchoOff`] restores the terminal on drop, also on
//! early return or panic), and plain line reads for the override phrase.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use forge_proto::i18n::{tr, trf};
use forge_proto::Secret;

use super::Exit;

/// Turns the terminal's echo off for fd 0; restores the saved settings on
/// drop.
pub struct EchoOff {
    saved: libc::termios,
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
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        // SAFETY: valid termios for fd 0.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        Some(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
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
            Secret::new(read_line().unwrap_or_default())
        };
        eprint!("{}", trf("Repeat the {what}: ", &[("what", what)]));
        let _ = std::io::stderr().flush();
        let second = {
            let _echo = EchoOff::new();
            Secret::new(read_line().unwrap_or_default())
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
