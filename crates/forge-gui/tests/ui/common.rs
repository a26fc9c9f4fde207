//! What every screen's tests share: the main-loop pump, fixtures (disks,
//! package groups, states), showing a widget, screenshots in both text
//! directions, and the strict skip.

pub use std::path::PathBuf;
pub use std::time::{Duration, Instant};

pub use adw::prelude::*;
pub use gtk::glib;
pub use libtest_mimic::Failed;

pub use forge_gui::model::{DiskInfo, GroupInfo, JobEvent, Mismatch};
pub use forge_gui::screens::confirm::ConfirmPage;
pub use forge_gui::screens::disk::DiskPage;
pub use forge_gui::screens::done::DonePage;
pub use forge_gui::screens::integrity_dialog::IntegrityDialog;
pub use forge_gui::screens::keyboard_locale::KeyboardLocalePage;
pub use forge_gui::screens::packages::PackagesPage;
pub use forge_gui::screens::progress::{PhaseState, ProgressPage};
pub use forge_gui::screens::user::UserPage;
pub use forge_gui::screens::welcome::WelcomePage;
pub use forge_gui::screens::ForgeStepExt;
pub use forge_gui::state::ForgeState;
pub use forge_gui::window::ForgeWindow;

/// Reports why a test cannot run here and passes, or, under
/// `FORGE_TEST_STRICT=1`, fails (the workspace's one definition of a skip,
/// tests/harness/skip.rs).
pub fn skip(why: &str) -> Result<(), Failed> {
    crate::strict::skip(why);
    Ok(())
}

pub const GB: u64 = 1_000_000_000;

pub fn check(cond: bool, what: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

/// Runs the main loop for `ms` milliseconds.
pub fn pump(ms: u64) {
    let ctx = glib::MainContext::default();
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end {
        while ctx.iteration(false) {}
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Pumps until `cond` or `secs` pass.
pub fn pump_until(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        pump(20);
    }
    cond()
}

pub fn screens_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().map(|p| p.join("ui-screens")).unwrap_or(tmp)
}

pub fn disks() -> Vec<DiskInfo> {
    vec![
        DiskInfo {
            device: "/dev/nvme0n1".into(),
            model: "Samsung SSD 980 PRO 500GB".into(),
            size: 500 * GB,
            transport: "nvme".into(),
            ..Default::default()
        },
        DiskInfo {
            device: "/dev/sdb".into(),
            model: "SanDisk Ultra USB 3.0".into(),
            size: 64 * GB,
            removable: true,
            transport: "usb".into(),
            ..Default::default()
        },
        DiskInfo {
            device: "/dev/sdc".into(),
            model: "Old Flash Drive".into(),
            size: 2 * GB,
            removable: true,
            transport: "usb".into(),
            ..Default::default()
        },
        DiskInfo {
            device: "/dev/sda".into(),
            model: "WDC WD10EZEX (live medium)".into(),
            size: 1000 * GB,
            transport: "sata".into(),
            in_use: true,
            ..Default::default()
        },
    ]
}

pub fn groups() -> Vec<GroupInfo> {
    let g = |name: &str, desc: &str, req: bool, n: u32, dl: u64, inst: u64| GroupInfo {
        name: name.into(),
        description: desc.into(),
        required: req,
        packages: n,
        download_size: dl,
        installed_size: inst,
    };
    vec![
        g(
            "toolchain",
            "Compilers and build tools",
            true,
            28,
            180_000_000,
            720_000_000,
        ),
        g(
            "core",
            "The base operating system",
            true,
            272,
            400_000_000,
            1_600_000_000,
        ),
        g(
            "base",
            "Everyday command-line tools",
            false,
            23,
            30_000_000,
            110_000_000,
        ),
        g(
            "desktop",
            "GNOME 49 on Wayland",
            false,
            420,
            1_200_000_000,
            4_800_000_000,
        ),
        g(
            "extra",
            "More applications",
            false,
            112,
            700_000_000,
            2_900_000_000,
        ),
        g(
            "ai",
            "InterGen, the local assistant, and llama.cpp",
            false,
            2,
            900_000_000,
            1_000_000_000,
        ),
    ]
}

pub fn state() -> ForgeState {
    let s = ForgeState::from_system();
    s.set_release("InterGenOS 1.0-dev (build v1.0-dev1)");
    s.update(|c| {
        c.locale = "en_US.UTF-8".into();
        c.timezone = "Europe/Berlin".into();
    });
    s
}

pub fn full_state() -> ForgeState {
    let s = state();
    s.set_disks(disks());
    s.set_groups(groups());
    s.update(|c| {
        c.disk = "/dev/nvme0n1".into();
        c.full_name = "Alice Liddell".into();
        c.user_name = "alice".into();
        c.hostname = "alice-pc".into();
        c.user_password = forge_proto::Secret::new("Looking-Glass-1865");
        c.user_password_confirm = forge_proto::Secret::new("Looking-Glass-1865");
    });
    s
}

/// Puts `child` in a window of installer size and shows it.
pub fn show(child: &impl IsA<gtk::Widget>) -> gtk::Window {
    let win = adw::Window::builder()
        .default_width(900)
        .default_height(700)
        .content(child)
        .build();
    win.present();
    pump_until(5, || win.is_mapped() && win.width() > 0);
    pump(300);
    win.upcast()
}

/// Saves `<name>-<dir>.png` of `w` and checks it is not blank.
pub fn screenshot(w: &impl IsA<gtk::Widget>, name: &str) -> Result<(), Failed> {
    pump(150);
    let dir = if gtk::Widget::default_direction() == gtk::TextDirection::Rtl {
        "rtl"
    } else {
        "ltr"
    };
    let path = screens_dir().join(format!("{name}-{dir}.png"));
    let variance = forge_gui::shot::save_png(w, &path).map_err(Failed::from)?;
    check(
        variance > 50.0,
        format!(
            "{} looks blank (pixel variance {variance:.1})",
            path.display()
        ),
    )?;
    eprintln!("saved {} (variance {variance:.0})", path.display());
    Ok(())
}

/// The whole window (header bar with Back/Next) on `screen`, saved as
/// `<name>-<dir>.png`. `prep` may fill the screen first.
pub fn window_shot(
    s: &ForgeState,
    screen: &str,
    name: &str,
    prep: impl Fn(&ForgeWindow),
) -> Result<(), Failed> {
    let w = ForgeWindow::new_standalone(s);
    match screen {
        "progress" | "done" => w.show_screen(screen),
        step => w.jump_to_step(step),
    }
    prep(&w);
    w.present();
    pump_until(5, || w.is_mapped() && w.width() > 0);
    pump(700);
    let r = screenshot(&w, name);
    w.close();
    r
}

/// Runs `f` once left-to-right and once right-to-left (Arabic catalog).
pub fn both_directions(f: impl Fn() -> Result<(), Failed>) -> Result<(), Failed> {
    f()?;
    let old = std::env::var("LANGUAGE").ok();
    std::env::set_var("LANGUAGE", "ar");
    // textdomain() (in init) bumps gettext's catalog counter, so cached
    // translations are looked up again for the new LANGUAGE.
    forge_proto::i18n::init(&forge_gui::localedir());
    gtk::Widget::set_default_direction(gtk::TextDirection::Rtl);
    let r = f();
    gtk::Widget::set_default_direction(gtk::TextDirection::Ltr);
    match old {
        Some(v) => std::env::set_var("LANGUAGE", v),
        None => std::env::remove_var("LANGUAGE"),
    }
    forge_proto::i18n::init(&forge_gui::localedir());
    r
}
