//! The integrity override dialog (`JobEvent::IntegrityFailed`): each file
//! that does not match the signed manifest with its expected and actual
//! hash, and the phrase, which must be *typed* into the field (pastes and
//! bursts are refused by [`crate::paste_guard`] before they reach it; the
//! refusal is shown). `Install Anyway` is enabled once the field holds the
//! phrase and sends it with `OverrideIntegrity` (its own polkit
//! authorization); `Stop Installation` cancels the job.

use crate::screens::labels::plain;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use forge_proto::i18n::{ngettext, tr, trf};
use forge_proto::Mismatch;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::bidi::visual;
use crate::paste_guard::Refusal;
use crate::screens::labels::fill;
use crate::theme::Theme;
use crate::widgets::draw::{fit, width, Body};
use crate::widgets::TextField;

const PHRASE: usize = 0;
const STOP: usize = 1;
const INSTALL: usize = 2;

/// What the person decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Override(String),
    Stop,
}

#[derive(Debug, Clone)]
pub struct IntegrityDialog {
    pub mismatches: Vec<Mismatch>,
    pub phrase: String,
    pub field: TextField,
    pub focus: usize,
    /// Attempts to paste refused so far.
    pub refused: u32,
    /// The daemon's answer to the last attempt (wrong phrase, refused).
    pub error: Option<String>,
    /// Sent; waiting for the daemon.
    pub busy: bool,
}

/// A hash as the dialog shows it: the first 16 digits.
fn short(h: &str) -> String {
    if h.chars().count() > 16 {
        format!("{}…", h.chars().take(16).collect::<String>())
    } else if h.is_empty() {
        tr("missing")
    } else {
        h.to_string()
    }
}

impl IntegrityDialog {
    pub fn new(mismatches: Vec<Mismatch>, phrase: String) -> IntegrityDialog {
        IntegrityDialog {
            mismatches,
            phrase,
            field: TextField::default(),
            focus: PHRASE,
            refused: 0,
            error: None,
            busy: false,
        }
    }

    pub fn phrase_focused(&self) -> bool {
        self.focus == PHRASE
    }

    /// A paste or burst was refused: nothing reaches the field.
    pub fn refuse(&mut self, _why: Refusal) {
        self.refused += 1;
    }

    fn complete(&self) -> bool {
        self.field.value() == self.phrase && !self.busy
    }

    /// One key; an answer when the person decided.
    pub fn key(&mut self, k: &KeyEvent) -> Option<Answer> {
        match k.code {
            // Ctrl-C (and Esc) offer the way out: Stop Installation.
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => self.focus = STOP,
            KeyCode::Esc => self.focus = STOP,
            KeyCode::Tab => self.focus = (self.focus + 1) % 3,
            KeyCode::BackTab => self.focus = (self.focus + 2) % 3,
            KeyCode::Enter => match self.focus {
                STOP => return Some(Answer::Stop),
                _ if self.complete() => {
                    self.busy = true;
                    self.error = None;
                    return Some(Answer::Override(self.field.value().to_string()));
                }
                _ => {}
            },
            _ if self.focus == PHRASE
                && !k.modifiers.contains(KeyModifiers::CONTROL)
                && self.field.key(k).1 =>
            {
                self.error = None;
            }
            _ => {}
        }
        None
    }

    /// The override call failed (wrong phrase, not authorized).
    pub fn failed(&mut self, message: String) {
        self.busy = false;
        self.error = Some(message);
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: Theme) {
        let w = area.width.saturating_sub(4).min(76);
        // Below the screen's title, above the key hint line.
        let h = area.height.saturating_sub(3);
        let r = Rect::new(area.x + (area.width - w) / 2, area.y + 2, w, h);
        f.render_widget(Clear, r);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} ", visual(&tr("Packages Failed Verification"))));
        let inner = block.inner(r);
        f.render_widget(block, r);
        let mut b = Body::new(inner.width.saturating_sub(2), theme);
        let n = self.mismatches.len();
        b.text(
            &fill(
                &ngettext(
                    "{count} file does not match the signed release manifest. It may be damaged or may have been tampered with. Installing it could compromise this computer.",
                    "{count} files do not match the signed release manifest. They may be damaged or may have been tampered with. Installing them could compromise this computer.",
                    u32::try_from(n).unwrap_or(u32::MAX),
                ),
                n as u64,
                &[],
            ),
            theme.problem(),
        );
        b.blank();
        b.heading(&tr("Files that do not match"));
        let room = usize::from(inner.height).saturating_sub(17).max(2) / 2;
        for m in self.mismatches.iter().take(room) {
            b.lines
                .push(Line::raw(fit(&format!("  {}", m.path), b.width)));
            b.lines.push(Line::styled(
                fit(
                    &format!(
                        "    {}",
                        trf(
                            "expected {expected}, found {actual}",
                            &[
                                ("expected", &short(&m.expected)),
                                ("actual", &short(&m.actual))
                            ],
                        )
                    ),
                    b.width,
                ),
                theme.dim(),
            ));
        }
        if n > room {
            b.lines.push(Line::raw(format!("  … (+{})", n - room)));
        }
        b.blank();
        b.text(
            &tr("Nothing has been written to the disk. To install these files anyway, type the following phrase exactly. Pasting is disabled: the phrase must be typed."),
            theme.base(),
        );
        b.blank();
        b.heading(&trf(
            "Phrase to type: {phrase}",
            &[("phrase", &self.phrase)],
        ));
        b.field(
            &tr("Override phrase"),
            &self.field,
            self.focus == PHRASE,
            false,
        );
        if self.refused > 0 {
            b.prefixed(
                "! ",
                &tr("Pasting is not allowed here. Type the phrase."),
                theme.problem(),
            );
        }
        if let Some(e) = &self.error {
            b.prefixed("! ", e, theme.problem());
        }
        let body_area = Rect::new(inner.x + 1, inner.y, inner.width - 2, inner.height - 1);
        let cursor = b.cursor;
        b.render(f, body_area);
        // Buttons on the dialog's last line.
        let stop = format!("[ {} ]", visual(&plain("_Stop Installation")));
        let go = format!("[ {} ]", visual(&plain("_Install Anyway")));
        let style = |i: usize, enabled: bool| {
            if self.focus == i {
                theme.focus()
            } else if enabled {
                theme.base()
            } else {
                theme.disabled()
            }
        };
        let line = Line::from(vec![
            Span::styled(stop.clone(), style(STOP, true)),
            Span::raw("  "),
            Span::styled(go, style(INSTALL, self.complete())),
        ]);
        let y = inner.y + inner.height - 1;
        f.render_widget(
            Paragraph::new(line),
            Rect::new(inner.x + 1, y, inner.width - 2, 1),
        );
        if self.focus != PHRASE || cursor.is_none() {
            let x = if self.focus == STOP {
                2
            } else {
                width(&stop) + 4
            };
            f.set_cursor_position(Position::new(inner.x + 1 + x as u16, y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn install_anyway_needs_the_exact_phrase() {
        let mut d = IntegrityDialog::new(vec![], "I accept".into());
        for c in "I accep".chars() {
            assert_eq!(d.key(&key(KeyCode::Char(c))), None);
        }
        assert_eq!(d.key(&key(KeyCode::Enter)), None);
        d.key(&key(KeyCode::Char('t')));
        assert_eq!(
            d.key(&key(KeyCode::Enter)),
            Some(Answer::Override("I accept".into()))
        );
        // Sent once; a second Enter waits for the daemon.
        assert_eq!(d.key(&key(KeyCode::Enter)), None);
    }

    #[test]
    fn ctrl_c_offers_stop() {
        let mut d = IntegrityDialog::new(vec![], "x".into());
        assert_eq!(
            d.key(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            None
        );
        assert_eq!(d.key(&key(KeyCode::Enter)), Some(Answer::Stop));
    }

    #[test]
    fn stop_cancels() {
        let mut d = IntegrityDialog::new(vec![], "x".into());
        d.key(&key(KeyCode::Tab));
        assert_eq!(d.key(&key(KeyCode::Enter)), Some(Answer::Stop));
    }
}
