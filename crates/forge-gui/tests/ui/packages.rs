//! The packages screen: required groups locked, totals, the size check.

use crate::common::*;

pub fn t_packages() -> Result<(), Failed> {
    let s = state();
    s.set_disks(disks());
    let p = PackagesPage::new(&s);
    let win = show(&p);
    check(!p.complete(), "complete with no groups listed")?;
    s.set_groups(groups());
    pump(20);
    check(
        p.group_locked("toolchain") && p.group_locked("core"),
        "required groups not locked on",
    )?;
    check(
        !p.set_group("core", false),
        "required group could be switched off",
    )?;
    check(p.complete(), "default selection incomplete")?;
    let before = p.total_text();
    check(p.set_group("ai", true), "ai switch missing")?;
    pump(20);
    check(
        s.choices().groups.contains(&"ai".to_string()),
        "ai not selected",
    )?;
    check(p.total_text() != before, "total did not change")?;
    // A 64 GB disk holds it; the 2 GB one would not.
    s.update(|c| c.disk = "/dev/sdb".into());
    check(
        p.complete(),
        format!("64 GB disk refused: {:?}", p.problem_text()),
    )?;
    s.set_disks(vec![DiskInfo {
        device: "/dev/sdb".into(),
        model: "Tiny".into(),
        size: 8 * GB,
        transport: "usb".into(),
        ..Default::default()
    }]);
    s.update(|c| c.disk = "/dev/sdb".into());
    p.set_group("extra", true);
    pump(20);
    check(!p.complete(), "too much software for the disk accepted")?;
    check(
        p.problem_text()
            .map(|t| t.contains("too small"))
            .unwrap_or(false),
        format!("problem: {:?}", p.problem_text()),
    )?;
    let plan = s.plan();
    check(
        plan.package_groups.first().map(String::as_str) == Some("toolchain"),
        format!("plan group order: {:?}", plan.package_groups),
    )?;
    win.close();
    both_directions(|| {
        let s = state();
        s.set_disks(disks());
        s.set_groups(groups());
        window_shot(&s, "packages", "05-packages", |_| {})
    })
}
