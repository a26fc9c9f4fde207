//! A COPY of `forge-daemon`'s command line (`Args` in
//! `crates/forge-daemon/src/main.rs`), kept here only until the daemon's
//! clap definition moves into a self-contained `crates/forge-daemon/src/cli.rs`
//! that this generator can `#[path]`-include like forgectl's (asked of the
//! daemon's owner in /work/team/H7-needs.md). `tests/tests/install_layout.rs`
//! checks that every option the built daemon's `--help` lists is in the
//! page rendered from this copy, so a drift fails a test.

use std::path::PathBuf;

use clap::Parser;

/// Where the daemon reads its configuration by default.
const DEFAULT_CONFIG_PATH: &str = "/etc/forge/forge-daemon.yaml";

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
    #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
}
