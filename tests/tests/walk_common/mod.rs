//! What the two wizard walks (tests/tests/tui_walk.rs, tests/tests/gui_walk.rs)
//! share on the daemon's side: the choices both walks make, the check that
//! the install.yaml the daemon accepted holds them and no password, the
//! password check of any other text (the daemon log), and the environment
//! of a real install (the boot test payload, a 2 GiB image). Used next to
//! `mod daemon_common`.

#![allow(dead_code)]

use std::path::PathBuf;

use anyhow::{Context, Result};
use forge_tests::daemon::DaemonOptions;
use forge_tests::env::ForgeEnv;
use forge_tests::skip::skip;

use crate::daemon_common::{ROOT_PW, SB_PW, USER_PW};

/// The choices of both walks (ids, as in install.yaml).
pub const HOST: &str = "wonderland";
pub const FULL_NAME: &str = "Alice Liddell";
pub const LOCALE: &str = "de_DE.UTF-8";
pub const LAYOUT: &str = "de";
pub const VARIANT: &str = "nodeadkeys";
pub const TIMEZONE: &str = "Europe/Berlin";

/// Fails the test when `text` holds one of the test passwords; `what`
/// names the text in the message ("a password reached {what}").
pub fn assert_no_password(text: &str, what: &str) {
    for pw in [ROOT_PW, USER_PW, SB_PW] {
        assert!(!text.contains(pw), "a password reached {what}");
    }
}

/// The install.yaml the daemon accepted holds the walks' choices (BIOS
/// boot, admin user `alice`) and no password; returns its text and plan.
pub fn check_accepted_plan(env: &ForgeEnv) -> Result<(String, forge_proto::InstallPlan)> {
    let accepted = std::fs::read_to_string(&env.daemon.accepted_plan)
        .with_context(|| format!("{}", env.daemon.accepted_plan.display()))?;
    let plan = forge_proto::validate::parse_plan(&accepted)
        .map_err(|e| anyhow::anyhow!("accepted plan does not parse: {e}"))?;
    assert_eq!(plan.hostname, HOST);
    assert_eq!(plan.locale, LOCALE);
    assert_eq!(plan.keyboard.layout, LAYOUT);
    assert_eq!(plan.keyboard.variant, VARIANT);
    assert_eq!(plan.timezone, TIMEZONE);
    assert_eq!(plan.boot, "bios");
    assert_eq!(plan.user.name, "alice");
    assert_eq!(plan.user.full_name, FULL_NAME);
    assert!(plan.user.admin);
    assert_no_password(&accepted, "install.yaml");
    Ok((accepted, plan))
}

/// The environment with the daemon using the boot test payload, and a
/// 2 GiB image `image_name` in its image_dir, for a real install. `None`
/// (after a skip with the reason) when the payload cannot be built here.
pub fn start_real_install(image_name: &str) -> Result<Option<(ForgeEnv, PathBuf)>> {
    let boot = match forge_tests::test_payload::try_boot_payload() {
        Ok(b) => b,
        Err(e) => {
            skip(format!("the boot test payload cannot be built here: {e:#}"));
            return Ok(None);
        }
    };
    let env = ForgeEnv::start(DaemonOptions {
        payload: Some(boot.dir.clone()),
        keyring: Some(boot.keyring.clone()),
        ..DaemonOptions::default()
    })?;
    let img = env.daemon.create_image(image_name, 2 << 30)?;
    Ok(Some((env, img)))
}
