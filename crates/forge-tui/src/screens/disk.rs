//! Disk: the disks from `ListDisks` (model, size, connection, device),
//! removable, in-use and read-only ones marked; a disk the wizard refuses
//! (in use, read-only, too small for the chosen software) is shown greyed
//! with the reason and cannot be selected. The boot mode (detected,
//! overridable) and the file system; the erase warning.

use crossterm::event::{KeyCode, KeyEvent};
use forge_proto::i18n::{tr, trf};
use forge_proto::wizard::Wizard;
use forge_proto::BootMode;

use super::labels::{self, BOOT_MODES, FILESYSTEMS};
use crate::app::App;
use crate::widgets::draw::Body;
use crate::widgets::search_list::ListKey;
use crate::widgets::SearchList;

/// Focus items: the disk list, boot mode, file system.
pub const ITEMS: usize = 3;
const LIST: usize = 0;
const BOOT: usize = 1;
const FS: usize = 2;

#[derive(Debug, Clone, Default)]
pub struct State {
    pub list: SearchList,
}

/// One disk's line: "Model, 20.0 GB · SATA · /dev/sda · Removable".
pub fn disk_line(w: &Wizard, d: &forge_proto::DiskInfo) -> String {
    let model = if d.model.trim().is_empty() {
        d.device.clone()
    } else {
        d.model.trim().to_string()
    };
    let transport = if d.transport.is_empty() {
        tr("unknown connection")
    } else {
        d.transport.to_uppercase()
    };
    let mut s = format!(
        "{} · {transport}",
        trf(
            "{model}, {size}",
            &[("model", &model), ("size", &w.format_size(d.size))]
        ),
    );
    if model != d.device {
        s.push_str(" · ");
        s.push_str(&d.device);
    }
    for (on, tag) in [
        (d.removable, tr("Removable")),
        (d.in_use, tr("In use")),
        (d.read_only, tr("Read-only")),
    ] {
        if on {
            s.push_str(" · ");
            s.push_str(&tag);
        }
    }
    s
}

impl State {
    /// Rebuilds the list from the wizard's disks.
    pub fn sync(&mut self, w: &Wizard) {
        let keep = self.list.highlighted().map(str::to_string);
        let items = w
            .disks()
            .iter()
            .map(|d| (d.device.clone(), disk_line(w, d)))
            .collect();
        self.list = SearchList::new(items, false);
        if let Some(k) = keep {
            self.list.select(&k);
        }
        self.list.select(&w.choices().disk);
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], now: T, by: isize) -> T {
    let i = all.iter().position(|x| *x == now).unwrap_or(0) as isize;
    all[(i + by).rem_euclid(all.len() as isize) as usize]
}

pub fn key(app: &mut App, k: &KeyEvent) -> bool {
    let by = match k.code {
        KeyCode::Left => -1,
        KeyCode::Char(' ') | KeyCode::Right => 1,
        _ => 0,
    };
    match app.focus {
        LIST => match app.disk.list.key(k) {
            ListKey::Ignored => false,
            ListKey::Moved => true,
            ListKey::Selected(dev) => {
                let refusal = app
                    .wizard
                    .disks()
                    .iter()
                    .find(|d| d.device == dev)
                    .and_then(|d| app.wizard.disk_refusal(d));
                match refusal {
                    Some(why) => {
                        app.notice = Some(why);
                        let chosen = app.wizard.choices().disk.clone();
                        app.disk.list.select(&chosen);
                    }
                    None => {
                        app.notice = None;
                        app.wizard.update(|c| c.disk = dev);
                    }
                }
                true
            }
        },
        BOOT if by != 0 => {
            let now = app.wizard.choices().boot;
            app.wizard.update(|c| c.boot = cycle(&BOOT_MODES, now, by));
            app.disk.sync(&app.wizard);
            true
        }
        FS if by != 0 => {
            let now = app.wizard.choices().filesystem;
            app.wizard
                .update(|c| c.filesystem = cycle(&FILESYSTEMS, now, by));
            app.disk.sync(&app.wizard);
            true
        }
        _ => false,
    }
}

pub fn render(app: &App, b: &mut Body, height: usize) {
    let w = &app.wizard;
    let t = app.theme;
    b.text(
        &tr("Choose the disk InterGenOS will be installed on."),
        t.base(),
    );
    b.blank();
    if let Some(e) = &app.load_error {
        b.prefixed("! ", e, t.problem());
    } else if w.disks().is_empty() {
        b.text(
            &tr("No disks were found. Connect a disk and restart the installer."),
            t.problem(),
        );
    }
    let refused = |dev: &str| {
        w.disks()
            .iter()
            .find(|d| d.device == dev)
            .is_some_and(|d| w.disk_refusal(d).is_some())
    };
    let rows = height.saturating_sub(11).clamp(2, 8);
    b.list(&app.disk.list, "", app.focus == LIST, rows, &refused);
    // The highlighted disk's refusal, in words.
    let why = app
        .disk
        .list
        .highlighted()
        .and_then(|dev| w.disks().iter().find(|d| d.device == dev))
        .and_then(|d| w.disk_refusal(d));
    match why {
        Some(why) => b.prefixed("    ", &why, t.warning()),
        None => b.blank(),
    }
    let detected = labels::boot_mode(w.detected_boot());
    let boot = match w.choices().boot {
        BootMode::Auto => trf("Automatic ({mode}, detected)", &[("mode", &detected)]),
        m => labels::boot_mode(m),
    };
    b.choice(&tr("Boot mode"), &boot, app.focus == BOOT);
    b.choice(
        &tr("File system"),
        &labels::filesystem(w.choices().filesystem),
        app.focus == FS,
    );
    b.blank();
    b.prefixed(
        "! ",
        &tr("Everything on the chosen disk will be erased: all partitions, files and other operating systems on it."),
        t.warning(),
    );
}
