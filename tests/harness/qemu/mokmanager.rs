//! Harness: drives shim's MokManager (`mmx64.efi`, beside shim) over the
//! serial console to enroll the key queued with `mokutil --import` (the
//! EFI variable `MokNew`, with the password's hash in `MokAuth`).
//!
//! The sequence, measured on OVMF under TCG: "Press any key to perform MOK
//! management" (a ~10 s countdown) → any key; the menu "Perform MOK
//! management" → ↓ Enter ("Enroll MOK", the second item); "[Enroll MOK]"
//! → ↓ Enter ("Continue", after "View key 0"); "Enroll the key(s)?" → ↓
//! Enter ("Yes", after "No"); "Password:" → the password and Enter; the
//! menu again, its first item now "Reboot" → Enter: MokManager resets the
//! machine (the [`SerialVm`] must allow resets). Each step waits for its
//! screen's text before its keys, then a short pause (the menus draw
//! slowly under TCG and read keys only once drawn); a step's error names it
//! and carries the console's tail.
//!
//! [`queue_enrollment`] queues a key from the host, as `mokutil --import`
//! would from a running system (for tests of the driving itself).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::serial::{SerialVm, KEY_DOWN, KEY_ENTER};
use super::MOK_OWNER_GUID;

/// shim's prompt before it starts MokManager.
pub const PROMPT: &str = "Press any key to perform MOK management";
/// How long the firmware and shim may take to show [`PROMPT`] (TCG).
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long one MokManager screen may take to appear.
pub const SCREEN_TIMEOUT: Duration = Duration::from_secs(120);
/// The pause between a screen's text and the keys for it.
const SETTLE: Duration = Duration::from_millis(1500);

/// What an enrollment took.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// From QEMU's start to shim's prompt.
    pub prompt_after: Duration,
    /// From the prompt to the Reboot key.
    pub took: Duration,
    /// The console text of the MokManager screens (escape sequences removed).
    pub screens: String,
}

/// Texts that mean shim will not (or did not) start MokManager.
const NOT_MOKMANAGER: &[&str] = &[
    "Security Violation",
    "Access Denied",
    "FORGE-BOOT-MARKER",
    "FORGE-LIVE-SESSION",
    "grub>",
    "Kernel panic",
];

/// Texts that mean the enrollment failed after the password.
const FAILED: &[&str] = &[
    "Password doesn't match",
    "Password limit reached",
    "Invalid password length",
    "Failed to enroll keys",
];

struct Driver<'a> {
    vm: &'a mut SerialVm,
    screens: String,
}

impl Driver<'_> {
    /// Waits for `needle` (or one of `bad`, an error) in step `step`.
    fn wait(&mut self, step: &str, needle: &str, bad: &[&str], timeout: Duration) -> Result<()> {
        let mut needles = vec![needle];
        needles.extend_from_slice(bad);
        let (k, seen) = self
            .vm
            .expect(&needles, timeout)
            .with_context(|| format!("MokManager step '{step}': waiting for {needle:?}"))?;
        self.screens.push_str(&seen);
        if k != 0 {
            bail!(
                "MokManager step '{step}': the console showed {:?} instead of {needle:?}; console tail:\n{}",
                needles[k],
                self.vm.tail(3000)
            );
        }
        Ok(())
    }

    fn keys(&mut self, step: &str, keys: &[&[u8]]) -> Result<()> {
        for k in keys {
            std::thread::sleep(SETTLE);
            self.vm
                .send(k)
                .with_context(|| format!("MokManager step '{step}': sending keys"))?;
        }
        Ok(())
    }
}

/// Enrolls the queued key with `password` (the one given to `mokutil
/// --import`), from the firmware's start up to MokManager's Reboot. The
/// machine then resets; the caller reads the next boot from `vm`.
pub fn enroll(vm: &mut SerialVm, password: &str) -> Result<Enrollment> {
    if password.is_empty() || password.contains(['\r', '\n', '\x1b']) {
        bail!("MokManager: the password must be non-empty, one line, without escapes");
    }
    let mut d = Driver {
        vm,
        screens: String::new(),
    };
    d.wait("prompt", PROMPT, NOT_MOKMANAGER, PROMPT_TIMEOUT)?;
    let prompt_after = d.vm.elapsed();
    let start = Instant::now();
    d.screens.clear();
    d.screens.push_str(PROMPT);
    // Any key: a space (Enter could also select in the menu that follows).
    d.vm.send(b" ")
        .context("MokManager step 'prompt': sending a key")?;

    d.wait("menu", "Perform MOK management", &[], SCREEN_TIMEOUT)?;
    d.wait("menu", "Enroll MOK", &[], SCREEN_TIMEOUT)?;
    d.keys("menu: Enroll MOK", &[KEY_DOWN, KEY_ENTER])?;

    d.wait("Enroll MOK screen", "[Enroll MOK]", &[], SCREEN_TIMEOUT)?;
    d.wait("Enroll MOK screen", "Continue", &[], SCREEN_TIMEOUT)?;
    d.keys("Enroll MOK screen: Continue", &[KEY_DOWN, KEY_ENTER])?;

    d.wait("confirm", "Enroll the key(s)?", &[], SCREEN_TIMEOUT)?;
    d.keys("confirm: Yes", &[KEY_DOWN, KEY_ENTER])?;

    d.wait("password", "Password:", &[], SCREEN_TIMEOUT)?;
    std::thread::sleep(SETTLE);
    // One character at a time, as typed: the terminal's input queue is short.
    for c in password.bytes() {
        d.vm.send(&[c])
            .context("MokManager step 'password': typing")?;
        std::thread::sleep(Duration::from_millis(150));
    }
    d.keys("password: Enter", &[KEY_ENTER])?;

    d.wait("reboot", "Reboot", FAILED, SCREEN_TIMEOUT)?;
    d.keys("reboot: Enter", &[KEY_ENTER])?;
    Ok(Enrollment {
        prompt_after,
        took: start.elapsed(),
        screens: d.screens,
    })
}

/// A GUID's bytes as EFI stores them (the first three fields little-endian).
fn guid_bytes(g: &str) -> Vec<u8> {
    let hex: Vec<u8> = g.bytes().filter(|c| *c != b'-').collect();
    let b: Vec<u8> = hex
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0))
        .collect();
    let mut out = Vec::with_capacity(16);
    out.extend(b[0..4].iter().rev());
    out.extend(b[4..6].iter().rev());
    out.extend(b[6..8].iter().rev());
    out.extend(&b[8..16]);
    out
}

/// shim's `MokNew` for one X.509 certificate (DER): an EFI signature list
/// of type EFI_CERT_X509, owned by shim's GUID.
pub fn mok_new(cert: &[u8]) -> Vec<u8> {
    let sig_size = 16 + cert.len() as u32;
    let mut list = guid_bytes("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
    for v in [28 + sig_size, 0, sig_size] {
        list.extend(v.to_le_bytes());
    }
    list.extend(guid_bytes(MOK_OWNER_GUID));
    list.extend(cert);
    list
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Queues `der` (an X.509 certificate) for enrollment in the variable
/// store `vars` (edited in place with virt-fw-vars): `MokNew`, and
/// `MokAuth` = SHA-256 of `MokNew` and the password in UCS-2, the form
/// MokManager checks besides mokutil's crypt hash. The next boot through
/// shim starts MokManager, which asks for `password`.
pub fn queue_enrollment(vars: &Path, der: &Path, password: &str) -> Result<()> {
    let cert = std::fs::read(der).with_context(|| format!("reading {}", der.display()))?;
    let list = mok_new(&cert);
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let mut hashed = list.clone();
    hashed.extend(password.encode_utf16().flat_map(u16::to_le_bytes));
    let input = scratch.path().join("mokauth.in");
    std::fs::write(&input, &hashed).context("writing MokAuth's input")?;
    let sum = Command::new("sha256sum")
        .arg(&input)
        .output()
        .context("running sha256sum")?;
    let sum = String::from_utf8_lossy(&sum.stdout);
    let auth = sum
        .split_whitespace()
        .next()
        .context("sha256sum printed nothing")?;
    let var = |name: &str, data: &str| {
        format!(r#"{{"name":"{name}","guid":"{MOK_OWNER_GUID}","attr":7,"data":"{data}"}}"#)
    };
    let json = format!(
        r#"{{"version":2,"variables":[{},{}]}}"#,
        var("MokNew", &hex(&list)),
        var("MokAuth", auth)
    );
    let json_file = scratch.path().join("mok.json");
    std::fs::write(&json_file, json).context("writing the variables' JSON")?;
    super::virt_fw_vars(&[
        "--inplace".as_ref(),
        vars.as_os_str(),
        "--set-json".as_ref(),
        json_file.as_os_str(),
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mok_new_is_one_x509_signature_list_owned_by_shim() {
        let l = mok_new(&[0xab; 10]);
        assert_eq!(l.len(), 28 + 16 + 10);
        // EFI_CERT_X509_GUID a5c059a1-94e4-4aa7-87b5-ab155c2bf072, stored mixed-endian.
        assert_eq!(&l[..8], &[0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a]);
        assert_eq!(&l[16..28], &[54, 0, 0, 0, 0, 0, 0, 0, 26, 0, 0, 0]);
        assert_eq!(&l[28..32], &[0x50, 0xab, 0x5d, 0x60]);
        assert_eq!(&l[44..], &[0xab; 10]);
    }
}
