//! Language, keyboard and time zone: searchable lists of the live system's
//! UTF-8 locales, keyboard layouts and their variants (xkeyboard-config) and
//! IANA time zones, plus a line to try typing. Typing here uses the
//! terminal's own keyboard (the SSH client's or the console's); the chosen
//! layout is the installed system's.

use crossterm::event::KeyEvent;
use forge_proto::i18n::tr;
use forge_proto::wizard::Wizard;

use crate::app::App;
use crate::widgets::draw::Body;
use crate::widgets::search_list::ListKey;
use crate::widgets::{SearchList, TextField};

/// Focus items: language, layout, variant, try field, time zone.
pub const ITEMS: usize = 5;
const LANGUAGE: usize = 0;
const LAYOUT: usize = 1;
const VARIANT: usize = 2;
const TRY: usize = 3;
const ZONE: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct State {
    pub locales: SearchList,
    pub layouts: SearchList,
    pub variants: SearchList,
    pub try_line: TextField,
    pub zones: SearchList,
    /// "14:05, Friday" in the chosen zone (read when it is chosen).
    pub zone_time: String,
}

/// The time now in `zone` ("14:05, Friday"), from `date` with `TZ` set
/// for that one child (no process-wide TZ change); empty when unknown.
pub fn local_time_in(zone: &str) -> String {
    if zone.is_empty() || zone.contains("..") {
        return String::new();
    }
    std::process::Command::new("date")
        .arg("+%H:%M, %A")
        .env("TZ", format!(":{zone}"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn xkb(desc: &str, name: &str) -> String {
    if desc.is_empty() {
        name.to_string()
    } else {
        gettextrs::dgettext("xkeyboard-config", desc)
    }
}

fn variants(w: &Wizard) -> SearchList {
    let layout = &w.choices().layout;
    let mut items = vec![(String::new(), tr("Default"))];
    if let Some(info) = w.catalog().layouts.get(layout) {
        for (n, d) in &info.variants {
            items.push((n.clone(), xkb(d, n)));
        }
    }
    let mut l = SearchList::new(items, true);
    l.select(&w.choices().variant);
    l
}

impl State {
    /// The lists from the wizard's catalog.
    pub fn new(w: &Wizard) -> State {
        let c = w.catalog();
        let locales = c
            .locales
            .iter()
            .filter(|l| l.ends_with(".UTF-8") || l.ends_with(".utf8"))
            .map(|l| (l.clone(), l.clone()))
            .collect();
        let mut layouts: Vec<(String, String)> = c
            .layouts
            .iter()
            .map(|(n, i)| (n.clone(), format!("{} ({n})", xkb(&i.description, n))))
            .collect();
        layouts.sort_by_key(|a| a.1.to_lowercase());
        let zones = c
            .timezones
            .iter()
            .filter(|z| z.contains('/') || z.as_str() == "UTC")
            .filter(|z| {
                !z.starts_with("Etc/") && !z.starts_with("posix/") && !z.starts_with("right/")
            })
            .map(|z| (z.clone(), z.replace('_', " ")))
            .collect();
        let mut s = State {
            locales: SearchList::new(locales, true),
            layouts: SearchList::new(layouts, true),
            variants: SearchList::default(),
            try_line: TextField::default(),
            zones: SearchList::new(zones, true),
            zone_time: String::new(),
        };
        s.sync(w);
        s
    }

    /// Marks the wizard's choices in the lists.
    pub fn sync(&mut self, w: &Wizard) {
        let c = w.choices();
        self.locales.select(&c.locale);
        self.layouts.select(&c.layout);
        self.zones.select(&c.timezone);
        self.variants = variants(w);
    }
}

pub fn key(app: &mut App, k: &KeyEvent) -> bool {
    let st = &mut app.kl;
    let list = match app.focus {
        LANGUAGE => &mut st.locales,
        LAYOUT => &mut st.layouts,
        VARIANT => &mut st.variants,
        ZONE => &mut st.zones,
        TRY => {
            // Enter moves on (handled by the app); everything else types.
            if k.code == crossterm::event::KeyCode::Enter {
                return false;
            }
            return st.try_line.key(k).0;
        }
        _ => return false,
    };
    match list.key(k) {
        ListKey::Ignored => false,
        ListKey::Moved => true,
        ListKey::Selected(id) => {
            let focus = app.focus;
            app.wizard.update(|c| match focus {
                LANGUAGE => c.locale = id,
                LAYOUT => {
                    c.layout = id;
                    c.variant.clear();
                }
                VARIANT => c.variant = id,
                _ => c.timezone = id,
            });
            if focus == LAYOUT {
                app.kl.variants = variants(&app.wizard);
            }
            if focus == ZONE {
                app.kl.zone_time = local_time_in(&app.wizard.choices().timezone);
            }
            true
        }
    }
}

pub fn paste(app: &mut App, text: &str) {
    let st = &mut app.kl;
    match app.focus {
        LANGUAGE => st.locales.paste(text),
        LAYOUT => st.layouts.paste(text),
        VARIANT => st.variants.paste(text),
        TRY => st.try_line.insert(text),
        ZONE => st.zones.paste(text),
        _ => {}
    }
}

pub fn render(app: &App, b: &mut Body, height: usize) {
    let st = &app.kl;
    let c = app.wizard.choices();
    let rows = if height >= 30 { 5 } else { 3 };
    let none = |_: &str| false;
    let search = tr("Search");
    let variant = if c.variant.is_empty() {
        tr("Default")
    } else {
        st.variants
            .label_of(&c.variant)
            .unwrap_or(&c.variant)
            .to_string()
    };
    let layout = st
        .layouts
        .label_of(&c.layout)
        .unwrap_or(&c.layout)
        .to_string();
    b.heading(&format!("{}: {}", tr("Language"), c.locale));
    b.list(&st.locales, &search, app.focus == LANGUAGE, rows, &none);
    b.heading(&format!("{}: {layout}", tr("Keyboard layout")));
    b.list(&st.layouts, &search, app.focus == LAYOUT, rows, &none);
    b.heading(&format!("{}: {variant}", tr("Keyboard variant")));
    b.list(
        &st.variants,
        &search,
        app.focus == VARIANT,
        rows.min(3),
        &none,
    );
    b.field(
        &tr("Try typing here"),
        &st.try_line,
        app.focus == TRY,
        false,
    );
    let mut zone = format!("{}: {}", tr("Time Zone"), c.timezone.replace('_', " "));
    if !st.zone_time.is_empty() {
        zone.push_str(" — ");
        zone.push_str(&st.zone_time);
    }
    b.heading(&zone);
    b.list(&st.zones, &search, app.focus == ZONE, rows, &none);
}

#[cfg(test)]
mod tests {
    use super::local_time_in;

    #[test]
    fn local_time_of_a_zone() {
        let t = local_time_in("UTC");
        let (hm, _day) = t.split_once(", ").expect("HH:MM, day");
        assert_eq!(hm.len(), 5, "{t}");
        assert_eq!(local_time_in("../../etc/passwd"), "");
        assert_eq!(local_time_in(""), "");
    }
}
