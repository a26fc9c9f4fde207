//! The app loop: draws the [`App`], feeds it terminal input batches, job
//! events and the daemon's lists, and carries out its [`Effect`]s through
//! `forge_proto::client::Daemon`. SIGTERM and SIGHUP end the loop (the
//! terminal guard restores the terminal; a running install goes on in the
//! daemon, `forge-tui --attach` shows it again). Calls that polkit may
//! authorize run with the text agent when no graphical session is present
//! (`forge_proto::tty_agent`), with the terminal handed back to it meanwhile.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Result;
use forge_proto::client::{Daemon, JobHandle};
use forge_proto::i18n::{tr, trf};
use forge_proto::tty_agent::{graphical_session, TtyAgent};
use forge_proto::{DiskInfo, ForgeError, GroupInfo, JobEvent, Phase};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::app::{App, Dialog, Effect};
use crate::input::Input;
use crate::screens::progress::PhaseState;
use crate::terminal::TermGuard;

/// What the background start-up reports.
enum Loaded {
    Lists(Daemon, Vec<DiskInfo>, Vec<GroupInfo>),
    Failed(Option<Daemon>, String),
}

/// How the loop ended.
pub enum Outcome {
    /// Quit (or the job finished and the person closed).
    Quit,
    /// The plan was written to this file.
    Saved(std::path::PathBuf),
    /// SIGTERM or SIGHUP.
    Signal(i32),
}

/// The person-readable line for a failed call.
pub fn error_text(e: &ForgeError) -> String {
    match e {
        ForgeError::NotAuthorized(m) | ForgeError::Denied(m) => {
            trf("Not authorized: {message}", &[("message", m)])
        }
        ForgeError::Unavailable(_) => tr("The installer service is not available."),
        other => other.message(),
    }
}

async fn load() -> Loaded {
    let daemon = match Daemon::connect_system().await {
        Ok(d) => d,
        Err(e) => return Loaded::Failed(None, error_text(&e)),
    };
    let disks = daemon.list_disks().await;
    let groups = daemon.list_package_groups().await;
    match (disks, groups) {
        (Ok(d), Ok(g)) => Loaded::Lists(daemon, d, g),
        (Err(e), _) | (_, Err(e)) => Loaded::Failed(Some(daemon), error_text(&e)),
    }
}

async fn recv<T>(rx: &mut Option<mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Writes `yaml` to `path`, created with mode 0600; an existing file is
/// never overwritten.
pub fn save_plan(path: &Path, yaml: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(yaml.as_bytes())?;
    f.sync_all()
}

/// Connects and finds the running job for `--attach`, before the screen
/// is taken: `Err` is the message to print.
pub async fn attach_target() -> Result<(Daemon, String), String> {
    let daemon = Daemon::connect_system().await.map_err(|e| error_text(&e))?;
    match daemon.active_job().await {
        Ok(Some(job)) => Ok((daemon, job)),
        Ok(None) => Err(tr("No installation is running.")),
        Err(e) => Err(error_text(&e)),
    }
}

/// What the job's properties say so far (for `--attach`, read after the
/// subscription so nothing falls between). A job that already ended gives
/// its `Finished` event, since the signal will not come again.
async fn job_so_far(app: &mut App, daemon: &Daemon, job: &str) -> Option<JobEvent> {
    let proxy = daemon.job(job).await.ok()?;
    if let Ok(i) = proxy.phase_index().await {
        let p = &mut app.progress;
        for (n, s) in p.phases.iter_mut().enumerate() {
            *s = match (n as u32).cmp(&i) {
                std::cmp::Ordering::Less => PhaseState::Done,
                std::cmp::Ordering::Equal => PhaseState::Running,
                std::cmp::Ordering::Greater => PhaseState::Pending,
            };
        }
        if let Some(ph) = Phase::ALL.get(i as usize) {
            p.status = ph.label();
        }
    }
    if let Ok(f) = proxy.fraction().await {
        app.progress.fraction = f;
    }
    if let Ok(w) = proxy.warnings().await {
        app.progress.warnings = w;
    }
    let state = proxy.state().await.ok()?;
    if state == "awaiting-override" {
        app.progress.phases[Phase::Verify.index() as usize] = PhaseState::Waiting;
        app.progress.status = tr("Packages failed verification; the installation waits for a decision in the installer that started it.");
    }
    if !matches!(state.as_str(), "succeeded" | "failed" | "cancelled") {
        return None;
    }
    let completed = proxy.phase_completed().await.unwrap_or_default();
    Some(JobEvent::Finished {
        success: state == "succeeded",
        phase_completed: Phase::from_name(&completed),
        error: String::new(),
        warnings: app.progress.warnings.clone(),
    })
}

/// The terminal, the input reader and the signals of one session.
struct Tty {
    guard: TermGuard,
    terminal: Terminal<CrosstermBackend<std::io::Stdout>>,
    input: Input,
}

impl Tty {
    /// Runs `call` with the text polkit agent, the terminal handed back to
    /// it, when no graphical agent serves this session.
    async fn authorized<T>(&mut self, call: impl std::future::Future<Output = T>) -> T {
        if graphical_session() {
            return call.await;
        }
        let paused = self.input.pause();
        self.guard.suspend();
        println!(
            "{}",
            tr("Authorization: polkit may ask for an administrator's password here.")
        );
        let (agent, problem) = TtyAgent::start_for_call();
        if let Some(problem) = problem {
            tracing::warn!("{problem}");
        }
        let out = call.await;
        drop(agent);
        let _ = self.guard.resume();
        drop(paused);
        let _ = self.terminal.clear();
        out
    }
}

/// Runs the installer until it quits.
pub async fn run(
    mut app: App,
    attach: Option<(Daemon, String)>,
    mut bench: Option<crate::bench::Bench>,
) -> Result<Outcome> {
    let guard = TermGuard::enter()?;
    let terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    let mut tty = Tty {
        guard,
        terminal,
        input: Input::start(),
    };
    let mut term_sig = signal(SignalKind::terminate())?;
    let mut hup_sig = signal(SignalKind::hangup())?;
    // A SIGINT from outside (raw mode turns the Ctrl-C key into a key)
    // asks like the key does.
    let mut int_sig = signal(SignalKind::interrupt())?;
    let mut daemon: Option<Daemon> = None;
    let mut events: Option<mpsc::UnboundedReceiver<JobEvent>> = None;
    let (load_tx, load_rx) = mpsc::unbounded_channel();
    let mut loaded = Some(load_rx);
    match attach {
        Some((d, job)) => {
            match d.attach(&job).await {
                Ok(JobHandle { path, events: rx }) => {
                    app.progress.job = Some(path);
                    events = Some(rx);
                }
                Err(e) => app.refused(error_text(&e)),
            }
            if let Some(ended) = job_so_far(&mut app, &d, &job).await {
                app.on_job_event(ended);
            }
            daemon = Some(d);
            loaded = None;
        }
        None => {
            tokio::spawn(async move {
                let _ = load_tx.send(load().await);
            });
        }
    }
    let (cancel_tx, cancel_rx) = mpsc::unbounded_channel::<String>();
    let mut cancel_results = Some(cancel_rx);
    loop {
        tty.terminal.draw(|f| app.render(f))?;
        if let Some(b) = bench.take() {
            b.first_frame();
        }
        tokio::select! {
            batch = tty.input.batches.recv() => match batch {
                Some(b) => app.on_batch(&b),
                None => return Ok(Outcome::Signal(libc::SIGHUP)),
            },
            ev = recv(&mut events) => match ev {
                Some(ev) => app.on_job_event(ev),
                None => {
                    events = None;
                    if app.progress.running() {
                        app.progress.finished = true;
                        app.refused(tr("The connection to the installer service was lost."));
                    }
                }
            },
            l = recv(&mut loaded) => {
                loaded = None;
                match l {
                    Some(Loaded::Lists(d, disks, groups)) => {
                        daemon = Some(d);
                        app.set_lists(disks, groups);
                    }
                    Some(Loaded::Failed(d, why)) => {
                        daemon = d;
                        app.set_load_error(why);
                    }
                    None => {}
                }
            },
            msg = recv(&mut cancel_results) => if let Some(m) = msg { app.progress.log.push(m) },
            _ = int_sig.recv() => if app.dialog.is_none() { app.ask_to_leave() },
            _ = term_sig.recv() => return Ok(Outcome::Signal(libc::SIGTERM)),
            _ = hup_sig.recv() => return Ok(Outcome::Signal(libc::SIGHUP)),
        }
        for effect in std::mem::take(&mut app.effects) {
            match effect {
                Effect::Quit => return Ok(Outcome::Quit),
                Effect::SavePlan(path) => match save_plan(&path, &app.wizard.plan_yaml()) {
                    Ok(()) => return Ok(Outcome::Saved(path)),
                    Err(e) => app.refused(trf(
                        "Cannot save the plan to {file}: {error}",
                        &[
                            ("file", &path.display().to_string()),
                            ("error", &e.to_string()),
                        ],
                    )),
                },
                Effect::Install => {
                    let Some(d) = daemon.clone() else {
                        app.refused(tr("The installer service is not available."));
                        continue;
                    };
                    let yaml = app.wizard.plan_yaml();
                    let io = app.wizard.io();
                    let r = tokio::select! {
                        r = tty.authorized(d.install(&yaml, io)) => r,
                        _ = term_sig.recv() => return Ok(Outcome::Signal(libc::SIGTERM)),
                        _ = hup_sig.recv() => return Ok(Outcome::Signal(libc::SIGHUP)),
                    };
                    match r {
                        Ok(JobHandle { path, events: rx }) => {
                            app.install_started(&path);
                            events = Some(rx);
                        }
                        Err(e) => app.refused(error_text(&e)),
                    }
                }
                Effect::Override(phrase) => {
                    let (Some(d), Some(job)) = (daemon.clone(), app.progress.job.clone()) else {
                        continue;
                    };
                    let r = tokio::select! {
                        r = tty.authorized(d.override_integrity(&job, &phrase)) => r,
                        _ = term_sig.recv() => return Ok(Outcome::Signal(libc::SIGTERM)),
                        _ = hup_sig.recv() => return Ok(Outcome::Signal(libc::SIGHUP)),
                    };
                    if let (Err(e), Some(Dialog::Integrity(dlg))) = (r, app.dialog.as_mut()) {
                        dlg.failed(error_text(&e));
                    }
                }
                Effect::Cancel => {
                    let (Some(d), Some(job)) = (daemon.clone(), app.progress.job.clone()) else {
                        continue;
                    };
                    let tx = cancel_tx.clone();
                    tokio::spawn(async move {
                        if let Err(e) = d.cancel(&job).await {
                            let _ = tx.send(error_text(&e));
                        }
                    });
                }
            }
        }
    }
}
