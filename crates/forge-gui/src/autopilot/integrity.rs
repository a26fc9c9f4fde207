//! The autopilot on the integrity dialog: it first pastes the phrase (which
//! must be refused), then types it with real X key events (`xdotool`), the
//! only route the dialog accepts, and continues.

use adw::prelude::*;
use gtk::gio;

use super::{sleep, wait_for, Outcome, Script};
use crate::window::ForgeWindow;

/// Tries to paste the phrase (must fail), then types it with X key events.
pub(super) async fn integrity(
    w: &ForgeWindow,
    d: &crate::screens::integrity_dialog::IntegrityDialog,
    s: &Script,
    out: &mut Outcome,
) -> Result<(), String> {
    sleep(800).await;
    let phrase = d.phrase();
    let entry = d.entry();
    entry.clipboard().set_text(&phrase);
    sleep(200).await;
    if let Some(text) = entry.delegate().and_downcast::<gtk::Text>() {
        text.emit_by_name::<()>("paste-clipboard", &[]);
    }
    sleep(500).await;
    out.paste_refused = entry.text().is_empty() && d.refused_count() > 0;
    if let Some(dir) = &s.screenshots {
        let path = dir.join(format!(
            "{:02}-integrity_dialog.png",
            out.screenshots.len() + 1
        ));
        if crate::shot::save_png(d, &path).is_ok() {
            out.screenshots.push(path.display().to_string());
        }
    }
    out.screens.push("integrity_dialog".into());
    entry.grab_focus();
    let title = GtkWindowExt::title(d)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let argv = [
        "xdotool",
        "search",
        "--sync",
        "--name",
        &title,
        "windowfocus",
        "--sync",
        "type",
        "--delay",
        "15",
        &phrase,
    ];
    let argv: Vec<&std::ffi::OsStr> = argv.iter().map(std::ffi::OsStr::new).collect();
    let proc = gio::Subprocess::newv(&argv, gio::SubprocessFlags::NONE)
        .map_err(|e| format!("xdotool: {e}"))?;
    proc.wait_future()
        .await
        .map_err(|e| format!("xdotool: {e}"))?;
    if !wait_for(10, || entry.text() == phrase).await {
        return Err(format!(
            "typing the phrase did not reach the entry (it has {} characters)",
            entry.text().chars().count()
        ));
    }
    out.typed_phrase = true;
    d.continue_button().emit_clicked();
    let _ = w;
    Ok(())
}
