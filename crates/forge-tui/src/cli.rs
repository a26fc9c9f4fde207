//! The command line of `forge-tui`, self-contained (only `clap` derive) so a
//! build script can `include!` it to generate the man page (SESSION3
//! Interface 4).

use std::path::PathBuf;

/// FORGE's text installer: installs InterGenOS from a terminal (SSH, a
/// server's console), with the same steps and rules as the graphical
/// installer.
#[derive(clap::Parser, Debug, Clone, Default, PartialEq, Eq)]
#[command(name = "forge-tui", version)]
pub struct Cli {
    /// Walk the steps, then write the plan (install.yaml) to FILE instead
    /// of installing, for `forgectl install` or a later unattended run.
    /// FILE is created with mode 0600 and must not exist yet.
    #[arg(long, value_name = "FILE", conflicts_with = "attach")]
    pub save_plan: Option<PathBuf>,

    /// Show the progress of the installation that is already running (for
    /// example after the SSH connection dropped), instead of starting one.
    #[arg(long)]
    pub attach: bool,

    /// Preselect "Trial run": check the plan and verify the packages, then
    /// stop; nothing is written to the disk.
    #[arg(long, conflicts_with = "attach")]
    pub dry_run: bool,
}
