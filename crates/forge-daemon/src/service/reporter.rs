//! The pipeline side of a job object: [`JobReporter`] is the runner's
//! [`JobReport`] (and so the pipeline's [`Reporter`]). It updates the
//! job's shared status and queues a `forge_proto::wire::JobEvent` for
//! `service::job::pump`; only the integrity question blocks, on a channel
//! answered by `OverrideIntegrity` or `Cancel`.

use std::sync::{mpsc, Arc};

use forge_proto::wire::{phase_name, JobEvent, Mismatch};
use forge_proto::{JobState, Phase};
use tokio::sync::mpsc::UnboundedSender;

use crate::pipeline::{report, IntegrityDecision, Reporter};
use crate::service::job::JobShared;
use crate::service::jobs::JobReport;

/// The pipeline's [`Reporter`] for one job object.
pub struct JobReporter {
    pub shared: Arc<JobShared>,
    pub events: UnboundedSender<JobEvent>,
}

impl JobReporter {
    fn send(&self, e: JobEvent) {
        // The pump only ends after Finished; a send error means the daemon
        // is shutting down, and the log still has everything.
        let _ = self.events.send(e);
    }
}

impl JobReport for JobReporter {
    /// The job's last word: final state, then `Finished`.
    fn finish(
        &self,
        state: JobState,
        phase_completed: Option<Phase>,
        error: String,
        warnings: Vec<String>,
    ) {
        {
            let mut s = self.shared.status();
            s.state = state;
            s.phase_completed = phase_name(phase_completed).to_string();
            s.warnings = warnings.clone();
            s.decision = None;
            if state == JobState::Succeeded {
                s.fraction = 1.0;
            }
        }
        self.send(JobEvent::Finished {
            success: state == JobState::Succeeded,
            phase_completed,
            error,
            warnings,
        });
    }
}

impl Reporter for JobReporter {
    fn phase_started(&self, phase: Phase) {
        {
            let mut s = self.shared.status();
            s.phase = phase.as_str().to_string();
            s.phase_index = phase.index();
        }
        self.send(JobEvent::PhaseStarted(phase));
    }

    fn phase_finished(&self, phase: Phase) {
        self.shared.status().phase_completed = phase.as_str().to_string();
        self.send(JobEvent::PhaseFinished(phase));
    }

    fn progress(&self, fraction: f64, message: &str) {
        let f = {
            let mut s = self.shared.status();
            if fraction > s.fraction {
                s.fraction = fraction.min(1.0);
            }
            s.fraction
        };
        self.send(JobEvent::Progress {
            fraction: f,
            message: message.to_string(),
        });
    }

    fn warning(&self, message: &str) {
        self.shared.status().warnings.push(message.to_string());
        self.send(JobEvent::Warning(message.to_string()));
    }

    fn await_integrity_decision(&self, mismatches: Vec<report::Mismatch>) -> IntegrityDecision {
        let (tx, rx) = mpsc::channel();
        {
            let mut s = self.shared.status();
            if self.shared.cancel.is_cancelled() {
                return IntegrityDecision::Cancel;
            }
            s.state = JobState::AwaitingOverride;
            s.decision = Some(tx);
        }
        tracing::warn!(
            job = self.shared.id,
            count = mismatches.len(),
            "integrity failure: awaiting an override or a cancel"
        );
        self.send(JobEvent::IntegrityFailed {
            mismatches: mismatches.into_iter().map(Mismatch::from).collect(),
            phrase: self.shared.config.override_phrase.clone(),
        });
        // A cancel token set elsewhere (daemon shutting down) or a dropped
        // sender counts as Cancel.
        let decision = loop {
            match rx.recv_timeout(std::time::Duration::from_millis(250)) {
                Ok(d) => break d,
                Err(mpsc::RecvTimeoutError::Timeout) if !self.shared.cancel.is_cancelled() => {}
                Err(_) => break IntegrityDecision::Cancel,
            }
        };
        {
            let mut s = self.shared.status();
            s.decision = None;
            if decision == IntegrityDecision::Override {
                s.state = JobState::Running;
            }
        }
        if decision == IntegrityDecision::Override {
            self.send(JobEvent::StateChanged(JobState::Running));
        }
        decision
    }
}
