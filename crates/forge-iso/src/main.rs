//! `forge-iso`: the command line (docs/live-medium.md, "The CLI").
//! `build` runs every phase and self-verifies the image; `verify` runs the
//! self-verification alone on an existing image.

use std::process::ExitCode;

use clap::Parser;
use forge_iso::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => args
            .into_config()
            .and_then(|config| forge_iso::build::run(&config))
            .map(|built| {
                println!("{}", built.summary());
            }),
        Command::Verify { image } => forge_iso::verify::verify_image(&image).map(|report| {
            println!("{report}");
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("forge-iso: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
