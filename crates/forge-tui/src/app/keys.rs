//! The keys every screen shares (docs/tui.md): `Tab`/`Shift-Tab` move the
//! focus, `Ctrl-N`/`Ctrl-B` are Next/Back, `Enter` presses the focused
//! button, `Ctrl-C` asks to quit (or, while installing, to cancel), and
//! the open dialog gets the keys first.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Dialog, Effect, Screen};
use crate::screens::{confirm, disk, done, keyboard_locale, packages, progress, user};

impl App {
    /// One key press.
    pub fn on_key(&mut self, k: &KeyEvent) {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if self.dialog.is_some() {
            self.dialog_key(k);
            return;
        }
        if ctrl && k.code == KeyCode::Char('c') {
            self.ask_to_leave();
            return;
        }
        match k.code {
            KeyCode::Char('n') if ctrl => return self.next(),
            KeyCode::Char('b') if ctrl => return self.back(),
            KeyCode::Tab => return self.move_focus(1),
            KeyCode::BackTab => return self.move_focus(-1),
            _ => {}
        }
        let on_button = |i: Option<usize>| i == Some(self.focus);
        if matches!(k.code, KeyCode::Enter | KeyCode::Char(' ')) {
            if on_button(self.back_index()) {
                return self.back();
            }
            if on_button(self.next_index()) {
                return self.next();
            }
        }
        if self.focus < self.items() && self.screen_key(k) {
            self.clamp_focus();
            return;
        }
        match k.code {
            KeyCode::Enter | KeyCode::Down if self.focus < self.items() => self.move_focus(1),
            KeyCode::Up if self.focus < self.items() && self.focus > 0 => self.move_focus(-1),
            _ => {}
        }
    }

    /// The current screen's own handling of `k` on the focused item.
    fn screen_key(&mut self, k: &KeyEvent) -> bool {
        match self.screen {
            Screen::Welcome => false,
            Screen::KeyboardLocale => keyboard_locale::key(self, k),
            Screen::Disk => disk::key(self, k),
            Screen::User => user::key(self, k),
            Screen::Packages => packages::key(self, k),
            Screen::Confirm => confirm::key(self, k),
            Screen::Progress => progress::key(self, k),
            Screen::Done => done::key(self, k),
        }
    }

    /// Ctrl-C: a running install asks to be cancelled, the finished one
    /// just closes, anything else asks to quit.
    pub fn ask_to_leave(&mut self) {
        self.dialog = match self.screen {
            Screen::Done => {
                self.effects.push(Effect::Quit);
                None
            }
            Screen::Progress if self.progress.running() => Some(Dialog::CancelJob),
            _ => Some(Dialog::Quit),
        };
    }

    fn dialog_key(&mut self, k: &KeyEvent) {
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        if let Dialog::Integrity(d) = dialog {
            match d.key(k) {
                Some(crate::integrity::Answer::Override(phrase)) => {
                    self.effects.push(Effect::Override(phrase));
                }
                Some(crate::integrity::Answer::Stop) => {
                    self.dialog = None;
                    self.effects.push(Effect::Cancel);
                    self.progress.cancelling = true;
                }
                None => {}
            }
            return;
        }
        let yes = match k.code {
            KeyCode::Char('y' | 'Y') => true,
            KeyCode::Char('n' | 'N') | KeyCode::Esc => false,
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => false,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => {
                self.answer_yes = !self.answer_yes;
                return;
            }
            KeyCode::Enter => self.answer_yes,
            _ => return,
        };
        let was = self.dialog.take();
        self.answer_yes = false;
        if !yes {
            return;
        }
        match was {
            Some(Dialog::Quit) => self.effects.push(Effect::Quit),
            Some(Dialog::CancelJob) => {
                self.progress.cancelling = true;
                self.effects.push(Effect::Cancel);
            }
            _ => {}
        }
    }
}
