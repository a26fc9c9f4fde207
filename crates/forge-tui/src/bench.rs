//! `FORGE_TUI_BENCH=FILE`: after the first frame is drawn, appends one line
//! to FILE and goes on normally (scripts/bench-tui.sh, docs/benchmarks.md):
//! `forge-tui bench: first_frame_ms=<ms since the kernel started the
//! process> rss_kib=<VmRSS> hwm_kib=<VmHWM>`. Process age as forge-gui's
//! bench computes it (`/proc/self/stat` start time against `/proc/uptime`,
//! taken once at `main`, plus the time since).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

pub struct Bench {
    file: PathBuf,
    at_main: Instant,
    before_main_ms: f64,
}

/// Milliseconds since the kernel started this process.
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

/// A `Vm…:` value of /proc/self/status, in KiB.
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

impl Bench {
    /// Armed when `FORGE_TUI_BENCH` names a file.
    pub fn from_env() -> Option<Bench> {
        let file = std::env::var_os("FORGE_TUI_BENCH").filter(|v| !v.is_empty())?;
        Some(Bench {
            file: file.into(),
            at_main: Instant::now(),
            before_main_ms: process_age_ms().unwrap_or(0.0).max(0.0),
        })
    }

    /// The first frame is drawn: one line to the file.
    pub fn first_frame(&self) {
        let ms = self.before_main_ms + self.at_main.elapsed().as_secs_f64() * 1000.0;
        let line = format!(
            "forge-tui bench: first_frame_ms={ms:.0} rss_kib={} hwm_kib={}\n",
            status_kib("VmRSS:"),
            status_kib("VmHWM:")
        );
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file);
        if let Ok(mut f) = f {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
