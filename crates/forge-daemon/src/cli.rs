//! `forge-daemon`'s command line, and nothing else: self-contained (it
//! names only `clap` and `std`), so that the man page generator
//! (`crates/forge-man`, which `#[path]`-includes this file) renders
//! `forge-daemon.8` from exactly what the binary parses.

use std::path::PathBuf;

use clap::Parser;

/// Where the daemon reads its configuration by default (equal to
/// `config::DEFAULT_CONFIG_PATH`, checked by a unit test in main.rs).
pub const DEFAULT_CONFIG: &str = "/etc/forge/forge-daemon.yaml";

#[derive(Parser)]
#[command(
    name = "forge-daemon",
    version,
    about = "FORGE's privileged installer service",
    long_about = "FORGE's privileged installer service. It owns org.intergenos.Forge1 on the \
                  system bus, asks polkit before every privileged call and runs one install at \
                  a time. It is started by D-Bus activation through forge-daemon.service, not \
                  by hand; its trust roots come only from its root-owned configuration file."
)]
pub struct Args {
    /// The daemon configuration (trust roots and target policy).
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
}
