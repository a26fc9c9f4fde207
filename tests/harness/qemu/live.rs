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

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::{pump, QemuGuard, OVMF_CODE, OVMF_CODE_SECURE, OVMF_VARS, QEMU};

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

/// `Some(reason)` when `firmware` cannot run here (QEMU or OVMF missing).
pub fn missing_prerequisite(firmware: &Firmware) -> Option<String> {
    let mode = match firmware {
        Firmware::Bios => super::BootMode::Bios,
        Firmware::Efi => super::BootMode::Efi,
        Firmware::SecureBoot { vars } => super::BootMode::SecureBoot { vars: vars.clone() },
    };
    super::missing_prerequisite(&mode)
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
    let iso = b.iso.to_str().context("ISO path is not UTF-8")?;
    if iso.contains(',') {
        bail!("ISO path {iso:?} contains a comma, which QEMU's -drive cannot take");
    }
    let mut cmd = Command::new(QEMU);
    cmd.args(["-accel", "tcg", "-m", "1536", "-smp", "1"])
        .args(["-nodefaults", "-display", "none", "-monitor", "none"])
        .args(["-serial", "stdio", "-no-reboot"]);
    let pflash = |cmd: &mut Command, code: &str, vars_src: &Path| -> Result<()> {
        let vars = scratch.join("OVMF_VARS.fd");
        std::fs::copy(vars_src, &vars)
            .with_context(|| format!("copying {} to {}", vars_src.display(), vars.display()))?;
        cmd.arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=0,readonly=on,file={code}"
            ))
            .arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=1,file={}",
                vars.display()
            ));
        Ok(())
    };
    match &b.firmware {
        Firmware::Bios => {
            cmd.args(["-machine", "pc"]);
        }
        Firmware::Efi => {
            cmd.args(["-machine", "q35"]);
            pflash(&mut cmd, OVMF_CODE, Path::new(OVMF_VARS))?;
        }
        Firmware::SecureBoot { vars } => {
            cmd.args(["-machine", "q35,smm=on"])
                .args(["-global", "driver=cfi.pflash01,property=secure,value=on"]);
            pflash(&mut cmd, OVMF_CODE_SECURE, vars)?;
        }
    }
    let devices: Vec<String> = match (b.medium, &b.firmware) {
        (Medium::Cdrom, Firmware::Bios) => vec![
            format!("-drive file={iso},if=none,id=live,media=cdrom,readonly=on,format=raw"),
            "-device ide-cd,drive=live,bus=ide.1,bootindex=0".into(),
        ],
        (Medium::Cdrom, _) => vec![
            "-device virtio-scsi-pci,id=scsi0".into(),
            format!("-drive file={iso},if=none,id=live,media=cdrom,readonly=on,format=raw"),
            "-device scsi-cd,bus=scsi0.0,drive=live,bootindex=0".into(),
        ],
        (Medium::Disk, _) => vec![
            format!("-drive file={iso},if=none,id=live,format=raw,snapshot=on"),
            "-device virtio-blk-pci,drive=live,bootindex=0".into(),
        ],
    };
    for d in devices {
        let (flag, value) = d.split_once(' ').context("device argument")?;
        cmd.arg(flag).arg(value);
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
    let mut cmd = qemu_command(b, scratch.path())?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut guard = QemuGuard(cmd.spawn().with_context(|| format!("starting {QEMU}"))?);
    let stdout = guard.0.stdout.take().context("QEMU stdout")?;
    let mut stderr = guard.0.stderr.take().context("QEMU stderr")?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || pump(stdout, &tx));
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let deadline = start + b.timeout;
    let mut raw = Vec::new();
    let mut decided = None;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(chunk) => {
                let from = raw.len().saturating_sub(512);
                raw.extend_from_slice(&chunk);
                if let Some(d) = classify(&String::from_utf8_lossy(&raw[from..])) {
                    decided = Some(d);
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                decided = Some(LiveOutcome::Exited);
                break;
            }
        }
    }
    let elapsed = start.elapsed();
    // Keep what follows a refusal (the init's explanation) for the log.
    if !matches!(decided, Some(LiveOutcome::Session(_)) | None) {
        let grace = Instant::now() + Duration::from_millis(1500);
        while let Some(left) = grace.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(chunk) => raw.extend_from_slice(&chunk),
                Err(_) => break,
            }
        }
    }
    drop(guard);
    let _ = reader.join();
    while let Ok(chunk) = rx.try_recv() {
        raw.extend_from_slice(&chunk);
    }
    let err = err_reader.join().unwrap_or_default();
    let mut serial_log = String::from_utf8_lossy(&raw).into_owned();
    if !err.is_empty() {
        serial_log.push_str("\n--- qemu stderr ---\n");
        serial_log.push_str(&String::from_utf8_lossy(&err));
    }
    std::fs::create_dir_all(log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    let log_file = log_dir.join(format!("{}.log", b.name));
    std::fs::write(&log_file, &serial_log)
        .with_context(|| format!("writing {}", log_file.display()))?;
    Ok(LiveResult {
        name: b.name.clone(),
        outcome: decided.unwrap_or(LiveOutcome::Timeout),
        serial_log,
        elapsed,
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
}
