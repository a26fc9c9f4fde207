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

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::serial::{SerialVm, KEY_DOWN, KEY_ENTER};

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
