//! The confirm screen: the summary of every choice and Install.

use crate::common::*;

pub fn t_confirm() -> Result<(), Failed> {
    let s = full_state();
    let p = ConfirmPage::new(&s);
    let win = show(&p);
    p.refresh();
    check(p.complete(), "full state but confirm incomplete")?;
    check(p.install_button().is_sensitive(), "Install insensitive")?;
    check(
        p.install_button().has_css_class("destructive-action"),
        "Install is not destructive-styled",
    )?;
    let disk = p.disk_text();
    check(
        disk.contains("Samsung SSD 980 PRO")
            && disk.contains("500")
            && disk.contains("/dev/nvme0n1"),
        format!("disk line: {disk}"),
    )?;
    let summary = p.summary();
    check(
        summary.iter().any(|(_, v)| v.contains("alice")),
        format!("summary lacks the user: {summary:?}"),
    )?;
    let requested = std::rc::Rc::new(std::cell::Cell::new(false));
    let r = requested.clone();
    p.connect_install_requested(move || r.set(true));
    p.install_button().emit_clicked();
    check(requested.get(), "Install did not request the install")?;
    s.update(|c| c.user_password_confirm = forge_proto::Secret::new("x"));
    check(
        !p.install_button().is_sensitive(),
        "Install enabled with a problem",
    )?;
    win.close();
    both_directions(|| window_shot(&full_state(), "confirm", "06-confirm", |_| {}))
}
