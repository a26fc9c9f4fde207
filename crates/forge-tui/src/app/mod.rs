//! The installer's state machine, free of terminal and bus: [`App`] holds
//! the [`Wizard`] (choices, rules, plan), the screen shown, the focus, an
//! open dialog and each screen's own state. Input arrives as batches of
//! terminal events ([`App::on_batch`]), the daemon's job events through
//! [`App::on_job_event`]; what needs the daemon or the file system is
//! queued as an [`Effect`] for the runner. Unit tests drive it directly.

mod keys;
pub mod render;

use std::path::PathBuf;

use crossterm::event::Event;
use forge_proto::i18n::tr;
use forge_proto::wizard::{Step, Wizard};
use forge_proto::{JobEvent, Problem};

use crate::integrity::IntegrityDialog;
use crate::screens::{confirm, disk, done, keyboard_locale, packages, progress, user};
use crate::theme::Theme;

/// The eight screens, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Welcome,
    KeyboardLocale,
    Disk,
    User,
    Packages,
    Confirm,
    Progress,
    Done,
}

impl Screen {
    pub const ALL: [Screen; 8] = [
        Screen::Welcome,
        Screen::KeyboardLocale,
        Screen::Disk,
        Screen::User,
        Screen::Packages,
        Screen::Confirm,
        Screen::Progress,
        Screen::Done,
    ];

    /// 1-based position.
    pub fn number(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    /// The wizard step this screen edits (None for Progress and Done).
    pub fn step(self) -> Option<Step> {
        Step::ALL.get(self.number() - 1).copied()
    }

    fn offset(self, by: isize) -> Screen {
        let i = (self.number() as isize - 1 + by).clamp(0, 7) as usize;
        Screen::ALL[i]
    }
}

/// What the person started forge-tui for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Install,
    /// `--save-plan FILE`.
    SavePlan(PathBuf),
    /// `--attach`: only the progress of a running job.
    Attach,
}

/// A question drawn over the screen.
#[derive(Debug, Clone)]
pub enum Dialog {
    Quit,
    CancelJob,
    Integrity(IntegrityDialog),
}

/// Work for the runner (daemon calls, files, leaving).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Install,
    SavePlan(PathBuf),
    Cancel,
    Override(String),
    Quit,
}

/// The whole installer state.
pub struct App {
    pub wizard: Wizard,
    pub mode: Mode,
    pub theme: Theme,
    pub screen: Screen,
    pub focus: usize,
    pub dialog: Option<Dialog>,
    /// The highlighted answer of a yes/no dialog (`No` by default).
    pub answer_yes: bool,
    /// A message for the person on the current screen (a refusal, an error).
    pub notice: Option<String>,
    pub effects: Vec<Effect>,
    /// Why the disks (or the groups) could not be listed.
    pub load_error: Option<String>,
    pub kl: keyboard_locale::State,
    pub disk: disk::State,
    pub user: user::State,
    pub packages: packages::State,
    pub confirm: confirm::State,
    pub progress: progress::State,
    pub done: done::State,
}

impl App {
    pub fn new(wizard: Wizard, mode: Mode, theme: Theme) -> App {
        let mut app = App {
            kl: keyboard_locale::State::new(&wizard),
            user: user::State::new(wizard.choices()),
            wizard,
            mode,
            theme,
            screen: Screen::Welcome,
            focus: 0,
            dialog: None,
            answer_yes: false,
            notice: None,
            effects: Vec::new(),
            load_error: None,
            disk: disk::State::default(),
            packages: packages::State::default(),
            confirm: confirm::State::default(),
            progress: progress::State::default(),
            done: done::State::default(),
        };
        if app.mode == Mode::Attach {
            app.screen = Screen::Progress;
            app.progress.attached = true;
        }
        app.focus = app.first_focus();
        app
    }

    /// Focusable items of the current screen before the Back/Next buttons.
    pub fn items(&self) -> usize {
        match self.screen {
            Screen::Welcome => 0,
            Screen::KeyboardLocale => keyboard_locale::ITEMS,
            Screen::Disk => disk::ITEMS,
            Screen::User => user::items(self),
            Screen::Packages => 1,
            Screen::Confirm => confirm::items(self),
            Screen::Progress => progress::items(self),
            Screen::Done => 1,
        }
    }

    /// Whether the screen has Back/Next buttons.
    pub fn has_nav(&self) -> bool {
        self.screen.step().is_some()
    }

    /// Every focus position (items, then Back and Next).
    pub fn focus_count(&self) -> usize {
        self.items() + if self.has_nav() { 2 } else { 0 }
    }

    pub fn back_index(&self) -> Option<usize> {
        self.has_nav().then(|| self.items())
    }

    pub fn next_index(&self) -> Option<usize> {
        self.has_nav().then(|| self.items() + 1)
    }

    fn first_focus(&self) -> usize {
        if self.screen == Screen::Welcome {
            self.items() + 1
        } else {
            0
        }
    }

    /// Moves the focus by `by`, wrapping; the disabled Back of step 1 is
    /// skipped.
    pub fn move_focus(&mut self, by: isize) {
        let n = self.focus_count().max(1) as isize;
        let mut f = (self.focus as isize + by).rem_euclid(n) as usize;
        if self.screen == Screen::Welcome && Some(f) == self.back_index() {
            f = (f as isize + by).rem_euclid(n) as usize;
        }
        self.focus = f;
    }

    /// Keeps the focus in range after the item count changed.
    pub fn clamp_focus(&mut self) {
        let n = self.focus_count();
        if self.focus >= n {
            self.focus = n.saturating_sub(1);
        }
    }

    /// What keeps Next disabled on this screen (empty: enabled).
    pub fn next_problems(&self) -> Vec<Problem> {
        let Some(step) = self.screen.step() else {
            return Vec::new();
        };
        let mut p = self.wizard.step_problems(step);
        if step == Step::Confirm {
            p.extend(confirm::extra_problems(self));
        }
        p
    }

    /// Goes to `screen`, focus on its first item.
    pub fn show(&mut self, screen: Screen) {
        self.screen = screen;
        self.notice = None;
        self.focus = self.first_focus();
        match screen {
            Screen::KeyboardLocale => {
                self.kl.sync(&self.wizard);
                self.kl.zone_time = keyboard_locale::local_time_in(&self.wizard.choices().timezone);
            }
            Screen::Disk => self.disk.sync(&self.wizard),
            Screen::Confirm => self.confirm.understood = false,
            _ => {}
        }
    }

    /// Next: on the confirm screen it installs (or saves the plan).
    pub fn next(&mut self) {
        if self.screen.step().is_none() || !self.next_problems().is_empty() {
            return;
        }
        if self.screen == Screen::Confirm {
            match &self.mode {
                Mode::SavePlan(path) => self.effects.push(Effect::SavePlan(path.clone())),
                _ => self.effects.push(Effect::Install),
            }
            return;
        }
        self.show(self.screen.offset(1));
    }

    pub fn back(&mut self) {
        if self.screen.step().is_some() && self.screen != Screen::Welcome {
            self.show(self.screen.offset(-1));
        }
    }

    /// The install started: the progress screen follows `job`.
    pub fn install_started(&mut self, job: &str) {
        self.progress = progress::State {
            job: Some(job.to_string()),
            ..progress::State::default()
        };
        self.show(Screen::Progress);
    }

    /// A call to the daemon failed: say so on the current screen.
    pub fn refused(&mut self, message: String) {
        self.notice = Some(message);
    }

    /// One batch of terminal input (see `input`).
    pub fn on_batch(&mut self, batch: &[Event]) {
        if let Some(Dialog::Integrity(d)) = &mut self.dialog {
            if d.phrase_focused() {
                if let Some(refusal) = crate::paste_guard::judge(batch) {
                    d.refuse(refusal);
                    return;
                }
            }
        }
        for ev in batch {
            self.on_event(ev);
        }
    }

    fn on_event(&mut self, ev: &Event) {
        match ev {
            Event::Key(k) if k.kind != crossterm::event::KeyEventKind::Release => {
                self.on_key(k);
            }
            Event::Paste(text) => self.on_paste(text),
            _ => {}
        }
    }

    fn on_paste(&mut self, text: &str) {
        if let Some(Dialog::Integrity(d)) = &mut self.dialog {
            d.refuse(crate::paste_guard::Refusal::Paste);
            return;
        }
        if self.dialog.is_some() {
            return;
        }
        match self.screen {
            Screen::KeyboardLocale => keyboard_locale::paste(self, text),
            Screen::User => user::paste(self, text),
            _ => {}
        }
    }

    /// A job event from the daemon.
    pub fn on_job_event(&mut self, ev: JobEvent) {
        progress::on_event(self, ev);
    }

    /// The daemon's lists arrived.
    pub fn set_lists(
        &mut self,
        disks: Vec<forge_proto::DiskInfo>,
        groups: Vec<forge_proto::GroupInfo>,
    ) {
        self.wizard.set_disks(disks);
        self.wizard.set_groups(groups);
        self.disk.sync(&self.wizard);
    }

    /// The lists could not be read.
    pub fn set_load_error(&mut self, why: String) {
        self.load_error = Some(why);
    }

    /// The screen title (exact texts in docs/tui.md).
    pub fn title(&self) -> String {
        match self.screen {
            Screen::Welcome => tr("Welcome to InterGenOS"),
            Screen::KeyboardLocale => tr("Language and Region"),
            Screen::Disk => tr("Installation Disk"),
            Screen::User => tr("Users"),
            Screen::Packages => tr("Software to Install"),
            Screen::Confirm => tr("Ready to Install"),
            Screen::Progress => tr("Installing InterGenOS"),
            Screen::Done => done::title(self),
        }
    }
}

#[cfg(test)]
mod tests;
