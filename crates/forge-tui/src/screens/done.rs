//! Done: the result (complete, or failed at which step and why), every
//! warning the daemon sent, and what to do next (restart; the MokManager
//! steps on EFI; how to boot a disk-image file). Enter closes.

use crate::screens::labels::plain;
use crossterm::event::{KeyCode, KeyEvent};
use forge_proto::i18n::{ngettext, tr, trf};
use forge_proto::Phase;

use super::labels::fill;
use crate::app::{App, Effect};
use crate::widgets::draw::Body;

#[derive(Debug, Clone, Default)]
pub struct State {
    pub success: bool,
    pub dry_run: bool,
    /// Files that failed verification were installed by override.
    pub overridden: bool,
    /// The step that failed (label), on failure.
    pub failed_at: String,
    pub error: String,
    pub warnings: Vec<String>,
    pub efi: bool,
    pub image: bool,
}

impl State {
    /// The job's last word, with what the wizard knows about the install.
    pub fn from_result(
        app: &App,
        success: bool,
        phase_completed: Option<Phase>,
        error: String,
        warnings: Vec<String>,
    ) -> State {
        let failed = Phase::ALL
            .get(phase_completed.map_or(0, |p| p.index() as usize + 1))
            .map(|p| p.label())
            .unwrap_or_else(|| tr("Unknown step"));
        let mut all = app.progress.warnings.clone();
        for w in warnings {
            if !all.contains(&w) {
                all.push(w);
            }
        }
        let disk = &app.wizard.choices().disk;
        State {
            success,
            dry_run: app.wizard.choices().dry_run && !app.progress.attached,
            overridden: app.progress.overridden,
            failed_at: failed,
            error,
            warnings: all,
            efi: app.wizard.installs_efi() && !app.progress.attached,
            image: !disk.is_empty() && !disk.starts_with("/dev/"),
        }
    }
}

pub fn title(app: &App) -> String {
    if app.done.success {
        tr("Installation Complete")
    } else {
        tr("Installation Failed")
    }
}

pub fn buttons(_app: &App) -> Vec<(String, bool, bool)> {
    vec![(plain("_Close"), true, true)]
}

pub fn key(app: &mut App, k: &KeyEvent) -> bool {
    if matches!(k.code, KeyCode::Enter | KeyCode::Char(' ')) {
        app.effects.push(Effect::Quit);
        return true;
    }
    false
}

pub fn render(app: &App, b: &mut Body) {
    let t = app.theme;
    let d = &app.done;
    if d.success {
        let text = if d.dry_run && d.overridden {
            tr("The trial run finished: the plan is valid; the files that failed verification were accepted by your override. Nothing was written to the disk.")
        } else if d.dry_run {
            tr("The trial run finished: the plan is valid and the packages are verified. Nothing was written to the disk.")
        } else if d.warnings.is_empty() {
            tr("InterGenOS is installed. Restart the computer and remove the installation medium.")
        } else {
            fill(
                &ngettext(
                    "InterGenOS is installed, with one warning listed below. Read it before you restart.",
                    "InterGenOS is installed, with {count} warnings listed below. Read them before you restart.",
                    u32::try_from(d.warnings.len()).unwrap_or(u32::MAX),
                ),
                d.warnings.len() as u64,
                &[],
            )
        };
        b.text(&text, t.good());
    } else {
        b.text(
            &trf(
                "The installation stopped at: {phase}.",
                &[("phase", &d.failed_at)],
            ),
            t.problem(),
        );
        if !d.error.is_empty() {
            b.prefixed("  ", &d.error, t.base());
        }
        b.text(&tr("Everything set up for the install was undone; the computer is unchanged unless the disk had already been partitioned."), t.base());
    }
    b.blank();
    b.heading(&tr("Warnings"));
    if d.warnings.is_empty() {
        b.prefixed("  ", &tr("No warnings"), t.dim());
    }
    for w in &d.warnings {
        b.prefixed("  ! ", w, t.warning());
    }
    if d.success && !d.dry_run {
        b.blank();
        if d.efi {
            b.text(&tr("At the next start, a blue MokManager screen asks to enroll this computer's Secure Boot key: choose “Enroll MOK”, then “Continue”, then “Yes”, and type the Secure Boot password you chose."), t.base());
        }
        if d.image {
            b.text(&tr("The system was installed into a disk-image file. Boot it with QEMU, for example: qemu-system-x86_64 -accel tcg -m 1024 -drive file=IMAGE,format=raw"), t.base());
        }
    }
}
