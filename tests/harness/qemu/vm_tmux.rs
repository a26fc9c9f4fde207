//! Harness: a tmux inside a VM, driven only through shell commands typed on
//! its serial console (issue 13's text frontend scenario). [`VmTmux`]
//! implements [`Pane`], so tests/tests/tui_common's `Walk` drives a
//! `forge-tui` in the VM as it drives one on this machine.
//!
//! Every operation is one `tmux -L <socket> ...` command line run through a
//! [`Shell`]: the live VM's console ([`SessionVm`]), or `bash -c` on this
//! machine ([`LocalShell`], for the unit tests below, which need no VM).
//! Under TCG each command is a round trip of ~0.2–1 s, so they are few:
//! the screen, the cursor and whether the program exited come back in one
//! command ([`VmTmux::snapshot`]), a text with line breaks is typed in one.
//! Literal text reaches the program unchanged: each argument is quoted for
//! the shell, and a trailing `;` (tmux's command separator even inside an
//! argument) is escaped for tmux.
//!
//! The server (own socket, no config file, no status line, panes kept after
//! their program exits) is killed on drop.

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::session::{clean_output, SessionVm};
use crate::tmux::{literal, Pane};

/// Something that runs one shell command line: `(exit status, output)`.
pub trait Shell {
    fn run(&mut self, cmd: &str, timeout: Duration) -> Result<(i32, String)>;
}

impl Shell for SessionVm {
    fn run(&mut self, cmd: &str, timeout: Duration) -> Result<(i32, String)> {
        SessionVm::run(self, cmd, timeout)
    }
}

impl<S: Shell + ?Sized> Shell for &mut S {
    fn run(&mut self, cmd: &str, timeout: Duration) -> Result<(i32, String)> {
        (**self).run(cmd, timeout)
    }
}

/// `bash -c CMD` on this machine, stderr with stdout, the output cleaned as
/// the console's is ([`clean_output`]: blank lines at its edges dropped).
#[derive(Debug, Default)]
pub struct LocalShell;

impl Shell for LocalShell {
    fn run(&mut self, cmd: &str, timeout: Duration) -> Result<(i32, String)> {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(format!("{{ {cmd}\n}} 2>&1"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .context("running bash")?;
        let mut out = child.stdout.take().context("bash stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            let _ = tx.send(v);
        });
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break s;
            }
            if start.elapsed() >= timeout {
                let _ = child.kill();
                let _ = child.wait();
                bail!("`{cmd}` did not finish within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let out = rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        let code = status.code().unwrap_or(128 + 9);
        Ok((code, clean_output(&String::from_utf8_lossy(&out))))
    }
}

/// `s` as one shell word (single quotes).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// How the session is made.
#[derive(Debug, Clone)]
pub struct VmTmuxOptions {
    /// `tmux -L` socket name (in the user's `/tmp/tmux-UID/`).
    pub socket: String,
    pub width: u16,
    pub height: u16,
    /// Environment of the program (`new-session -e`).
    pub env: Vec<(String, String)>,
    /// How long one command may take.
    pub timeout: Duration,
}

impl Default for VmTmuxOptions {
    fn default() -> Self {
        VmTmuxOptions {
            socket: "forge".into(),
            width: 100,
            height: 30,
            env: vec![("LANG".into(), "C.UTF-8".into())],
            timeout: Duration::from_secs(60),
        }
    }
}

/// The screen, the cursor and the program's state, read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub screen: String,
    pub cursor: (u16, u16),
    /// `Some("status N")` / `Some("signal N")` once the program exited.
    pub exited: Option<String>,
}

/// A tmux server and one pane in it, reached through a [`Shell`].
pub struct VmTmux<S: Shell> {
    shell: RefCell<S>,
    socket: String,
    pane: String,
    pane_pid: u32,
    timeout: Duration,
    poll: Cell<Duration>,
}

impl<S: Shell> VmTmux<S> {
    /// Starts `command` (a shell command line, run by tmux with `sh -c`)
    /// in a new session on a fresh server (a server left on the same
    /// socket by an earlier run is killed first).
    pub fn start(shell: S, command: &str, opts: &VmTmuxOptions) -> Result<VmTmux<S>> {
        let sock = quote(&opts.socket);
        let mut line = format!(
            "tmux -L {sock} kill-server >/dev/null 2>&1; tmux -u -L {sock} -f /dev/null \
             set -g status off \\; set -g remain-on-exit on \\; set -g history-limit 5000 \\; \
             set -s escape-time 0 \\; set -s exit-empty off \\; \
             new-session -d -P -F '#{{pane_id}} #{{pane_pid}} #{{pane_width}}x#{{pane_height}}' \
             -x {} -y {}",
            opts.width, opts.height
        );
        for (k, v) in &opts.env {
            line.push_str(&format!(" -e {}", quote(&format!("{k}={v}"))));
        }
        line.push_str(&format!(" -- {}", quote(&literal(command))));
        let mut t = VmTmux {
            shell: RefCell::new(shell),
            socket: opts.socket.clone(),
            pane: String::new(),
            pane_pid: 0,
            timeout: opts.timeout,
            poll: Cell::new(Duration::from_millis(200)),
        };
        let out = t.checked(&line)?;
        let f: Vec<&str> = out.split_whitespace().collect();
        let [pane, pid, size] = f[..] else {
            bail!("unexpected new-session output {out:?}");
        };
        if size != format!("{}x{}", opts.width, opts.height) {
            bail!("the pane is {size}, not {}x{}", opts.width, opts.height);
        }
        t.pane_pid = pid
            .parse()
            .with_context(|| format!("pane pid in {out:?}"))?;
        t.pane = pane.to_string();
        Ok(t)
    }

    /// Runs any command line through the shell (e.g. to read a log).
    pub fn shell(&self, cmd: &str, timeout: Duration) -> Result<(i32, String)> {
        self.shell.borrow_mut().run(cmd, timeout)
    }

    /// Runs `line`; its output, or an error with it when the status is not 0.
    fn checked(&self, line: &str) -> Result<String> {
        let (status, out) = self.shell(line, self.timeout)?;
        if status != 0 {
            bail!("`{line}` exited with {status}: {out}");
        }
        Ok(out)
    }

    /// `tmux -L SOCKET ARGS` (`args` already quoted), checked.
    fn tmux(&self, args: &str) -> Result<String> {
        self.checked(&format!("tmux -u -L {} {args}", quote(&self.socket)))
    }

    /// How long the waiting helpers sleep between two snapshots (200 ms;
    /// longer while a long job runs, to leave the emulated CPU alone).
    pub fn set_poll_interval(&self, every: Duration) {
        self.poll.set(every);
    }

    /// The pane's id (`%N`).
    pub fn pane(&self) -> &str {
        &self.pane
    }

    /// Screen, cursor and exit state in one command.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let p = quote(&self.pane);
        // Lines of its own first: the console's output loses blank lines
        // at its edges, which must not shift the screen's rows. tmux learns
        // the exit status only when it reaps the program, sometimes much
        // later: a zombie's status is read from /proc (see tmux.rs).
        let out = self.checked(&format!(
            "printf 'FORGE-STAT %s\\n' \"$(cat /proc/{}/stat 2>/dev/null)\"; \
             tmux -u -L {} display-message -p -t {p} 'FORGE-PANE #{{cursor_x}} #{{cursor_y}} \
             #{{pane_dead}} #{{pane_dead_status}} #{{pane_dead_signal}}' \\; capture-pane -p -t {p}",
            self.pane_pid,
            quote(&self.socket)
        ))?;
        let (stat, rest) = out.split_once('\n').unwrap_or((&out, ""));
        let (head, screen) = rest.split_once('\n').unwrap_or((rest, ""));
        let zombie = stat
            .strip_prefix("FORGE-STAT ")
            .and_then(crate::tmux::zombie_status_in);
        let f: Vec<&str> = head
            .strip_prefix("FORGE-PANE ")
            .with_context(|| format!("unexpected snapshot {out:?}"))?
            .split(' ')
            .collect();
        let num = |i: usize| -> Result<u16> {
            f.get(i)
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("no number {i} in {head:?}"))
        };
        let field = |i: usize| f.get(i).copied().unwrap_or_default();
        let exited = match (field(2), field(3), field(4)) {
            ("1", _, sig) if !sig.is_empty() => Some(format!("signal {sig}")),
            ("1", st, _) if !st.is_empty() => Some(format!("status {st}")),
            _ => zombie,
        };
        // Each row ends in a line break, as tmux prints it (the console's
        // output lost the last one).
        let mut screen = screen.to_string();
        if !screen.is_empty() && !screen.ends_with('\n') {
            screen.push('\n');
        }
        Ok(Snapshot {
            screen,
            cursor: (num(0)?, num(1)?),
            exited,
        })
    }

    /// Resizes the window (the program gets SIGWINCH).
    pub fn resize(&self, width: u16, height: u16) -> Result<()> {
        self.tmux(&format!(
            "resize-window -t {} -x {width} -y {height}",
            quote(&self.pane)
        ))
        .map(drop)
    }

    /// Waits until the program has exited; returns its status.
    pub fn wait_exit(&self, timeout: Duration) -> Result<String> {
        let start = Instant::now();
        loop {
            let s = self.snapshot()?;
            if let Some(e) = s.exited {
                return Ok(e);
            }
            if start.elapsed() >= timeout {
                bail!(
                    "the program did not exit in {timeout:?}; the last screen was:\n{}",
                    crate::tmux::framed(&s.screen)
                );
            }
            std::thread::sleep(self.poll_interval());
        }
    }
}

impl<S: Shell> Pane for VmTmux<S> {
    fn send_keys(&self, keys: &[&str]) -> Result<()> {
        let keys: Vec<String> = keys.iter().map(|k| quote(k)).collect();
        self.tmux(&format!(
            "send-keys -t {} {}",
            quote(&self.pane),
            keys.join(" ")
        ))
        .map(drop)
    }

    fn type_text(&self, text: &str) -> Result<()> {
        let p = quote(&self.pane);
        let mut cmds = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                cmds.push(format!("send-keys -t {p} Enter"));
            }
            if !line.is_empty() {
                cmds.push(format!("send-keys -t {p} -l -- {}", quote(&literal(line))));
            }
        }
        if cmds.is_empty() {
            return Ok(());
        }
        self.tmux(&cmds.join(" \\; ")).map(drop)
    }

    fn capture(&self) -> Result<String> {
        Ok(self.snapshot()?.screen)
    }

    fn cursor(&self) -> Result<(u16, u16)> {
        Ok(self.snapshot()?.cursor)
    }

    fn exit_status(&self) -> Result<Option<String>> {
        Ok(self.snapshot()?.exited)
    }

    fn screen_and_cursor(&self) -> Result<(String, (u16, u16))> {
        let s = self.snapshot()?;
        Ok((s.screen, s.cursor))
    }

    fn poll_interval(&self) -> Duration {
        self.poll.get()
    }
}

impl<S: Shell> Drop for VmTmux<S> {
    fn drop(&mut self) {
        let line = format!("tmux -L {} kill-server", quote(&self.socket));
        if let Ok(mut sh) = self.shell.try_borrow_mut() {
            let _ = sh.run(&line, Duration::from_secs(30));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(10);

    fn local(name: &str, command: &str) -> Option<VmTmux<LocalShell>> {
        if let Some(why) = crate::tmux::skip_reason() {
            crate::skip::skip(why);
            return None;
        }
        let opts = VmTmuxOptions {
            socket: format!("forge-vmtmux-{}-{name}", std::process::id()),
            width: 80,
            height: 24,
            timeout: T,
            ..VmTmuxOptions::default()
        };
        Some(VmTmux::start(LocalShell, command, &opts).expect("starting tmux"))
    }

    #[test]
    fn quoting_for_the_shell_and_for_tmux() {
        assert_eq!(quote("a'b"), r"'a'\''b'");
        assert_eq!(literal("x;"), r"x\;");
        assert_eq!(literal(";"), r"\;");
        assert_eq!(literal("a;b"), "a;b");
    }

    #[test]
    fn literal_text_arrives_unchanged() -> Result<()> {
        // Reads lines with the terminal's echo off and prints each framed.
        let Some(t) = local(
            "literal",
            "stty -echo; echo ready; while IFS= read -r l; do printf 'got<%s>\\n' \"$l\"; done",
        ) else {
            return Ok(());
        };
        t.wait_for("ready", T)?;
        let texts = [
            r#"it's "quoted" $HOME `id` \n \\ a\;"#,
            "ends in;",
            ";",
            "-l -t x",
            "ünïcödé · ok",
        ];
        t.type_text(&format!("{}\n", texts.join("\n")))?;
        let s = t.wait_for("got<ünïcödé · ok>", T)?;
        for want in texts {
            assert!(s.contains(&format!("got<{want}>")), "{want:?} in:\n{s}");
        }
        t.type_slowly("a;b\n", Duration::from_millis(20))?;
        t.wait_for("got<a;b>", T)?;
        Ok(())
    }

    #[test]
    fn keys_screen_cursor_and_exit_status() -> Result<()> {
        let Some(t) = local(
            "keys",
            "printf '\\n\\nthird line\\n'; stty -echo; IFS= read -r l; printf 'read<%s>' \"$l\"; \
             IFS= read -r l; exit 7",
        ) else {
            return Ok(());
        };
        // Blank first rows stay rows (the snapshot's own first line).
        let s = t.wait_for("third line", T)?;
        assert_eq!(s.lines().nth(2), Some("third line"), "{s}");
        assert_eq!(t.exit_status()?, None);
        t.type_text("abcX")?;
        t.send_keys(&["BSpace", "Enter"])?;
        t.wait_for("read<abc>", T)?;
        let snap = t.snapshot()?;
        assert_eq!(snap.cursor, (9, 3), "{snap:?}");
        assert_eq!(t.cursor_line()?, "read<abc>");
        t.send_keys(&["Enter"])?;
        assert_eq!(t.wait_exit(T)?, "status 7");
        let e = t
            .wait_for("never-there", Duration::from_millis(300))
            .expect_err("must time out");
        let msg = format!("{e:#}");
        assert!(
            msg.contains("exited: status 7") && msg.contains("|read<abc>"),
            "{msg}"
        );
        Ok(())
    }

    #[test]
    fn drop_kills_the_server() -> Result<()> {
        let Some(t) = local("drop", "sleep 60") else {
            return Ok(());
        };
        let socket = t.socket.clone();
        drop(t);
        let (status, _) = LocalShell.run(&format!("tmux -L {socket} has-session"), T)?;
        assert_ne!(status, 0, "the server survived");
        Ok(())
    }
}
