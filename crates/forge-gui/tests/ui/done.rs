//! The done screen: success, failure, warnings.

use crate::common::*;

pub fn t_done() -> Result<(), Failed> {
    let p = DonePage::new();
    let win = show(&p);
    p.show_result(
        true,
        Some(forge_proto::Phase::Cleanup),
        "",
        &["MOK enrollment not queued: no EFI variables. Run mokutil --import /var/lib/forge/mok.der after the first boot.".into(),
          "package fonts-extra: post-install script failed".into()],
        false,
    );
    check(p.title().contains("Complete"), p.title())?;
    check(
        p.warning_count() == 2,
        format!("{} warnings shown", p.warning_count()),
    )?;
    check(p.restart_visible(), "no Restart on success")?;
    // Issue 9, item 14: after an EFI install the page says that MokManager
    // asks for the Secure Boot password at the next start.
    check(
        p.mok_hint().is_none(),
        "MokManager hint after a BIOS install",
    )?;
    p.set_secure_boot(true);
    p.show_result(true, Some(forge_proto::Phase::Cleanup), "", &[], false);
    let hint = p.mok_hint().unwrap_or_default();
    check(
        hint.contains("MokManager")
            && hint.contains("Enroll MOK")
            && hint.contains("Secure Boot password"),
        format!("no MokManager hint: {hint:?}"),
    )?;
    p.set_secure_boot(false);
    p.show_result(
        false,
        Some(forge_proto::Phase::Mount),
        "virtual-fs: mount --bind /dev failed: EPERM\nfull detail here",
        &[],
        false,
    );
    check(p.title().contains("Failed"), p.title())?;
    check(
        p.description()
            .contains(&forge_proto::Phase::VirtualFs.label()),
        format!("failed phase not named: {}", p.description()),
    )?;
    check(p.detail_text().contains("full detail"), "detail missing")?;
    check(!p.restart_visible(), "Restart offered after a failure")?;
    win.close();
    both_directions(|| {
        window_shot(&full_state(), "done", "08-done", |w| {
            if let Some(p) = w.done_page() {
                p.show_result(
                    true,
                    Some(forge_proto::Phase::Cleanup),
                    "",
                    &["MOK enrollment not queued: no EFI variables.".into()],
                    false,
                );
            }
        })?;
        window_shot(&full_state(), "done", "09-done-failed", |w| {
            if let Some(p) = w.done_page() {
                p.show_result(
                    false,
                    Some(forge_proto::Phase::Partition),
                    "mount: /dev/loop0p2: wrong fs type\nsee the install log",
                    &["1 package was skipped".into()],
                    false,
                );
                p.detail_expander().set_expanded(true);
            }
        })
    })
}
