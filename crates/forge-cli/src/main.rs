//! `forgectl`: FORGE's unprivileged command-line client (unattended installs,
//! validation) and the distributor's payload tool (docs/design.md section 4a).
//! Each command family lives in its own module; the command line itself is
//! [`cli`] (self-contained, so `forgectl.1` is generated from it).

mod cli;
mod cmd_daemon;
mod cmd_payload;
mod cmd_validate;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    forge_proto::i18n::init(option_env!("FORGE_LOCALEDIR").unwrap_or("/usr/share/locale"));
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(a) => cmd_validate::run(a),
        Command::Payload(c) => cmd_payload::run(c),
        Command::Disks(a) => cmd_daemon::disks(a),
        Command::Groups(a) => cmd_daemon::groups(a),
        Command::Install(a) => cmd_daemon::install(a),
    }
}
