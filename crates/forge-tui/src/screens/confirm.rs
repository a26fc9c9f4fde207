//! Confirm: every choice in one list (the GUI's summary rows) and the disk
//! that will be erased, then an explicit confirmation: the box "I
//! understand that everything on <device> will be erased" must be ticked
//! before Next ("Erase Disk and Install") is enabled. A trial run erases
//! nothing and needs no confirmation; with `--save-plan` nothing is
//! installed and Next saves the plan.

use crate::screens::labels::plain;
use crossterm::event::{KeyCode, KeyEvent};
use forge_proto::i18n::{tr, trf};
use forge_proto::{BootMode, Problem};

use super::labels;
use crate::app::{App, Mode};
use crate::widgets::draw::Body;

const TRIAL: usize = 0;
const UNDERSTOOD: usize = 1;

#[derive(Debug, Clone, Default)]
pub struct State {
    pub understood: bool,
}

pub fn items(app: &App) -> usize {
    match app.mode {
        Mode::SavePlan(_) => 0,
        _ => 2,
    }
}

/// The confirmation the screen itself asks for.
pub fn extra_problems(app: &App) -> Vec<Problem> {
    if items(app) == 0 || app.wizard.choices().dry_run || app.confirm.understood {
        return Vec::new();
    }
    vec![Problem::new(
        "confirm",
        tr("Tick the box to confirm that the disk will be erased."),
    )]
}

pub fn next_label(app: &App) -> String {
    match app.mode {
        Mode::SavePlan(_) => tr("Save Plan"),
        _ if app.wizard.choices().dry_run => plain("_Start Trial Run"),
        _ => plain("_Erase Disk and Install"),
    }
}

pub fn key(app: &mut App, k: &KeyEvent) -> bool {
    if !matches!(k.code, KeyCode::Char(' ') | KeyCode::Enter) {
        return false;
    }
    match app.focus {
        TRIAL => app.wizard.update(|c| c.dry_run = !c.dry_run),
        UNDERSTOOD => app.confirm.understood = !app.confirm.understood,
        _ => return false,
    }
    true
}

/// Width of the summary's label column: the longest label, at most 28.
const LABEL_MAX: usize = 28;

fn row(b: &mut Body, label: &str, value: &str, column: usize) {
    let label = format!("{label}:");
    let pad = column
        .saturating_sub(crate::widgets::draw::width(&label))
        .max(1);
    b.prefixed(
        &format!("{label}{}", " ".repeat(pad)),
        value,
        b.theme.base(),
    );
}

pub fn render(app: &App, b: &mut Body) {
    let w = &app.wizard;
    let c = w.choices();
    let t = app.theme;
    b.text(
        &tr("Check your choices. Use Back to change any of them."),
        t.dim(),
    );
    b.blank();
    let kb = if c.variant.is_empty() {
        c.layout.clone()
    } else {
        format!("{} — {}", c.layout, c.variant)
    };
    let column = [
        tr("Language"),
        tr("Keyboard"),
        tr("Time zone"),
        tr("User"),
        tr("Root password"),
        tr("Computer name"),
        tr("Software"),
        tr("Boot mode and file system"),
    ]
    .iter()
    .map(|l| crate::widgets::draw::width(l) + 2)
    .max()
    .unwrap_or(16)
    .min(LABEL_MAX);
    let row = |b: &mut Body, label: &str, value: &str| row(b, label, value, column);
    row(b, &tr("Language"), &c.locale);
    row(b, &tr("Keyboard"), &kb);
    row(b, &tr("Time zone"), &c.timezone.replace('_', " "));
    let role = if c.admin {
        tr("administrator")
    } else {
        tr("standard user")
    };
    row(
        b,
        &tr("User"),
        &trf(
            "{full_name} ({name}), {role}",
            &[
                ("full_name", &c.full_name),
                ("name", &c.user_name),
                ("role", &role),
            ],
        ),
    );
    let root = if c.root_same_as_user {
        trf("Same as {name}'s password", &[("name", &c.user_name)])
    } else {
        tr("Its own password")
    };
    row(b, &tr("Root password"), &root);
    row(b, &tr("Computer name"), &c.hostname);
    let groups: Vec<String> = w
        .plan()
        .package_groups
        .iter()
        .map(|g| labels::group(g))
        .collect();
    row(
        b,
        &tr("Software"),
        &trf(
            "{groups} — {size} on disk",
            &[
                ("groups", &groups.join(", ")),
                ("size", &w.format_size(w.required_bytes())),
            ],
        ),
    );
    let boot = match c.boot {
        BootMode::Auto => trf(
            "{mode} (detected)",
            &[("mode", &labels::boot_mode(w.detected_boot()))],
        ),
        m => labels::boot_mode(m),
    };
    row(
        b,
        &tr("Boot mode and file system"),
        &format!("{boot} · {}", c.filesystem.as_str()),
    );
    b.blank();
    let device = match w.chosen_disk() {
        Some(d) => {
            let model = if d.model.trim().is_empty() {
                d.device.clone()
            } else {
                d.model.trim().to_string()
            };
            b.heading(&format!(
                "{}: {}",
                tr("Disk to Erase"),
                trf(
                    "{model}, {size}",
                    &[("model", &model), ("size", &w.format_size(d.size))]
                )
            ));
            b.prefixed(
                "  ! ",
                &trf(
                    "Everything on {device} will be erased.",
                    &[("device", &d.device)],
                ),
                t.warning(),
            );
            d.device.clone()
        }
        None => {
            b.heading(&format!(
                "{}: {}",
                tr("Disk to Erase"),
                tr("No disk chosen")
            ));
            String::new()
        }
    };
    if items(app) == 0 {
        return;
    }
    b.blank();
    b.checkbox(&tr("Trial run"), c.dry_run, app.focus == TRIAL, false);
    if c.dry_run {
        b.prefixed(
            "      ",
            &tr(
                "Check the plan and verify the packages, then stop: nothing is written to the disk",
            ),
            t.dim(),
        );
    }
    b.checkbox(
        &trf(
            "I understand that everything on {device} will be erased",
            &[("device", &device)],
        ),
        app.confirm.understood,
        app.focus == UNDERSTOOD,
        c.dry_run,
    );
}
