//! Shared fixtures of forge-proto's integration tests: a small system
//! catalog (built in code and read from `tests/fixtures/catalog/`), a valid
//! plan and its canonical YAML.
#![allow(dead_code)]

use std::path::PathBuf;

use forge_proto::catalog::{CatalogPaths, LayoutInfo, SystemCatalog};
use forge_proto::{InstallIo, InstallPlan, Keyboard, Secret, User};

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../../tests/harness/skip.rs"]
pub mod skip;

/// The fixture catalog files.
pub fn fixture_paths() -> CatalogPaths {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog");
    CatalogPaths {
        supported_locales: dir.join("SUPPORTED"),
        xkb_rules: dir.join("evdev.xml"),
        zoneinfo: dir.join("zoneinfo"),
    }
}

/// A catalog built in code; the same content as the fixture files.
pub fn catalog() -> SystemCatalog {
    let mut c = SystemCatalog::default();
    for l in [
        "ar_EG.UTF-8",
        "ar_EG",
        "de_DE.UTF-8",
        "de_DE",
        "de_DE@euro",
        "en_US.UTF-8",
        "en_US",
        "C.UTF-8",
    ] {
        c.locales.insert(l.to_string());
    }
    let layout = |desc: &str, variants: &[(&str, &str)]| LayoutInfo {
        description: desc.to_string(),
        variants: variants
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect(),
    };
    c.layouts.insert(
        "us".into(),
        layout(
            "English (US)",
            &[
                ("intl", "English (US, intl., with dead keys)"),
                ("dvorak", "English (Dvorak)"),
            ],
        ),
    );
    c.layouts.insert(
        "de".into(),
        layout("German", &[("nodeadkeys", "German (no dead keys)")]),
    );
    c.layouts.insert("ara".into(), layout("Arabic", &[]));
    for z in [
        "America/New_York",
        "Europe/Berlin",
        "Etc/UTC",
        "Africa/Cairo",
        "UTC",
        "Arctic/Longyearbyen",
    ] {
        c.timezones.insert(z.to_string());
    }
    c
}

/// A valid plan.
pub fn good_plan() -> InstallPlan {
    InstallPlan {
        version: 1,
        hostname: "igos-desk".into(),
        locale: "en_US.UTF-8".into(),
        keyboard: Keyboard {
            layout: "us".into(),
            variant: String::new(),
        },
        timezone: "Europe/Berlin".into(),
        boot: "auto".into(),
        filesystem: "ext4".into(),
        user: User {
            name: "alice".into(),
            full_name: "Alice Liddell".into(),
            admin: true,
        },
        package_groups: vec![
            "toolchain".into(),
            "core".into(),
            "base".into(),
            "desktop".into(),
        ],
        services: vec![],
    }
}

/// The canonical YAML of [`good_plan`], byte for byte.
pub const GOOD_CANONICAL: &str = "\
version: 1
hostname: igos-desk
locale: en_US.UTF-8
keyboard:
  layout: us
  variant: ''
timezone: Europe/Berlin
boot: auto
filesystem: ext4
user:
  name: alice
  full_name: Alice Liddell
  admin: true
package_groups:
- toolchain
- core
- base
- desktop
services: []
";

/// A valid install_io.
pub fn good_io() -> InstallIo {
    InstallIo {
        disk: "/dev/vda".into(),
        root_password: Secret::new("correct horse"),
        user_password: Secret::new("battery staple"),
        secure_boot_password: Secret::default(),
        dry_run: false,
    }
}

/// The sorted, de-duplicated field paths of `problems`.
pub fn fields(problems: &[forge_proto::Problem]) -> Vec<String> {
    let mut f: Vec<String> = problems.iter().map(|p| p.field.clone()).collect();
    f.sort();
    f.dedup();
    f
}
