//! Phase `mok` (EFI only): a Machine Owner Key made for this machine, an RSA
//! 2048 key and a self-signed X.509 certificate (`CN=<hostname> Machine
//! Owner Key`), stored in the target at /var/lib/shim-signed/mok/ (MOK.priv
//! 0600 root-only, MOK.pem, MOK.der for mokutil). The bootloader phase signs
//! GRUB with it.
//!
//! Enrollment: where this machine has efivars and `mokutil`, the import is
//! queued (`mokutil --import MOK.der --hash-file /dev/stdin`), confirmed in
//! MokManager with the new system's root password (its SHA-512 crypt hash
//! goes to mokutil on stdin; nothing secret is shown or logged). Without
//! efivars (a disk image, a BIOS live session) a Warning says how to enroll
//! later.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_proto::i18n::{tr, trf};
use forge_proto::BootMode;

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::command;
use crate::resources::passwd_hash;
use forge_payload::confined;

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
    if efivars && command::have("mokutil") {
        // MokManager asks for a password to confirm the enrollment. Rather
        // than invent one (which would have to be shown, and so reach logs
        // and signals), FORGE gives mokutil the SHA-512 crypt hash of the
        // root password the person chose, through stdin: no secret is an
        // argument, a file, a log line or a message.
        let hash = passwd_hash::hash(ctx.io.root_password.expose(), passwd_hash::Scheme::Sha512)
            .map_err(|d| PhaseError::new(failed.clone(), d))?;
        let input = zeroize::Zeroizing::new(format!("{hash}\n"));
        let r = ctx.run_logged_input(
            Command::new("mokutil")
                .arg("--import")
                .arg(&der)
                .arg("--hash-file")
                .arg("/dev/stdin"),
            Some(input.as_bytes()),
            TIMEOUT,
            &tr("Could not queue the Secure Boot key for enrollment"),
        );
        match r {
            Ok(_) => ctx.warn(tr(
                "On the next start, the blue MokManager screen asks to enroll this computer's Secure Boot key: choose \"Enroll MOK\", then \"Continue\", and type the new system's root password",
            )),
            Err(e) => {
                ctx.log_line(&format!("mokutil: {}", e.detail));
                ctx.warn(trf(
                    "The Secure Boot key could not be queued for enrollment; on the new system run: mokutil --import {der}",
                    &[("der", &der_in_target)],
                ));
            }
        }
    } else {
        ctx.warn(trf(
            "Secure Boot: this computer's key was not enrolled (no EFI variables here). Before enabling Secure Boot, run on the new system: mokutil --import {der} and confirm in MokManager at the next start, or enroll MOK.der from the EFI system partition with MokManager",
            &[("der", &der_in_target)],
        ));
    }
    Ok(())
}
