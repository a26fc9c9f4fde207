//! The user screen: suggestions, passwords, root, host name.

use crate::common::*;

pub fn t_user() -> Result<(), Failed> {
    let s = state();
    let p = UserPage::new(&s);
    let win = show(&p);
    check(!p.complete(), "empty user page complete")?;
    p.full_name_row().set_text("Alice Liddell");
    pump(20);
    check(
        p.user_name_row().text() == "alice",
        format!("suggested {:?}", p.user_name_row().text()),
    )?;
    check(
        p.hostname_row().text() == "alice-pc",
        format!("host {:?}", p.hostname_row().text()),
    )?;
    p.password_row().set_text("abc");
    pump(20);
    check(
        p.strength_text().contains("short"),
        format!("strength: {}", p.strength_text()),
    )?;
    check(!p.complete(), "short password accepted")?;
    p.password_row().set_text("Looking-Glass-1865");
    p.confirm_row().set_text("Looking-Glass-1866");
    pump(20);
    check(!p.complete(), "mismatched confirmation accepted")?;
    check(
        p.problem_texts().iter().any(|t| t.contains("match")),
        format!("no mismatch message: {:?}", p.problem_texts()),
    )?;
    p.confirm_row().set_text("Looking-Glass-1865");
    pump(20);
    check(
        p.complete(),
        format!("valid user incomplete: {:?}", p.problem_texts()),
    )?;
    check(
        p.root_line().contains("same password as alice"),
        p.root_line(),
    )?;
    p.same_switch().set_active(false);
    pump(20);
    check(!p.complete(), "separate root without a password accepted")?;
    p.root_row().set_text("Another-Root-Secret-1");
    p.root_confirm_row().set_text("Another-Root-Secret-1");
    pump(20);
    check(
        p.complete(),
        format!("separate root incomplete: {:?}", p.problem_texts()),
    )?;
    p.hostname_row().set_text("Not A Valid Host!");
    pump(20);
    check(!p.complete(), "bad hostname accepted")?;
    p.hostname_row().set_text("alice-pc");
    pump(20);
    check(p.complete(), "hostname fixed but incomplete")?;
    let io = s.io();
    check(
        io.root_password.expose() == "Another-Root-Secret-1",
        "root password not in io",
    )?;
    // Issue 9, item 14: EFI installs ask for a Secure Boot password of
    // their own (hidden entries, confirmed, same maximum), BIOS ones do not.
    check(
        !p.secure_boot_shown(),
        "Secure Boot password asked for BIOS",
    )?;
    s.update(|c| c.boot = forge_proto::BootMode::Efi);
    pump(20);
    check(p.secure_boot_shown(), "no Secure Boot password for EFI")?;
    check(!p.complete(), "EFI install without a Secure Boot password")?;
    let long = "s".repeat(forge_proto::validate::MAX_PASSWORD_BYTES + 1);
    p.secure_boot_row().set_text(&long);
    p.secure_boot_confirm_row().set_text(&long);
    pump(20);
    check(!p.complete(), "over-long Secure Boot password accepted")?;
    check(
        p.problem_texts().iter().any(|t| t.contains("too long")),
        format!("no length message: {:?}", p.problem_texts()),
    )?;
    p.secure_boot_row().set_text("Mok-Secret-2026");
    p.secure_boot_confirm_row().set_text("Mok-Secret-2027");
    pump(20);
    check(
        !p.complete(),
        "mismatched Secure Boot confirmation accepted",
    )?;
    check(
        p.problem_texts().iter().any(|t| t.contains("match")),
        format!("no mismatch message: {:?}", p.problem_texts()),
    )?;
    p.secure_boot_confirm_row().set_text("Mok-Secret-2026");
    pump(20);
    check(
        p.complete(),
        format!("EFI user page incomplete: {:?}", p.problem_texts()),
    )?;
    check(
        s.io().secure_boot_password.expose() == "Mok-Secret-2026",
        "Secure Boot password not in io",
    )?;
    check(
        !p.problem_texts().iter().any(|t| t.contains("Mok-Secret")),
        "a message echoes the Secure Boot password",
    )?;
    s.update(|c| c.boot = forge_proto::BootMode::Bios);
    pump(20);
    check(
        !p.secure_boot_shown(),
        "Secure Boot password asked for BIOS",
    )?;
    check(
        s.io().secure_boot_password.is_empty(),
        "Secure Boot password sent for a BIOS install",
    )?;
    win.close();
    both_directions(|| {
        window_shot(&state(), "user", "04-user", |w| {
            if let Some(p) = w.page("user").and_downcast::<UserPage>() {
                p.full_name_row().set_text("Alice Liddell");
                p.password_row().set_text("Looking-Glass-1865");
                p.confirm_row().set_text("Looking-Glass-18");
            }
        })
    })
}
