//! Phase `mok` (EFI only): a Machine Owner Key made for this machine, an RSA
//! 2048 key and a self-signed X.509 certificate (`CN=<hostname> Machine
//! Owner Key`), stored in the target at /var/lib/shim-signed/mok/ (MOK.priv
//! 0600 root-only, MOK.pem, MOK.der for mokutil). The bootloader phase signs
//! GRUB with it.
//!
//! Enrollment: where this machine has efivars and `mokutil` and the person
//! chose a Secure Boot password (`install_io.secure_boot_password`), the
//! import is queued (`mokutil --import MOK.der`, the password typed twice on
//! its stdin, as Ubuntu does), and MokManager asks for that password at the
//! next start. It is never the root password nor derived from it (issue 9,
//! item 14: a hash of the root password left in a world-readable EFI
//! variable is an offline cracking target), and it is no argument, file, log
//! line or message. An image target never touches this machine's EFI
//! variables (the firmware that will boot it is another one). Without
//! efivars (a BIOS live session), without mokutil or without the password,
//! a Warning says how to enroll later.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_proto::i18n::{tr, trf};
use forge_proto::BootMode;

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::command;
use forge_payload::confined;
use forge_proto::Secret;
use zeroize::Zeroizing;

pub const MOK_DIR: &str = "var/lib/shim-signed/mok";
const TIMEOUT: Duration = Duration::from_secs(120);

/// The openssl command that makes the key pair.
fn req(hostname: &str, key: &Path, pem: &Path) -> Command {
    let mut c = Command::new("openssl");
    c.args([
        "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "36500",
    ])
    .arg("-subj")
    .arg(format!("/CN={hostname} Machine Owner Key/"))
    .args(["-addext", "basicConstraints=critical,CA:FALSE"])
    .args(["-addext", "extendedKeyUsage=codeSigning"])
    .arg("-keyout")
    .arg(key)
    .arg("-out")
    .arg(pem);
    c
}

/// `mokutil --import <der>`: the password is read from stdin, never an
/// argument.
fn import(der: &Path) -> Command {
    let mut c = Command::new("mokutil");
    c.arg("--import").arg(der);
    c
}

/// What mokutil reads on stdin: the Secure Boot password, twice (mokutil
/// asks for it and its confirmation), wiped from memory on drop.
fn import_input(password: &Secret) -> Zeroizing<Vec<u8>> {
    let p = password.expose();
    let mut v = Zeroizing::new(Vec::with_capacity(2 * p.len() + 2));
    for _ in 0..2 {
        v.extend_from_slice(p.as_bytes());
        v.push(b'\n');
    }
    v
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    if ctx.state.boot_mode()? != BootMode::Efi {
        ctx.log_line("mok: BIOS install, no Secure Boot key needed");
        return Ok(());
    }
    let dir = format!("/{MOK_DIR}");
    if ctx.dry_run {
        ctx.operation(&trf(
            "generate a Machine Owner Key (RSA 2048, X.509) into {dir} (private key mode 0600)",
            &[("dir", &dir)],
        ));
        ctx.operation(&tr(
            "queue the key's enrollment with mokutil when this machine has EFI variables, else warn how to enroll",
        ));
        return Ok(());
    }
    let failed = tr("Could not create the Secure Boot key");
    let root = ctx.state.root()?;
    // Make the pair in a root-only scratch directory on the host, then copy
    // it into the target through the confined writer.
    std::fs::create_dir_all(&ctx.staging)
        .map_err(|e| PhaseError::new(failed.clone(), format!("{}: {e}", ctx.staging.display())))?;
    let scratch = tempfile::Builder::new()
        .prefix("mok.")
        .tempdir_in(&ctx.staging)
        .map_err(|e| PhaseError::new(failed.clone(), format!("scratch directory: {e}")))?;
    let (key, pem, der) = (
        scratch.path().join("MOK.priv"),
        scratch.path().join("MOK.pem"),
        scratch.path().join("MOK.der"),
    );
    let hostname = ctx.plan.hostname.clone();
    ctx.run_logged(&mut req(&hostname, &key, &pem), TIMEOUT, &failed)?;
    ctx.run_logged(
        Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&pem)
            .arg("-out")
            .arg(&der),
        TIMEOUT,
        &failed,
    )?;
    confined::mkdir_owned(&root, Path::new(MOK_DIR), 0o700, 0, 0)
        .map_err(|e| PhaseError::new(failed.clone(), e.to_string()))?;
    for (src, name, mode) in [
        (&key, "MOK.priv", 0o600),
        (&pem, "MOK.pem", 0o644),
        (&der, "MOK.der", 0o644),
    ] {
        let data = std::fs::read(src)
            .map_err(|e| PhaseError::new(failed.clone(), format!("{}: {e}", src.display())))?;
        confined::write_file(&root, &Path::new(MOK_DIR).join(name), &data, mode)
            .map_err(|e| PhaseError::new(failed.clone(), e.to_string()))?;
    }
    ctx.state.mok_key = Some(PathBuf::from(&dir).join("MOK.priv"));
    ctx.state.mok_cert = Some(PathBuf::from(&dir).join("MOK.pem"));
    ctx.log_line(&format!(
        "Machine Owner Key written to {dir} (MOK.priv 0600, MOK.pem, MOK.der)"
    ));
    // The ESP carries the certificate too, so MokManager's "Enroll key from
    // disk" finds it without the installed system running.
    if let Some(esp) = ctx.state.esp_staging.clone() {
        let _ = std::fs::copy(&der, esp.join("MOK.der"));
    }

    let der_in_target = format!("{dir}/MOK.der");
    let efivars = Path::new("/sys/firmware/efi/efivars").is_dir();
    let password = ctx.io.secure_boot_password.clone();
    let how = enrollment(
        ctx.state.target_is_image(),
        efivars,
        command::have("mokutil"),
        !password.is_empty(),
    );
    match how {
        Enrollment::Queue => {
            // MokManager asks for a password to confirm the enrollment: the
            // Secure Boot password the person chose for this, through stdin.
            let input = import_input(&password);
            let r = ctx.run_logged_input(
                &mut import(&der),
                Some(&input[..]),
                TIMEOUT,
                &tr("Could not queue the Secure Boot key for enrollment"),
            );
            match r {
                Ok(_) => ctx.warn(tr(
                    "On the next start, the blue MokManager screen asks to enroll this computer's Secure Boot key: choose \"Enroll MOK\", then \"Continue\", then \"Yes\", and type the Secure Boot password you chose",
                )),
                Err(e) => {
                    ctx.log_line(&format!("mokutil: {}", e.detail));
                    ctx.warn(trf(
                        "The Secure Boot key could not be queued for enrollment; on the new system run: mokutil --import {der}",
                        &[("der", &der_in_target)],
                    ));
                }
            }
        }
        Enrollment::ImageTarget => {
            ctx.log_line("mok: image target, this machine's EFI variables are left alone");
            ctx.warn(trf(
                "Secure Boot: the key was not enrolled, because the installation went to an image file and this computer's firmware settings are not the ones that will boot it. Before enabling Secure Boot on the machine that boots the image, run there: mokutil --import {der} and confirm in MokManager at the next start",
                &[("der", &der_in_target)],
            ));
        }
        Enrollment::NoPassword => ctx.warn(trf(
            "Secure Boot: this computer's key was not enrolled (no Secure Boot password was given). Before enabling Secure Boot, run on the new system: mokutil --import {der} and confirm in MokManager at the next start",
            &[("der", &der_in_target)],
        )),
        Enrollment::NoEfiVariables => ctx.warn(trf(
            "Secure Boot: this computer's key was not enrolled (no EFI variables here). Before enabling Secure Boot, run on the new system: mokutil --import {der} and confirm in MokManager at the next start, or enroll MOK.der from the EFI system partition with MokManager",
            &[("der", &der_in_target)],
        )),
    }
    Ok(())
}

/// What the phase does about enrollment.
#[derive(Debug, PartialEq, Eq)]
enum Enrollment {
    /// `mokutil --import` into this machine's EFI variables.
    Queue,
    /// The target is an image file: this machine's firmware will not boot
    /// it, so its EFI variables are never touched.
    ImageTarget,
    NoPassword,
    NoEfiVariables,
}

/// Only a disk of this very machine gets its key queued in this machine's
/// EFI variables, and only with EFI variables, mokutil and a password.
fn enrollment(image: bool, efivars: bool, mokutil: bool, password: bool) -> Enrollment {
    if image {
        Enrollment::ImageTarget
    } else if !(efivars && mokutil) {
        Enrollment::NoEfiVariables
    } else if !password {
        Enrollment::NoPassword
    } else {
        Enrollment::Queue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 9, item 14: mokutil gets the Secure Boot password (twice, for
    /// its confirmation) on stdin, not a hash of the root password, and no
    /// secret in its arguments.
    /// An image target never touches this machine's EFI variables, even
    /// on an EFI host with mokutil and a password (it did before).
    #[test]
    fn only_a_disk_of_this_machine_is_queued_for_enrollment() {
        assert_eq!(enrollment(false, true, true, true), Enrollment::Queue);
        assert_eq!(enrollment(true, true, true, true), Enrollment::ImageTarget);
        assert_eq!(
            enrollment(true, false, false, false),
            Enrollment::ImageTarget
        );
        assert_eq!(enrollment(false, true, true, false), Enrollment::NoPassword);
        assert_eq!(
            enrollment(false, false, true, true),
            Enrollment::NoEfiVariables
        );
        assert_eq!(
            enrollment(false, true, false, true),
            Enrollment::NoEfiVariables
        );
    }

    #[test]
    fn mokutil_reads_the_secure_boot_password_twice_on_stdin() {
        let input = import_input(&Secret::new("mok-pass-42"));
        assert_eq!(&input[..], b"mok-pass-42\nmok-pass-42\n");
        assert!(!input.starts_with(b"$6$"));
        let c = import(Path::new("/tmp/MOK.der"));
        assert_eq!(c.get_program(), "mokutil");
        let args: Vec<_> = c.get_args().collect();
        assert_eq!(args, ["--import", "/tmp/MOK.der"]);
    }
}
