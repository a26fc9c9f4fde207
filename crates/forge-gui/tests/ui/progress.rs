//! The progress screen fed job events.

use crate::common::*;

fn progress_events(p: &ProgressPage, upto: usize) {
    for (i, ph) in forge_proto::Phase::ALL.iter().enumerate().take(upto) {
        p.handle_event(&JobEvent::PhaseStarted(*ph));
        p.handle_event(&JobEvent::Progress {
            fraction: (i as f64 + 0.5) / 13.0,
            message: format!("working on {}", ph.as_str()),
        });
        if i + 1 < upto {
            p.handle_event(&JobEvent::PhaseFinished(*ph));
        }
    }
}

pub fn t_progress() -> Result<(), Failed> {
    let p = ProgressPage::new();
    let win = show(&p);
    check(p.phase_states().len() == 13, "not 13 phases")?;
    progress_events(&p, 2);
    check(p.cancel_enabled(), "Cancel disabled during verify")?;
    progress_events(&p, 6);
    let st = p.phase_states();
    check(
        st[0] == PhaseState::Done && st[4] == PhaseState::Done,
        format!("{st:?}"),
    )?;
    check(st[5] == PhaseState::Running, format!("{st:?}"))?;
    check(
        !p.cancel_enabled(),
        "Cancel enabled while the disk is written",
    )?;
    let status = p.status_text();
    check(status.contains("packages"), format!("status: {status}"))?;
    p.handle_event(&JobEvent::PhaseStarted(forge_proto::Phase::Config));
    check(
        p.status_text().contains("7"),
        format!("status: {}", p.status_text()),
    )?;
    let f = p.fraction();
    p.handle_event(&JobEvent::Progress {
        fraction: 0.1,
        message: String::new(),
    });
    check(p.fraction() >= f, "progress went backwards")?;
    p.handle_event(&JobEvent::Warning("hook for fontconfig timed out".into()));
    check(p.log_text().contains("fontconfig"), "warning not logged")?;
    p.handle_event(&JobEvent::Finished {
        success: false,
        phase_completed: Some(forge_proto::Phase::Config),
        error: "users: useradd failed".into(),
        warnings: vec![],
    });
    let st = p.phase_states();
    check(st[7] == PhaseState::Failed, format!("failed phase: {st:?}"))?;
    win.close();
    both_directions(|| {
        window_shot(&full_state(), "progress", "07-progress", |w| {
            if let Some(p) = w.progress_page() {
                progress_events(&p, 6);
                p.handle_event(&JobEvent::Warning(
                    "package gnome-maps: post-install hook timed out".into(),
                ));
            }
        })
    })
}
