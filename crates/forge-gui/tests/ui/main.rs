//! Screen-by-screen UI tests. GTK must run on one thread, so this is a
//! libtest-mimic harness (`harness = false`) running every trial on the
//! main thread. Run under a virtual display:
//!
//!     xvfb-run -a dbus-run-session -- cargo test -p forge-gui --features autopilot --test ui
//!
//! Each screen is built on its own over a `ForgeState` with injected data
//! (disks, package groups; no daemon), driven (fields filled, items
//! chosen) and checked (validation messages, `complete`, which gates
//! Next). A PNG of each screen, left-to-right and right-to-left, goes to
//! `<target>/ui-screens/`, checked not blank. The integrity entry's paste
//! refusal is proven per route (AT-SPI's PasteText: tests/gui/walk.py).
//!
//! One module per screen; `common` holds the fixtures and helpers. Needs
//! the crate's `autopilot` feature (the screens' driving accessors).

mod common;
mod confirm;
mod disk;
mod done;
mod integrity;
mod keyboard_locale;
mod packages;
mod pot;
mod progress;
#[path = "../../../../tests/harness/skip.rs"]
mod strict;
mod user;
mod welcome;
mod window;

use gtk::glib;
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let mut args = Arguments::from_args();
    // GTK lives on the main thread: run every trial there, one at a time.
    args.test_threads = Some(1);
    if std::env::var("LANG").is_err() && std::env::var("LC_ALL").is_err() {
        // gettext ignores LANGUAGE under the plain "C" locale.
        std::env::set_var("LANG", "C.UTF-8");
    }
    let display = std::env::var("DISPLAY").is_ok() || std::env::var("WAYLAND_DISPLAY").is_ok();
    let init = if display {
        // GLib decides once, at the first g_dgettext(), whether GtkBuilder
        // translates at all (not when the app's domain lacks a catalog for
        // the locale). Make that first call see the Arabic catalog so the
        // right-to-left screenshots get translated .ui strings too.
        std::env::set_var("LANGUAGE", "ar");
        let r = forge_gui::init();
        let _ = glib::dgettext(Some(forge_proto::i18n::DOMAIN), "Release");
        std::env::remove_var("LANGUAGE");
        forge_proto::i18n::init(&forge_gui::localedir());
        gtk::Widget::set_default_direction(gtk::TextDirection::Ltr);
        r
    } else {
        Err("no display".to_string())
    };
    let gui = |name: &str, f: fn() -> Result<(), Failed>| {
        let why = init.clone().err();
        Trial::test(name, move || match why {
            None => f(),
            Some(why) => common::skip(&format!("{why}: run under xvfb-run -a dbus-run-session")),
        })
    };
    let tests = vec![
        gui("welcome", welcome::t_welcome),
        gui("keyboard_locale", keyboard_locale::t_keyboard_locale),
        gui("disk", disk::t_disk),
        gui("user", user::t_user),
        gui("packages", packages::t_packages),
        gui("confirm", confirm::t_confirm),
        gui("progress", progress::t_progress),
        gui("done", done::t_done),
        gui(
            "integrity_paste_signal_menu_insert_drop",
            integrity::t_integrity_paste_signal_and_menu,
        ),
        gui(
            "integrity_keyboard_middle_click_typing",
            integrity::t_integrity_x11_routes,
        ),
        gui(
            "integrity_im_commit_one_char_only",
            integrity::t_integrity_im_commit,
        ),
        gui("integrity_screenshot", integrity::t_integrity_screenshot),
        gui("window_navigation", window::t_window_navigation),
        Trial::test("pot_current", pot::t_pot_current),
    ];
    libtest_mimic::run(&args, tests).exit();
}
