//! Harness: boots a disk image under QEMU (TCG; this machine's /dev/kvm cannot
//! run guests) and watches the serial console for the boot test payload's
//! `FORGE-BOOT-MARKER` line (see `tests/payload/init/` and docs/boot-chain.md).
//!
//! The image is never modified (`snapshot=on`), firmware variables are copied
//! to a temporary file, and QEMU is killed when the [`boot`] call returns, also
//! on a panic (guard). Reading stops early on the marker, a GRUB prompt, a
//! kernel panic or a shim/firmware Secure Boot refusal. Reading the console
//! (outcomes, the marker, its assertion) is `console.rs`; this module runs
//! the machine.

mod console;
pub mod live;
pub mod media;
pub mod mokmanager;
pub mod serial;
pub mod session;
pub mod vm_tmux;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use console::classify;
pub use console::{assert_marker, marker_fields, BootOutcome, BootResult, MARKER};

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-x86_64";
/// OVMF firmware code without Secure Boot.
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
/// Its variable store template.
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// OVMF firmware code with Secure Boot (needs `q35,smm=on` and secure pflash).
pub const OVMF_CODE_SECURE: &str = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd";
/// Variable store with Microsoft's keys enrolled and Secure Boot enabled.
pub const OVMF_VARS_SECURE: &str = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
/// Where scripts/setup-debian.sh installs python virt-firmware's `virt-fw-vars`.
pub const VIRT_FW_VARS: &str = "/opt/forge-venv/bin/virt-fw-vars";
/// Owner GUID written with the MOK (shim's own vendor GUID).
pub const MOK_OWNER_GUID: &str = "605dab50-e046-4300-abb6-3dd810dd8b23";

/// How to start the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootMode {
    /// OVMF without Secure Boot.
    Efi,
    /// SeaBIOS.
    Bios,
    /// OVMF with Secure Boot enforced; `vars` is a variable store (e.g. from
    /// [`secure_boot_vars_with_mok`]); a copy is used, `vars` stays untouched.
    SecureBoot { vars: PathBuf },
}

/// `Some(reason)` when a boot in `mode` cannot run on this machine (QEMU,
/// firmware or virt-fw-vars missing); tests print it and skip.
pub fn missing_prerequisite(mode: &BootMode) -> Option<String> {
    if which(QEMU).is_none() {
        return Some(format!("{QEMU} is not installed (scripts/setup-debian.sh)"));
    }
    let files: &[&str] = match mode {
        BootMode::Bios => &[],
        BootMode::Efi => &[OVMF_CODE, OVMF_VARS],
        BootMode::SecureBoot { .. } => &[OVMF_CODE_SECURE, OVMF_VARS_SECURE, VIRT_FW_VARS],
    };
    files
        .iter()
        .find(|f| !Path::new(f).exists())
        .map(|f| format!("{f} is missing (scripts/setup-debian.sh)"))
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(bin))
        .find(|p| p.is_file())
}

/// Writes to `out` a Secure Boot variable store (OVMF's Microsoft-enrolled
/// one) with `mok_der` (an X.509 certificate, DER) in shim's `MokList`, as if
/// the user had enrolled it with MokManager.
pub fn secure_boot_vars_with_mok(mok_der: &Path, out: &Path) -> Result<()> {
    let output = Command::new(VIRT_FW_VARS)
        .arg("--input")
        .arg(OVMF_VARS_SECURE)
        .arg("--output")
        .arg(out)
        .arg("--add-mok")
        .arg(MOK_OWNER_GUID)
        .arg(mok_der)
        .output()
        .with_context(|| format!("running {VIRT_FW_VARS}"))?;
    if !output.status.success() {
        bail!(
            "virt-fw-vars --add-mok {} failed: {}",
            mok_der.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Kills and reaps QEMU when dropped.
struct QemuGuard(Child);

impl Drop for QemuGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn qemu_command(image: &Path, mode: &BootMode, scratch: &Path) -> Result<Command> {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-accel", "tcg", "-m", "1024", "-smp", "1"])
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
    match mode {
        BootMode::Bios => {
            cmd.args(["-machine", "q35"]);
        }
        BootMode::Efi => {
            cmd.args(["-machine", "q35"]);
            pflash(&mut cmd, OVMF_CODE, Path::new(OVMF_VARS))?;
        }
        BootMode::SecureBoot { vars } => {
            cmd.args(["-machine", "q35,smm=on"])
                .args(["-global", "driver=cfi.pflash01,property=secure,value=on"]);
            pflash(&mut cmd, OVMF_CODE_SECURE, vars)?;
        }
    }
    let img = image.to_str().context("image path is not UTF-8")?;
    if img.contains(',') {
        bail!("image path {img:?} contains a comma, which QEMU's -drive cannot take");
    }
    cmd.arg("-drive")
        .arg(format!("file={img},if=virtio,format=raw,snapshot=on"));
    Ok(cmd)
}

/// Boots `image` in `mode` and watches the serial console for at most
/// `timeout`. Errors only when QEMU cannot be started; every boot outcome,
/// good or bad, is a [`BootResult`].
pub fn boot(image: &Path, mode: BootMode, timeout: Duration) -> Result<BootResult> {
    if let Some(why) = missing_prerequisite(&mode) {
        bail!("cannot boot: {why}");
    }
    if !image.is_file() {
        bail!("no disk image at {}", image.display());
    }
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let mut cmd = qemu_command(image, &mode, scratch.path())?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut guard = QemuGuard(cmd.spawn().with_context(|| format!("starting {QEMU}"))?);
    let stdout = guard.0.stdout.take().context("QEMU stdout")?;
    let stderr = guard.0.stderr.take().context("QEMU stderr")?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || pump(stdout, &tx));
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let mut stderr = stderr;
        let _ = stderr.read_to_end(&mut s);
        s
    });

    let deadline = start + timeout;
    let mut raw = Vec::new();
    let mut decided = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(chunk) => {
                // Only the new text (plus an overlap for split patterns) is scanned.
                let from = raw.len().saturating_sub(512);
                raw.extend_from_slice(&chunk);
                if let Some(d) = classify(&String::from_utf8_lossy(&raw[from..])) {
                    decided = Some(d);
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                decided = Some((BootOutcome::Exited, None));
                break;
            }
        }
    }
    let elapsed = start.elapsed();
    if matches!(
        decided,
        Some((BootOutcome::KernelPanic | BootOutcome::SecurityViolation, _))
    ) {
        // Keep the reason that follows the headline for the log.
        let grace = Instant::now() + Duration::from_millis(1500);
        while let Some(left) = grace.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(chunk) => raw.extend_from_slice(&chunk),
                Err(_) => break,
            }
        }
    }
    drop(guard); // kill QEMU; the readers then see EOF
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
    let (outcome, marker) = decided.unwrap_or((BootOutcome::Timeout, None));
    Ok(BootResult {
        marker,
        outcome,
        serial_log,
        elapsed,
    })
}
/// Boots `image` (see [`boot`]), panicking if QEMU cannot start; prints the
/// outcome and time as `boot WHAT: ...`. For tests.
pub fn boot_logged(image: &Path, mode: BootMode, timeout: Duration, what: &str) -> BootResult {
    let r = boot(image, mode, timeout).expect("start QEMU");
    eprintln!("boot {what}: {:?} after {:.1?}", r.outcome, r.elapsed);
    r
}

fn pump(mut from: impl Read, to: &mpsc::Sender<Vec<u8>>) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        }
    }
}
