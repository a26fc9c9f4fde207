//! Test and demo driver, off unless `FORGE_GUI_AUTOPILOT=FILE` is set. It
//! walks the real window as a person would: it selects items, types into
//! the fields (`set_text` on entries), activates `win.next-page` (refused
//! when the screen is incomplete, exactly as the button is) and presses
//! Install. On the integrity dialog it first tries to paste the phrase
//! (which must be refused) and then types it with real X key events
//! (`xdotool`), the only route the dialog accepts. It saves a PNG per
//! screen when asked and writes a JSON result at the end.
//!
//! The script is YAML:
//! ```yaml
//! locale: en_US.UTF-8        # optional, each of these
//! layout: us
//! variant: ""
//! timezone: Europe/Berlin
//! boot: bios                # optional override: auto | efi | bios
//! disk: /var/lib/forge/images/demo.img
//! full_name: Alice Liddell
//! user_name: alice
//! password: correct-horse-battery
//! root_password: ""          # empty: same as the user's
//! secure_boot_password: ""   # EFI installs: MokManager's password
//! hostname: alice-pc
//! groups: [toolchain, core, base]
//! dry_run: false
//! screenshots: /tmp/shots    # optional
//! result: /tmp/result.json   # required
//! quit: true                 # close the window at done
//! ```

use std::path::PathBuf;
use std::time::Duration;

use adw::prelude::*;
use gtk::{gio, glib};
use serde::Deserialize;

use crate::screens::confirm::ConfirmPage;
use crate::screens::disk::DiskPage;
use crate::screens::keyboard_locale::KeyboardLocalePage;
use crate::screens::packages::PackagesPage;
use crate::screens::user::UserPage;
use crate::window::ForgeWindow;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    pub locale: Option<String>,
    pub layout: Option<String>,
    pub variant: Option<String>,
    pub timezone: Option<String>,
    /// auto | efi | bios (the Advanced override on the disk screen).
    pub boot: Option<String>,
    pub disk: String,
    pub full_name: String,
    pub user_name: Option<String>,
    pub password: String,
    pub root_password: String,
    pub secure_boot_password: String,
    pub hostname: Option<String>,
    pub groups: Option<Vec<String>>,
    pub dry_run: bool,
    pub screenshots: Option<PathBuf>,
    pub result: PathBuf,
    pub quit: bool,
}

/// What the walk saw, written as JSON to `result`.
#[derive(Debug, Default, serde::Serialize)]
pub struct Outcome {
    pub screens: Vec<String>,
    pub plan_yaml: String,
    pub integrity_dialog: bool,
    pub paste_refused: bool,
    pub typed_phrase: bool,
    pub done_title: String,
    pub done_description: String,
    pub reached_done: bool,
    pub error: String,
    pub screenshots: Vec<String>,
}

/// Starts the autopilot if `FORGE_GUI_AUTOPILOT` names a script.
pub fn start_if_requested(window: &ForgeWindow) {
    let Ok(path) = std::env::var("FORGE_GUI_AUTOPILOT") else {
        return;
    };
    let script: Script = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_yaml::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("autopilot script {path}: {e}");
            return;
        }
    };
    let w = window.clone();
    glib::spawn_future_local(async move {
        let mut out = Outcome::default();
        if let Err(e) = walk(&w, &script, &mut out).await {
            tracing::error!("autopilot: {e}");
            out.error = e;
        }
        match serde_json::to_string_pretty(&out) {
            Ok(j) => {
                if let Err(e) = std::fs::write(&script.result, j) {
                    tracing::error!("{}: {e}", script.result.display());
                }
            }
            Err(e) => tracing::error!("autopilot result: {e}"),
        }
        if script.quit {
            GtkWindowExt::close(&w);
        }
    });
}

async fn sleep(ms: u64) {
    glib::timeout_future(Duration::from_millis(ms)).await;
}

/// Waits up to `secs` for `cond`.
async fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let steps = secs * 10;
    for _ in 0..steps {
        if cond() {
            return true;
        }
        sleep(100).await;
    }
    cond()
}

async fn shot(w: &ForgeWindow, script: &Script, name: &str, out: &mut Outcome) {
    out.screens.push(name.to_string());
    let Some(dir) = &script.screenshots else {
        return;
    };
    // Let the page transition finish and a frame be drawn.
    sleep(600).await;
    let path = dir.join(format!("{:02}-{name}.png", out.screenshots.len() + 1));
    match crate::shot::save_png(w, &path) {
        Ok(_) => out.screenshots.push(path.display().to_string()),
        Err(e) => tracing::warn!("screenshot {name}: {e}"),
    }
}

fn page<T: IsA<gtk::Widget>>(w: &ForgeWindow, name: &str) -> Result<T, String> {
    w.page(name)
        .and_then(|p| p.downcast::<T>().ok())
        .ok_or_else(|| format!("no {name} page"))
}

async fn next(w: &ForgeWindow, from: &str) -> Result<(), String> {
    sleep(200).await;
    let _ = WidgetExt::activate_action(w, "win.next-page", None);
    sleep(200).await;
    if w.current_screen() == from {
        let problems: Vec<String> = w.state().problems().iter().map(|p| p.to_string()).collect();
        return Err(format!("Next refused on {from}: {}", problems.join("; ")));
    }
    Ok(())
}

async fn walk(w: &ForgeWindow, s: &Script, out: &mut Outcome) -> Result<(), String> {
    let state = w.state();
    if !wait_for(60, || {
        !state.disks().is_empty() && !state.groups().is_empty()
    })
    .await
    {
        return Err("the daemon listed no disks or no package groups".into());
    }
    sleep(500).await;
    shot(w, s, "welcome", out).await;
    next(w, "welcome").await?;

    let kl: KeyboardLocalePage = page(w, "keyboard_locale")?;
    if let Some(l) = &s.locale {
        let list = kl.locale_list().ok_or("no locale list")?;
        if !list.select(l) {
            return Err(format!("locale {l} not offered"));
        }
    }
    if let Some(l) = &s.layout {
        if !kl.choose_layout(l) {
            return Err(format!("layout {l} not offered"));
        }
    }
    if let Some(v) = &s.variant {
        if !kl.choose_variant(v) {
            return Err(format!("variant {v} not offered"));
        }
    }
    if let Some(z) = &s.timezone {
        let list = kl.timezone_list().ok_or("no zone list")?;
        if !list.select(z) {
            return Err(format!("time zone {z} not offered"));
        }
    }
    shot(w, s, "keyboard_locale", out).await;
    next(w, "keyboard_locale").await?;

    let disk: DiskPage = page(w, "disk")?;
    if let Some(b) = &s.boot {
        let mode = match b.as_str() {
            "efi" => forge_proto::BootMode::Efi,
            "bios" => forge_proto::BootMode::Bios,
            "auto" => forge_proto::BootMode::Auto,
            other => return Err(format!("boot: {other} is not auto, efi or bios")),
        };
        disk.advanced_row().set_expanded(true);
        disk.set_boot_override(mode);
    }
    if !disk.choose(&s.disk) {
        return Err(format!("disk {} not listed or not selectable", s.disk));
    }
    shot(w, s, "disk", out).await;
    next(w, "disk").await?;

    let user: UserPage = page(w, "user")?;
    user.full_name_row().set_text(&s.full_name);
    if let Some(u) = &s.user_name {
        user.user_name_row().set_text(u);
    }
    user.password_row().set_text(&s.password);
    user.confirm_row().set_text(&s.password);
    if !s.root_password.is_empty() {
        user.same_switch().set_active(false);
        user.root_row().set_text(&s.root_password);
        user.root_confirm_row().set_text(&s.root_password);
    }
    if !s.secure_boot_password.is_empty() {
        user.secure_boot_row().set_text(&s.secure_boot_password);
        user.secure_boot_confirm_row()
            .set_text(&s.secure_boot_password);
    }
    if let Some(h) = &s.hostname {
        user.hostname_row().set_text(h);
    }
    shot(w, s, "user", out).await;
    next(w, "user").await?;

    let pk: PackagesPage = page(w, "packages")?;
    if let Some(groups) = &s.groups {
        for g in state.groups() {
            if !g.required {
                pk.set_group(&g.name, groups.contains(&g.name));
            }
        }
    }
    shot(w, s, "packages", out).await;
    next(w, "packages").await?;

    let confirm: ConfirmPage = page(w, "confirm")?;
    confirm.dry_run_switch().set_active(s.dry_run);
    shot(w, s, "confirm", out).await;
    out.plan_yaml = state.plan_yaml();
    if !confirm.install_button().is_sensitive() {
        return Err("Install is not enabled".into());
    }
    confirm.install_button().emit_clicked();

    if !wait_for(120, || {
        w.current_screen() != "confirm" || confirm.error_text().is_some()
    })
    .await
    {
        return Err("Install did not start".into());
    }
    if let Some(e) = confirm.error_text() {
        return Err(format!("Install refused: {e}"));
    }
    sleep(300).await;
    shot(w, s, "progress", out).await;

    let mut handled_dialog = false;
    let reached = wait_for(1800, || {
        w.current_screen() == "done" || (!handled_dialog && w.integrity_dialog().is_some())
    })
    .await;
    if !reached {
        return Err("the install did not finish in time".into());
    }
    if w.current_screen() != "done" {
        if let Some(d) = w.integrity_dialog() {
            handled_dialog = true;
            out.integrity_dialog = true;
            integrity(w, &d, s, out).await?;
        }
        let _ = handled_dialog;
        if !wait_for(1800, || w.current_screen() == "done").await {
            return Err("the install did not finish after the override".into());
        }
    }
    out.reached_done = true;
    if let Some(d) = w.done_page() {
        out.done_title = d.title();
        out.done_description = d.description();
    }
    shot(w, s, "done", out).await;
    Ok(())
}

/// Tries to paste the phrase (must fail), then types it with X key events.
async fn integrity(
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
