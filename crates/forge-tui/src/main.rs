//! `forge-tui`: FORGE's text installer (issue 11). The same eight steps as
//! the GTK wizard in a terminal (SSH, servers, the console), on ratatui with
//! the crossterm backend. The model (choices, rules, plan bytes) is
//! `forge_proto::wizard::Wizard`; the daemon is reached only through
//! `forge_proto::client::Daemon`. Keys and screens: docs/tui.md.
//!
//! Environment: `FORGE_LOCALEDIR` (compiled catalogs), `NO_COLOR`, `TERM`.

mod app;
mod bench;
mod bidi;
mod cli;
mod input;
mod integrity;
mod paste_guard;
mod runner;
mod screens;
mod terminal;
mod theme;
mod widgets;

use std::process::ExitCode;

use clap::Parser;
use forge_proto::i18n::trf;
use forge_proto::wizard::Wizard;

use app::{App, Mode};
use runner::Outcome;

fn localedir() -> String {
    std::env::var("FORGE_LOCALEDIR")
        .ok()
        .or_else(|| option_env!("FORGE_LOCALEDIR").map(str::to_string))
        .unwrap_or_else(|| "/usr/share/locale".to_string())
}

fn main() -> ExitCode {
    let bench = bench::Bench::from_env();
    let cli = cli::Cli::parse();
    forge_proto::i18n::init(&localedir());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("forge-tui: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = rt.block_on(async_main(cli, bench));
    // Leave at once: a D-Bus helper thread still blocked in the bus library
    // must not hold the exit (the terminal is already restored).
    rt.shutdown_background();
    code
}

async fn async_main(cli: cli::Cli, bench: Option<bench::Bench>) -> ExitCode {
    let mode = match (&cli.save_plan, cli.attach) {
        (Some(p), _) => Mode::SavePlan(p.clone()),
        (None, true) => Mode::Attach,
        (None, false) => Mode::Install,
    };
    if let Some(p) = &cli.save_plan {
        if p.exists() {
            eprintln!(
                "forge-tui: {}",
                trf(
                    "{file} exists; the plan is never written over a file.",
                    &[("file", &p.display().to_string())]
                )
            );
            return ExitCode::from(2);
        }
    }
    let attach = if cli.attach {
        match runner::attach_target().await {
            Ok(t) => Some(t),
            Err(msg) => {
                eprintln!("forge-tui: {msg}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let mut wizard = Wizard::from_system();
    if cli.dry_run {
        wizard.update(|c| c.dry_run = true);
    }
    let app = App::new(wizard, mode, theme::Theme::from_env());
    match runner::run(app, attach, bench).await {
        Ok(Outcome::Quit) => ExitCode::SUCCESS,
        Ok(Outcome::Saved(path)) => {
            println!(
                "{}",
                trf(
                    "Plan saved to {file}",
                    &[("file", &path.display().to_string())]
                )
            );
            ExitCode::SUCCESS
        }
        Ok(Outcome::Signal(sig)) => ExitCode::from(128 + sig as u8),
        Err(e) => {
            eprintln!("forge-tui: {e:#}");
            ExitCode::FAILURE
        }
    }
}
