//! Test and demo driver, off unless `FORGE_GUI_AUTOPILOT=FILE` is set. It
//! walks the real window as a person would: it selects items, types into
//! the fields (`set_text` on entries), activates `win.next-page` (refused
//! when the screen is incomplete, exactly as the button is) and presses
//! Install. On the integrity dialog it first tries to paste the phrase
//! (which must be refused) and then types it with real X key events
//! (`xdotool`), the only route the dialog accepts. It saves a PNG per
//! screen when asked and writes a JSON result at the end. With
//! `FORGE_GUI_SAVE_PLAN=FILE` it stops at Confirm and writes the plan bytes
//! there instead of installing (`save_plan`).
//!
//! The script is YAML:
//! ```yaml
//! locale: en_US.UTF-8        # optional, each of these
//! layout: us
//! variant: ""
//! timezone: Europe/Berlin
//! boot: bios                # optional override: auto | efi | bios
//! filesystem: ext4          # optional override: ext4 | xfs | btrfs
//! disk: /var/lib/forge/images/demo.img   # empty: the first selectable disk
//! full_name: Alice Liddell
//! user_name: alice
//! admin: true                # optional: the administrator switch
//! password: correct-horse-battery
//! root_password: ""          # empty: same as the user's
//! secure_boot_password: ""   # EFI installs: MokManager's password
//! hostname: alice-pc
//! groups: [toolchain, core, base]
//! dry_run: false
//! screenshots: /tmp/shots    # optional
//! result: /tmp/result.json   # required (optional in save-plan mode)
//! quit: true                 # close the window at done
//! ```

use std::path::PathBuf;
use std::time::Duration;

use adw::prelude::*;
use gtk::glib;
use serde::Deserialize;

use crate::screens::confirm::ConfirmPage;
use crate::screens::disk::DiskPage;
use crate::screens::keyboard_locale::KeyboardLocalePage;
use crate::screens::packages::PackagesPage;
use crate::screens::user::UserPage;
use crate::window::ForgeWindow;

mod integrity;
mod save_plan;

use integrity::integrity;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    pub locale: Option<String>,
    pub layout: Option<String>,
    pub variant: Option<String>,
    pub timezone: Option<String>,
    /// auto | efi | bios (the Advanced override on the disk screen).
    pub boot: Option<String>,
    /// ext4 | xfs | btrfs (the Advanced file system choice).
    pub filesystem: Option<String>,
    /// Empty: the first selectable disk.
    pub disk: String,
    pub full_name: String,
    pub user_name: Option<String>,
    pub admin: Option<bool>,
    pub password: String,
    pub root_password: String,
    pub secure_boot_password: String,
    pub hostname: Option<String>,
    pub groups: Option<Vec<String>>,
    pub dry_run: bool,
    pub screenshots: Option<PathBuf>,
    pub result: PathBuf,
    pub quit: bool,
    /// Save-plan mode: write the plan here at Confirm instead of installing
    /// (set from `FORGE_GUI_SAVE_PLAN`, not read from the script).
    #[serde(skip)]
    pub save_plan: Option<PathBuf>,
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

/// Starts the autopilot if `FORGE_GUI_AUTOPILOT` names a script or
/// `FORGE_GUI_SAVE_PLAN` a plan file.
pub fn start_if_requested(window: &ForgeWindow) {
    let save = save_plan::requested();
    let script = match std::env::var("FORGE_GUI_AUTOPILOT") {
        Ok(path) => std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_yaml::from_str::<Script>(&t).map_err(|e| e.to_string()))
            .map_err(|e| format!("autopilot script {path}: {e}")),
        Err(_) if save.is_some() => save_plan::script_from_env(),
        Err(_) => return,
    };
    let mut script = match script {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            if save.is_some() {
                std::process::exit(2);
            }
            return;
        }
    };
    if let Some(path) = &save {
        // No stale plan survives a walk that fails.
        let _ = std::fs::remove_file(path);
        script.save_plan = save;
        script.quit = true;
    }
    let w = window.clone();
    glib::spawn_future_local(async move {
        let mut out = Outcome::default();
        if let Err(e) = walk(&w, &script, &mut out).await {
            tracing::error!("autopilot: {e}");
            out.error = e;
        }
        if !script.result.as_os_str().is_empty() {
            match serde_json::to_string_pretty(&out) {
                Ok(j) => {
                    if let Err(e) = std::fs::write(&script.result, j) {
                        tracing::error!("{}: {e}", script.result.display());
                    }
                }
                Err(e) => tracing::error!("autopilot result: {e}"),
            }
        }
        if script.save_plan.is_some() && !out.error.is_empty() {
            std::process::exit(1);
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
    if let Some(f) = &s.filesystem {
        let fs = match f.as_str() {
            "ext4" => forge_proto::Filesystem::Ext4,
            "xfs" => forge_proto::Filesystem::Xfs,
            "btrfs" => forge_proto::Filesystem::Btrfs,
            other => return Err(format!("filesystem: {other} is not ext4, xfs or btrfs")),
        };
        disk.advanced_row().set_expanded(true);
        disk.set_filesystem(fs);
    }
    let device = if s.disk.is_empty() {
        let first = disk.selectable_disks().into_iter().next();
        first.ok_or("no selectable disk is listed")?
    } else {
        s.disk.clone()
    };
    if !disk.choose(&device) {
        return Err(format!("disk {device} not listed or not selectable"));
    }
    shot(w, s, "disk", out).await;
    next(w, "disk").await?;

    let user: UserPage = page(w, "user")?;
    user.full_name_row().set_text(&s.full_name);
    if let Some(u) = &s.user_name {
        user.user_name_row().set_text(u);
    }
    if let Some(a) = s.admin {
        user.admin_switch().set_active(a);
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
    if let Some(path) = &s.save_plan {
        return save_plan::write(path, &out.plan_yaml);
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
