//! The welcome screen: always complete; its window in both directions.

use crate::common::*;

pub fn t_welcome() -> Result<(), Failed> {
    let s = state();
    let p = WelcomePage::new(&s);
    let win = show(&p);
    check(p.complete(), "welcome is always complete")?;
    win.close();
    both_directions(|| window_shot(&state(), "welcome", "01-welcome", |_| {}))
}
