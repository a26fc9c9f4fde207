//! Unit tests of the wizard model: step gating, canonical plan bytes,
//! install_io derivation, the EFI Secure Boot password, disk refusals.
//! Each pins a rule the GUI and the TUI both rely on.

use super::*;
use crate::catalog::LayoutInfo;

const GB: u64 = 1_000_000_000;

fn catalog() -> SystemCatalog {
    let mut c = SystemCatalog::default();
    for l in ["en_US.UTF-8", "de_DE.UTF-8"] {
        c.locales.insert(l.to_string());
    }
    for k in ["us", "de"] {
        c.layouts.insert(k.to_string(), LayoutInfo::default());
    }
    for t in ["UTC", "Europe/Berlin"] {
        c.timezones.insert(t.to_string());
    }
    c
}

fn disk(dev: &str, size: u64) -> DiskInfo {
    DiskInfo {
        device: dev.to_string(),
        model: "Test Disk".into(),
        size,
        ..Default::default()
    }
}

fn group(name: &str, required: bool, installed: u64) -> GroupInfo {
    GroupInfo {
        name: name.to_string(),
        required,
        installed_size: installed,
        ..Default::default()
    }
}

fn groups() -> Vec<GroupInfo> {
    vec![
        group("toolchain", true, GB),
        group("core", true, GB),
        group("base", false, GB),
        group("desktop", false, 2 * GB),
        group("extra", false, 3 * GB),
    ]
}

/// A wizard where every step is complete (BIOS, so no Secure Boot password).
fn complete(boot: BootMode) -> Wizard {
    let mut w = Wizard::new(catalog(), boot);
    w.set_disks(vec![disk("/dev/vdb", 64 * GB), disk("/dev/vdc", GB)]);
    w.set_groups(groups());
    w.update(|c| {
        c.disk = "/dev/vdb".into();
        c.full_name = "Alice Liddell".into();
        c.user_name = "alice".into();
        c.hostname = "alice-pc".into();
        c.user_password = Secret::new("Correct-Horse-9");
        c.user_password_confirm = Secret::new("Correct-Horse-9");
        c.secure_boot_password = Secret::new("Mok-Password-1");
        c.secure_boot_password_confirm = Secret::new("Mok-Password-1");
    });
    w
}

fn fields_of(p: &[Problem]) -> Vec<&str> {
    p.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn every_step_open_when_complete() {
    for boot in [BootMode::Bios, BootMode::Efi] {
        let w = complete(boot);
        assert!(w.problems().is_empty(), "{boot:?}: {:?}", w.problems());
        for s in Step::ALL {
            assert!(
                w.step_problems(s).is_empty(),
                "{s:?}: {:?}",
                w.step_problems(s)
            );
        }
    }
}

#[test]
fn each_step_gated_by_its_own_fields_only() {
    let fresh = Wizard::new(catalog(), BootMode::Bios);
    assert!(fresh.step_problems(Step::Welcome).is_empty());
    assert!(fresh.step_problems(Step::KeyboardLocale).is_empty());
    assert_eq!(fields_of(&fresh.step_problems(Step::Disk)), [fields::DISK]);
    assert!(!fresh.step_problems(Step::User).is_empty());
    // No groups listed yet: the packages step waits for them.
    assert!(!fresh.step_problems(Step::Packages).is_empty());
    assert!(!fresh.step_problems(Step::Confirm).is_empty());

    let mut w = complete(BootMode::Bios);
    w.update(|c| c.locale = "xx_XX.UTF-8".into());
    assert_eq!(
        fields_of(&w.step_problems(Step::KeyboardLocale)),
        ["locale"]
    );
    for s in [Step::Welcome, Step::Disk, Step::User, Step::Packages] {
        assert!(w.step_problems(s).is_empty(), "{s:?}");
    }
    assert_eq!(fields_of(&w.step_problems(Step::Confirm)), ["locale"]);

    let mut w = complete(BootMode::Bios);
    w.update(|c| c.hostname = "-bad-".into());
    assert_eq!(fields_of(&w.step_problems(Step::User)), ["hostname"]);
    assert!(w.step_problems(Step::Disk).is_empty());

    let mut w = complete(BootMode::Bios);
    w.update(|c| c.user_password_confirm = Secret::new("other-password"));
    assert_eq!(
        fields_of(&w.step_problems(Step::User)),
        [fields::USER_PASSWORD_CONFIRM]
    );
}

#[test]
fn root_password_gates_user_step_only_when_separate() {
    let mut w = complete(BootMode::Bios);
    w.update(|c| c.root_password_confirm = Secret::new("mismatch-1234"));
    assert!(w.step_problems(Step::User).is_empty());
    // A short user password is also the root password's problem in
    // install_io; with "same as user" the step names it once.
    let mut short = w.clone();
    short.update(|c| {
        c.user_password = Secret::new("short");
        c.user_password_confirm = Secret::new("short");
    });
    assert!(fields_of(&short.problems()).contains(&"install_io.root_password"));
    assert_eq!(
        fields_of(&short.step_problems(Step::User)),
        ["install_io.user_password"]
    );
    w.update(|c| {
        c.root_same_as_user = false;
        c.root_password = Secret::new("Root-Password-1");
    });
    assert_eq!(
        fields_of(&w.step_problems(Step::User)),
        [fields::ROOT_PASSWORD_CONFIRM]
    );
    w.update(|c| c.root_password_confirm = Secret::new("Root-Password-1"));
    assert!(w.step_problems(Step::User).is_empty());
}

#[test]
fn io_root_password_same_as_user() {
    let mut w = complete(BootMode::Bios);
    w.update(|c| c.root_password = Secret::new("ignored-root-pw"));
    assert_eq!(w.io().root_password.expose(), "Correct-Horse-9");
    assert_eq!(w.io().user_password.expose(), "Correct-Horse-9");
    assert_eq!(w.io().disk, "/dev/vdb");
    w.update(|c| c.root_same_as_user = false);
    assert_eq!(w.io().root_password.expose(), "ignored-root-pw");
}

#[test]
fn efi_needs_the_secure_boot_password() {
    let sb = crate::validate::SECURE_BOOT_PASSWORD_FIELD;
    let mut w = complete(BootMode::Efi);
    assert!(w.installs_efi());
    w.update(|c| {
        c.secure_boot_password = Secret::default();
        c.secure_boot_password_confirm = Secret::default();
    });
    assert_eq!(fields_of(&w.step_problems(Step::User)), [sb]);
    // Explicit BIOS on an EFI machine: no key, no password, none sent.
    w.update(|c| {
        c.boot = BootMode::Bios;
        c.secure_boot_password = Secret::new("Mok-Password-1");
    });
    assert!(!w.installs_efi());
    assert!(w.step_problems(Step::User).is_empty());
    assert!(w.io().secure_boot_password.is_empty());
    // Explicit EFI on a BIOS machine needs it, and sends it.
    let mut w = complete(BootMode::Bios);
    w.update(|c| c.boot = BootMode::Efi);
    assert!(w.installs_efi());
    assert_eq!(w.io().secure_boot_password.expose(), "Mok-Password-1");
    w.update(|c| c.secure_boot_password_confirm = Secret::new("Other-Mok-1"));
    assert_eq!(
        fields_of(&w.step_problems(Step::User)),
        [fields::SECURE_BOOT_PASSWORD_CONFIRM]
    );
}

#[test]
fn plan_bytes_stable_and_groups_canonical() {
    let mut a = complete(BootMode::Bios);
    let mut b = complete(BootMode::Bios);
    a.update(|c| c.groups = vec!["toolchain".into(), "core".into(), "extra".into()]);
    b.update(|c| c.groups = vec!["extra".into(), "core".into(), "toolchain".into()]);
    assert_eq!(a.plan_yaml(), b.plan_yaml());
    assert_eq!(
        a.plan().package_groups,
        ["toolchain", "core", "extra"].map(String::from)
    );
    let expected = "version: 1
hostname: alice-pc
locale: en_US.UTF-8
keyboard:
  layout: us
  variant: ''
timezone: UTC
boot: auto
filesystem: ext4
user:
  name: alice
  full_name: Alice Liddell
  admin: true
package_groups:
- toolchain
- core
- extra
services: []
";
    assert_eq!(a.plan_yaml(), expected);
    // Secrets and the disk never reach install.yaml.
    assert!(!a.plan_yaml().contains("Correct-Horse"));
    assert!(!a.plan_yaml().contains("/dev/"));
    // The bytes parse back to the same plan.
    let back = crate::validate::parse_plan(&a.plan_yaml()).unwrap();
    assert_eq!(back, a.plan());
}

#[test]
fn required_groups_selected_vanished_dropped() {
    let mut w = Wizard::new(catalog(), BootMode::Bios);
    w.update(|c| c.groups = vec!["desktop".into(), "ai".into()]);
    w.set_groups(groups());
    assert_eq!(w.choices().groups, ["desktop", "toolchain", "core"]);
    assert_eq!(w.plan().package_groups, ["toolchain", "core", "desktop"]);
}

#[test]
fn disk_refusal_reasons() {
    let w = complete(BootMode::Bios);
    let need = w.required_bytes();
    assert!(need > 5 * GB && need < 64 * GB, "{need}");
    assert_eq!(w.disk_refusal(&disk("/dev/vdb", 64 * GB)), None);
    let ro = DiskInfo {
        read_only: true,
        ..disk("/dev/sr0", 64 * GB)
    };
    assert!(w.disk_refusal(&ro).unwrap().starts_with("Read-only"));
    let busy = DiskInfo {
        in_use: true,
        ..disk("/dev/vda", 64 * GB)
    };
    assert!(w.disk_refusal(&busy).unwrap().starts_with("In use"));
    let small = w.disk_refusal(&disk("/dev/vdc", GB)).unwrap();
    assert!(small.starts_with("Too small"), "{small}");
    assert!(small.contains(&format_size(need)), "{small}");
}

#[test]
fn refused_disk_gates_disk_step_and_packages_step() {
    let mut w = complete(BootMode::Bios);
    w.update(|c| c.disk = "/dev/vdc".into());
    assert_eq!(fields_of(&w.step_problems(Step::Disk)), [fields::DISK]);
    assert_eq!(
        fields_of(&w.step_problems(Step::Packages)),
        ["package_groups"]
    );
    // A vanished disk is unchosen.
    w.set_disks(vec![disk("/dev/vdb", 64 * GB)]);
    assert!(w.choices().disk.is_empty());
    assert!(!w.step_problems(Step::Confirm).is_empty());
}

#[test]
fn sizes_like_glib() {
    assert_eq!(format_size(0), "0 bytes");
    assert_eq!(format_size(1), "1 byte");
    assert_eq!(format_size(999), "999 bytes");
    assert_eq!(format_size(1000), "1.0 kB");
    assert_eq!(format_size(12_345_678_901), "12.3 GB");
}

#[test]
fn environment_defaults_only_when_listed() {
    let mut w = Wizard::new(catalog(), BootMode::Bios);
    w.apply_defaults("de_DE.UTF-8", "Mars/Olympus");
    assert_eq!(w.choices().locale, "de_DE.UTF-8");
    assert_eq!(w.choices().timezone, "UTC");
}
