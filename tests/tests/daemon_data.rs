//! The data files are well-formed: the polkit policy and the bus policy
//! parse as XML (xmllint), the systemd unit passes `systemd-analyze verify`,
//! the example configuration has exactly the documented keys.

use std::path::Path;
use std::process::Command;

use forge_tests::bus::repo_root;
use forge_tests::cmd::{assert_unit_verifies, have};

#[test]
fn xml_files_are_well_formed_and_name_both_actions() {
    if !have("xmllint") {
        forge_tests::skip::skip("xmllint is missing (libxml2-utils)");
        return;
    }
    let root = repo_root();
    for f in [
        "data/polkit/org.intergenos.forge.policy",
        "data/dbus/org.intergenos.Forge1.conf",
    ] {
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg(root.join(f))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let policy =
        std::fs::read_to_string(root.join("data/polkit/org.intergenos.forge.policy")).unwrap();
    for id in [
        forge_proto::dbus::ACTION_INSTALL,
        forge_proto::dbus::ACTION_OVERRIDE,
    ] {
        assert!(
            policy.contains(&format!("<action id=\"{id}\">")),
            "{id} missing"
        );
    }
    // install: auth_admin_keep for active sessions; override never kept.
    let install = policy
        .split("org.intergenos.forge.override-integrity")
        .next()
        .unwrap();
    assert!(install.contains("<allow_active>auth_admin_keep</allow_active>"));
    let over = policy
        .split("org.intergenos.forge.override-integrity")
        .nth(1)
        .unwrap();
    assert!(!over.contains("keep"), "override must never be kept");
    assert!(
        !policy.contains(">yes<"),
        "no action may be allowed without authentication"
    );
}

#[test]
fn systemd_unit_verifies() {
    if !have("systemd-analyze") {
        forge_tests::skip::skip("systemd-analyze is missing");
        return;
    }
    let unit =
        std::fs::read_to_string(repo_root().join("data/systemd/forge-daemon.service")).unwrap();
    assert!(unit.contains("Type=dbus") && unit.contains("BusName=org.intergenos.Forge1"));
    // The binary is not installed here: verify a copy whose ExecStart points
    // at an executable that exists.
    assert_unit_verifies(&unit.replace("/usr/libexec/forge-daemon", "/bin/true"));
}

/// The unit's exposure as `systemd-analyze security --offline=true` scores
/// it (no running systemd needed) stays at or under 3.5 (issue 9: it was
/// 4.9, PackageKit's unit scores 9.6), and every protection the unit
/// leaves off is named in its comment.
#[test]
fn systemd_unit_security_exposure_at_most_3_5() {
    if !have("systemd-analyze") {
        forge_tests::skip::skip("systemd-analyze is missing");
        return;
    }
    let path = repo_root().join("data/systemd/forge-daemon.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for forge-daemon.service:")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
    assert!(score <= 3.5, "exposure {score} > 3.5:\n{text}");
    let unit = std::fs::read_to_string(&path).unwrap();
    for kept_off in [
        "PrivateDevices=",
        "ProtectKernelTunables=",
        "ProcSubset=",
        "RestrictSUIDSGID=",
        "MemoryDenyWriteExecute=",
        "UMask=0077",
        "User=",
    ] {
        assert!(
            unit.lines()
                .any(|l| l.starts_with('#') && l.contains(kept_off)),
            "the unit does not say why {kept_off} is left off"
        );
    }
    for on in [
        "ProtectSystem=strict",
        "ProtectProc=invisible",
        "PrivateMounts=yes",
        "ProtectKernelModules=yes",
        "MemoryMax=",
        "TasksMax=",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(on)), "{on} missing");
    }
}

#[test]
fn activation_file_and_example_config_match_the_contract() {
    let root = repo_root();
    let act =
        std::fs::read_to_string(root.join("data/dbus/org.intergenos.Forge1.service")).unwrap();
    assert!(act.contains("Name=org.intergenos.Forge1"));
    assert!(act.contains("SystemdService=forge-daemon.service"));
    assert!(act.contains("User=root"));
    let text =
        std::fs::read_to_string(Path::new(&root).join("data/forge-daemon.yaml.example")).unwrap();
    let v: serde_yaml::Mapping = serde_yaml::from_str(&text).unwrap();
    let mut keys: Vec<_> = v.keys().filter_map(|k| k.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "accepted_plan",
            "allow_image_targets",
            "image_dir",
            "keyring",
            "override_phrase",
            "payload",
            "staging_dir"
        ]
    );
    assert_eq!(v["allow_image_targets"], serde_yaml::Value::Bool(false));
}
