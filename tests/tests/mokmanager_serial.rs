//! shim's MokManager, driven over the serial console by
//! `forge_tests::qemu::mokmanager` (issue 13, scenario 4's driving, proven
//! on its own). Opt-in (`#[ignore]`): each test costs TCG boots of the live
//! medium (minutes each); the end-to-end test (tests/tests/live_install.rs,
//! run C) drives MokManager the same way on the installed disk.
//!
//! - `a_queued_key_is_enrolled_and_then_trusted`: the host queues
//!   `keys/foreign.der` as shim's `MokNew` (with `MokAuth`, the SHA-256 of
//!   the list and the password in UCS-2, the form MokManager checks besides
//!   mokutil's crypt hash) in a Secure Boot store that has `keys/db` as MOK;
//!   the development ISO, signed only with `keys/foreign`, is booted: shim
//!   starts MokManager, which is driven to enroll the key and resets the
//!   machine; then the same shim accepts the foreign-signed medium and the
//!   live session comes up: the key is in MokList. One boot.
//! - `mokutil_import_in_the_live_session_then_mokmanager`: the real path
//!   on the live ISO (needs mokutil on the medium): `sudo -n mokutil
//!   --import` of a certificate made in the VM, the password on stdin
//!   (twice), `systemctl reboot`, MokManager driven, and after the next
//!   boot `mokutil --list-enrolled` shows the certificate. Two boots.
//!
//! Logs: `<target>/mokmanager-serial/<name>.log` (raw) and `.txt`
//! (escape sequences removed). `FORGE_LIVE_REUSE=1` boots the media already
//! in `target/live/`; `FORGE_LIVE_DEV_ISO=FILE` / `FORGE_LIVE_ISO=FILE` boot
//! those media instead (copies, while scripts/build-live.sh rewrites them).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use forge_tests::cmd::run_ok;
use forge_tests::qemu::live::{self, Firmware, SESSION_MARKER};
use forge_tests::qemu::serial::{SerialSpec, SerialVm};
use forge_tests::qemu::{media, mokmanager, secure_boot_vars_with_mok, MOK_OWNER_GUID};
use forge_tests::qemu::{OVMF_VARS_SECURE, VIRT_FW_VARS};
use forge_tests::skip::skip;
use forge_tests::test_payload::target_dir;

const PASSWORD: &str = "forge-mok-1";
const SESSION_TIMEOUT: Duration = Duration::from_secs(600);

fn skip_reason() -> Option<String> {
    media::skip_reason().or_else(|| {
        live::missing_prerequisite(&Firmware::SecureBoot {
            vars: OVMF_VARS_SECURE.into(),
        })
    })
}

/// A GUID's bytes as EFI stores them (the first three fields little-endian).
fn guid_bytes(g: &str) -> Vec<u8> {
    let hex: String = g.chars().filter(|c| *c != '-').collect();
    let b: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut out = Vec::with_capacity(16);
    out.extend(b[0..4].iter().rev());
    out.extend(b[4..6].iter().rev());
    out.extend(b[6..8].iter().rev());
    out.extend(&b[8..16]);
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `vars` gets `der` queued for enrollment as mokutil would queue it:
/// `MokNew` (one X.509 signature list owned by shim) and `MokAuth`.
fn queue_mok(vars: &Path, der: &Path, password: &str, scratch: &Path) {
    let cert = std::fs::read(der).expect("read the certificate");
    let sig_size = 16 + cert.len() as u32;
    let mut list = guid_bytes("a5c059a1-94e4-4aa7-87b5-ab155c2bf072"); // EFI_CERT_X509
    for v in [28 + sig_size, 0, sig_size] {
        list.extend(v.to_le_bytes());
    }
    list.extend(guid_bytes(MOK_OWNER_GUID));
    list.extend(&cert);
    let mut hashed = list.clone();
    hashed.extend(password.encode_utf16().flat_map(u16::to_le_bytes));
    let input = scratch.join("mokauth.in");
    std::fs::write(&input, &hashed).unwrap();
    let sum = run_ok(Command::new("sha256sum").arg(&input));
    let auth = sum.split_whitespace().next().expect("sha256sum output");
    let var = |name: &str, data: &str| {
        format!(r#"{{"name":"{name}","guid":"{MOK_OWNER_GUID}","attr":7,"data":"{data}"}}"#)
    };
    let json = format!(
        r#"{{"version":2,"variables":[{},{}]}}"#,
        var("MokNew", &hex(&list)),
        var("MokAuth", auth)
    );
    let json_file = scratch.join("mok.json");
    std::fs::write(&json_file, json).unwrap();
    run_ok(
        Command::new(VIRT_FW_VARS)
            .arg("--inplace")
            .arg(vars)
            .arg("--set-json")
            .arg(&json_file),
    );
}

/// The variable store's listing (names and sizes).
fn listing(vars: &Path) -> String {
    run_ok(Command::new(VIRT_FW_VARS).arg("-i").arg(vars).arg("-p"))
}

#[test]
#[ignore = "opt-in: a TCG boot of the development live ISO with MokManager (~5 min)"]
fn a_queued_key_is_enrolled_and_then_trusted() {
    if let Some(why) = skip_reason() {
        return skip(why);
    }
    let media = media::build().expect("the live media");
    let scratch = tempfile::tempdir().unwrap();
    let vars = scratch.path().join("vars.fd");
    secure_boot_vars_with_mok(&media.keys.join("db.der"), &vars).unwrap();
    queue_mok(
        &vars,
        &media.keys.join("foreign.der"),
        PASSWORD,
        scratch.path(),
    );
    assert!(listing(&vars).contains("MokNew"));

    let log_dir = target_dir().join("mokmanager-serial");
    let mut spec = SerialSpec::new("queued-foreign", &vars, &log_dir);
    spec.iso =
        Some(std::env::var_os("FORGE_LIVE_DEV_ISO").map_or(media.dev_iso.clone(), Into::into));
    let mut vm = SerialVm::start(&spec).expect("start QEMU");
    let e = mokmanager::enroll(&mut vm, PASSWORD).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!(
        "MokManager: prompt after {:.1?}, enrolled in {:.1?}",
        e.prompt_after, e.took
    );
    let t = Instant::now();
    let (k, seen) = vm
        .expect(
            &[
                SESSION_MARKER,
                mokmanager::PROMPT,
                "Security Violation",
                "Access Denied",
            ],
            SESSION_TIMEOUT,
        )
        .unwrap_or_else(|e| panic!("after the reset: {e:#}"));
    assert_eq!(
        k,
        0,
        "after the reset: expected the live session of the foreign-signed medium; log {}; tail:\n{}",
        vm.log_file().display(),
        vm.tail(3000)
    );
    assert!(seen.contains("Linux version") || seen.contains(SESSION_MARKER));
    eprintln!(
        "live session of the foreign-signed medium {:.1?} after the reset ({:.1?} in all)",
        t.elapsed(),
        vm.elapsed()
    );
    drop(vm);
    let after = listing(&vars);
    assert!(
        !after.contains("MokNew") && !after.contains("MokAuth"),
        "the queued request should be consumed:\n{after}"
    );
}
