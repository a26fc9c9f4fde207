//! `forgectl`'s command line, and nothing else: every clap definition of the
//! program lives here, self-contained (it names only `clap` and `std`), so
//! that the man page generator (`crates/forge-man`, which `#[path]`-includes
//! this file) renders `forgectl.1` from exactly what the binary parses. The
//! command modules take their arguments from here.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "forgectl",
    version,
    about = "FORGE installer command-line client",
    long_about = "FORGE installer command-line client: validate an install plan offline, \
                  list the disks and package groups the FORGE service offers, install a plan \
                  through the service with live progress, and build, verify or deploy a \
                  signed payload (the distributor's tool)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Validate an install.yaml offline: one `field: message` line per problem.
    Validate(ValidateArgs),
    /// Build, verify or deploy a signed payload.
    #[command(subcommand)]
    Payload(PayloadCommand),
    /// List the disks the daemon can install to.
    Disks(DisksArgs),
    /// List the package groups of the daemon's payload.
    Groups(GroupsArgs),
    /// Install a plan through the daemon, with live progress.
    ///
    /// The passwords are read first (from their files, or typed). When
    /// polkit wants an administrator's password and no graphical session
    /// is present, forgectl starts pkttyagent, which asks for it on this
    /// terminal; a refusal ends with org.intergenos.Forge1.Error.NotAuthorized
    /// and nothing written.
    Install(InstallArgs),
}

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The install.yaml to check.
    pub file: PathBuf,
    /// Read the system lists (locales, keyboard layouts, time zones) below
    /// this directory instead of `/`, e.g. a mounted target or live image.
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum PayloadCommand {
    /// Write manifest and index from DIR/packages/, signing them with a key file if given.
    Build {
        dir: PathBuf,
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// When the signed index expires: a date (2027-06-30), a UTC time
        /// (2027-06-30T12:00:00Z) or a lifetime (90d, 12w, 36h, 1y). Default: 90d.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Check both signatures and every archive.
    Verify {
        dir: PathBuf,
        #[arg(long)]
        keyring: PathBuf,
    },
    /// Verify, then extract and register the chosen groups into a directory.
    Deploy {
        dir: PathBuf,
        #[arg(long)]
        keyring: PathBuf,
        #[arg(long)]
        root: PathBuf,
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
    },
}

#[derive(clap::Args)]
pub struct DisksArgs {}

#[derive(clap::Args)]
pub struct GroupsArgs {}

#[derive(clap::Args)]
pub struct InstallArgs {
    /// The install.yaml to install.
    pub plan: PathBuf,
    /// Target block device (or image file, where the daemon allows it).
    #[arg(long)]
    pub disk: String,
    /// Validate, verify and print the operations; touch nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A file holding the root password (asked for on the terminal when not given).
    #[arg(long)]
    pub root_password_file: Option<PathBuf>,
    /// A file holding the first user's password (asked for on the terminal when not given).
    #[arg(long)]
    pub user_password_file: Option<PathBuf>,
    /// The password MokManager asks for at the next start to enroll this
    /// computer's Secure Boot key (EFI installs; asked for on the terminal
    /// when not given).
    #[arg(long)]
    pub secure_boot_password_file: Option<PathBuf>,
}
