//! Running the external tools (mksquashfs, veritysetup, objcopy, sbsign, faketime,
//! mkfs.vfat, mtools, grub-mkimage, xorriso, openssl): a fixed environment
//! (`LC_ALL=C`, `TZ=UTC`, `SOURCE_DATE_EPOCH`), stderr in the error on
//! failure, and each tool's version for the manifest.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// A command with the build's fixed environment.
pub fn command(program: &str, source_date_epoch: u64) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("SOURCE_DATE_EPOCH", source_date_epoch.to_string())
        .env("MTOOLS_SKIP_CHECK", "1");
    cmd
}

/// Runs `cmd`; its stdout on success, else an error with the command line and stderr.
pub fn run(cmd: &mut Command) -> Result<String> {
    let line = describe(cmd);
    let out = cmd.output().with_context(|| format!("starting {line}"))?;
    if !out.status.success() {
        bail!(
            "{line} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end(),
            String::from_utf8_lossy(&out.stdout).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tools a build runs and how each tells its version.
const VERSION_ARGS: &[(&str, &[&str])] = &[
    ("faketime", &["--version"]),
    ("grub-mkimage", &["--version"]),
    ("mcopy", &["--version"]),
    ("mkfs.vfat", &["--help"]),
    ("mksquashfs", &["-version"]),
    ("objcopy", &["--version"]),
    ("openssl", &["version"]),
    ("sbsign", &["--version"]),
    ("veritysetup", &["--version"]),
    ("xorriso", &["-version"]),
];

/// `tool → first line of its version output`, for the manifest.
pub fn versions() -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (tool, args) in VERSION_ARGS {
        let o = Command::new(tool)
            .args(*args)
            .env("LC_ALL", "C")
            .output()
            .with_context(|| format!("{tool} is not installed"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("Usage"))
            .unwrap_or("unknown")
            .to_owned();
        out.insert((*tool).to_owned(), line);
    }
    Ok(out)
}
