//! `FORGE_GUI_BENCH=1`: measures the start of the GUI. From process start
//! (the kernel's start time of this process) to the first frame clock
//! `after-paint` of the main window, plus resident memory (VmRSS) at that
//! moment; prints one line and quits the application.
//! `FORGE_GUI_BENCH=baseline` measures an empty libadwaita window instead,
//! to separate the toolkit's own cost from the installer's.

use std::time::Instant;

use gtk::glib;
use gtk::prelude::*;

/// Timer started at `main`, with the process's age at that moment.
pub struct Bench {
    /// `FORGE_GUI_BENCH=baseline`: measure an empty libadwaita window.
    pub baseline: bool,
    at_main: Instant,
    before_main_ms: f64,
}

/// Milliseconds since the kernel started this process, from
/// `/proc/self/stat` (field 22, clock ticks since boot) and `/proc/uptime`.
fn process_age_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let start_ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // CLK_TCK is 100 on Linux.
    Some((uptime - start_ticks / 100.0) * 1000.0)
}

/// Resident set size in KiB.
pub fn vm_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

impl Bench {
    pub fn start_if_requested() -> Option<Bench> {
        let mode = std::env::var("FORGE_GUI_BENCH").ok()?;
        if mode != "1" && mode != "baseline" {
            return None;
        }
        Some(Bench {
            baseline: mode == "baseline",
            at_main: Instant::now(),
            before_main_ms: process_age_ms().unwrap_or(0.0).max(0.0),
        })
    }

    /// Prints the numbers after the window's first painted frame, then quits.
    pub fn attach(&self, window: &impl IsA<gtk::Widget>, app: &adw::Application) {
        let at_main = self.at_main;
        let before = self.before_main_ms;
        let app = app.clone();
        let window = window.as_ref().clone();
        window.connect_realize(move |w| {
            let Some(clock) = w.frame_clock() else {
                return;
            };
            let app = app.clone();
            let done = std::rc::Rc::new(std::cell::Cell::new(false));
            clock.connect_after_paint(move |_| {
                if done.replace(true) {
                    return;
                }
                let since_main = at_main.elapsed().as_secs_f64() * 1000.0;
                let rss = vm_rss_kib().unwrap_or(0);
                println!(
                    "forge-gui bench: first_frame_ms={:.1} (main_to_frame_ms={:.1}, exec_to_main_ms={:.1}) rss_mib={:.1}",
                    before + since_main,
                    since_main,
                    before,
                    rss as f64 / 1024.0
                );
                let app = app.clone();
                glib::idle_add_local_once(move || app.quit());
            });
        });
    }
}
