//! The awaiting-override flow with a tampered archive: IntegrityFailed names
//! it; OverrideIntegrity without the override authorization is refused,
//! with it but a wrong phrase is WrongPhrase, outside awaiting-override is
//! InvalidState; Cancel leaves the disk untouched; the exact phrase by an
//! authorized caller continues the job.

mod daemon_common;

use daemon_common::*;
use forge_tests::users;

#[test]
fn tampered_archive_awaits_override_and_cancel_leaves_disk_untouched() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let tampered = payload.tamper("busybox")?;
    let env = start(&payload)?;
    let img = image(&env)?;
    // Fill the image with a pattern so an accidental write would show.
    std::fs::write(&img, vec![0x5au8; 1 << 20])?;
    std::fs::File::options()
        .write(true)
        .open(&img)?
        .set_len(128 << 20)?;
    let before = sha256(&img)?;

    // forgetest-inst may install, but not override.
    let mut c = env.client(&users::installer_only()?)?;
    c.request("watch")?;
    let r = install(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    assert_eq!(r["ok"], true, "{r}");
    let path = r["path"].as_str().unwrap().to_string();
    let f = c.wait_signal(|s| s["signal"] == "IntegrityFailed", JOB_TIMEOUT)?;
    let mismatches = f["args"][0].as_array().unwrap();
    assert_eq!(mismatches.len(), 1, "{f}");
    assert_eq!(mismatches[0][0], tampered.as_str(), "{f}");
    assert_ne!(mismatches[0][1], mismatches[0][2]);
    assert_eq!(f["args"][1], env.daemon.override_phrase.as_str());
    let p = c.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "awaiting-override", "{p}");
    assert_eq!(p["props"]["Phase"], "verify", "{p}");

    // Without the override authorization: refused even with the right phrase.
    let o = c.request(&format!("override {path} {}", env.daemon.override_phrase))?;
    assert_eq!(
        o["error"], "org.intergenos.Forge1.Error.NotAuthorized",
        "{o}"
    );
    // Authorized, but a wrong phrase.
    let mut admin = env.client(&users::permitted()?)?;
    let o = admin.request(&format!("override {path} I understand"))?;
    assert_eq!(o["error"], "org.intergenos.Forge1.Error.WrongPhrase", "{o}");
    let o = admin.request(&format!("override {path} {} ", env.daemon.override_phrase))?;
    assert_eq!(
        o["error"], "org.intergenos.Forge1.Error.WrongPhrase",
        "trailing space: {o}"
    );
    let p = c.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "awaiting-override", "{p}");

    // The starter cancels: the job ends, the disk is untouched.
    let x = c.request(&format!("cancel {path}"))?;
    assert_eq!(x["ok"], true, "{x}");
    let fin = finished(&mut c, &path)?;
    assert_eq!(fin["args"][0], false, "{fin}");
    assert_eq!(fin["args"][1], "validate", "phase_completed: {fin}");
    let p = c.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "cancelled", "{p}");
    assert!(
        !c.signals()
            .iter()
            .any(|s| s["signal"] == "PhaseStarted" && s["args"][0] == "partition"),
        "partition started after a cancelled override"
    );
    assert_eq!(sha256(&img)?, before, "the disk was written");
    // Now not awaiting: InvalidState.
    let o = admin.request(&format!("override {path} {}", env.daemon.override_phrase))?;
    assert_eq!(
        o["error"], "org.intergenos.Forge1.Error.InvalidState",
        "{o}"
    );
    let log = env.daemon.log();
    assert!(
        log.contains("MISMATCH packages/busybox"),
        "audit line in the log: {log}"
    );
    Ok(())
}

#[test]
fn exact_phrase_by_an_authorized_caller_continues() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("hello")?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut c = env.client(&users::permitted()?)?;
    c.request("watch")?;
    let r = install(&mut c, &plan_yaml(&["base"]), &io_json(&img, true))?;
    let path = r["path"].as_str().unwrap().to_string();
    // Not yet awaiting? Then InvalidState; wait for the question first.
    c.wait_signal(|s| s["signal"] == "IntegrityFailed", JOB_TIMEOUT)?;
    let o = c.request(&format!("override {path} {}", env.daemon.override_phrase))?;
    assert_eq!(o["ok"], true, "{o}");
    let fin = finished(&mut c, &path)?;
    assert_eq!(fin["args"][0], true, "{fin}\n{}", env.daemon.log());
    let warnings = fin["args"][3].as_array().unwrap();
    assert!(!warnings.is_empty(), "an override leaves a warning: {fin}");
    assert!(c.signals().iter().any(|s| s["signal"] == "Warning"));
    let log = env.daemon.log();
    assert!(log.contains("OVERRIDE accepted"), "{log}");
    Ok(())
}

#[test]
fn bad_signature_fails_verify_without_an_override_question() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    // A keyring with a different key: the payload's signatures do not verify.
    let other = tempfile::tempdir()?;
    let (_, wrong_keyring) =
        forge_payload::testkit::generate_key(other.path(), "Someone else <x@y>");
    let env = forge_tests::env::ForgeEnv::start(forge_tests::daemon::DaemonOptions {
        payload: Some(payload.payload.clone()),
        keyring: Some(wrong_keyring),
        ..Default::default()
    })?;
    let img = image(&env)?;
    let mut c = env.client(&users::permitted()?)?;
    c.request("watch")?;
    let r = install(&mut c, &plan_yaml(&["core"]), &io_json(&img, true))?;
    let path = r["path"].as_str().unwrap().to_string();
    let fin = finished(&mut c, &path)?;
    assert_eq!(fin["args"][0], false, "{fin}");
    assert_eq!(fin["args"][1], "validate", "{fin}");
    assert!(
        fin["args"][2].as_str().unwrap().starts_with("verify"),
        "{fin}"
    );
    assert!(!c.signals().iter().any(|s| s["signal"] == "IntegrityFailed"));
    let p = c.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "failed", "{p}");
    Ok(())
}
