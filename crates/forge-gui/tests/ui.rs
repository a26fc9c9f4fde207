//! Screen-by-screen UI tests. GTK must run on one thread, so this is a
//! libtest-mimic harness (`harness = false`) running every trial on the
//! main thread. Run under a virtual display:
//!
//!     xvfb-run -a dbus-run-session -- cargo test -p forge-gui --test ui
//!
//! Each screen is built on its own over a `ForgeState` with injected data
//! (disks, package groups; no daemon), driven (fields filled, items
//! chosen) and checked (validation messages, `complete`, which gates
//! Next). A PNG of each screen, left-to-right and right-to-left, goes to
//! `<target>/ui-screens/`, checked not blank. The integrity entry's paste
//! refusal is proven per route (AT-SPI's PasteText: tests/gui/walk.py).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use adw::prelude::*;
use gtk::glib;
use libtest_mimic::{Arguments, Failed, Trial};

use forge_gui::model::{DiskInfo, GroupInfo, JobEvent};
use forge_gui::screens::confirm::ConfirmPage;
use forge_gui::screens::disk::DiskPage;
use forge_gui::screens::done::DonePage;
use forge_gui::screens::integrity_dialog::IntegrityDialog;
use forge_gui::screens::keyboard_locale::KeyboardLocalePage;
use forge_gui::screens::packages::PackagesPage;
use forge_gui::screens::progress::{PhaseState, ProgressPage};
use forge_gui::screens::user::UserPage;
use forge_gui::screens::welcome::WelcomePage;
use forge_gui::state::ForgeState;
use forge_gui::window::ForgeWindow;

const GB: u64 = 1_000_000_000;

fn check(cond: bool, what: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

/// Runs the main loop for `ms` milliseconds.
fn pump(ms: u64) {
    let ctx = glib::MainContext::default();
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end {
        while ctx.iteration(false) {}
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Pumps until `cond` or `secs` pass.
fn pump_until(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        pump(20);
    }
    cond()
}

fn screens_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().map(|p| p.join("ui-screens")).unwrap_or(tmp)
}

fn disks() -> Vec<DiskInfo> {
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

fn groups() -> Vec<GroupInfo> {
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

fn state() -> ForgeState {
    let s = ForgeState::from_system();
    s.set_release("InterGenOS 1.0-dev (build v1.0-dev1)");
    s.update(|c| {
        c.locale = "en_US.UTF-8".into();
        c.timezone = "Europe/Berlin".into();
    });
    s
}

fn full_state() -> ForgeState {
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
fn show(child: &impl IsA<gtk::Widget>) -> gtk::Window {
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
fn screenshot(w: &impl IsA<gtk::Widget>, name: &str) -> Result<(), Failed> {
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
fn window_shot(
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
fn both_directions(f: impl Fn() -> Result<(), Failed>) -> Result<(), Failed> {
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

// ---------------------------------------------------------------- screens

fn t_welcome() -> Result<(), Failed> {
    let s = state();
    let p = WelcomePage::new(&s);
    let win = show(&p);
    check(p.complete(), "welcome is always complete")?;
    win.close();
    both_directions(|| window_shot(&state(), "welcome", "01-welcome", |_| {}))
}

fn t_keyboard_locale() -> Result<(), Failed> {
    let s = state();
    let p = KeyboardLocalePage::new(&s);
    let win = show(&p);
    let list = p.locale_list().ok_or("no locale list")?;
    let all = list.visible_count();
    check(all > 50, format!("only {all} locales listed"))?;
    p.locale_search().set_text("de_DE");
    pump_until(3, || list.visible_count() < all);
    check(
        list.visible_count() >= 1 && list.visible_count() < all,
        format!("search did not filter ({} of {all})", list.visible_count()),
    )?;
    check(list.select("de_DE.UTF-8"), "de_DE.UTF-8 not offered")?;
    pump(50);
    check(
        s.choices().locale == "de_DE.UTF-8",
        "locale choice not stored",
    )?;
    check(p.choose_layout("de"), "layout de not offered")?;
    pump(50);
    check(
        p.choose_variant("nodeadkeys"),
        "variant nodeadkeys not offered",
    )?;
    pump(50);
    check(
        s.choices().layout == "de" && s.choices().variant == "nodeadkeys",
        format!("keyboard is {}:{}", s.choices().layout, s.choices().variant),
    )?;
    let zones = p.timezone_list().ok_or("no zone list")?;
    p.timezone_search().set_text("tokyo");
    pump_until(3, || zones.visible_count() < 10);
    check(zones.select("Asia/Tokyo"), "Asia/Tokyo not found by search")?;
    pump(50);
    check(s.choices().timezone == "Asia/Tokyo", "zone not stored")?;
    check(
        p.time_label().contains("Tokyo") && p.time_label().contains(':'),
        format!("local time line: {:?}", p.time_label()),
    )?;
    check(
        p.complete(),
        format!("valid choices but incomplete: {:?}", p.problem_texts()),
    )?;
    // A layout the system does not have is a problem shown on this screen.
    s.update(|c| c.layout = "no-such-layout".into());
    check(!p.complete(), "invalid layout accepted")?;
    check(
        p.problem_texts().iter().any(|t| !t.is_empty()),
        "no inline problem for an invalid layout",
    )?;
    s.update(|c| c.layout = "de".into());
    check(p.complete(), "valid again but incomplete")?;
    p.timezone_search().set_text("");
    p.locale_search().set_text("");
    pump(100);
    win.close();
    both_directions(|| window_shot(&state(), "keyboard_locale", "02-keyboard_locale", |_| {}))
}

fn t_disk() -> Result<(), Failed> {
    let s = state();
    s.set_groups(groups());
    let p = DiskPage::new(&s);
    let win = show(&p);
    check(!p.complete(), "complete with no disks")?;
    s.set_disks(disks());
    pump(50);
    check(!p.complete(), "complete before a disk is chosen")?;
    let nvme = p.row_text("/dev/nvme0n1").ok_or("nvme row missing")?;
    check(
        nvme.contains("Samsung SSD 980 PRO") && nvme.contains("500") && nvme.contains("NVME"),
        format!("nvme row: {nvme}"),
    )?;
    check(
        p.row_selectable("/dev/sdb"),
        "removable 64 GB disk should be selectable",
    )?;
    let small = p.row_text("/dev/sdc").ok_or("small row missing")?;
    check(!p.row_selectable("/dev/sdc"), "2 GB disk must be refused")?;
    check(
        small.contains("Too small"),
        format!("no reason on small disk: {small}"),
    )?;
    check(!p.row_selectable("/dev/sda"), "in-use disk must be refused")?;
    check(!p.choose("/dev/sdc"), "refused disk could be chosen")?;
    check(
        p.boot_text().contains("detected"),
        format!("boot line: {}", p.boot_text()),
    )?;
    check(p.choose("/dev/nvme0n1"), "nvme not choosable")?;
    pump(50);
    check(s.choices().disk == "/dev/nvme0n1", "disk choice not stored")?;
    check(p.complete(), "complete expected after choosing a disk")?;
    p.set_boot_override(forge_proto::BootMode::Bios);
    pump(50);
    check(
        s.choices().boot == forge_proto::BootMode::Bios,
        "boot override not stored",
    )?;
    check(p.boot_text().contains("BIOS"), "override not shown")?;
    win.close();
    both_directions(|| {
        let s = state();
        s.set_groups(groups());
        s.set_disks(disks());
        s.update(|c| c.disk = "/dev/nvme0n1".into());
        window_shot(&s, "disk", "03-disk", |_| {})
    })
}

fn t_user() -> Result<(), Failed> {
    let s = state();
    let p = UserPage::new(&s);
    let win = show(&p);
    check(!p.complete(), "empty user page complete")?;
    p.full_name_row().set_text("Alice Liddell");
    pump(20);
    check(
        p.user_name_row().text() == "alice",
        format!("suggested {:?}", p.user_name_row().text()),
    )?;
    check(
        p.hostname_row().text() == "alice-pc",
        format!("host {:?}", p.hostname_row().text()),
    )?;
    p.password_row().set_text("abc");
    pump(20);
    check(
        p.strength_text().contains("short"),
        format!("strength: {}", p.strength_text()),
    )?;
    check(!p.complete(), "short password accepted")?;
    p.password_row().set_text("Looking-Glass-1865");
    p.confirm_row().set_text("Looking-Glass-1866");
    pump(20);
    check(!p.complete(), "mismatched confirmation accepted")?;
    check(
        p.problem_texts().iter().any(|t| t.contains("match")),
        format!("no mismatch message: {:?}", p.problem_texts()),
    )?;
    p.confirm_row().set_text("Looking-Glass-1865");
    pump(20);
    check(
        p.complete(),
        format!("valid user incomplete: {:?}", p.problem_texts()),
    )?;
    check(
        p.root_line().contains("same password as alice"),
        p.root_line(),
    )?;
    p.same_switch().set_active(false);
    pump(20);
    check(!p.complete(), "separate root without a password accepted")?;
    p.root_row().set_text("Another-Root-Secret-1");
    p.root_confirm_row().set_text("Another-Root-Secret-1");
    pump(20);
    check(
        p.complete(),
        format!("separate root incomplete: {:?}", p.problem_texts()),
    )?;
    p.hostname_row().set_text("Not A Valid Host!");
    pump(20);
    check(!p.complete(), "bad hostname accepted")?;
    p.hostname_row().set_text("alice-pc");
    pump(20);
    check(p.complete(), "hostname fixed but incomplete")?;
    let io = s.io();
    check(
        io.root_password.expose() == "Another-Root-Secret-1",
        "root password not in io",
    )?;
    win.close();
    both_directions(|| {
        window_shot(&state(), "user", "04-user", |w| {
            if let Some(p) = w.page("user").and_downcast::<UserPage>() {
                p.full_name_row().set_text("Alice Liddell");
                p.password_row().set_text("Looking-Glass-1865");
                p.confirm_row().set_text("Looking-Glass-18");
            }
        })
    })
}

fn t_packages() -> Result<(), Failed> {
    let s = state();
    s.set_disks(disks());
    let p = PackagesPage::new(&s);
    let win = show(&p);
    check(!p.complete(), "complete with no groups listed")?;
    s.set_groups(groups());
    pump(20);
    check(
        p.group_locked("toolchain") && p.group_locked("core"),
        "required groups not locked on",
    )?;
    check(
        !p.set_group("core", false),
        "required group could be switched off",
    )?;
    check(p.complete(), "default selection incomplete")?;
    let before = p.total_text();
    check(p.set_group("ai", true), "ai switch missing")?;
    pump(20);
    check(
        s.choices().groups.contains(&"ai".to_string()),
        "ai not selected",
    )?;
    check(p.total_text() != before, "total did not change")?;
    // A 64 GB disk holds it; the 2 GB one would not.
    s.update(|c| c.disk = "/dev/sdb".into());
    check(
        p.complete(),
        format!("64 GB disk refused: {:?}", p.problem_text()),
    )?;
    s.set_disks(vec![DiskInfo {
        device: "/dev/sdb".into(),
        model: "Tiny".into(),
        size: 8 * GB,
        transport: "usb".into(),
        ..Default::default()
    }]);
    s.update(|c| c.disk = "/dev/sdb".into());
    p.set_group("extra", true);
    pump(20);
    check(!p.complete(), "too much software for the disk accepted")?;
    check(
        p.problem_text()
            .map(|t| t.contains("too small"))
            .unwrap_or(false),
        format!("problem: {:?}", p.problem_text()),
    )?;
    let plan = s.plan();
    check(
        plan.package_groups.first().map(String::as_str) == Some("toolchain"),
        format!("plan group order: {:?}", plan.package_groups),
    )?;
    win.close();
    both_directions(|| {
        let s = state();
        s.set_disks(disks());
        s.set_groups(groups());
        window_shot(&s, "packages", "05-packages", |_| {})
    })
}

fn t_confirm() -> Result<(), Failed> {
    let s = full_state();
    let p = ConfirmPage::new(&s);
    let win = show(&p);
    p.refresh();
    check(p.complete(), "full state but confirm incomplete")?;
    check(p.install_button().is_sensitive(), "Install insensitive")?;
    check(
        p.install_button().has_css_class("destructive-action"),
        "Install is not destructive-styled",
    )?;
    let disk = p.disk_text();
    check(
        disk.contains("Samsung SSD 980 PRO")
            && disk.contains("500")
            && disk.contains("/dev/nvme0n1"),
        format!("disk line: {disk}"),
    )?;
    let summary = p.summary();
    check(
        summary.iter().any(|(_, v)| v.contains("alice")),
        format!("summary lacks the user: {summary:?}"),
    )?;
    let requested = std::rc::Rc::new(std::cell::Cell::new(false));
    let r = requested.clone();
    p.connect_install_requested(move || r.set(true));
    p.install_button().emit_clicked();
    check(requested.get(), "Install did not request the install")?;
    s.update(|c| c.user_password_confirm = forge_proto::Secret::new("x"));
    check(
        !p.install_button().is_sensitive(),
        "Install enabled with a problem",
    )?;
    win.close();
    both_directions(|| window_shot(&full_state(), "confirm", "06-confirm", |_| {}))
}

fn progress_events(p: &ProgressPage, upto: usize) {
    for (i, ph) in forge_proto::Phase::ALL.iter().enumerate().take(upto) {
        p.handle_event(&JobEvent::PhaseStarted(ph.as_str().into(), i as u32));
        p.handle_event(&JobEvent::Progress(
            (i as f64 + 0.5) / 13.0,
            format!("working on {}", ph.as_str()),
        ));
        if i + 1 < upto {
            p.handle_event(&JobEvent::PhaseFinished(ph.as_str().into(), i as u32));
        }
    }
}

fn t_progress() -> Result<(), Failed> {
    let p = ProgressPage::new();
    let win = show(&p);
    check(p.phase_states().len() == 13, "not 13 phases")?;
    progress_events(&p, 2);
    check(p.cancel_enabled(), "Cancel disabled during verify")?;
    progress_events(&p, 6);
    let st = p.phase_states();
    check(
        st[0] == PhaseState::Done && st[4] == PhaseState::Done,
        format!("{st:?}"),
    )?;
    check(st[5] == PhaseState::Running, format!("{st:?}"))?;
    check(
        !p.cancel_enabled(),
        "Cancel enabled while the disk is written",
    )?;
    let status = p.status_text();
    check(status.contains("packages"), format!("status: {status}"))?;
    p.handle_event(&JobEvent::PhaseStarted("config".into(), 6));
    check(
        p.status_text().contains("7"),
        format!("status: {}", p.status_text()),
    )?;
    let f = p.fraction();
    p.handle_event(&JobEvent::Progress(0.1, String::new()));
    check(p.fraction() >= f, "progress went backwards")?;
    p.handle_event(&JobEvent::Warning("hook for fontconfig timed out".into()));
    check(p.log_text().contains("fontconfig"), "warning not logged")?;
    p.handle_event(&JobEvent::Finished {
        success: false,
        phase_completed: "config".into(),
        error: "users: useradd failed".into(),
        warnings: vec![],
    });
    let st = p.phase_states();
    check(st[7] == PhaseState::Failed, format!("failed phase: {st:?}"))?;
    win.close();
    both_directions(|| {
        window_shot(&full_state(), "progress", "07-progress", |w| {
            if let Some(p) = w.progress_page() {
                progress_events(&p, 6);
                p.handle_event(&JobEvent::Warning(
                    "package gnome-maps: post-install hook timed out".into(),
                ));
            }
        })
    })
}

fn t_done() -> Result<(), Failed> {
    let p = DonePage::new();
    let win = show(&p);
    p.show_result(
        true,
        "cleanup",
        "",
        &["MOK enrollment not queued: no EFI variables. Run mokutil --import /var/lib/forge/mok.der after the first boot.".into(),
          "package fonts-extra: post-install script failed".into()],
        false,
    );
    check(p.title().contains("Complete"), p.title())?;
    check(
        p.warning_count() == 2,
        format!("{} warnings shown", p.warning_count()),
    )?;
    check(p.restart_visible(), "no Restart on success")?;
    p.show_result(
        false,
        "mount",
        "virtual-fs: mount --bind /dev failed: EPERM\nfull detail here",
        &[],
        false,
    );
    check(p.title().contains("Failed"), p.title())?;
    check(
        p.description()
            .contains(&forge_proto::Phase::VirtualFs.label()),
        format!("failed phase not named: {}", p.description()),
    )?;
    check(p.detail_text().contains("full detail"), "detail missing")?;
    check(!p.restart_visible(), "Restart offered after a failure")?;
    win.close();
    both_directions(|| {
        window_shot(&full_state(), "done", "08-done", |w| {
            if let Some(p) = w.done_page() {
                p.show_result(
                    true,
                    "cleanup",
                    "",
                    &["MOK enrollment not queued: no EFI variables.".into()],
                    false,
                );
            }
        })?;
        window_shot(&full_state(), "done", "09-done-failed", |w| {
            if let Some(p) = w.done_page() {
                p.show_result(
                    false,
                    "partition",
                    "mount: /dev/loop0p2: wrong fs type\nsee the install log",
                    &["1 package was skipped".into()],
                    false,
                );
                p.detail_expander().set_expanded(true);
            }
        })
    })
}

// ------------------------------------------------------------- integrity

const PHRASE: &str = "I understand this system may be compromised";

fn mismatches() -> Vec<(String, String, String)> {
    vec![(
        "packages/busybox-static-1.35.0-4.igos.tar.gz".into(),
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752".into(),
    )]
}

fn xdotool(args: &[&str]) -> Option<bool> {
    std::process::Command::new("xdotool")
        .args(args)
        .status()
        .ok()
        .map(|s| s.success())
}

fn have_x11() -> bool {
    std::env::var("DISPLAY").is_ok()
        && gtk::gdk::Display::default()
            .map(|d| d.type_().name().contains("X11"))
            .unwrap_or(false)
        && xdotool(&["version"]).unwrap_or(false)
}

fn t_integrity_paste_signal_and_menu() -> Result<(), Failed> {
    let d = IntegrityDialog::new_standalone(&mismatches(), PHRASE);
    d.present();
    pump(300);
    check(d.mismatch_count() == 1, "mismatch not listed")?;
    let entry = d.entry();
    let text = entry
        .delegate()
        .and_downcast::<gtk::Text>()
        .ok_or("no GtkText")?;
    entry.clipboard().set_text(PHRASE);
    pump(50);
    // Keyboard shortcut / context menu route: the paste-clipboard signal.
    text.emit_by_name::<()>("paste-clipboard", &[]);
    pump(200);
    check(entry.text().is_empty(), "paste-clipboard pasted")?;
    check(d.refused_count() >= 1, "paste-clipboard not refused")?;
    // The context menu's Paste item is the clipboard.paste action.
    let n = d.refused_count();
    let _ = text.activate_action("clipboard.paste", None);
    pump(200);
    check(entry.text().is_empty(), "context-menu paste pasted")?;
    check(d.refused_count() > n, "context-menu paste not refused")?;
    // Programmatic insertion (what AT-SPI PasteText/InsertText do).
    let n = d.refused_count();
    let mut pos = 0;
    text.insert_text(PHRASE, &mut pos);
    pump(50);
    check(
        entry.text().is_empty(),
        "insert_text without a key press got in",
    )?;
    check(d.refused_count() > n, "insert_text not refused")?;
    // Drag and drop: no drop target left on the entry.
    for w in [text.upcast_ref::<gtk::Widget>(), entry.upcast_ref()] {
        let c = w.observe_controllers();
        for i in 0..c.n_items() {
            let item = c.item(i);
            check(
                !item
                    .as_ref()
                    .map(|o| o.is::<gtk::DropTarget>() || o.is::<gtk::DropTargetAsync>())
                    .unwrap_or(false),
                "a drop target is still attached",
            )?;
        }
    }
    check(
        !d.continue_button().is_sensitive(),
        "Continue enabled without the phrase",
    )?;
    d.close();
    Ok(())
}

fn t_integrity_x11_routes() -> Result<(), Failed> {
    if !have_x11() {
        eprintln!("SKIP: keyboard/middle-click/typing routes need an X11 display and xdotool");
        return Ok(());
    }
    let d = IntegrityDialog::new_standalone(&mismatches(), PHRASE);
    d.set_title(Some("forge-integrity-test"));
    d.present();
    pump(500);
    let entry = d.entry();
    entry.grab_focus();
    entry.clipboard().set_text(PHRASE);
    entry.primary_clipboard().set_text(PHRASE);
    pump(100);
    let focus = [
        "search",
        "--sync",
        "--name",
        "forge-integrity-test",
        "windowfocus",
        "--sync",
    ];
    check(
        xdotool(&focus).unwrap_or(false),
        "xdotool could not focus the dialog",
    )?;
    pump(200);
    // Ctrl+V and Shift+Insert.
    let n = d.refused_count();
    xdotool(&["key", "ctrl+v"]);
    pump(300);
    xdotool(&["key", "shift+Insert"]);
    pump(300);
    check(
        entry.text().is_empty(),
        format!("keyboard paste got in: {:?}", entry.text()),
    )?;
    check(d.refused_count() > n, "keyboard paste not refused")?;
    // Middle click on the entry.
    let n = d.refused_count();
    let b = entry.compute_bounds(&d).ok_or("entry bounds")?;
    let x = (b.x() + b.width() / 2.0) as i32;
    let y = (b.y() + b.height() / 2.0) as i32;
    let win_id = std::process::Command::new("xdotool")
        .args(["search", "--name", "forge-integrity-test"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    xdotool(&[
        "mousemove",
        "--window",
        &win_id,
        &x.to_string(),
        &y.to_string(),
        "click",
        "2",
    ]);
    pump(400);
    check(
        entry.text().is_empty(),
        format!("middle click pasted: {:?}", entry.text()),
    )?;
    check(d.refused_count() > n, "middle click not refused")?;
    // Typing is the one accepted route.
    xdotool(&["type", "--delay", "10", PHRASE]);
    let typed = pump_until(10, || entry.text() == PHRASE);
    check(typed, format!("typed text: {:?}", entry.text()))?;
    check(
        d.continue_button().is_sensitive(),
        "Continue not enabled after typing",
    )?;
    let got = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let g = got.clone();
    d.connect_override(move |p| *g.borrow_mut() = p);
    d.continue_button().emit_clicked();
    check(
        *got.borrow() == PHRASE,
        "override not emitted with the phrase",
    )?;
    d.close();
    Ok(())
}

fn t_integrity_screenshot() -> Result<(), Failed> {
    both_directions(|| {
        let d = IntegrityDialog::new_standalone(&mismatches(), PHRASE);
        d.present();
        pump_until(5, || d.is_mapped());
        pump(300);
        screenshot(&d, "10-integrity_dialog")?;
        d.close();
        Ok(())
    })
}

// ---------------------------------------------------------------- window

fn t_window_navigation() -> Result<(), Failed> {
    let s = state();
    s.set_groups(groups());
    s.set_disks(disks());
    let w = ForgeWindow::new_standalone(&s);
    w.present();
    pump(300);
    let next = |w: &ForgeWindow| {
        let _ = WidgetExt::activate_action(w, "win.next-page", None);
        pump(50);
    };
    let back = |w: &ForgeWindow| {
        let _ = WidgetExt::activate_action(w, "win.previous-page", None);
        pump(50);
    };
    check(w.current_screen() == "welcome", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "keyboard_locale", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "disk", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "disk", "Next passed an unchosen disk")?;
    let disk: DiskPage = w.page("disk").and_downcast().ok_or("disk page")?;
    disk.choose("/dev/nvme0n1");
    pump(50);
    next(&w);
    check(w.current_screen() == "user", w.current_screen())?;
    next(&w);
    check(
        w.current_screen() == "user",
        "Next passed an empty user page",
    )?;
    back(&w);
    check(w.current_screen() == "disk", "Back failed")?;
    check(
        s.choices().disk == "/dev/nvme0n1",
        "Back lost the disk choice",
    )?;
    next(&w);
    let user: UserPage = w.page("user").and_downcast().ok_or("user page")?;
    user.full_name_row().set_text("Alice Liddell");
    user.password_row().set_text("Looking-Glass-1865");
    user.confirm_row().set_text("Looking-Glass-1865");
    pump(50);
    next(&w);
    check(w.current_screen() == "packages", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "confirm", w.current_screen())?;
    back(&w);
    back(&w);
    check(
        user.full_name_row().text() == "Alice Liddell",
        "Back lost the name",
    )?;
    screenshot(&w, "00-window-user")?;
    w.close();
    Ok(())
}

fn t_pot_current() -> Result<(), Failed> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("scripts/update-pot.sh");
    if !script.exists() {
        eprintln!("SKIP: scripts/update-pot.sh missing");
        return Ok(());
    }
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("--check")
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    check(
        out.status.success(),
        format!("{}", String::from_utf8_lossy(&out.stderr)),
    )
}

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
            Some(why) => {
                eprintln!("SKIP: {why}: run under xvfb-run -a dbus-run-session");
                Ok(())
            }
        })
    };
    let tests = vec![
        gui("welcome", t_welcome),
        gui("keyboard_locale", t_keyboard_locale),
        gui("disk", t_disk),
        gui("user", t_user),
        gui("packages", t_packages),
        gui("confirm", t_confirm),
        gui("progress", t_progress),
        gui("done", t_done),
        gui(
            "integrity_paste_signal_menu_insert_drop",
            t_integrity_paste_signal_and_menu,
        ),
        gui(
            "integrity_keyboard_middle_click_typing",
            t_integrity_x11_routes,
        ),
        gui("integrity_screenshot", t_integrity_screenshot),
        gui("window_navigation", t_window_navigation),
        Trial::test("pot_current", t_pot_current),
    ];
    libtest_mimic::run(&args, tests).exit();
}
