//! Drives `forge-test-client` (tests/bin/) as a test user: send a command
//! line, wait for its JSON reply; every job signal the client sees after
//! `watch` is collected in order, and so is every job event the client
//! library delivers after `follow-install`. The raw transcript (every line the client
//! printed) is kept so tests can search it, e.g. for passwords.
//!
//! ```no_run
//! # use forge_tests::{bus::TestBus, client::Client, users};
//! # fn f(bus: &TestBus) -> anyhow::Result<()> {
//! let mut c = Client::spawn(&users::permitted()?, bus)?;
//! c.request("watch")?;
//! let plan = c.write_file("plan.yaml", "...")?;
//! let io = c.write_file("io.json", r#"{"disk":"/x.img","dry_run":true}"#)?;
//! let r = c.request(&format!("install {} {}", plan.display(), io.display()))?;
//! let fin = c.wait_signal(|s| s["signal"] == "Finished", std::time::Duration::from_secs(60))?;
//! # Ok(()) }
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::bus::TestBus;
use crate::daemon::built_binary;
use crate::users::{run_as, TestUser};

/// Default wait for a reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    signals: Vec<Value>,
    events: Vec<Value>,
    transcript: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
    pub user: TestUser,
}

impl Client {
    /// Starts the client as `user` on `bus`.
    pub fn spawn(user: &TestUser, bus: &TestBus) -> Result<Client> {
        let bin = built_binary("forge-test-client")?;
        let mut child = run_as(user, bus, &bin, &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting forge-test-client")?;
        let stdout = child.stdout.take().context("client stdout")?;
        let (tx, rx) = channel();
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let t = Arc::clone(&transcript);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut t) = t.lock() {
                    t.push(line.clone());
                }
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let dir = tempfile::Builder::new().prefix("forge-client-").tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        Ok(Client {
            stdin: child.stdin.take(),
            child,
            rx,
            signals: Vec::new(),
            events: Vec::new(),
            transcript,
            dir,
            user: user.clone(),
        })
    }

    /// Writes a file the client's user can read (0644 in a 0755 temp dir).
    pub fn write_file(&self, name: &str, content: &str) -> Result<PathBuf> {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content)?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))?;
        Ok(p)
    }

    /// Sends a command without waiting.
    pub fn send(&mut self, line: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().context("client stdin closed")?;
        writeln!(stdin, "{line}")?;
        stdin.flush()?;
        Ok(())
    }

    fn next(&mut self, deadline: Instant) -> Result<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(v) => {
                if v.get("signal").is_some() {
                    self.signals.push(v.clone());
                }
                if v.get("event").is_some() {
                    self.events.push(v.clone());
                }
                Ok(v)
            }
            Err(RecvTimeoutError::Timeout) => {
                bail!("timed out; transcript:\n{}", self.transcript())
            }
            Err(RecvTimeoutError::Disconnected) => {
                bail!("the client exited; transcript:\n{}", self.transcript())
            }
        }
    }

    /// Sends `line` and waits for its reply (signals meanwhile are kept).
    pub fn request(&mut self, line: &str) -> Result<Value> {
        self.request_timeout(line, REPLY_TIMEOUT)
    }

    pub fn request_timeout(&mut self, line: &str, timeout: Duration) -> Result<Value> {
        let cmd = line.split(' ').next().unwrap_or_default().to_string();
        self.send(line)?;
        self.wait_reply(&cmd, timeout)
    }

    /// Waits for the reply to an earlier [`Client::send`] of `cmd`.
    pub fn wait_reply(&mut self, cmd: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.next(deadline)?;
            if v["reply"] == cmd {
                return Ok(v);
            }
        }
    }

    /// Returns the first signal (already seen or coming) matching `pred`.
    pub fn wait_signal(
        &mut self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Result<Value> {
        if let Some(v) = self.signals.iter().find(|v| pred(v)) {
            return Ok(v.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.next(deadline)?;
            if v.get("signal").is_some() && pred(&v) {
                return Ok(v);
            }
        }
    }

    /// Returns the first `follow-install` event (already seen or coming)
    /// matching `pred`.
    pub fn wait_event(
        &mut self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Result<Value> {
        if let Some(v) = self.events.iter().find(|v| pred(v)) {
            return Ok(v.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.next(deadline)?;
            if v.get("event").is_some() && pred(&v) {
                return Ok(v);
            }
        }
    }

    /// Every `follow-install` event seen so far, in order.
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// Every signal seen so far, in order.
    pub fn signals(&self) -> &[Value] {
        &self.signals
    }

    /// Every line the client printed so far.
    pub fn transcript(&self) -> String {
        self.transcript
            .lock()
            .map(|t| t.join("\n"))
            .unwrap_or_default()
    }

    /// Kills the client (its bus connection goes away).
    pub fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.kill();
    }
}
