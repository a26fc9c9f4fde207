//! Software: the package groups from `ListPackageGroups` with description,
//! package count, download and installed sizes; required groups are ticked
//! and locked. The total of the chosen groups; the wizard's problems (too
//! little disk for this software) gate Next.

use crossterm::event::{KeyCode, KeyEvent};
use forge_proto::i18n::{ngettext, tr};
use ratatui::text::{Line, Span};

use super::labels::{self, fill};
use crate::app::App;
use crate::bidi::visual;
use crate::widgets::draw::{fit, Body};

#[derive(Debug, Clone, Default)]
pub struct State {
    /// The highlighted group.
    pub cursor: usize,
}

fn sizes_line(app: &App, count: u32, download: u64, installed: u64) -> String {
    fill(
        &ngettext(
            "{count} package · {download} download · {installed} on disk",
            "{count} packages · {download} download · {installed} on disk",
            count,
        ),
        u64::from(count),
        &[
            ("download", &app.wizard.format_size(download)),
            ("installed", &app.wizard.format_size(installed)),
        ],
    )
}

pub fn key(app: &mut App, k: &KeyEvent) -> bool {
    let n = app.wizard.groups().len();
    match k.code {
        KeyCode::Up => app.packages.cursor = app.packages.cursor.saturating_sub(1),
        KeyCode::Down if app.packages.cursor + 1 < n => app.packages.cursor += 1,
        KeyCode::Down => return false,
        KeyCode::Home => app.packages.cursor = 0,
        KeyCode::End => app.packages.cursor = n.saturating_sub(1),
        KeyCode::Char(' ') | KeyCode::Enter => {
            let Some(g) = app.wizard.groups().get(app.packages.cursor).cloned() else {
                return false;
            };
            if g.required {
                app.notice = Some(tr("Required: always installed"));
                return true;
            }
            app.notice = None;
            app.wizard.update(|c| {
                if c.groups.contains(&g.name) {
                    c.groups.retain(|n| *n != g.name);
                } else {
                    c.groups.push(g.name.clone());
                }
            });
        }
        _ => return false,
    }
    true
}

pub fn render(app: &App, b: &mut Body, height: usize) {
    let t = app.theme;
    let w = &app.wizard;
    b.text(
        &tr("Required groups are always installed. Sizes include every package a group needs."),
        t.dim(),
    );
    b.blank();
    if w.groups().is_empty() {
        b.text(
            &tr("The installer service has not listed any software yet."),
            t.problem(),
        );
    }
    // Each group takes two lines; scroll around the cursor.
    let per_page = (height.saturating_sub(5) / 2).max(1);
    let first = app.packages.cursor.saturating_sub(per_page - 1);
    let selected = &w.choices().groups;
    for (i, g) in w.groups().iter().enumerate().skip(first).take(per_page) {
        let focused = app.focus == 0 && i == app.packages.cursor;
        let on = g.required || selected.contains(&g.name);
        let mut title = format!(
            "{} {}",
            if on { "[x]" } else { "[ ]" },
            labels::group(&g.name)
        );
        if g.required {
            title.push_str(&format!(" ({})", tr("Required")));
        }
        if !g.description.is_empty() {
            title.push_str(" — ");
            title.push_str(&g.description);
        }
        let style = if focused {
            t.focus()
        } else if g.required {
            t.disabled()
        } else {
            t.base()
        };
        if focused {
            b.cursor = Some((3, b.lines.len()));
        }
        let mark = if focused { ">" } else { " " };
        b.lines.push(Line::from(vec![
            Span::raw(format!("{mark} ")),
            Span::styled(fit(&visual(&title), b.width.saturating_sub(2)), style),
        ]));
        let sizes = sizes_line(app, g.packages, g.download_size, g.installed_size);
        b.lines
            .push(Line::styled(format!("      {}", visual(&sizes)), t.dim()));
    }
    let chosen: Vec<_> = w
        .groups()
        .iter()
        .filter(|g| selected.contains(&g.name))
        .collect();
    let count: u32 = chosen.iter().map(|g| g.packages).sum();
    let download: u64 = chosen.iter().map(|g| g.download_size).sum();
    let installed: u64 = chosen.iter().map(|g| g.installed_size).sum();
    b.blank();
    let total = fill(
        &ngettext(
            "{count} package · {download} to read from the installation medium · {installed} on disk",
            "{count} packages · {download} to read from the installation medium · {installed} on disk",
            count,
        ),
        u64::from(count),
        &[
            ("download", &w.format_size(download)),
            ("installed", &w.format_size(installed)),
        ],
    );
    b.prefixed(&format!("{}: ", tr("Total")), &total, t.base());
}
