//! The integrity dialog: the phrase entry refuses every paste route and
//! accepts typed input, from keys or one-character input-method commits
//! (AT-SPI's PasteText: tests/gui/walk.py).

use crate::common::*;

const PHRASE: &str = "I understand this system may be compromised";

fn mismatches() -> Vec<Mismatch> {
    vec![Mismatch {
        path: "packages/busybox-static-1.35.0-4.igos.tar.gz".into(),
        expected: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        actual: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752".into(),
    }]
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

pub fn t_integrity_paste_signal_and_menu() -> Result<(), Failed> {
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

pub fn t_integrity_x11_routes() -> Result<(), Failed> {
    if !have_x11() {
        return skip("keyboard/middle-click/typing routes need an X11 display and xdotool");
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

/// Input methods (on-screen keyboards): a one-character commit on the
/// text's IM context is typing and gets in; a multi-character commit is
/// paste-like and is refused.
pub fn t_integrity_im_commit() -> Result<(), Failed> {
    let d = IntegrityDialog::new_standalone(&mismatches(), PHRASE);
    d.present();
    pump(300);
    let entry = d.entry();
    entry.grab_focus();
    pump(50);
    let text = entry
        .delegate()
        .and_downcast::<gtk::Text>()
        .ok_or("no GtkText")?;
    // GtkText filters its keys through this context and inserts its commits.
    let controllers = text.observe_controllers();
    let im = (0..controllers.n_items())
        .filter_map(|i| {
            controllers
                .item(i)
                .and_downcast::<gtk::EventControllerKey>()
        })
        .find_map(|k| k.im_context())
        .ok_or("GtkText has no IM context")?;
    let n = d.refused_count();
    im.emit_by_name::<()>("commit", &[&"I"]);
    pump(50);
    check(
        entry.text() == "I",
        format!("one-character IM commit refused: {:?}", entry.text()),
    )?;
    check(
        d.refused_count() == n,
        "one-character IM commit counted as paste",
    )?;
    // A whole word at once (word suggestion, an IM's paste): refused.
    im.emit_by_name::<()>("commit", &[&" understand"]);
    pump(50);
    check(
        entry.text() == "I",
        format!("multi-character IM commit got in: {:?}", entry.text()),
    )?;
    check(
        d.refused_count() > n,
        "multi-character IM commit not refused",
    )?;
    // The rest of the phrase, one character per commit, as an on-screen
    // keyboard sends it: the override becomes possible.
    for c in PHRASE.chars().skip(1) {
        im.emit_by_name::<()>("commit", &[&c.to_string()]);
    }
    pump(100);
    check(
        entry.text() == PHRASE,
        format!("typed through the IM: {:?}", entry.text()),
    )?;
    check(
        d.continue_button().is_sensitive(),
        "Continue not enabled after IM typing",
    )?;
    // A single character outside a commit is still refused.
    let n = d.refused_count();
    let mut pos = -1;
    text.insert_text("x", &mut pos);
    pump(50);
    check(
        entry.text() == PHRASE,
        "insert_text of one character got in",
    )?;
    check(d.refused_count() > n, "insert_text not refused")?;
    d.close();
    Ok(())
}

pub fn t_integrity_screenshot() -> Result<(), Failed> {
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
