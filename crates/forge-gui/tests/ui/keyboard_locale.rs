//! Language, keyboard and time zone: search, choices stored, problems.

use crate::common::*;

pub fn t_keyboard_locale() -> Result<(), Failed> {
    let s = state();
    let p = KeyboardLocalePage::new(&s);
    let win = show(&p);
    let list = p.locale_list().ok_or("no locale list")?;
    let all = list.visible_count();
    check(all > 50, format!("only {all} locales listed"))?;
    p.locale_search().set_text("de_DE");
    pump_until(3, || list.visible_count() < all);
    check(
        list.visible_count() >= 1 && list.visible_count() < all,
        format!("search did not filter ({} of {all})", list.visible_count()),
    )?;
    check(list.select("de_DE.UTF-8"), "de_DE.UTF-8 not offered")?;
    pump(50);
    check(
        s.choices().locale == "de_DE.UTF-8",
        "locale choice not stored",
    )?;
    check(p.choose_layout("de"), "layout de not offered")?;
    pump(50);
    check(
        p.choose_variant("nodeadkeys"),
        "variant nodeadkeys not offered",
    )?;
    pump(50);
    check(
        s.choices().layout == "de" && s.choices().variant == "nodeadkeys",
        format!("keyboard is {}:{}", s.choices().layout, s.choices().variant),
    )?;
    let zones = p.timezone_list().ok_or("no zone list")?;
    p.timezone_search().set_text("tokyo");
    pump_until(3, || zones.visible_count() < 10);
    check(zones.select("Asia/Tokyo"), "Asia/Tokyo not found by search")?;
    pump(50);
    check(s.choices().timezone == "Asia/Tokyo", "zone not stored")?;
    check(
        p.time_label().contains("Tokyo") && p.time_label().contains(':'),
        format!("local time line: {:?}", p.time_label()),
    )?;
    check(
        p.complete(),
        format!("valid choices but incomplete: {:?}", p.problem_texts()),
    )?;
    // A layout the system does not have is a problem shown on this screen.
    s.update(|c| c.layout = "no-such-layout".into());
    check(!p.complete(), "invalid layout accepted")?;
    check(
        p.problem_texts().iter().any(|t| !t.is_empty()),
        "no inline problem for an invalid layout",
    )?;
    s.update(|c| c.layout = "de".into());
    check(p.complete(), "valid again but incomplete")?;
    p.timezone_search().set_text("");
    p.locale_search().set_text("");
    pump(100);
    win.close();
    both_directions(|| window_shot(&state(), "keyboard_locale", "02-keyboard_locale", |_| {}))
}
