//! `forgectl`: FORGE's unprivileged command-line client (unattended installs,
//! validation) and the distributor's payload tool (docs/design.md section 4a).
//! Each command family lives in its own module.

mod cmd_daemon;
mod cmd_payload;
mod cmd_validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "forgectl",
    version,
    about = "FORGE installer command-line client"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate an install.yaml offline: one `field: message` line per problem.
    Validate(cmd_validate::Args),
    /// Build, verify or deploy a signed payload.
    #[command(subcommand)]
    Payload(cmd_payload::PayloadCommand),
    /// List the disks the daemon can install to.
    Disks(cmd_daemon::DisksArgs),
    /// List the package groups of the daemon's payload.
    Groups(cmd_daemon::GroupsArgs),
    /// Install a plan through the daemon, with live progress.
    Install(cmd_daemon::InstallArgs),
}

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
