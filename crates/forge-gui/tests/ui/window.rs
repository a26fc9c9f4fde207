//! The window: Next gated by `complete`, Back, the step order.

use crate::common::*;

pub fn t_window_navigation() -> Result<(), Failed> {
    let s = state();
    s.set_groups(groups());
    s.set_disks(disks());
    let w = ForgeWindow::new_standalone(&s);
    w.present();
    pump(300);
    let next = |w: &ForgeWindow| {
        let _ = WidgetExt::activate_action(w, "win.next-page", None);
        pump(50);
    };
    let back = |w: &ForgeWindow| {
        let _ = WidgetExt::activate_action(w, "win.previous-page", None);
        pump(50);
    };
    check(w.current_screen() == "welcome", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "keyboard_locale", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "disk", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "disk", "Next passed an unchosen disk")?;
    let disk: DiskPage = w.page("disk").and_downcast().ok_or("disk page")?;
    disk.choose("/dev/nvme0n1");
    pump(50);
    next(&w);
    check(w.current_screen() == "user", w.current_screen())?;
    next(&w);
    check(
        w.current_screen() == "user",
        "Next passed an empty user page",
    )?;
    back(&w);
    check(w.current_screen() == "disk", "Back failed")?;
    check(
        s.choices().disk == "/dev/nvme0n1",
        "Back lost the disk choice",
    )?;
    next(&w);
    let user: UserPage = w.page("user").and_downcast().ok_or("user page")?;
    user.full_name_row().set_text("Alice Liddell");
    user.password_row().set_text("Looking-Glass-1865");
    user.confirm_row().set_text("Looking-Glass-1865");
    pump(50);
    next(&w);
    check(w.current_screen() == "packages", w.current_screen())?;
    next(&w);
    check(w.current_screen() == "confirm", w.current_screen())?;
    back(&w);
    back(&w);
    check(
        user.full_name_row().text() == "Alice Liddell",
        "Back lost the name",
    )?;
    screenshot(&w, "00-window-user")?;
    w.close();
    Ok(())
}
