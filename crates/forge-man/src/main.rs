//! `forge-man OUTDIR`: writes FORGE's man pages into OUTDIR, rendered with
//! `clap_mangen` from the very clap definitions the programs parse:
//! `forgectl.1` (and one `forgectl-<command>.1` per subcommand, which the
//! main page refers to), `forge-tui.1` when `crates/forge-tui/src/cli.rs`
//! exists, and `forge-daemon.8`. Each program keeps its command line in a
//! self-contained `cli.rs` (only `clap` and `std`), included here by path,
//! so no generator code is in a shipped binary. `scripts/install.sh` runs
//! this; it is never installed.

#[path = "../../forge-cli/src/cli.rs"]
#[allow(dead_code)]
mod forgectl;

#[cfg(forge_tui_cli)]
#[path = "../../forge-tui/src/cli.rs"]
#[allow(dead_code)]
mod forge_tui;

#[path = "../../forge-daemon/src/cli.rs"]
#[allow(dead_code)]
mod daemon_cli;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;

/// The `.TH` source and manual fields of every page.
const SOURCE: &str = concat!("FORGE ", env!("CARGO_PKG_VERSION"));
const MANUAL: &str = "FORGE Manual";

/// Writes `cmd`'s page and, recursively, one page per subcommand (what
/// the parent's SUBCOMMANDS section refers to) in `section`.
fn write_pages(cmd: clap::Command, section: &str, out: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, section, out, &mut written)?;
    Ok(written)
}

fn write_tree(
    cmd: &clap::Command,
    section: &str,
    out: &Path,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, section, out, written)?;
    }
    let man = clap_mangen::Man::new(cmd.clone())
        .section(section)
        .source(SOURCE)
        .manual(MANUAL);
    let path = out.join(man.get_filename());
    let mut bytes = Vec::new();
    man.render(&mut bytes)?;
    std::fs::write(&path, bytes)?;
    written.push(path);
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: forge-man OUTDIR");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    let pages: Vec<(clap::Command, &str)> = vec![
        (forgectl::Cli::command(), "1"),
        #[cfg(forge_tui_cli)]
        (forge_tui::Cli::command(), "1"),
        (daemon_cli::Args::command(), "8"),
    ];
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("forge-man: {}: {e}", out.display());
        return ExitCode::from(1);
    }
    for (cmd, section) in pages {
        match write_pages(cmd, section, &out) {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
            }
            Err(e) => {
                eprintln!("forge-man: writing into {}: {e}", out.display());
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
