//! Harness: boots FORGE's live ISO (scripts/build-live.sh) under QEMU (TCG)
//! as a CD-ROM or as a disk (hybrid), with BIOS, EFI or EFI under Secure
//! Boot, and reads the serial console until the live session's marker
//! (`FORGE-LIVE-SESSION ...`, printed by the live user's login once systemd
//! reached multi-user), the live init's refusal (`FORGE-LIVE-REFUSED
//! check=...`) or failure (`FORGE-LIVE-FAILED step=...`), a Secure Boot
//! refusal (shim, GRUB's shim_lock, the firmware), a panic or the time limit.
//!
//! Devices, chosen for what Debian's cloud kernel can drive (no AHCI, no USB
//! storage): BIOS runs on `pc` (CD-ROM: `ide-cd`, disk: virtio-blk); EFI on
//! `q35` (`smm=on` with Secure Boot; CD-ROM: `scsi-cd` on virtio-scsi, disk:
//! virtio-blk). The ISO is never modified (read-only CD, `snapshot=on` disk).
//! Each serial log is saved as `<log_dir>/<name>.log`. [`boot_all`] runs
//! boots two at a time (the machines have two cores; TCG uses one each).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::process::{self, Verdict};
use super::{args, BootMode};

/// The line prefix of the live session's marker (scripts/build-live.sh).
pub const SESSION_MARKER: &str = "FORGE-LIVE-SESSION";
/// The line prefix of the live init's refusal (crates/forge-iso/init/init.sh).
pub const REFUSED_MARKER: &str = "FORGE-LIVE-REFUSED";
/// The line prefix of the live init's other failures.
pub const FAILED_MARKER: &str = "FORGE-LIVE-FAILED";

/// Firmware of the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS on `pc`.
    Bios,
    /// OVMF without Secure Boot on `q35`.
    Efi,
    /// OVMF with Secure Boot enforced on `q35,smm=on`; `vars` is a variable
    /// store (e.g. from `qemu::secure_boot_vars_with_mok`), copied.
    SecureBoot { vars: PathBuf },
}

/// How the ISO is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Cdrom,
    /// The hybrid ISO written to a disk.
    Disk,
}

/// One boot to run.
#[derive(Debug, Clone)]
pub struct LiveBoot {
    /// Short name: the log file and the test output use it.
    pub name: String,
    pub iso: PathBuf,
    pub firmware: Firmware,
    pub medium: Medium,
    pub timeout: Duration,
}

/// Why reading the console stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveOutcome {
    /// The live session's marker line (the whole line).
    Session(String),
    /// The init refused the root filesystem: the check's name.
    Refused(String),
    /// The init failed at a step: its name.
    Failed(String),
    /// shim, GRUB (shim_lock) or the firmware refused a signature.
    SecureBootRefused,
    KernelPanic,
    GrubPrompt,
    /// QEMU exited (e.g. powered off) without any of the above.
    Exited,
    Timeout,
}

/// What a boot showed.
#[derive(Debug, Clone)]
pub struct LiveResult {
    pub name: String,
    pub outcome: LiveOutcome,
    /// Everything QEMU printed (serial console, then QEMU's stderr).
    pub serial_log: String,
    /// Wall time from QEMU start to the outcome.
    pub elapsed: Duration,
    /// Where the serial log was saved.
    pub log_file: PathBuf,
}

impl LiveResult {
    /// The last `max` bytes of the console log, for assertion messages.
    pub fn log_tail(&self, max: usize) -> &str {
        let s = &self.serial_log;
        let mut start = s.len().saturating_sub(max);
        while !s.is_char_boundary(start) {
            start += 1;
        }
        &s[start..]
    }
}

fn boot_mode(firmware: &Firmware) -> BootMode {
    match firmware {
        Firmware::Bios => BootMode::Bios,
        Firmware::Efi => BootMode::Efi,
        Firmware::SecureBoot { vars } => BootMode::SecureBoot { vars: vars.clone() },
    }
}

/// `Some(reason)` when `firmware` cannot run here (QEMU or OVMF missing).
pub fn missing_prerequisite(firmware: &Firmware) -> Option<String> {
    super::missing_prerequisite(&boot_mode(firmware))
}

fn complete_line(text: &str, prefix: &str) -> Option<String> {
    let i = text.find(prefix)?;
    let end = text[i..].find('\n')?;
    Some(text[i..i + end].trim().to_string())
}

fn field(line: &str, key: &str) -> String {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or("")
        .to_string()
}

/// What the console text shows so far, if decisive.
pub fn classify(text: &str) -> Option<LiveOutcome> {
    if let Some(line) = complete_line(text, SESSION_MARKER) {
        return Some(LiveOutcome::Session(line));
    }
    if let Some(line) = complete_line(text, REFUSED_MARKER) {
        return Some(LiveOutcome::Refused(field(&line, "check")));
    }
    if let Some(line) = complete_line(text, FAILED_MARKER) {
        return Some(LiveOutcome::Failed(field(&line, "step")));
    }
    if text.contains("Kernel panic") {
        return Some(LiveOutcome::KernelPanic);
    }
    const SB: [&str; 5] = [
        "Security Violation",
        "Access Denied",
        "bad shim signature",
        "Verification failed",
        "cannot load image",
    ];
    if SB.iter().any(|p| text.contains(p)) {
        return Some(LiveOutcome::SecureBootRefused);
    }
    if text.contains("grub>") || text.contains("grub rescue>") {
        return Some(LiveOutcome::GrubPrompt);
    }
    None
}

fn qemu_command(b: &LiveBoot, scratch: &Path) -> Result<Command> {
    let iso = args::drive_path(&b.iso)?;
    let mut cmd = args::base(1536, false);
    args::firmware(&mut cmd, &boot_mode(&b.firmware), "pc", scratch)?;
    match (b.medium, &b.firmware) {
        (Medium::Cdrom, Firmware::Bios) => {
            cmd.arg("-drive")
                .arg(format!(
                    "file={iso},if=none,id=live,media=cdrom,readonly=on,format=raw"
                ))
                .args(["-device", "ide-cd,drive=live,bus=ide.1,bootindex=0"]);
        }
        (Medium::Cdrom, _) => args::scsi_cdrom(&mut cmd, iso),
        (Medium::Disk, _) => {
            cmd.arg("-drive")
                .arg(format!("file={iso},if=none,id=live,format=raw,snapshot=on"))
                .args(["-device", "virtio-blk-pci,drive=live,bootindex=0"]);
        }
    }
    Ok(cmd)
}

/// What an overloaded host does to a TCG guest's early timer check; not
/// the medium's fault, so such a boot is run once more.
const HOST_TOO_SLOW: &str = "IO-APIC + timer doesn't work";

/// Runs one boot and saves its serial log in `log_dir` (see [`boot_once`]);
/// a boot whose kernel panicked because the host was too slow for its timer
/// check is run once more.
pub fn boot(b: &LiveBoot, log_dir: &Path) -> Result<LiveResult> {
    let r = boot_once(b, log_dir)?;
    if r.outcome == LiveOutcome::KernelPanic && r.serial_log.contains(HOST_TOO_SLOW) {
        eprintln!(
            "live boot {}: host too slow for the guest's timer check, booting again",
            b.name
        );
        return boot_once(b, log_dir);
    }
    Ok(r)
}

/// Runs one boot and saves its serial log in `log_dir`. Errors only when
/// QEMU cannot be started; every boot outcome is a [`LiveResult`].
pub fn boot_once(b: &LiveBoot, log_dir: &Path) -> Result<LiveResult> {
    if let Some(why) = missing_prerequisite(&b.firmware) {
        bail!("cannot boot {}: {why}", b.name);
    }
    if !b.iso.is_file() {
        bail!("no ISO at {}", b.iso.display());
    }
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let cmd = qemu_command(b, scratch.path())?;
    // Keep what follows a refusal (the init's explanation) for the log.
    let w = process::watch(cmd, b.timeout, classify, |o| {
        !matches!(o, LiveOutcome::Session(_))
    })?;
    let serial_log = w.serial_log;
    std::fs::create_dir_all(log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    let log_file = log_dir.join(format!("{}.log", b.name));
    std::fs::write(&log_file, &serial_log)
        .with_context(|| format!("writing {}", log_file.display()))?;
    Ok(LiveResult {
        name: b.name.clone(),
        outcome: match w.verdict {
            Verdict::Seen(o) => o,
            Verdict::Exited => LiveOutcome::Exited,
            Verdict::Timeout => LiveOutcome::Timeout,
        },
        serial_log,
        elapsed: w.elapsed,
        log_file,
    })
}

/// Runs `boots`, `parallel` at a time: each worker takes the next boot in
/// the list when its last one ends (list long boots first). Results are in
/// the list's order. Prints `live boot NAME: OUTCOME after TIME (log FILE)`
/// as each ends.
pub fn boot_all(boots: &[LiveBoot], log_dir: &Path, parallel: usize) -> Vec<Result<LiveResult>> {
    let next = std::sync::Mutex::new(0usize);
    let done: std::sync::Mutex<Vec<Option<Result<LiveResult>>>> =
        std::sync::Mutex::new(boots.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..parallel.max(1) {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(b) = boots.get(i) else { return };
                let r = boot(b, log_dir);
                match &r {
                    Ok(r) => eprintln!(
                        "live boot {}: {:?} after {:.1?} (log {})",
                        r.name,
                        r.outcome,
                        r.elapsed,
                        r.log_file.display()
                    ),
                    Err(e) => eprintln!("live boot {}: {e:#}", b.name),
                }
                done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    done.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("boot did not run"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_markers_and_refusals() {
        assert_eq!(classify("FORGE-LIVE-SESSION user=live"), None);
        assert_eq!(
            classify("x\r\nFORGE-LIVE-SESSION user=live target=active\r\n$ "),
            Some(LiveOutcome::Session(
                "FORGE-LIVE-SESSION user=live target=active".into()
            ))
        );
        assert_eq!(
            classify("forge-live: FORGE-LIVE-REFUSED check=dm-verity\n"),
            Some(LiveOutcome::Refused("dm-verity".into()))
        );
        assert_eq!(
            classify("forge-live: FORGE-LIVE-FAILED step=medium\n"),
            Some(LiveOutcome::Failed("medium".into()))
        );
        assert_eq!(
            classify("error: bad shim signature.\n"),
            Some(LiveOutcome::SecureBootRefused)
        );
        assert_eq!(classify("Booting `FORGE live'"), None);
    }

    #[test]
    fn the_command_lines_are_the_ones_live_boots_always_used() {
        let dir = tempfile::tempdir().unwrap();
        let vars = dir.path().join("vars.fd");
        std::fs::write(&vars, b"store").unwrap();
        let s = dir.path().display();
        let line = |firmware: Firmware, medium: Medium| {
            let b = LiveBoot {
                name: "x".into(),
                iso: "/l.iso".into(),
                firmware,
                medium,
                timeout: Duration::from_secs(1),
            };
            args::of(&qemu_command(&b, dir.path()).unwrap()).join(" ")
        };
        let base = "-accel tcg -m 1536 -smp 1 -nodefaults -display none -monitor none -serial stdio -no-reboot";
        let cd = "-drive file=/l.iso,if=none,id=live,media=cdrom,readonly=on,format=raw";
        assert_eq!(
            line(Firmware::Bios, Medium::Cdrom),
            format!("{base} -machine pc {cd} -device ide-cd,drive=live,bus=ide.1,bootindex=0")
        );
        assert_eq!(
            line(Firmware::SecureBoot { vars: vars.clone() }, Medium::Cdrom),
            format!(
                "{base} -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
                 -drive if=pflash,format=raw,unit=0,readonly=on,file={} \
                 -drive if=pflash,format=raw,unit=1,file={s}/OVMF_VARS.fd \
                 -device virtio-scsi-pci,id=scsi0 {cd} -device scsi-cd,bus=scsi0.0,drive=live,bootindex=0",
                super::super::OVMF_CODE_SECURE
            )
        );
        assert_eq!(
            line(Firmware::Bios, Medium::Disk),
            format!(
                "{base} -machine pc -drive file=/l.iso,if=none,id=live,format=raw,snapshot=on \
                 -device virtio-blk-pci,drive=live,bootindex=0"
            )
        );
    }
}
