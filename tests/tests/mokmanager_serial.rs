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
//!   live session comes up: the key is in MokList. One boot, ~3 min.
//! - `mokutil_import_in_the_live_session_then_mokmanager`: the real path
//!   on the live ISO (needs mokutil on the medium): `sudo -n mokutil
//!   --import` of a certificate made in the VM, the password on stdin
//!   (twice), `systemctl reboot`, MokManager driven, and after the next
//!   boot `mokutil --list-enrolled` shows the certificate (and `--sb-state`
//!   Secure Boot enabled). Two boots and a reset, ~6.5 min under TCG.
//!
//! - `run_c_on_an_image_forge_installed`: run C's own function
//!   (tests/tests/live_install/mok.rs) without the live medium: `forgectl
//!   install` of the boot test payload into an image (as install_boot.rs),
//!   the MOK FORGE generated read back from its ESP and queued from the
//!   host in a Secure Boot store without it; MokManager enrolls it and the
//!   installed system boots to its marker. ~1.5 min.
//!
//! Logs: `<target>/mokmanager-serial/<name>.log` (raw) and `.txt`
//! (escape sequences removed). `FORGE_LIVE_REUSE=1` boots the media already
//! in `target/live/`; `FORGE_LIVE_DEV_ISO=FILE` / `FORGE_LIVE_ISO=FILE` boot
//! those media instead (copies, while scripts/build-live.sh rewrites them).

mod daemon_common;
mod forge_install;
#[path = "live_install/mok.rs"]
mod mok;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use forge_tests::cmd::run_ok;
use forge_tests::qemu::live::{self, Firmware, SESSION_MARKER};
use forge_tests::qemu::serial::{SerialSpec, SerialVm};
use forge_tests::qemu::{media, mokmanager, secure_boot_vars_with_mok};
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
    mokmanager::queue_enrollment(&vars, &media.keys.join("foreign.der"), PASSWORD).unwrap();
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

/// Runs `cmd` in the live user's console shell (typed; `printf` prints an
/// end line `H3END<id>-<status>` that the typed text cannot contain):
/// `(status, what the console showed meanwhile)`.
fn sh(vm: &mut SerialVm, id: u32, cmd: &str, timeout: Duration) -> (i32, String) {
    vm.send(format!("{cmd}; printf 'H3END%s-%s\\n' {id} $?\n").as_bytes())
        .unwrap();
    let (_, out) = vm
        .expect(&[&format!("H3END{id}-")], timeout)
        .unwrap_or_else(|e| panic!("`{cmd}`: {e:#}"));
    let (_, status) = vm.expect(&["\n"], Duration::from_secs(10)).unwrap();
    (status.trim().parse().unwrap_or(-1), out)
}

#[test]
#[ignore = "opt-in: two TCG boots of the live ISO with MokManager between (~7 min)"]
fn mokutil_import_in_the_live_session_then_mokmanager() {
    if let Some(why) = skip_reason() {
        return skip(why);
    }
    let media = media::build().expect("the live media");
    let iso = std::env::var_os("FORGE_LIVE_ISO").map_or(media.iso.clone(), Into::into);
    let scratch = tempfile::tempdir().unwrap();
    let vars = scratch.path().join("vars.fd");
    secure_boot_vars_with_mok(&media.keys.join("db.der"), &vars).unwrap();
    let log_dir = target_dir().join("mokmanager-serial");
    let mut spec = SerialSpec::new("mokutil-import", &vars, &log_dir);
    spec.iso = Some(iso);
    let mut vm = SerialVm::start(&spec).expect("start QEMU");
    let boot = |vm: &mut SerialVm, what: &str| {
        vm.expect(&[SESSION_MARKER], SESSION_TIMEOUT)
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
        vm.expect(&["\n"], Duration::from_secs(10)).unwrap();
        eprintln!("{what}: live session after {:.1?}", vm.elapsed());
        std::thread::sleep(Duration::from_secs(2));
    };
    boot(&mut vm, "first boot");
    let cn = "forge-mok-serial-test";
    let (st, out) = sh(
        &mut vm,
        1,
        &format!(
            "stty -echo; openssl req -x509 -newkey rsa:2048 -nodes -keyout /tmp/mok.key \
             -outform DER -out /tmp/mok.der -subj /CN={cn} -days 30 2>&1 | tail -3"
        ),
        Duration::from_secs(180),
    );
    assert_eq!(st, 0, "making a certificate:\n{out}");
    let (st, out) = sh(
        &mut vm,
        2,
        &format!(
            "printf '%s\\n%s\\n' {PASSWORD} {PASSWORD} | sudo -n mokutil --import /tmp/mok.der"
        ),
        Duration::from_secs(120),
    );
    assert_eq!(st, 0, "mokutil --import:\n{out}");
    let (st, out) = sh(
        &mut vm,
        3,
        &format!("sudo -n mokutil --list-new | grep 'CN *= *{cn}'"),
        Duration::from_secs(60),
    );
    assert_eq!(st, 0, "mokutil --list-new does not show the key:\n{out}");
    vm.send(b"sudo -n systemctl reboot\n").unwrap();

    let e = mokmanager::enroll(&mut vm, PASSWORD).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!(
        "MokManager: prompt {:.1?} after QEMU's start, enrolled in {:.1?}",
        e.prompt_after, e.took
    );
    boot(&mut vm, "after MokManager's reset");
    let (st, out) = sh(
        &mut vm,
        4,
        &format!(
            "stty -echo; sudo -n mokutil --sb-state; sudo -n mokutil --list-enrolled | grep 'CN *= *{cn}'"
        ),
        Duration::from_secs(60),
    );
    assert_eq!(
        st, 0,
        "mokutil --list-enrolled does not show the key:\n{out}"
    );
    assert!(out.contains("SecureBoot enabled"), "{out}");
    let (_, out) = sh(
        &mut vm,
        5,
        "sudo -n mokutil --list-new",
        Duration::from_secs(60),
    );
    assert!(!out.contains(cn), "the request is still queued:\n{out}");
    eprintln!("enrolled and listed after {:.1?} in all", vm.elapsed());
}

#[test]
#[ignore = "opt-in: a forge install into an image and one TCG boot with MokManager (~1.5 min); live_install's run C covers it"]
fn run_c_on_an_image_forge_installed() {
    use daemon_common::SB_PW;
    use forge_tests::qemu;
    use forge_tests::test_payload::boot_payload;

    let probe = Firmware::SecureBoot {
        vars: OVMF_VARS_SECURE.into(),
    };
    if let Some(why) =
        forge_tests::env::skip_reason().or_else(|| live::missing_prerequisite(&probe))
    {
        return skip(why);
    }
    let inst =
        forge_install::forge_install(&boot_payload(), "efi", "forge-mok", "dora", "Europe/Berlin");
    let (image, der) = (&inst.image, inst.mok_der());
    let vars = inst.dir.path().join("vars.fd");
    std::fs::copy(OVMF_VARS_SECURE, &vars).unwrap();
    mokmanager::queue_enrollment(&vars, &der, SB_PW).unwrap();
    let log_dir = target_dir().join("mokmanager-serial");
    let r = mok::enroll_and_boot(image, &vars, SB_PW, &log_dir).unwrap_or_else(|e| panic!("{e:#}"));
    qemu::assert_marker(
        &r,
        "forge-mok",
        "dora",
        "../usr/share/zoneinfo/Europe/Berlin",
    );
}
