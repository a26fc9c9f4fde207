//! Draws the [`App`]: the frame every screen shares (line 1: product and
//! `Step N of 8`; line 2: the title; the body; the notice or the problem
//! that disables Next; the buttons; a key hint line), the open dialog over
//! it, or a request for a larger terminal below 80×24.

use ratatui::layout::{Alignment, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use forge_proto::i18n::{tr, trf};

use super::{App, Dialog, Screen};
use crate::bidi::visual;
use crate::screens::{confirm, disk, done, keyboard_locale, packages, progress, user, welcome};
use crate::widgets::draw::{fit, width, wrap, Body};

/// The smallest terminal the screens are laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

impl App {
    /// Draws everything into `f`.
    pub fn render(&self, f: &mut Frame) {
        let area = f.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = trf(
                "This terminal is {width}×{height}; the installer needs at least {min_width}×{min_height}. Enlarge the window.",
                &[
                    ("width", &area.width.to_string()),
                    ("height", &area.height.to_string()),
                    ("min_width", &MIN_WIDTH.to_string()),
                    ("min_height", &MIN_HEIGHT.to_string()),
                ],
            );
            let lines: Vec<Line> = wrap(&msg, usize::from(area.width.max(10)))
                .into_iter()
                .map(|l| Line::raw(visual(&l)))
                .collect();
            f.render_widget(Paragraph::new(lines), area);
            return;
        }
        let w = area.width;
        let row = |y: u16| Rect::new(area.x, area.y + y, w, 1);
        let header = tr("InterGenOS installer");
        let step = trf(
            "Step {n} of {total}",
            &[("n", &self.screen.number().to_string()), ("total", "8")],
        );
        f.render_widget(
            Paragraph::new(format!(" {}", visual(&header))).style(self.theme.dim()),
            row(0),
        );
        f.render_widget(
            Paragraph::new(format!("{} ", visual(&step))).alignment(Alignment::Right),
            row(0),
        );
        f.render_widget(
            Paragraph::new(Line::styled(
                format!(" {}", visual(&self.title())),
                self.theme.title(),
            )),
            row(1),
        );
        let body_area = Rect::new(area.x + 2, area.y + 3, w - 4, area.height - 7);
        let mut body = Body::new(body_area.width, self.theme);
        self.render_body(&mut body, body_area.height);
        body.render(f, body_area);
        self.render_status(f, row(area.height - 4));
        self.render_buttons(f, row(area.height - 3));
        f.render_widget(
            Paragraph::new(format!(" {}", visual(&self.hint()))).style(self.theme.dim()),
            row(area.height - 1),
        );
        if let Some(d) = &self.dialog {
            self.render_dialog(f, area, d);
        }
    }

    fn render_body(&self, body: &mut Body, height: u16) {
        let h = usize::from(height);
        match self.screen {
            Screen::Welcome => welcome::render(self, body),
            Screen::KeyboardLocale => keyboard_locale::render(self, body, h),
            Screen::Disk => disk::render(self, body, h),
            Screen::User => user::render(self, body),
            Screen::Packages => packages::render(self, body, h),
            Screen::Confirm => confirm::render(self, body),
            Screen::Progress => progress::render(self, body, h),
            Screen::Done => done::render(self, body),
        }
    }

    /// The notice, or why Next is disabled.
    fn render_status(&self, f: &mut Frame, area: Rect) {
        let text = if let Some(n) = &self.notice {
            n.clone()
        } else if let Some(p) = self.next_problems().first() {
            format!("{}{}", tr("Next is disabled: "), p.message)
        } else {
            return;
        };
        let line = fit(
            &format!(" ! {}", visual(&text.replace('\n', " "))),
            usize::from(area.width),
        );
        f.render_widget(
            Paragraph::new(Line::styled(line, self.theme.problem())),
            area,
        );
    }

    /// `[ Back ]  [ Next ]` at the bottom right (or the screen's own).
    fn render_buttons(&self, f: &mut Frame, area: Rect) {
        let mut buttons: Vec<(String, bool, bool)> = Vec::new();
        if let (Some(b), Some(n)) = (self.back_index(), self.next_index()) {
            let next_label = if self.screen == Screen::Confirm {
                confirm::next_label(self)
            } else {
                crate::screens::labels::plain("_Next")
            };
            buttons.push((
                crate::screens::labels::plain("_Back"),
                self.focus == b,
                self.screen != Screen::Welcome,
            ));
            buttons.push((next_label, self.focus == n, self.next_problems().is_empty()));
        } else {
            buttons = match self.screen {
                Screen::Progress => progress::buttons(self),
                Screen::Done => done::buttons(self),
                _ => Vec::new(),
            };
        }
        let mut spans = Vec::new();
        let mut x = 0usize;
        let mut cursor = None;
        for (label, focused, enabled) in &buttons {
            let text = format!("[ {} ]", visual(label));
            let style = if *focused {
                self.theme.focus()
            } else if *enabled {
                self.theme.base()
            } else {
                self.theme.disabled()
            };
            if *focused {
                cursor = Some(x + 2);
            }
            x += width(&text) + 2;
            spans.push(Span::styled(text, style));
            spans.push(Span::raw("  "));
        }
        let total = x;
        let start = usize::from(area.width).saturating_sub(total);
        if let Some(c) = cursor {
            if self.dialog.is_none() {
                let cx = area.x + u16::try_from(start + c).unwrap_or(0);
                f.set_cursor_position(Position::new(cx.min(area.right() - 1), area.y));
            }
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)).alignment(Alignment::Right),
            area,
        );
    }

    fn hint(&self) -> String {
        match self.screen {
            Screen::Progress => tr("Tab: move · Up/Down: scroll the log · Ctrl-C: cancel"),
            Screen::Done => tr("Enter: close"),
            _ => tr("Tab: move · Enter: select · Ctrl-N: next · Ctrl-B: back · Ctrl-C: quit"),
        }
    }

    fn render_dialog(&self, f: &mut Frame, area: Rect, d: &Dialog) {
        let (title, text) = match d {
            Dialog::Quit => (
                tr("Quit the installer?"),
                tr("Nothing has been written to the disk. Quit the installer?"),
            ),
            Dialog::CancelJob => (tr("Cancel the installation?"), progress::cancel_text(self)),
            Dialog::Integrity(dialog) => {
                dialog.render(f, area, self.theme);
                return;
            }
        };
        let w = 60u16.min(area.width - 4);
        let lines = wrap(&text, usize::from(w - 6));
        let h = u16::try_from(lines.len()).unwrap_or(1) + 5;
        let r = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        f.render_widget(Clear, r);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} ", visual(&title)));
        let inner = block.inner(r);
        f.render_widget(block, r);
        let inner = Rect::new(
            inner.x + 1,
            inner.y,
            inner.width.saturating_sub(2),
            inner.height,
        );
        let mut body: Vec<Line> = lines.iter().map(|l| Line::raw(visual(l))).collect();
        body.push(Line::default());
        let yes = format!("[ {} ]", visual(&tr("Yes (y)")));
        let no = format!("[ {} ]", visual(&tr("No (n)")));
        let (ys, ns) = if self.answer_yes {
            (self.theme.focus(), self.theme.base())
        } else {
            (self.theme.base(), self.theme.focus())
        };
        body.push(Line::from(vec![
            Span::styled(yes.clone(), ys),
            Span::raw("   "),
            Span::styled(no, ns),
        ]));
        let y = inner.y + u16::try_from(body.len() - 1).unwrap_or(0);
        let x = if self.answer_yes {
            inner.x + 2
        } else {
            inner.x + u16::try_from(width(&yes) + 5).unwrap_or(0)
        };
        f.render_widget(Paragraph::new(body), inner);
        f.set_cursor_position(Position::new(x, y));
    }
}
