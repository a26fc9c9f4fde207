//! The state machine driven as a person would (key events, batches, job
//! events) over an injected wizard and fake daemon lists, and the screens
//! drawn into ratatui's `TestBackend` at 80×24.

use std::collections::BTreeMap;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use forge_proto::catalog::LayoutInfo;
use forge_proto::wizard::Wizard;
use forge_proto::{BootMode, DiskInfo, GroupInfo, JobEvent, Mismatch, Phase, SystemCatalog};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::{App, Dialog, Effect, Mode, Screen};
use crate::theme::Theme;

fn catalog() -> SystemCatalog {
    let mut c = SystemCatalog::default();
    for l in ["en_US.UTF-8", "de_DE.UTF-8", "ar_EG.UTF-8"] {
        c.locales.insert(l.to_string());
    }
    let mut variants = BTreeMap::new();
    variants.insert(
        "nodeadkeys".to_string(),
        "German (no dead keys)".to_string(),
    );
    c.layouts.insert(
        "us".into(),
        LayoutInfo {
            description: "English (US)".into(),
            variants: BTreeMap::new(),
        },
    );
    c.layouts.insert(
        "de".into(),
        LayoutInfo {
            description: "German".into(),
            variants,
        },
    );
    for t in ["UTC", "Europe/Berlin", "Asia/Tokyo"] {
        c.timezones.insert(t.to_string());
    }
    c
}

fn disks() -> Vec<DiskInfo> {
    vec![
        DiskInfo {
            device: "/dev/sda".into(),
            model: "Busy Disk".into(),
            size: 500_000_000_000,
            transport: "sata".into(),
            in_use: true,
            ..Default::default()
        },
        DiskInfo {
            device: "/dev/vdb".into(),
            model: "Virtio Disk".into(),
            size: 64_000_000_000,
            transport: "virtio".into(),
            ..Default::default()
        },
    ]
}

fn groups() -> Vec<GroupInfo> {
    let g = |name: &str, required: bool| GroupInfo {
        name: name.into(),
        description: format!("the {name} group"),
        required,
        packages: 12,
        download_size: 100_000_000,
        installed_size: 400_000_000,
    };
    vec![
        g("toolchain", true),
        g("core", true),
        g("base", false),
        g("desktop", false),
        g("extra", false),
    ]
}

fn app(mode: Mode) -> App {
    let mut a = App::new(
        Wizard::new(catalog(), BootMode::Bios),
        mode,
        Theme::colour(),
    );
    a.set_lists(disks(), groups());
    a
}

fn key(a: &mut App, code: KeyCode) {
    a.on_batch(&[Event::Key(KeyEvent::new(code, KeyModifiers::NONE))]);
}

fn ctrl(a: &mut App, c: char) {
    a.on_batch(&[Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    ))]);
}

/// Types `s` one key per read, as a person does.
fn type_slowly(a: &mut App, s: &str) {
    for c in s.chars() {
        key(a, KeyCode::Char(c));
    }
}

fn screen_text(a: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| a.render(f)).expect("draw");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Walks to the confirm screen with valid choices.
fn walk_to_confirm(a: &mut App) {
    ctrl(a, 'n');
    assert_eq!(a.screen, Screen::KeyboardLocale);
    ctrl(a, 'n');
    assert_eq!(a.screen, Screen::Disk);
    // The busy disk is first: Enter refuses it with the reason.
    key(a, KeyCode::Enter);
    assert!(a.wizard.choices().disk.is_empty());
    assert!(
        a.notice.as_deref().unwrap_or("").starts_with("In use"),
        "{:?}",
        a.notice
    );
    ctrl(a, 'n');
    assert_eq!(a.screen, Screen::Disk, "Next is disabled without a disk");
    key(a, KeyCode::Down);
    key(a, KeyCode::Enter);
    assert_eq!(a.wizard.choices().disk, "/dev/vdb");
    ctrl(a, 'n');
    assert_eq!(a.screen, Screen::User);
    type_slowly(a, "Alice Liddell");
    assert_eq!(a.wizard.choices().user_name, "alice");
    assert_eq!(a.wizard.choices().hostname, "alice-pc");
    key(a, KeyCode::Tab);
    key(a, KeyCode::Tab);
    type_slowly(a, "Correct-Horse-9");
    key(a, KeyCode::Enter);
    type_slowly(a, "Correct-Horse-9");
    assert!(a.next_problems().is_empty(), "{:?}", a.next_problems());
    ctrl(a, 'n');
    assert_eq!(a.screen, Screen::Packages);
    ctrl(a, 'n');
    assert_eq!(a.screen, Screen::Confirm);
}

#[test]
fn a_full_walk_installs_after_the_explicit_confirmation() {
    let mut a = app(Mode::Install);
    assert_eq!(a.screen, Screen::Welcome);
    assert_eq!(
        Some(a.focus),
        a.next_index(),
        "Next has the focus on step 1"
    );
    walk_to_confirm(&mut a);
    ctrl(&mut a, 'n');
    assert!(a.effects.is_empty(), "not before the confirmation");
    assert!(!a.next_problems().is_empty());
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char(' '));
    assert!(a.confirm.understood);
    // Tab to Next, Enter.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    assert_eq!(Some(a.focus), a.next_index());
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.effects, [Effect::Install]);
    assert!(!a.wizard.io().dry_run);
}

#[test]
fn back_keeps_the_choices() {
    let mut a = app(Mode::Install);
    walk_to_confirm(&mut a);
    ctrl(&mut a, 'b');
    ctrl(&mut a, 'b');
    assert_eq!(a.screen, Screen::User);
    assert_eq!(a.user.full_name.value(), "Alice Liddell");
    ctrl(&mut a, 'b');
    ctrl(&mut a, 'b');
    ctrl(&mut a, 'b');
    ctrl(&mut a, 'b');
    assert_eq!(a.screen, Screen::Welcome);
    assert_eq!(a.wizard.choices().disk, "/dev/vdb");
}

#[test]
fn locale_lists_search_and_select() {
    let mut a = app(Mode::Install);
    ctrl(&mut a, 'n');
    type_slowly(&mut a, "de_");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.wizard.choices().locale, "de_DE.UTF-8");
    key(&mut a, KeyCode::Tab);
    type_slowly(&mut a, "germ");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.wizard.choices().layout, "de");
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.wizard.choices().variant, "nodeadkeys");
    let text = screen_text(&a, 80, 24);
    assert!(text.contains("Language and Region"), "{text}");
}

#[test]
fn save_plan_mode_saves_instead_of_installing() {
    let mut a = app(Mode::SavePlan("/tmp/x.yaml".into()));
    walk_to_confirm(&mut a);
    assert!(
        a.next_problems().is_empty(),
        "nothing is erased: no confirmation"
    );
    assert!(screen_text(&a, 80, 24).contains("[ Save Plan ]"));
    ctrl(&mut a, 'n');
    assert_eq!(a.effects, [Effect::SavePlan("/tmp/x.yaml".into())]);
}

#[test]
fn ctrl_c_asks_before_quitting_and_before_cancelling() {
    let mut a = app(Mode::Install);
    ctrl(&mut a, 'c');
    assert!(matches!(a.dialog, Some(Dialog::Quit)));
    assert!(screen_text(&a, 80, 24).contains("Quit the installer?"));
    key(&mut a, KeyCode::Char('n'));
    assert!(a.dialog.is_none() && a.effects.is_empty());
    ctrl(&mut a, 'c');
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(a.effects, [Effect::Quit]);

    let mut a = app(Mode::Install);
    a.install_started("/org/intergenos/Forge1/Job/1");
    ctrl(&mut a, 'c');
    assert!(matches!(a.dialog, Some(Dialog::CancelJob)));
    assert!(screen_text(&a, 80, 24).contains("Cancel the installation?"));
    key(&mut a, KeyCode::Esc);
    assert!(a.effects.is_empty());
    ctrl(&mut a, 'c');
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(a.effects, [Effect::Cancel]);
}

#[test]
fn the_integrity_phrase_must_be_typed() {
    let mut a = app(Mode::Install);
    a.install_started("/org/intergenos/Forge1/Job/1");
    a.on_job_event(JobEvent::PhaseStarted(Phase::Validate));
    a.on_job_event(JobEvent::PhaseFinished(Phase::Validate));
    a.on_job_event(JobEvent::PhaseStarted(Phase::Verify));
    a.on_job_event(JobEvent::IntegrityFailed {
        mismatches: vec![Mismatch {
            path: "packages/busybox.tar.gz".into(),
            expected: "ab".repeat(32),
            actual: "cd".repeat(32),
        }],
        phrase: "I accept".into(),
    });
    let text = screen_text(&a, 80, 24);
    assert!(text.contains("Packages Failed Verification"), "{text}");
    assert!(text.contains("packages/busybox.tar.gz"));
    assert!(
        text.contains(&format!("expected {}…", "ab".repeat(8))),
        "{text}"
    );
    // A bracketed paste and a burst are refused, visibly.
    a.on_batch(&[Event::Paste("I accept".into())]);
    let burst: Vec<Event> = "I accept\r"
        .chars()
        .map(|c| {
            let code = if c == '\r' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
        })
        .collect();
    a.on_batch(&burst);
    assert!(a.effects.is_empty());
    let Some(Dialog::Integrity(d)) = &a.dialog else {
        panic!("dialog closed")
    };
    assert_eq!(d.field.value(), "");
    assert_eq!(d.refused, 2);
    assert!(screen_text(&a, 80, 24).contains("Pasting is not allowed here. Type the phrase."));
    type_slowly(&mut a, "I accept");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.effects, [Effect::Override("I accept".into())]);
    a.effects.clear();
    a.on_job_event(JobEvent::StateChanged(forge_proto::JobState::Running));
    assert!(a.dialog.is_none());
    a.on_job_event(JobEvent::Warning("disk is slow".into()));
    a.on_job_event(JobEvent::Finished {
        success: true,
        phase_completed: Some(Phase::Cleanup),
        error: String::new(),
        warnings: vec!["disk is slow".into(), "no MOK".into()],
    });
    assert_eq!(a.screen, Screen::Done);
    let text = screen_text(&a, 80, 24);
    assert!(text.contains("Installation Complete"), "{text}");
    assert!(
        text.contains("disk is slow") && text.contains("no MOK"),
        "{text}"
    );
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.effects, [Effect::Quit]);
}

#[test]
fn every_screen_draws_at_80x24() {
    let mut a = app(Mode::Install);
    let titles = [
        "Welcome to InterGenOS",
        "Language and Region",
        "Installation Disk",
        "Users",
        "Software to Install",
        "Ready to Install",
        "Installing InterGenOS",
        "Installation Failed",
    ];
    for (i, s) in Screen::ALL.iter().enumerate() {
        a.show(*s);
        let text = screen_text(&a, 80, 24);
        assert!(text.contains(titles[i]), "{text}");
        assert!(text.contains(&format!("Step {} of 8", i + 1)), "{text}");
    }
    a.show(Screen::Disk);
    let text = screen_text(&a, 80, 24);
    assert!(
        text.contains("Busy Disk") && text.contains("In use"),
        "{text}"
    );
    assert!(text.contains("Next is disabled: "), "{text}");
    assert!(text.contains("will be erased"), "{text}");
    a.show(Screen::Packages);
    let text = screen_text(&a, 80, 24);
    assert!(
        text.contains("(Required)") && text.contains("12 packages"),
        "{text}"
    );
    // Too small a terminal says so; a larger one just works.
    assert!(screen_text(&a, 60, 20).contains("80×24"));
    assert!(screen_text(&a, 120, 40).contains("Software to Install"));
}

#[test]
fn passwords_are_never_drawn() {
    let mut a = app(Mode::Install);
    a.show(Screen::User);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    type_slowly(&mut a, "Sekrit-Pass-1");
    let text = screen_text(&a, 80, 24);
    assert!(!text.contains("Sekrit"), "{text}");
    assert!(text.contains("*************"), "{text}");
}

#[test]
fn the_plan_file_is_the_wizards_bytes_0600_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let mut a = app(Mode::Install);
    walk_to_confirm(&mut a);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("install.yaml");
    crate::runner::save_plan(&path, &a.wizard.plan_yaml()).expect("save");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        a.wizard.plan_yaml()
    );
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(crate::runner::save_plan(&path, "x").is_err());
}

/// The line the terminal cursor stands on, and its column.
fn cursor_line(a: &App) -> (String, u16) {
    let mut t = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    t.draw(|f| a.render(f)).expect("draw");
    let pos = t.get_cursor_position().expect("cursor");
    let text = screen_text(a, 80, 24);
    let line = text
        .lines()
        .nth(usize::from(pos.y))
        .unwrap_or_default()
        .to_string();
    (line, pos.x)
}

#[test]
fn the_cursor_stands_on_the_focused_item() {
    let mut a = app(Mode::Install);
    assert!(cursor_line(&a).0.contains("[ Next ]"));
    a.show(Screen::User);
    assert!(cursor_line(&a).0.contains("Full name"));
    key(&mut a, KeyCode::Tab);
    assert!(cursor_line(&a).0.contains("User name"));
    // Down the whole form: the cursor follows (the body scrolls).
    for _ in 0..5 {
        key(&mut a, KeyCode::Tab);
    }
    assert!(
        cursor_line(&a).0.contains("Computer name"),
        "{}",
        screen_text(&a, 80, 24)
    );
    a.show(Screen::Disk);
    key(&mut a, KeyCode::Down);
    let (line, _) = cursor_line(&a);
    assert!(line.contains("Virtio Disk") && line.contains('>'), "{line}");
}

#[test]
fn a_failed_install_says_where_and_why() {
    let mut a = app(Mode::Install);
    a.install_started("/org/intergenos/Forge1/Job/2");
    a.on_job_event(JobEvent::PhaseStarted(Phase::Validate));
    a.on_job_event(JobEvent::PhaseFinished(Phase::Validate));
    a.on_job_event(JobEvent::PhaseStarted(Phase::Verify));
    a.on_job_event(JobEvent::PhaseFinished(Phase::Verify));
    a.on_job_event(JobEvent::PhaseStarted(Phase::Partition));
    a.on_job_event(JobEvent::Finished {
        success: false,
        phase_completed: Some(Phase::Verify),
        error: "partition: sfdisk failed".into(),
        warnings: vec![],
    });
    let text = screen_text(&a, 80, 24);
    assert!(text.contains("Installation Failed"), "{text}");
    assert!(
        text.contains("Partitioning the disk") && text.contains("sfdisk failed"),
        "{text}"
    );
}

#[test]
fn attach_shows_progress_without_steps_to_go_back_to() {
    let mut a = app(Mode::Attach);
    assert_eq!(a.screen, Screen::Progress);
    assert!(!a.has_nav());
    ctrl(&mut a, 'b');
    assert_eq!(a.screen, Screen::Progress);
    let text = screen_text(&a, 80, 24);
    assert!(text.contains("earlier messages are not shown"), "{text}");
    // No job (the attach failed): Ctrl-C asks to quit, not to cancel.
    ctrl(&mut a, 'c');
    assert!(matches!(a.dialog, Some(Dialog::Quit)));
}

#[test]
fn monochrome_marks_focus_without_colour() {
    let mut a = app(Mode::Install);
    a.theme = Theme { mono: true };
    a.show(Screen::Disk);
    let mut t = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    t.draw(|f| a.render(f)).expect("draw");
    let buf = t.backend().buffer().clone();
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, ratatui::style::Color::Reset),
            "a coloured cell in monochrome: {cell:?}"
        );
    }
    assert!(screen_text(&a, 80, 24)
        .lines()
        .any(|l| l.trim_start().starts_with('>')));
}

#[test]
fn efi_installs_ask_the_secure_boot_password_with_confirmation() {
    let mut a = App::new(
        Wizard::new(catalog(), BootMode::Efi),
        Mode::Install,
        Theme::colour(),
    );
    a.set_lists(disks(), groups());
    a.show(Screen::User);
    assert_eq!(a.items(), 9, "two Secure Boot fields more");
    // Own root password: two more fields.
    for _ in 0..5 {
        key(&mut a, KeyCode::Tab);
    }
    key(&mut a, KeyCode::Char(' '));
    assert!(!a.wizard.choices().root_same_as_user);
    assert_eq!(a.items(), 11);
    for _ in 0..3 {
        key(&mut a, KeyCode::Tab);
    }
    type_slowly(&mut a, "Mok-Password-1");
    key(&mut a, KeyCode::Tab);
    type_slowly(&mut a, "Mok-Password-2");
    let (line, _) = cursor_line(&a);
    assert!(line.contains("Confirm Secure Boot password"), "{line}");
    // The longest label still has a space before its box.
    assert!(line.contains("Confirm Secure Boot password ["), "{line}");
    assert!(a
        .next_problems()
        .iter()
        .any(|p| p.message == "The Secure Boot passwords do not match."));
    assert!(screen_text(&a, 80, 24).contains("The Secure Boot passwords do not match."));
}
