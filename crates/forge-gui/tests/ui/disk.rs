//! The disk screen: rows, refusals, the boot-mode override.

use crate::common::*;

pub fn t_disk() -> Result<(), Failed> {
    let s = state();
    s.set_groups(groups());
    let p = DiskPage::new(&s);
    let win = show(&p);
    check(!p.complete(), "complete with no disks")?;
    s.set_disks(disks());
    pump(50);
    check(!p.complete(), "complete before a disk is chosen")?;
    let nvme = p.row_text("/dev/nvme0n1").ok_or("nvme row missing")?;
    check(
        nvme.contains("Samsung SSD 980 PRO") && nvme.contains("500") && nvme.contains("NVME"),
        format!("nvme row: {nvme}"),
    )?;
    check(
        p.row_selectable("/dev/sdb"),
        "removable 64 GB disk should be selectable",
    )?;
    let small = p.row_text("/dev/sdc").ok_or("small row missing")?;
    check(!p.row_selectable("/dev/sdc"), "2 GB disk must be refused")?;
    check(
        small.contains("Too small"),
        format!("no reason on small disk: {small}"),
    )?;
    check(!p.row_selectable("/dev/sda"), "in-use disk must be refused")?;
    check(!p.choose("/dev/sdc"), "refused disk could be chosen")?;
    check(
        p.boot_text().contains("detected"),
        format!("boot line: {}", p.boot_text()),
    )?;
    check(p.choose("/dev/nvme0n1"), "nvme not choosable")?;
    pump(50);
    check(s.choices().disk == "/dev/nvme0n1", "disk choice not stored")?;
    check(p.complete(), "complete expected after choosing a disk")?;
    p.set_boot_override(forge_proto::BootMode::Bios);
    pump(50);
    check(
        s.choices().boot == forge_proto::BootMode::Bios,
        "boot override not stored",
    )?;
    check(p.boot_text().contains("BIOS"), "override not shown")?;
    win.close();
    both_directions(|| {
        let s = state();
        s.set_groups(groups());
        s.set_disks(disks());
        s.update(|c| c.disk = "/dev/nvme0n1".into());
        window_shot(&s, "disk", "03-disk", |_| {})
    })
}
