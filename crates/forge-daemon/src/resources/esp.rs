//! The EFI system partition, written without mounting it: this kernel (like
//! many live or container kernels) may have no vfat driver, so the ESP's
//! content is built in a staging directory and copied onto the FAT32 file
//! system with mtools (`mmd`, `mcopy`). The installed system mounts the same
//! partition at /boot/efi through fstab.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::command::{self, CmdError, CmdOutput};

const TIMEOUT: Duration = Duration::from_secs(120);

fn mtool(tool: &str, device: &Path) -> Command {
    let mut c = Command::new(tool);
    // The partition node is not a floppy; skip mtools' geometry sanity check.
    c.env("MTOOLS_SKIP_CHECK", "1").arg("-i").arg(device);
    c
}

/// The mtools commands that copy the staging tree `dir` to the root of the
/// FAT file system on `device`, in order (directories before their files).
pub fn copy_commands(device: &Path, dir: &Path) -> std::io::Result<Vec<Command>> {
    let mut out = Vec::new();
    walk(device, dir, Path::new(""), &mut out)?;
    Ok(out)
}

fn walk(device: &Path, base: &Path, rel: &Path, out: &mut Vec<Command>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(base.join(rel))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let r = rel.join(e.file_name());
        let fat = format!("::/{}", r.display());
        let ft = e.file_type()?;
        if ft.is_dir() {
            let mut c = mtool("mmd", device);
            c.arg("-D").arg("s").arg(&fat);
            out.push(c);
            walk(device, base, &r, out)?;
        } else if ft.is_file() {
            let mut c = mtool("mcopy", device);
            c.arg("-o").arg("-Q").arg(e.path()).arg(&fat);
            out.push(c);
        }
    }
    Ok(())
}

/// Reads one file from the FAT file system on `device` (for checks/tests).
pub fn read(device: &Path, fat_path: &str) -> Result<CmdOutput, CmdError> {
    let mut c = mtool("mtype", device);
    c.arg(format!("::{fat_path}"));
    command::run(&mut c, TIMEOUT)
}

/// Copies one file out of the FAT file system on `device` to `dest`.
pub fn copy_out(device: &Path, fat_path: &str, dest: &Path) -> Result<CmdOutput, CmdError> {
    let mut c = mtool("mcopy", device);
    c.arg("-o").arg(format!("::{fat_path}")).arg(dest);
    command::run(&mut c, TIMEOUT)
}

/// Lists the FAT file system recursively (`mdir -/ -b`).
pub fn list(device: &Path) -> Result<Vec<String>, CmdError> {
    let mut c = mtool("mdir", device);
    c.args(["-/", "-b", "::/"]);
    let out = command::run(&mut c, TIMEOUT)?;
    Ok(out.stdout.lines().map(|l| l.trim().to_string()).collect())
}

/// The time limit phases use for each mtools command.
pub fn timeout() -> Duration {
    TIMEOUT
}
