//! The text polkit agent for this process (the `pkttyagent` approach):
//! when no graphical agent serves the session (SSH, the console), a call
//! that may need authorization runs with `pkttyagent --notify-fd 3
//! --process <our pid>` beside it, so polkit asks the administrator's
//! password on this terminal. polkitd looks up the agent of a D-Bus caller
//! through the caller's process, so `--process` covers our bus name.
//!
//! No `--fallback` (unlike systemctl): polkitd uses a fallback agent only
//! when it finds a login session for the subject, and a console or SSH
//! login without logind has none — the agent would register and never be
//! asked. A process-scoped agent serves only this process, so it replaces
//! no one's agent; it is started only when no graphical session is present.
//!
//! [`TtyAgent`] kills and reaps the agent when dropped. Shared by
//! `forge-tui` (around its authorized calls, its screen suspended) and
//! `forgectl` (around `Install` and the integrity override, when its
//! standard input is a terminal: [`wanted`]). The caller reads its own
//! secrets before it starts the agent, so the two never read the terminal
//! at the same time.

use std::io::{IsTerminal, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The agent program (package `polkitd` / `policykit-1`).
pub const PKTTYAGENT: &str = "pkttyagent";

/// Whether a graphical session (and so its polkit agent) is present.
pub fn graphical_session() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Whether a text agent should serve this process: no graphical session,
/// and a person at this process's terminal (standard input) to type.
pub fn wanted() -> bool {
    !graphical_session() && std::io::stdin().is_terminal()
}

/// How [`TtyAgent::start`] ended its wait for the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// The agent closed its notify descriptor: it is registered.
    Registered,
    /// The agent exited first (no polkitd, or no session for it).
    Exited,
    /// Neither within the time limit; the agent keeps running.
    TimedOut,
}

/// The arguments `pkttyagent` gets.
pub fn agent_args(pid: u32) -> Vec<String> {
    vec![
        "--notify-fd".into(),
        "3".into(),
        "--process".into(),
        pid.to_string(),
    ]
}

/// A running `pkttyagent`; killed when dropped.
pub struct TtyAgent {
    child: Child,
    registration: Registration,
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are new and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl TtyAgent {
    /// Starts the agent for this process and waits (up to 5 s) until it has
    /// registered with polkitd, or has exited (no polkitd). `Ok(None)` when
    /// `pkttyagent` is not installed.
    pub fn start() -> std::io::Result<Option<TtyAgent>> {
        let mut cmd = Command::new(PKTTYAGENT);
        cmd.args(agent_args(std::process::id()));
        match Self::spawn(cmd, Duration::from_secs(5)) {
            Ok(agent) => Ok(Some(agent)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs `cmd` with the write end of a notify pipe as its fd 3 and waits
    /// up to `limit` for it to close that (or exit).
    fn spawn(mut cmd: Command, limit: Duration) -> std::io::Result<TtyAgent> {
        let (read_end, write_end) = pipe()?;
        let notify = write_end.as_raw_fd();
        // SAFETY: only async-signal-safe calls (dup2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(notify, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        drop(write_end);
        let mut agent = TtyAgent {
            child,
            registration: Registration::TimedOut,
        };
        agent.registration = agent.wait_registered(read_end, limit);
        Ok(agent)
    }

    /// [`TtyAgent::start`] for a call about to be made, which goes ahead
    /// either way: the agent if one runs, and what went wrong, if anything,
    /// for the caller's log.
    pub fn start_for_call() -> (Option<TtyAgent>, Option<String>) {
        match TtyAgent::start() {
            Ok(Some(agent)) => {
                let problem = match agent.registration() {
                    Registration::Registered => None,
                    Registration::Exited => {
                        Some(format!("{PKTTYAGENT} exited without registering"))
                    }
                    Registration::TimedOut => {
                        Some(format!("{PKTTYAGENT} did not register within 5 s"))
                    }
                };
                (Some(agent), problem)
            }
            Ok(None) => (None, Some(format!("{PKTTYAGENT} is not installed"))),
            Err(e) => (None, Some(format!("{PKTTYAGENT}: {e}"))),
        }
    }

    /// Whether the agent registered (for the caller's log).
    pub fn registration(&self) -> Registration {
        self.registration
    }

    /// The notify pipe closed: registered, unless the agent died (an
    /// exiting agent closes it too, so give an exit 50 ms to show).
    fn closed(&mut self) -> Registration {
        for _ in 0..5 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Registration::Exited;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Registration::Registered
    }

    /// Reads the notify pipe until the agent closes it (registered) or
    /// exits, at most `limit`.
    fn wait_registered(&mut self, read_end: OwnedFd, limit: Duration) -> Registration {
        let deadline = Instant::now() + limit;
        let fd = read_end.as_raw_fd();
        let mut file = std::fs::File::from(read_end);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Registration::TimedOut;
            }
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n < 0 {
                return Registration::TimedOut;
            }
            if n > 0 {
                let mut buf = [0u8; 16];
                match file.read(&mut buf) {
                    Ok(0) | Err(_) => return self.closed(),
                    Ok(_) => continue,
                }
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return Registration::Exited;
            }
        }
    }
}

impl Drop for TtyAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_for_this_process() {
        assert_eq!(agent_args(42), ["--notify-fd", "3", "--process", "42"]);
    }

    #[test]
    fn closing_the_notify_fd_is_registration_and_exiting_is_not() {
        // Stand-in agents: one closes fd 3 and stays, one exits, one
        // does neither in time.
        let run = |script: &str, limit: u64| {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", script]);
            TtyAgent::spawn(cmd, Duration::from_millis(limit))
                .unwrap()
                .registration()
        };
        assert_eq!(run("exec 3>&-; sleep 30", 5000), Registration::Registered);
        assert_eq!(run("exit 1", 5000), Registration::Exited);
        assert_eq!(run("sleep 30", 300), Registration::TimedOut);
    }
}
