//! FORGE's GTK4/libadwaita install wizard. It runs unprivileged, collects
//! choices screen by screen into a [`state::ForgeState`], and hands the plan
//! and `install_io` to the daemon over the system bus; polkit asks for the
//! password. It never writes a disk itself.
//!
//! Environment: `FORGE_LOCALEDIR` (compiled catalogs). Built with the
//! `autopilot` feature (tests, demo, benchmarks; never the shipped binary,
//! which is built without it) also `FORGE_GUI_BENCH=1` (print time to first
//! frame and resident memory, then exit) and `FORGE_GUI_AUTOPILOT=FILE`
//! (test/demo driver, see `autopilot.rs`).

pub mod a11y;
#[cfg(feature = "autopilot")]
pub mod autopilot;
#[cfg(feature = "autopilot")]
pub mod bench;
pub mod client;
pub mod install_flow;
pub mod langnames;
pub mod model;
pub mod screens;
#[cfg(feature = "autopilot")]
pub mod shot;
pub mod state;
pub mod util;
pub mod window;

use std::rc::Rc;

use adw::prelude::*;
use gtk::{gdk, gio};

/// The application id (also the desktop file name).
pub const APP_ID: &str = "org.intergenos.Forge";

/// Where compiled message catalogs are looked up: `FORGE_LOCALEDIR`, else
/// (debug builds only) a source checkout's `target/locale` when it exists,
/// else the system's. A release build never looks into its build tree.
pub fn localedir() -> String {
    if let Ok(d) = std::env::var("FORGE_LOCALEDIR") {
        return d;
    }
    let dev = env!("FORGE_DEV_LOCALEDIR");
    if cfg!(debug_assertions) && std::path::Path::new(dev).is_dir() {
        return dev.to_string();
    }
    "/usr/share/locale".to_string()
}

/// One-time set-up shared by the binary and the UI tests: gettext,
/// resources, libadwaita, the style sheet, text direction.
pub fn init() -> Result<(), String> {
    forge_proto::i18n::init(&localedir());
    gio::resources_register_include!("forge-gui.gresource").map_err(|e| e.to_string())?;
    gtk::init().map_err(|e| e.to_string())?;
    adw::init().map_err(|e| e.to_string())?;
    apply_direction_and_style();
    Ok(())
}

/// The catalog's own direction (Arabic, and any RTL language, flips) and
/// the application's style sheet on the default display.
fn apply_direction_and_style() {
    let dir = if forge_proto::i18n::tr("default:LTR") == "default:RTL" {
        gtk::TextDirection::Rtl
    } else {
        gtk::TextDirection::Ltr
    };
    gtk::Widget::set_default_direction(dir);
    if let Some(display) = gdk::Display::default() {
        let css = gtk::CssProvider::new();
        css.load_from_resource("/org/intergenos/Forge/style.css");
        gtk::style_context_add_provider_for_display(
            &display,
            &css,
            gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
        );
    }
}

/// Runs the application; the exit code of the main loop.
pub fn run() -> std::process::ExitCode {
    #[cfg(feature = "autopilot")]
    let bench = bench::Bench::start_if_requested();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    forge_proto::i18n::init(&localedir());
    if let Err(e) = gio::resources_register_include!("forge-gui.gresource") {
        eprintln!(
            "{}: {e}",
            forge_proto::i18n::tr("Cannot load the interface")
        );
        return std::process::ExitCode::FAILURE;
    }
    let app = adw::Application::builder()
        .application_id(APP_ID)
        .flags(gio::ApplicationFlags::NON_UNIQUE)
        .build();
    app.connect_startup(|_| apply_direction_and_style());
    app.connect_activate(move |app| {
        let client = match client::Client::new() {
            Ok(c) => Some(Rc::new(c)),
            Err(e) => {
                tracing::error!("cannot start the D-Bus thread: {e}");
                None
            }
        };
        #[cfg(feature = "autopilot")]
        if let Some(b) = bench.as_ref().filter(|b| b.baseline) {
            // The toolkit alone: an empty libadwaita window, for comparison.
            let w = adw::ApplicationWindow::builder()
                .application(app)
                .default_width(900)
                .default_height(700)
                .build();
            b.attach(&w, app);
            GtkWindowExt::present(&w);
            return;
        }
        let state = state::ForgeState::from_system();
        let window = window::ForgeWindow::new(app, &state, client);
        #[cfg(feature = "autopilot")]
        {
            if let Some(b) = &bench {
                b.attach(&window, app);
            }
            autopilot::start_if_requested(&window);
        }
        GtkWindowExt::present(&window);
    });
    let code = app.run_with_args::<&str>(&[]);
    code.into()
}
