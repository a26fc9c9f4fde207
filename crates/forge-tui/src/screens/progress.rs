//! Progress: the 13 phases (done, current, waiting for a decision, failed),
//! the overall fraction, the daemon's messages as a scrolling log, and
//! Cancel (asks first; Ctrl-C asks the same). `IntegrityFailed` opens the
//! override dialog; `Finished` leads to the Done screen.

use crate::screens::labels::plain;
use crossterm::event::{KeyCode, KeyEvent};
use forge_proto::i18n::{ngettext, tr, trf};
use forge_proto::{JobEvent, JobState, Phase};
use ratatui::text::{Line, Span};

use super::labels::fill;
use crate::app::{App, Dialog, Effect, Screen};
use crate::bidi::visual;
use crate::integrity::IntegrityDialog;
use crate::widgets::draw::{fit, Body};

const LOG: usize = 0;
const CANCEL: usize = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhaseState {
    #[default]
    Pending,
    Running,
    Done,
    Failed,
    Waiting,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub job: Option<String>,
    /// Shown through `--attach` (events before it are not replayed).
    pub attached: bool,
    pub phases: [PhaseState; 13],
    pub fraction: f64,
    pub status: String,
    pub log: Vec<String>,
    /// Lines scrolled up from the end of the log (0 follows the end).
    pub scroll: usize,
    pub warnings: Vec<String>,
    pub cancelling: bool,
    pub finished: bool,
    /// An integrity failure was overridden (the job went on after it).
    pub overridden: bool,
}

impl State {
    /// Whether a job is being followed and has not finished.
    pub fn running(&self) -> bool {
        self.job.is_some() && !self.finished
    }

    fn set(&mut self, p: Phase, s: PhaseState) {
        self.phases[p.index() as usize] = s;
    }

    /// Whether the disk may already be written (partitioning started).
    pub fn writing(&self) -> bool {
        self.phases[Phase::Partition.index() as usize] != PhaseState::Pending
    }
}

pub fn items(_app: &App) -> usize {
    2
}

/// The Cancel button (focused or not, enabled while the job runs).
pub fn buttons(app: &App) -> Vec<(String, bool, bool)> {
    let p = &app.progress;
    vec![(
        plain("_Cancel Installation"),
        app.focus == CANCEL,
        p.running() && !p.cancelling,
    )]
}

/// The cancel question's text.
pub fn cancel_text(app: &App) -> String {
    if app.progress.writing() {
        tr("The disk is being written; cancelling now would leave it unusable.")
    } else {
        tr("You can cancel until the disk is partitioned. Nothing has been written yet.")
    }
}

pub fn key(app: &mut App, k: &KeyEvent) -> bool {
    let p = &mut app.progress;
    match (app.focus, k.code) {
        (LOG, KeyCode::Up) => p.scroll = (p.scroll + 1).min(p.log.len()),
        (LOG, KeyCode::PageUp) => p.scroll = (p.scroll + 5).min(p.log.len()),
        (LOG, KeyCode::Down) => p.scroll = p.scroll.saturating_sub(1),
        (LOG, KeyCode::PageDown) => p.scroll = p.scroll.saturating_sub(5),
        (LOG, KeyCode::End) => p.scroll = 0,
        (CANCEL, KeyCode::Enter | KeyCode::Char(' ')) => {
            if p.running() && !p.cancelling {
                app.dialog = Some(Dialog::CancelJob);
            }
        }
        _ => return false,
    }
    true
}

/// A job event.
pub fn on_event(app: &mut App, ev: JobEvent) {
    let p = &mut app.progress;
    match ev {
        JobEvent::PhaseStarted(ph) => {
            p.set(ph, PhaseState::Running);
            let text = trf(
                "Step {n} of {total}: {phase}",
                &[
                    ("n", &(ph.index() + 1).to_string()),
                    ("total", &Phase::ALL.len().to_string()),
                    ("phase", &ph.label()),
                ],
            );
            p.status = text.clone();
            p.log.push(text);
        }
        JobEvent::PhaseFinished(ph) => p.set(ph, PhaseState::Done),
        JobEvent::Progress { fraction, message } => {
            p.fraction = fraction.clamp(0.0, 1.0);
            if !message.is_empty() {
                p.log.push(message);
            }
        }
        JobEvent::Warning(msg) => {
            p.log.push(trf("Warning: {message}", &[("message", &msg)]));
            p.warnings.push(msg);
        }
        JobEvent::IntegrityFailed { mismatches, phrase } => {
            p.set(Phase::Verify, PhaseState::Waiting);
            p.log.push(fill(
                &ngettext(
                    "{count} package failed verification. The installation is paused until you decide.",
                    "{count} packages failed verification. The installation is paused until you decide.",
                    u32::try_from(mismatches.len()).unwrap_or(u32::MAX),
                ),
                mismatches.len() as u64,
                &[],
            ));
            for m in &mismatches {
                p.log.push(trf(
                    "Mismatch: {path} (expected {expected}, found {actual})",
                    &[
                        ("path", &m.path),
                        ("expected", &m.expected),
                        ("actual", &m.actual),
                    ],
                ));
            }
            app.dialog = Some(Dialog::Integrity(IntegrityDialog::new(mismatches, phrase)));
        }
        JobEvent::StateChanged(s) => {
            p.log.push(trf("State: {state}", &[("state", s.as_str())]));
            if s == JobState::Running {
                if let Some(Dialog::Integrity(_)) = app.dialog {
                    app.dialog = None;
                }
                if p.phases[Phase::Verify.index() as usize] == PhaseState::Waiting {
                    p.set(Phase::Verify, PhaseState::Running);
                    p.overridden = true;
                }
            }
        }
        JobEvent::Finished {
            success,
            phase_completed,
            error,
            warnings,
        } => {
            p.finished = true;
            if success {
                p.fraction = 1.0;
                p.log.push(tr("Installation finished."));
            } else {
                let failed = phase_completed.map_or(0, |ph| ph.index() as usize + 1);
                if let Some(s) = p.phases.get_mut(failed) {
                    *s = PhaseState::Failed;
                }
                p.log.push(tr("Installation failed."));
                if !error.is_empty() {
                    p.log.push(error.clone());
                }
            }
            if matches!(app.dialog, Some(Dialog::Integrity(_) | Dialog::CancelJob)) {
                app.dialog = None;
            }
            app.done = crate::screens::done::State::from_result(
                app,
                success,
                phase_completed,
                error,
                warnings,
            );
            app.show(Screen::Done);
            app.effects.retain(|e| *e != Effect::Cancel);
        }
    }
}

fn mark(s: PhaseState) -> &'static str {
    match s {
        PhaseState::Pending => "[ ]",
        PhaseState::Running => "[>]",
        PhaseState::Done => "[x]",
        PhaseState::Failed => "[!]",
        PhaseState::Waiting => "[?]",
    }
}

pub fn render(app: &App, b: &mut Body, height: usize) {
    let t = app.theme;
    let p = &app.progress;
    let col = b.width / 2;
    for row in 0..7 {
        let mut spans = Vec::new();
        for c in 0..2 {
            let i = row + c * 7;
            let Some(ph) = Phase::ALL.get(i) else {
                continue;
            };
            let s = p.phases[i];
            let text = fit(&format!("{} {}", mark(s), visual(&ph.label())), col - 1);
            let style = match s {
                PhaseState::Running | PhaseState::Waiting => t.title(),
                PhaseState::Failed => t.problem(),
                PhaseState::Done => t.good(),
                PhaseState::Pending => t.dim(),
            };
            let pad = col.saturating_sub(crate::widgets::draw::width(&text));
            spans.push(Span::styled(text, style));
            spans.push(Span::raw(" ".repeat(pad)));
        }
        b.lines.push(Line::from(spans));
    }
    b.blank();
    let pct = format!("{:>3.0} %", p.fraction * 100.0);
    let bar_w = b.width.saturating_sub(8);
    let filled = ((p.fraction * bar_w as f64).round() as usize).min(bar_w);
    b.lines.push(Line::from(vec![
        Span::styled("#".repeat(filled), t.good()),
        Span::raw(".".repeat(bar_w - filled)),
        Span::raw(format!(" {pct}")),
    ]));
    let status = if p.cancelling && !p.finished {
        tr("Cancelling at the next safe point…")
    } else if p.status.is_empty() {
        tr("Starting…")
    } else {
        p.status.clone()
    };
    b.text(&status, t.base());
    if p.attached {
        b.text(
            &tr("Attached to the running installation; earlier messages are not shown."),
            t.dim(),
        );
    }
    // The log: the rest of the height, ending `scroll` lines before the end.
    let used = b.lines.len() + 1;
    let rows = height.saturating_sub(used).max(1);
    let end = p.log.len().saturating_sub(p.scroll);
    let start = end.saturating_sub(rows);
    let focused = app.focus == LOG;
    b.lines.push(Line::styled(
        format!(
            "{} {}",
            if focused { ">" } else { " " },
            visual(&tr("Installation log"))
        ),
        if focused { t.focus() } else { t.title() },
    ));
    if focused {
        b.cursor = Some((0, b.lines.len() - 1));
    }
    for l in &p.log[start..end] {
        b.lines
            .push(Line::raw(fit(&format!("  {}", visual(l)), b.width)));
    }
}
