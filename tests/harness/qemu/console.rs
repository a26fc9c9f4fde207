//! What a boot showed on the serial console: the outcome (marker, GRUB
//! prompt, kernel panic, Secure Boot refusal), the boot test payload's
//! `FORGE-BOOT-MARKER` line and its fields, and the assertion the install
//! suites make on it.

use std::collections::BTreeMap;
use std::time::Duration;

/// The line prefix the test payload's /sbin/init prints.
pub const MARKER: &str = "FORGE-BOOT-MARKER";

/// Why reading the console stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootOutcome {
    /// A complete `FORGE-BOOT-MARKER` line appeared.
    MarkerSeen,
    /// GRUB fell back to its prompt (`grub>` or `grub rescue>`).
    GrubPrompt,
    /// `Kernel panic` (also what a failing initramfs ends in).
    KernelPanic,
    /// shim or the firmware refused an image (`Security Violation`, `Access Denied`).
    SecurityViolation,
    /// QEMU exited (e.g. powered off) without any of the above.
    Exited,
    /// Nothing decisive within the time limit.
    Timeout,
}

/// What a boot showed.
#[derive(Debug, Clone)]
pub struct BootResult {
    /// The marker line, trimmed, when one was printed.
    pub marker: Option<String>,
    pub outcome: BootOutcome,
    /// Everything QEMU printed (serial console, then QEMU's own stderr).
    pub serial_log: String,
    /// Wall time from QEMU start to the outcome.
    pub elapsed: Duration,
}

impl BootResult {
    /// The `key=value` fields of the marker (empty when there is none).
    pub fn marker_fields(&self) -> BTreeMap<String, String> {
        self.marker
            .as_deref()
            .map(marker_fields)
            .unwrap_or_default()
    }

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

/// Splits a marker line into its `key=value` fields.
pub fn marker_fields(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What the console text shows so far, if decisive.
pub(super) fn classify(text: &str) -> Option<(BootOutcome, Option<String>)> {
    if let Some(i) = text.find(MARKER) {
        if let Some(end) = text[i..].find('\n') {
            let line = text[i..i + end].trim().to_string();
            return Some((BootOutcome::MarkerSeen, Some(line)));
        }
    }
    if text.contains("Kernel panic") {
        return Some((BootOutcome::KernelPanic, None));
    }
    if text.contains("Security Violation") || text.contains("Access Denied") {
        return Some((BootOutcome::SecurityViolation, None));
    }
    if text.contains("grub>") || text.contains("grub rescue>") {
        return Some((BootOutcome::GrubPrompt, None));
    }
    None
}

/// Asserts the installed system printed its marker with hostname `host`,
/// user `user` with a hashed password, `/etc/localtime` linked exactly to
/// `tz_link`, fstab naming the root UUID, and the package hook having run.
pub fn assert_marker(r: &BootResult, host: &str, user: &str, tz_link: &str) {
    assert_eq!(
        r.outcome,
        BootOutcome::MarkerSeen,
        "no boot marker; console tail:\n{}",
        r.log_tail(4000)
    );
    let f = r.marker_fields();
    let expected = [
        ("hostname", host.to_string()),
        ("user", format!("{user}:hashed")),
        ("tz", tz_link.to_string()),
        ("fstab_root", "yes".to_string()),
        ("hook", "yes".to_string()),
    ];
    for (key, want) in expected {
        assert_eq!(
            f.get(key).map(String::as_str),
            Some(want.as_str()),
            "marker field {key} in {:?}",
            r.marker
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_needs_a_complete_line() {
        assert_eq!(classify("boot...\nFORGE-BOOT-MARKER hostname=a"), None);
        let (outcome, marker) =
            classify("x\r\nFORGE-BOOT-MARKER hostname=a user=b:hashed tz=UTC\r\n[ 1.0] reboot")
                .expect("decided");
        assert_eq!(outcome, BootOutcome::MarkerSeen);
        assert_eq!(
            marker.as_deref(),
            Some("FORGE-BOOT-MARKER hostname=a user=b:hashed tz=UTC")
        );
    }

    #[test]
    fn failures_are_classified() {
        let panic = "[ 2.1] Kernel panic - not syncing: Attempted to kill init!";
        assert_eq!(classify(panic).map(|d| d.0), Some(BootOutcome::KernelPanic));
        let shim = "Verification failed: (0x1A) Security Violation";
        assert_eq!(
            classify(shim).map(|d| d.0),
            Some(BootOutcome::SecurityViolation)
        );
        let fw = "BdsDxe: failed to load Boot0001: Access Denied";
        assert_eq!(
            classify(fw).map(|d| d.0),
            Some(BootOutcome::SecurityViolation)
        );
        assert_eq!(
            classify("\ngrub> ").map(|d| d.0),
            Some(BootOutcome::GrubPrompt)
        );
        assert_eq!(
            classify("grub rescue> ").map(|d| d.0),
            Some(BootOutcome::GrubPrompt)
        );
        assert_eq!(classify("Welcome to GRUB!\nBooting `InterGenOS'"), None);
    }

    #[test]
    fn marker_fields_split_key_values() {
        let f =
            marker_fields("FORGE-BOOT-MARKER hostname=h user=u:nohash tz=/usr/share/zoneinfo/UTC");
        assert_eq!(f.get("hostname").map(String::as_str), Some("h"));
        assert_eq!(f.get("user").map(String::as_str), Some("u:nohash"));
        assert_eq!(
            f.get("tz").map(String::as_str),
            Some("/usr/share/zoneinfo/UTC")
        );
        assert!(!f.contains_key("FORGE-BOOT-MARKER"));
    }
}
