//! Authorization through the real polkitd: a caller polkit refuses gets
//! NotAuthorized and changes nothing; anyone may use the read-only calls.

mod daemon_common;

use daemon_common::*;
use forge_tests::users;

#[test]
fn outsider_install_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    let env = start(&payload)?;
    let img = image(&env)?;
    let before = sha256(&img)?;
    let mut c = env.client(&users::outsider()?)?;
    c.request("watch")?;

    let r = install(&mut c, &plan_yaml(&["core"]), &io_json(&img, false))?;
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(
        r["error"], "org.intergenos.Forge1.Error.NotAuthorized",
        "{r}"
    );

    // No job object appeared, nothing was written.
    let p = c.request("props /org/intergenos/Forge1/Job/1")?;
    assert_eq!(p["ok"], false, "a job object exists: {p}");
    assert!(
        !env.daemon.accepted_plan.exists(),
        "accepted plan was written"
    );
    assert_eq!(sha256(&img)?, before, "the image changed");
    assert!(
        env.daemon.log().contains("refused by polkit"),
        "{}",
        env.daemon.log()
    );

    // The read-only calls are open to anyone.
    // Signals are only collected while the client's replies are read: wait,
    // then read a reply, so any signal sent after the refusal is seen.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let v = c.request("version")?;
    assert_eq!(v["ok"], true, "{v}");
    assert!(
        c.signals().is_empty(),
        "signals after a refusal: {:?}",
        c.signals()
    );
    let d = c.request("disks")?;
    assert_eq!(d["ok"], true, "{d}");
    assert!(
        d["disks"].as_array().is_some_and(|a| a
            .iter()
            .any(|x| x["device"] == img.to_string_lossy().as_ref())),
        "the image target is listed: {d}"
    );
    let g = c.request("groups")?;
    assert_eq!(g["ok"], true, "{g}");
    let names: Vec<_> = g["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].clone())
        .collect();
    assert_eq!(names, vec!["core", "base"], "{g}");
    Ok(())
}

#[test]
fn cancel_of_someone_elses_job_needs_authorization() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("hello")?; // keeps the job waiting in awaiting-override
    let env = start(&payload)?;
    let img = image(&env)?;
    let mut owner = env.client(&users::permitted()?)?;
    owner.request("watch")?;
    let r = install(&mut owner, &plan_yaml(&["base"]), &io_json(&img, false))?;
    assert_eq!(r["ok"], true, "{r}");
    let path = r["path"].as_str().unwrap().to_string();
    owner.wait_signal(|s| s["signal"] == "IntegrityFailed", JOB_TIMEOUT)?;

    let mut outsider = env.client(&users::outsider()?)?;
    let c = outsider.request(&format!("cancel {path}"))?;
    assert_eq!(
        c["error"], "org.intergenos.Forge1.Error.NotAuthorized",
        "{c}"
    );
    let o = outsider.request(&format!("override {path} {}", env.daemon.override_phrase))?;
    assert_eq!(
        o["error"], "org.intergenos.Forge1.Error.NotAuthorized",
        "{o}"
    );
    let p = outsider.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "awaiting-override", "{p}");

    // Another permitted user may cancel (install action).
    let mut other = env.client(&users::installer_only()?)?;
    let c = other.request(&format!("cancel {path}"))?;
    assert_eq!(c["ok"], true, "{c}");
    let f = finished(&mut owner, &path)?;
    assert_eq!(f["args"][0], false, "{f}");
    let p = other.request(&format!("props {path}"))?;
    assert_eq!(p["props"]["State"], "cancelled", "{p}");
    Ok(())
}
