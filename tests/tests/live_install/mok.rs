//! Run C of the end-to-end test (issue 13, scenario 4): the installed disk
//! alone (no ISO) under OVMF with Secure Boot, with the variable store run
//! B left behind (FORGE's `mokutil --import` queued `MokNew`). shim finds
//! the request and starts MokManager, driven over the serial console by
//! `forge_tests::qemu::mokmanager` (Enroll MOK → Continue → Yes → the
//! Secure Boot password → Reboot); the machine resets in the same QEMU
//! (no `-no-reboot`), and the installed system must boot to its marker.
//!
//! Evidence the key was enrolled: on the boot after the reset shim does not
//! offer MokManager again (the request was consumed) and accepts GRUB, which
//! FORGE signed only with the key it generated on this install (OVMF's db
//! has Microsoft's keys, MokList before had only the live medium's test
//! key), so shim loads it only once that key is in MokList; the kernel
//! reports "Secure boot enabled"; and the store no longer holds
//! `MokNew`/`MokAuth` afterwards. The serial logs are
//! `<log_dir>/run-c-mok.log` (raw) and `.txt` (escape sequences removed).

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use forge_tests::qemu::mokmanager;
use forge_tests::qemu::serial::{SerialSpec, SerialVm};
use forge_tests::qemu::{BootOutcome, BootResult, MARKER};

/// From the reset to the installed system's marker (TCG).
const MARKER_TIMEOUT: Duration = Duration::from_secs(600);

fn vars_listing(vars: &Path) -> Result<String> {
    forge_tests::qemu::virt_fw_vars(&["-i".as_ref(), vars.as_os_str(), "-p".as_ref()])
}

/// Boots `disk` with `vars` (used in place), enrolls the queued key with
/// `sb_password` in MokManager, and waits for the installed system's
/// marker after the reset: that boot, from the reset on (`marker`,
/// outcome `MarkerSeen`). Errors name the step and carry the console's
/// tail; check the marker's fields with `qemu::assert_marker(&r, ...)`.
pub fn enroll_and_boot(
    disk: &Path,
    vars: &Path,
    sb_password: &str,
    log_dir: &Path,
) -> Result<BootResult> {
    let before = vars_listing(vars)?;
    if !before.contains("MokNew") {
        bail!(
            "run C: no MokNew in {} (was mokutil --import run?):\n{before}",
            vars.display()
        );
    }
    let mut spec = SerialSpec::new("run-c-mok", vars, log_dir);
    spec.disk = Some(disk.to_path_buf());
    let mut vm = SerialVm::start(&spec)?;
    let enrollment = mokmanager::enroll(&mut vm, sb_password)
        .with_context(|| format!("run C: MokManager (log {})", vm.log_file().display()))?;
    eprintln!(
        "run C: MokManager prompt after {:.1?}, enrolled in {:.1?}",
        enrollment.prompt_after, enrollment.took
    );
    let reset_at = vm.elapsed();
    let needles = [
        MARKER,
        mokmanager::PROMPT,
        "Security Violation",
        "Access Denied",
        "grub>",
        "Kernel panic",
    ];
    let (k, mut seen) = vm.expect(&needles, MARKER_TIMEOUT).with_context(|| {
        format!(
            "run C: after MokManager's reset (log {})",
            vm.log_file().display()
        )
    })?;
    if k != 0 {
        bail!(
            "run C: after MokManager's reset the console showed {:?} instead of the installed system's marker{}; log {}; tail:\n{}",
            needles[k],
            if k == 1 { " (the key was not enrolled: MokManager again)" } else { "" },
            vm.log_file().display(),
            vm.tail(4000)
        );
    }
    let (_, rest) = vm
        .expect(&["\n"], Duration::from_secs(30))
        .context("run C: the rest of the marker line")?;
    seen.push_str(&rest);
    let line = seen[seen.rfind(MARKER).unwrap_or(0)..].trim().to_string();
    if !seen.contains("Secure boot enabled") {
        bail!(
            "run C: the installed kernel did not report Secure Boot on the boot after the enrollment; log {}; tail:\n{}",
            vm.log_file().display(),
            vm.tail(4000)
        );
    }
    let elapsed = vm.elapsed() - reset_at;
    eprintln!("run C: marker {elapsed:.1?} after the reset: {line}");
    // The installed init powers off after its marker; the store is complete then.
    let _ = vm.wait_exit(Duration::from_secs(60));
    let log = vm.log_file();
    drop(vm);
    let vars_after = vars_listing(vars)?;
    if vars_after.contains("MokNew") || vars_after.contains("MokAuth") {
        bail!("run C: the enrollment request is still in the variable store:\n{vars_after}");
    }
    eprintln!("run C: the enrollment request was consumed (no MokNew/MokAuth left)");
    Ok(BootResult {
        marker: Some(line),
        outcome: BootOutcome::MarkerSeen,
        serial_log: format!(
            "(console since MokManager's reset; whole log {})\n{seen}",
            log.display()
        ),
        elapsed,
    })
}
