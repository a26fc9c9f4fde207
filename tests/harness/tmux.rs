//! A terminal for text-frontend tests: one private tmux server per
//! [`Tmux`] (its own socket in a temp dir, `tmux -S`; the config below, no
//! status line, so the pane is exactly the requested size), one session
//! running one program, optionally as a test user (`setpriv`, which keeps
//! the pane's controlling terminal, unlike `runuser`). Tests type with
//! `send-keys` (named keys or literal text, also one character at a time
//! as a person types), paste with `load-buffer` + `paste-buffer -p` (a
//! bracketed paste when the program asked for bracketed paste mode), read
//! the screen with `capture-pane`, and wait for text with a timeout whose
//! failure message shows the last screen. [`Tmux::stty`] is `stty -a` of the
//! pane's terminal. The server, and every process left in the pane's
//! session, is killed on drop, also when a test panics. [`Pane`] is what a
//! walk needs of a terminal (keys, text, screen, cursor, waiting), so the
//! same walk also drives a tmux inside a VM (`qemu::vm_tmux`).
//!
//! Longer than the house's ~400 lines: one concern (a terminal a test
//! drives), a thin documented wrapper per tmux operation; the unit tests
//! at the end run each against a real tmux.
//!
//! ```no_run
//! use forge_tests::tmux::{Tmux, TmuxOptions};
//! let t = Tmux::start(&["sh"], &TmuxOptions::default())?;
//! t.type_text("echo hi\n")?;
//! t.wait_for("hi", std::time::Duration::from_secs(5))?;
//! # anyhow::Ok(())
//! ```

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How the session is made.
#[derive(Debug, Clone)]
pub struct TmuxOptions {
    pub width: u16,
    pub height: u16,
    /// `TERM` inside the pane.
    pub term: String,
    /// Environment of the program (besides `PATH`, `TERM`, and tmux's own
    /// `TMUX`/`TMUX_PANE`); nothing else of the test's environment leaks in.
    pub env: Vec<(String, String)>,
    /// Run the program as this uid/gid (with its supplementary groups).
    pub user: Option<(u32, u32)>,
    /// Working directory of the program (default `/`).
    pub cwd: Option<PathBuf>,
}

impl Default for TmuxOptions {
    fn default() -> Self {
        TmuxOptions {
            width: 80,
            height: 24,
            term: "tmux-256color".into(),
            env: Vec::new(),
            user: None,
            cwd: None,
        }
    }
}

impl TmuxOptions {
    /// Adds one environment variable (builder style).
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }
}

/// Terminal modes the program left set, as tmux tracks them for the pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modes {
    pub alternate_screen: bool,
    pub cursor_visible: bool,
    pub mouse: bool,
    pub keypad: bool,
}

/// A terminal a test drives: the operations the text-frontend walks need
/// (tests/tests/tui_common), so that one walk drives a [`Tmux`] on this
/// machine or one inside a VM (`qemu::vm_tmux::VmTmux`, over the serial
/// console). The waiting helpers are default methods over
/// [`Pane::screen_and_cursor`]; a pane whose every call is a slow round trip
/// overrides [`Pane::poll_interval`] and answers screen and cursor at once.
pub trait Pane {
    /// Named keys (`Enter`, `Tab`, `C-n`, `Space`, ...), as tmux's
    /// `send-keys` understands them.
    fn send_keys(&self, keys: &[&str]) -> Result<()>;
    /// `text` as literal keys in one burst; a `\n` is sent as Enter.
    fn type_text(&self, text: &str) -> Result<()>;
    /// The visible screen as text.
    fn capture(&self) -> Result<String>;
    /// Cursor column and row (0-based).
    fn cursor(&self) -> Result<(u16, u16)>;
    /// `None` while the program runs; `Some("status N")` or
    /// `Some("signal N")` after it ended.
    fn exit_status(&self) -> Result<Option<String>>;

    /// The screen and the cursor, in one round trip where the pane can.
    fn screen_and_cursor(&self) -> Result<(String, (u16, u16))> {
        Ok((self.capture()?, self.cursor()?))
    }

    /// The text of the line the cursor is on.
    fn cursor_line(&self) -> Result<String> {
        let (screen, (_, y)) = self.screen_and_cursor()?;
        Ok(screen
            .lines()
            .nth(y as usize)
            .unwrap_or_default()
            .to_string())
    }

    /// `text` one character at a time with `delay` between them.
    fn type_slowly(&self, text: &str, delay: Duration) -> Result<()> {
        let mut buf = [0u8; 4];
        for c in text.chars() {
            if c == '\n' {
                self.send_keys(&["Enter"])?;
            } else {
                self.type_text(c.encode_utf8(&mut buf))?;
            }
            std::thread::sleep(delay);
        }
        Ok(())
    }

    /// How long the waiting helpers sleep between two captures.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(50)
    }

    /// Writes the screen to `dir/NAME.txt` (creating `dir`); returns the path.
    fn save_capture(&self, dir: &Path, name: &str) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{name}.txt"));
        std::fs::write(&path, self.capture()?)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Waits until the screen contains `needle`; returns the screen. On
    /// timeout the error shows the last screen.
    fn wait_for(&self, needle: &str, timeout: Duration) -> Result<String> {
        self.wait_until(&format!("{needle:?} on the screen"), timeout, &|s| {
            s.contains(needle)
        })
    }

    /// Waits until the screen contains any of `needles`; returns the
    /// needle's index and the screen.
    fn wait_for_any(&self, needles: &[&str], timeout: Duration) -> Result<(usize, String)> {
        let screen = self.wait_until(
            &format!("any of {needles:?} on the screen"),
            timeout,
            &|s| needles.iter().any(|n| s.contains(n)),
        )?;
        let i = needles
            .iter()
            .position(|n| screen.contains(n))
            .unwrap_or_default();
        Ok((i, screen))
    }

    /// Waits until `ready(screen)` holds (polling every
    /// [`Pane::poll_interval`]); returns the screen. On timeout the error
    /// names `what`, the time waited, whether the program exited, and shows
    /// the last screen.
    fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        ready: &dyn Fn(&str) -> bool,
    ) -> Result<String> {
        let start = Instant::now();
        let mut last = String::new();
        let mut last_err = None;
        loop {
            match self.capture() {
                Ok(screen) => {
                    if ready(&screen) {
                        return Ok(screen);
                    }
                    last = screen;
                }
                Err(e) => last_err = Some(e),
            }
            if start.elapsed() >= timeout {
                break;
            }
            std::thread::sleep(self.poll_interval());
        }
        let dead = match self.exit_status() {
            Ok(Some(s)) => format!(" (the program exited: {s})"),
            _ => String::new(),
        };
        let err = match (&last_err, last.is_empty()) {
            (Some(e), true) => format!(" (capturing failed: {e:#})"),
            _ => String::new(),
        };
        bail!(
            "waited {:.1?} for {what}{dead}{err}; the last screen was:\n{}",
            start.elapsed(),
            framed(&last)
        )
    }
}

impl Pane for Tmux {
    fn send_keys(&self, keys: &[&str]) -> Result<()> {
        Tmux::send_keys(self, keys)
    }
    fn type_text(&self, text: &str) -> Result<()> {
        Tmux::type_text(self, text)
    }
    fn capture(&self) -> Result<String> {
        Tmux::capture(self)
    }
    fn cursor(&self) -> Result<(u16, u16)> {
        Tmux::cursor(self)
    }
    fn exit_status(&self) -> Result<Option<String>> {
        Tmux::exit_status(self)
    }
    fn type_slowly(&self, text: &str, delay: Duration) -> Result<()> {
        Tmux::type_slowly(self, text, delay)
    }
    fn save_capture(&self, dir: &Path, name: &str) -> Result<PathBuf> {
        Tmux::save_capture(self, dir, name)
    }
}

/// `PATH` inside the pane.
const PANE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const CONFIG: &str = "set -g status off\n\
set -g remain-on-exit on\n\
set -g history-limit 5000\n\
set -s escape-time 0\n\
set -g exit-empty off\n";

/// A private tmux server with one session and one pane.
pub struct Tmux {
    dir: tempfile::TempDir,
    socket: PathBuf,
    pane: String,
    pane_pid: i32,
}

impl Tmux {
    /// Starts `argv` in a new `width`x`height` session (executed directly,
    /// no shell in between).
    pub fn start(argv: &[impl AsRef<std::ffi::OsStr>], opts: &TmuxOptions) -> Result<Tmux> {
        if argv.is_empty() {
            bail!("no program to run in tmux");
        }
        let dir = tempfile::Builder::new().prefix("forge-tmux-").tempdir()?;
        let socket = dir.path().join("socket");
        let config = dir.path().join("tmux.conf");
        std::fs::write(&config, CONFIG)?;
        let mut cmd = Command::new("tmux");
        cmd.env_clear()
            .env("PATH", PANE_PATH)
            .arg("-S")
            .arg(&socket)
            .arg("-f")
            .arg(&config)
            .args(["new-session", "-d", "-P", "-F", "#{pane_id} #{pane_pid}"])
            .args([
                "-x",
                &opts.width.to_string(),
                "-y",
                &opts.height.to_string(),
            ])
            .arg("-c")
            .arg(opts.cwd.as_deref().unwrap_or(Path::new("/")))
            .arg("-e")
            .arg(format!("TERM={}", opts.term));
        for (k, v) in &opts.env {
            cmd.arg("-e").arg(format!("{k}={v}"));
        }
        cmd.arg("--");
        if let Some((uid, gid)) = opts.user {
            cmd.args([
                "setpriv",
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--init-groups",
                "--",
            ]);
        }
        cmd.args(argv);
        let out = cmd.output().context("starting tmux (is it installed?)")?;
        if !out.status.success() {
            bail!(
                "tmux new-session failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let (pane, pid) = id
            .split_once(' ')
            .with_context(|| format!("unexpected new-session output {id:?}"))?;
        let t = Tmux {
            pane: pane.to_string(),
            pane_pid: pid.parse().with_context(|| format!("pane pid in {id:?}"))?,
            socket,
            dir,
        };
        // The first program may need a moment; the window must have its size.
        let size = t.format("#{pane_width}x#{pane_height}")?;
        if size != format!("{}x{}", opts.width, opts.height) {
            bail!("the pane is {size}, not {}x{}", opts.width, opts.height);
        }
        Ok(t)
    }

    /// `tmux -S SOCKET ARGS...`; its stdout, or an error with its stderr.
    fn tmux(&self, args: &[&str]) -> Result<String> {
        self.tmux_with_input(args, None)
    }

    fn tmux_with_input(&self, args: &[&str], input: Option<&[u8]>) -> Result<String> {
        let mut cmd = Command::new("tmux");
        cmd.env_clear()
            .env("PATH", PANE_PATH)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("running tmux")?;
        if let Some(bytes) = input {
            let mut stdin = child.stdin.take().context("tmux stdin")?;
            stdin.write_all(bytes)?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "tmux {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The pane's id (`%N`), the target of every command.
    pub fn pane(&self) -> &str {
        &self.pane
    }

    /// The pid of the pane's first process (the program, or `setpriv`'s
    /// exec of it).
    pub fn pane_pid(&self) -> i32 {
        self.pane_pid
    }

    /// A tmux format expanded for the pane (`display-message -p`).
    pub fn format(&self, fmt: &str) -> Result<String> {
        Ok(self
            .tmux(&["display-message", "-p", "-t", &self.pane, fmt])?
            .trim_end_matches('\n')
            .to_string())
    }

    /// Named keys (`Enter`, `Tab`, `BTab`, `Up`, `Escape`, `C-c`, `Space`,
    /// `BSpace`, `F1`, ...), each sent as tmux's `send-keys` understands it.
    pub fn send_keys(&self, keys: &[&str]) -> Result<()> {
        let mut args = vec!["send-keys", "-t", &self.pane];
        args.extend_from_slice(keys);
        self.tmux(&args).map(drop)
    }

    /// `text` as literal keys in one write (`send-keys -l`): a program reads
    /// it as one burst. A `\n` is sent as Enter.
    pub fn type_text(&self, text: &str) -> Result<()> {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.send_keys(&["Enter"])?;
            }
            if !line.is_empty() {
                self.tmux(&["send-keys", "-t", &self.pane, "-l", "--", &literal(line)])?;
            }
        }
        Ok(())
    }

    /// `text` one character at a time with `delay` between them, as a
    /// person types (no read sees more than one character).
    pub fn type_slowly(&self, text: &str, delay: Duration) -> Result<()> {
        let mut buf = [0u8; 4];
        for c in text.chars() {
            if c == '\n' {
                self.send_keys(&["Enter"])?;
            } else {
                let key = literal(c.encode_utf8(&mut buf));
                self.tmux(&["send-keys", "-t", &self.pane, "-l", "--", &key])?;
            }
            std::thread::sleep(delay);
        }
        Ok(())
    }

    /// Pastes `text` as a terminal does: `load-buffer` then `paste-buffer
    /// -p`, so it arrives wrapped in `ESC[200~ ... ESC[201~` when the
    /// program enabled bracketed paste mode, else as one burst of keys.
    pub fn paste(&self, text: &str) -> Result<()> {
        let name = "forge-test-paste";
        self.tmux_with_input(&["load-buffer", "-b", name, "-"], Some(text.as_bytes()))?;
        self.tmux(&["paste-buffer", "-p", "-d", "-b", name, "-t", &self.pane])
            .map(drop)
    }

    /// The visible screen as text (trailing blanks trimmed per line).
    pub fn capture(&self) -> Result<String> {
        self.tmux(&["capture-pane", "-p", "-t", &self.pane])
    }

    /// The visible screen with SGR escape sequences (colours, attributes).
    pub fn capture_ansi(&self) -> Result<String> {
        self.tmux(&["capture-pane", "-p", "-e", "-t", &self.pane])
    }

    /// The whole scrollback and screen (for failure messages of a pane whose
    /// program exited).
    pub fn capture_history(&self) -> Result<String> {
        self.tmux(&["capture-pane", "-p", "-S", "-", "-E", "-", "-t", &self.pane])
    }

    /// Waits until the screen contains `needle`; returns the screen. On
    /// timeout the error shows the last screen ([`Pane::wait_for`]).
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Result<String> {
        Pane::wait_for(self, needle, timeout)
    }

    /// Waits until the screen contains any of `needles`; returns the
    /// needle's index and the screen ([`Pane::wait_for_any`]).
    pub fn wait_for_any(&self, needles: &[&str], timeout: Duration) -> Result<(usize, String)> {
        Pane::wait_for_any(self, needles, timeout)
    }

    /// Waits until `ready(screen)` holds (polling every 50 ms); returns the
    /// screen. On timeout the error names `what`, the time waited, whether
    /// the program exited, and shows the last screen ([`Pane::wait_until`]).
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> Result<String> {
        Pane::wait_until(self, what, timeout, &ready)
    }

    /// `None` while the program runs; `Some("status N")` or
    /// `Some("signal N")` after it ended. tmux learns the status when it
    /// reaps the process, which it sometimes does only much later (seen
    /// here: the program a zombie for 30 s, tmux idle in poll): then the
    /// status is read from the zombie's `/proc/PID/stat` (`exit_code`).
    pub fn exit_status(&self) -> Result<Option<String>> {
        let f = self.format("#{pane_dead} #{pane_dead_status} #{pane_dead_signal}")?;
        let mut it = f.split(' ');
        let dead = it.next() == Some("1");
        let status = it.next().unwrap_or_default();
        let signal = it.next().unwrap_or_default();
        if dead && !signal.is_empty() {
            return Ok(Some(format!("signal {signal}")));
        }
        if dead && !status.is_empty() {
            return Ok(Some(format!("status {status}")));
        }
        Ok(zombie_status(self.pane_pid))
    }

    /// Waits until the program has exited; returns [`Tmux::exit_status`].
    pub fn wait_exit(&self, timeout: Duration) -> Result<String> {
        let start = Instant::now();
        loop {
            if let Some(s) = self.exit_status()? {
                return Ok(s);
            }
            if start.elapsed() >= timeout {
                bail!(
                    "the program did not exit in {timeout:?} (processes left in the pane's \
                     session, which keep its terminal open: {:?}); the last screen was:\n{}",
                    self.session_processes(),
                    framed(&self.capture().unwrap_or_default())
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pane's terminal device (`/dev/pts/N`).
    pub fn tty(&self) -> Result<PathBuf> {
        Ok(PathBuf::from(self.format("#{pane_tty}")?))
    }

    /// `stty -a` of the pane's terminal (line discipline: echo, canonical
    /// mode, signals, special characters), read with `stty -F`.
    pub fn stty(&self) -> Result<String> {
        let tty = self.tty()?;
        let out = Command::new("stty")
            .arg("-a")
            .arg("-F")
            .arg(&tty)
            .output()
            .context("running stty")?;
        if !out.status.success() {
            bail!(
                "stty -a -F {} failed: {}",
                tty.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The screen modes the program left set.
    pub fn modes(&self) -> Result<Modes> {
        let f = self.format("#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{keypad_flag}")?;
        let v: Vec<bool> = f.split(' ').map(|x| x == "1").collect();
        if v.len() != 4 {
            bail!("unexpected mode flags {f:?}");
        }
        Ok(Modes {
            alternate_screen: v[0],
            cursor_visible: v[1],
            mouse: v[2],
            keypad: v[3],
        })
    }

    /// Cursor column and row (0-based).
    pub fn cursor(&self) -> Result<(u16, u16)> {
        let f = self.format("#{cursor_x} #{cursor_y}")?;
        let (x, y) = f.split_once(' ').context("cursor position")?;
        Ok((x.parse()?, y.parse()?))
    }

    /// Resizes the window (the program gets SIGWINCH).
    pub fn resize(&self, width: u16, height: u16) -> Result<()> {
        self.tmux(&[
            "resize-window",
            "-t",
            &self.pane,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ])
        .map(drop)
    }

    /// Closes the pane's terminal as a dropped SSH connection does: the
    /// kernel sends SIGHUP to the pane's session.
    pub fn hang_up(&self) -> Result<()> {
        self.tmux(&["kill-pane", "-t", &self.pane]).map(drop)
    }

    /// Processes of the pane's session (the pane's first process leads it):
    /// `(pid, command name)`, read from `/proc`.
    pub fn session_processes(&self) -> Vec<(i32, String)> {
        session_members(self.pane_pid)
    }

    /// The pid of the first process of the pane's session named `comm`
    /// (its `/proc/PID/comm`, at most 15 bytes).
    pub fn pid_of(&self, comm: &str) -> Option<i32> {
        self.session_processes()
            .into_iter()
            .find(|(_, c)| c == comm)
            .map(|(p, _)| p)
    }

    /// Writes the screen to `dir/NAME.txt` (creating `dir`); returns the path.
    pub fn save_capture(&self, dir: &Path, name: &str) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{name}.txt"));
        std::fs::write(&path, self.capture()?)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// The server's private directory (socket, config).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A literal argument for tmux (`send-keys -l -- TEXT`): an argument that
/// ends in `;` ends a tmux command, while a `\;` at its end stands for `;`.
pub fn literal(s: &str) -> String {
    match s.strip_suffix(';') {
        Some(head) => format!("{head}\\;"),
        None => s.to_string(),
    }
}

/// The screen between two rulers, for failure messages.
pub fn framed(screen: &str) -> String {
    let width = screen
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(20);
    let rule: String = "-".repeat(width);
    format!("+{rule}+\n{}+{rule}+", {
        let mut s = String::new();
        for l in screen.trim_end_matches('\n').split('\n') {
            s.push_str(&format!("|{l:<width$}|\n"));
        }
        s
    })
}

/// The wait status of `pid` if it is a zombie (exited, not yet reaped),
/// from field 52 (`exit_code`) of `/proc/PID/stat`.
fn zombie_status(pid: i32) -> Option<String> {
    zombie_status_in(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// [`zombie_status`] from the text of a `/proc/PID/stat` (also one read
/// elsewhere, e.g. inside a VM).
pub fn zombie_status_in(stat: &str) -> Option<String> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); exit_code is field 52.
    if fields.first() != Some(&"Z") {
        return None;
    }
    let wstatus: i32 = fields.get(49)?.parse().ok()?;
    Some(if wstatus & 0x7f == 0 {
        format!("status {}", (wstatus >> 8) & 0xff)
    } else {
        format!("signal {}", wstatus & 0x7f)
    })
}

/// Processes whose session id is `sid`, from `/proc`.
fn session_members(sid: i32) -> Vec<(i32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp session ...
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map(|x| x.1).unwrap_or_default();
        let session = rest.split_whitespace().nth(3).and_then(|s| s.parse().ok());
        if session == Some(sid) {
            v.push((pid, comm.to_string()));
        }
    }
    v.sort();
    v
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        // Whatever survived the hang-up (it ignored SIGHUP) is killed.
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let left = session_members(self.pane_pid);
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                for (pid, _) in left {
                    // SAFETY: kill(2) on a pid of the session we started.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Why tmux tests cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    match Command::new("tmux").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("tmux is missing (scripts/setup-debian.sh installs it)".into()),
    }
}

/// `OsString` arguments from strings, for [`Tmux::start`].
pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(it: I) -> Vec<OsString> {
    it.into_iter().map(Into::into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(10);

    fn tmux_or_skip() -> bool {
        if let Some(why) = skip_reason() {
            crate::skip::skip(why);
            return false;
        }
        true
    }

    #[test]
    fn size_env_keys_and_capture() -> Result<()> {
        if !tmux_or_skip() {
            return Ok(());
        }
        let opts = TmuxOptions {
            width: 120,
            height: 40,
            ..TmuxOptions::default()
        }
        .env("FORGE_TMUX_PROBE", "probe-value");
        let t = Tmux::start(&["sh"], &opts)?;
        assert_eq!(t.format("#{pane_width}x#{pane_height}")?, "120x40");
        t.type_text("echo \"[$FORGE_TMUX_PROBE][$TERM][${HOME:-nohome}]\"\n")?;
        let s = t.wait_for("[probe-value][tmux-256color][nohome]", T)?;
        assert!(s.contains("echo \"[$FORGE_TMUX_PROBE]"), "{s}");
        // Named keys: a line edited with BSpace, then C-c interrupts a sleep.
        t.type_text("echo abcX")?;
        t.send_keys(&["BSpace", "Enter"])?;
        t.wait_until("abc printed", T, |s| s.lines().any(|l| l == "abc"))?;
        t.type_text("sleep 30; echo after-sleep\n")?;
        std::thread::sleep(Duration::from_millis(300));
        t.send_keys(&["C-c"])?;
        t.type_text("echo interrupted\n")?;
        let s = t.wait_until("interrupted printed", T, |s| {
            s.lines().any(|l| l == "interrupted")
        })?;
        assert!(!s.lines().any(|l| l == "after-sleep"), "{s}");
        Ok(())
    }

    #[test]
    fn wait_for_fails_with_the_last_screen() -> Result<()> {
        if !tmux_or_skip() {
            return Ok(());
        }
        let t = Tmux::start(
            &["sh", "-c", "echo visible-line; sleep 30"],
            &TmuxOptions::default(),
        )?;
        t.wait_for("visible-line", T)?;
        let e = t
            .wait_for("never-there", Duration::from_millis(300))
            .expect_err("must time out");
        let msg = format!("{e:#}");
        assert!(msg.contains("\"never-there\""), "{msg}");
        assert!(msg.contains("|visible-line"), "{msg}");
        Ok(())
    }

    #[test]
    fn bracketed_paste_arrives_wrapped_only_when_asked_for() -> Result<()> {
        if !tmux_or_skip() {
            return Ok(());
        }
        // `od -c` of what the program reads: first with bracketed paste
        // mode off, then on (ESC[?2004h), raw mode so nothing is cooked.
        let script = "stty raw -echo; printf 'ready1\\r\\n'; \
                      dd bs=1 count=5 2>/dev/null | od -An -c | tr -s ' ' | tr -d '\\n'; printf '\\r\\n'; \
                      printf '\\033[?2004hready2\\r\\n'; \
                      dd bs=1 count=17 2>/dev/null | od -An -c | tr -s ' ' | tr -d '\\n'; printf '\\r\\nend\\r\\n'; \
                      stty sane; sleep 30";
        let t = Tmux::start(&["sh", "-c", script], &TmuxOptions::default())?;
        t.wait_for("ready1", T)?;
        t.paste("abcde")?;
        t.wait_for("a b c d e", T)?;
        t.wait_for("ready2", T)?;
        t.paste("abcde")?;
        let s = t.wait_for("end", T)?;
        assert!(
            s.contains("033 [ 2 0 0 ~ a b c d e 033 [ 2 0 1 ~"),
            "no bracketed paste:\n{s}"
        );
        Ok(())
    }

    #[test]
    fn typing_slowly_gives_one_character_per_read() -> Result<()> {
        if !tmux_or_skip() {
            return Ok(());
        }
        // Four reads of a raw terminal, each one's length printed as <n>.
        let script = "stty raw -echo; printf 'go\\r\\n'; \
            for i in 1 2 3 4; do printf '<%d>' $(dd bs=64 count=1 2>/dev/null | wc -c); done; \
            printf '\\r\\nend\\r\\n'; stty sane; sleep 30";
        let t = Tmux::start(&["sh", "-c", script], &TmuxOptions::default())?;
        t.wait_for("go", T)?;
        t.type_slowly("abcx", Duration::from_millis(40))?;
        let s = t.wait_for("end", T)?;
        assert!(s.contains("<1><1><1><1>"), "{s}");
        t.exit_status()?; // still running (sleep): None
        Ok(())
    }

    #[test]
    fn stty_modes_user_and_exit_status() -> Result<()> {
        if !tmux_or_skip() {
            return Ok(());
        }
        // SAFETY: getuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let opts = TmuxOptions {
            user: root.then_some((65534, 65534)),
            ..TmuxOptions::default()
        };
        let t = Tmux::start(&["sh"], &opts)?;
        t.type_text("id -u; tty\n")?;
        let want = if root { "65534" } else { "" };
        t.wait_until("id printed", T, |s| {
            s.contains("/dev/pts/") && (want.is_empty() || s.lines().any(|l| l == want))
        })?;
        let before = t.stty()?;
        assert!(
            before.contains(" echo ") || before.contains(" echo\n"),
            "{before}"
        );
        assert!(before.contains("icanon"), "{before}");
        // A program that switches to raw mode, alternate screen, hidden
        // cursor, and leaves them so.
        t.type_text("printf '\\033[?1049h\\033[?25lRAW'; stty raw -echo; sleep 30\n")?;
        t.wait_until("raw mode", T, |s| s.contains("RAW"))?;
        let mut raw = String::new();
        for _ in 0..100 {
            raw = t.stty()?;
            if raw.contains("-icanon") {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_ne!(before, raw);
        assert!(raw.contains("-echo "), "{raw}");
        let m = t.modes()?;
        assert!(m.alternate_screen && !m.cursor_visible, "{m:?}");
        assert!(t.pid_of("sleep").is_some(), "{:?}", t.session_processes());
        t.hang_up()?;
        // SIGHUP reached the session: the sleep is gone.
        let start = Instant::now();
        while t.pid_of("sleep").is_some() {
            assert!(start.elapsed() < T, "sleep survived the hang-up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    #[test]
    fn exit_status_and_resize() -> Result<()> {
        if !tmux_or_skip() {
            return Ok(());
        }
        let t = Tmux::start(
            &[
                "sh",
                "-c",
                "trap 'echo resized' WINCH; echo up; sleep 2; sleep 1; exit 3",
            ],
            &TmuxOptions::default(),
        )?;
        t.wait_for("up", T)?;
        t.resize(100, 30)?;
        assert_eq!(t.format("#{pane_width}x#{pane_height}")?, "100x30");
        assert_eq!(t.wait_exit(T)?, "status 3");
        let s = t.capture_history()?;
        assert!(s.contains("resized"), "{s}");
        Ok(())
    }

    #[test]
    fn a_zombies_status_comes_from_proc() -> Result<()> {
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn()?;
        let pid = child.id() as i32;
        let start = Instant::now();
        let mut seen = None;
        while start.elapsed() < T && seen.is_none() {
            seen = zombie_status(pid);
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(seen.as_deref(), Some("status 3"));
        child.wait()?;
        assert_eq!(zombie_status(std::process::id() as i32), None);
        Ok(())
    }

    #[test]
    fn literal_text_with_semicolons_and_dashes_arrives() -> Result<()> {
        if !tmux_or_skip() {
            return Ok(());
        }
        let t = Tmux::start(
            &[
                "sh",
                "-c",
                "stty -echo; echo ready; while IFS= read -r l; do printf '<%s>\\n' \"$l\"; done",
            ],
            &TmuxOptions::default(),
        )?;
        t.wait_for("ready", T)?;
        t.type_text("a;\n-l x\nb\\;\n")?;
        t.type_slowly(";\n", Duration::from_millis(20))?;
        let s = t.wait_until("four lines read", T, |s| s.contains("<;>"))?;
        for want in ["<a;>", "<-l x>", "<b\\;>", "<;>"] {
            assert!(s.contains(want), "{want} in:\n{s}");
        }
        Ok(())
    }

    #[test]
    fn framed_shows_every_line() {
        let f = framed("ab\n\nc\n");
        assert_eq!(
            f.lines().collect::<Vec<_>>(),
            [
                "+--------------------+",
                "|ab                  |",
                "|                    |",
                "|c                   |",
                "+--------------------+"
            ]
        );
    }
}
