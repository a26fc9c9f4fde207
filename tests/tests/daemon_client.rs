//! `forge_proto::client` against the real daemon on the private bus: the
//! events of a followed job come from the daemon only. While the job waits
//! for an integrity decision, another client broadcasts a forged
//! `Finished(true, ...)` on the job's path; the follower's event stream does
//! not deliver it, and the real `Finished` (cancelled) still arrives and
//! ends the stream.

mod daemon_common;

use std::time::Duration;

use daemon_common::*;
use forge_tests::users;

#[test]
fn a_forged_finished_from_another_sender_is_not_delivered() -> anyhow::Result<()> {
    if skip() {
        return Ok(());
    }
    let payload = signed_payload()?;
    payload.tamper("busybox")?;
    let env = start(&payload)?;
    let img = image(&env)?;

    let mut c = env.client(&users::installer_only()?)?;
    let plan = c.write_file("plan.yaml", &plan_yaml(&["core"]))?;
    let io = c.write_file("io.json", &io_json(&img, false))?;
    let r = c.request(&format!(
        "follow-install {} {}",
        plan.display(),
        io.display()
    ))?;
    assert_eq!(r["ok"], true, "{r}");
    let path = r["path"].as_str().unwrap().to_string();
    let f = c.wait_event(|e| e["event"] == "IntegrityFailed", JOB_TIMEOUT)?;
    assert_eq!(f["path"], path.as_str(), "{f}");
    assert!(
        c.events().iter().any(|e| e["event"] == "PhaseStarted"),
        "the real events arrive: {:?}",
        c.events()
    );

    // Anyone on the bus may broadcast a signal with the job's path and
    // interface; the bus stamps it with the forger's own unique name.
    let mut forger = env.client(&users::outsider()?)?;
    let r = forger.request(&format!("forge-finished {path}"))?;
    assert_eq!(r["ok"], true, "the forged signal was sent: {r}");
    std::thread::sleep(Duration::from_secs(1));
    // A round trip, so that anything the follower printed meanwhile is read.
    c.request("version")?;
    assert!(
        !c.events().iter().any(|e| e["event"] == "Finished"),
        "a forged Finished was delivered: {:?}",
        c.events()
    );

    let r = c.request(&format!("cancel {path}"))?;
    assert_eq!(r["ok"], true, "{r}");
    let fin = c.wait_event(|e| e["event"] == "Finished", JOB_TIMEOUT)?;
    assert_eq!(fin["args"][0], false, "the real, cancelled Finished: {fin}");
    c.wait_event(|e| e["event"] == "end", JOB_TIMEOUT)?;
    let finished: Vec<_> = c
        .events()
        .iter()
        .filter(|e| e["event"] == "Finished")
        .collect();
    assert_eq!(finished.len(), 1, "{finished:?}");
    Ok(())
}
