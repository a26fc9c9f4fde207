//! The state one install job carries through the phases: the plan, the
//! credentials, the daemon configuration, what earlier phases produced for
//! later ones ([`InstallState`]), the install and audit logs, warnings, and
//! every resource guard (loop device, mounts) in the order it was set up.
//! Running an external tool for a phase is a method here
//! ([`JobContext::run_logged`]): its command line and output go to the
//! install log, its failure becomes a [`PhaseError`].

use std::any::Any;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use forge_proto::{InstallIo, InstallPlan, Phase};

use crate::config::DaemonConfig;
use crate::pipeline::report::{IntegrityDecision, Mismatch, Reporter};
use crate::pipeline::PhaseError;
use crate::resources::command::{self, CmdOutput};

pub use crate::pipeline::state::InstallState;

/// Set by `Cancel()`; the pipeline stops at the next phase boundary, and
/// long phases may poll it at their own safe points.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// The flag itself, for code outside the daemon (the payload library's
    /// deploy, the command runner) that polls it between units of work.
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }
}

/// One install job's context. Created by the job runner, passed `&mut` to
/// each phase's `run`.
pub struct JobContext {
    pub job_id: u32,
    pub plan: InstallPlan,
    pub io: InstallIo,
    pub config: Arc<DaemonConfig>,
    /// Validate and verify run for real; later phases only describe what
    /// they would do via [`JobContext::operation`].
    pub dry_run: bool,
    /// Test-only (cargo feature `fault-injection`): fail the pipeline at
    /// this phase (from the daemon config).
    #[cfg(feature = "fault-injection")]
    pub fault_at: Option<Phase>,
    /// Test-only (cargo feature `fault-injection`): panic at this phase.
    #[cfg(feature = "fault-injection")]
    pub panic_at: Option<Phase>,
    /// Test-only (cargo feature `fault-injection`): hold at the start of
    /// this phase for this long, or until Cancel.
    #[cfg(feature = "fault-injection")]
    pub pause_at: Option<(Phase, std::time::Duration)>,
    pub cancel: CancelToken,
    /// Per-job staging directory (under the config's `staging_dir`).
    pub staging: PathBuf,
    pub state: InstallState,
    pub warnings: Vec<String>,
    /// The install log (copied into the target's /var/log/forge/ by cleanup).
    pub log: Vec<String>,
    /// The integrity audit log: one line per verified file and decision.
    pub audit: Vec<String>,
    pub phase_completed: Option<Phase>,
    reporter: Arc<dyn Reporter>,
    current: Phase,
    fraction: f64,
    /// Guards in set-up order; released in reverse.
    resources: Vec<(String, Box<dyn Any + Send>)>,
}

impl JobContext {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        job_id: u32,
        plan: InstallPlan,
        io: InstallIo,
        config: Arc<DaemonConfig>,
        reporter: Arc<dyn Reporter>,
        cancel: CancelToken,
        staging: PathBuf,
    ) -> JobContext {
        let dry_run = io.dry_run;
        JobContext {
            job_id,
            plan,
            io,
            #[cfg(feature = "fault-injection")]
            fault_at: config.test_fail_at_phase,
            #[cfg(feature = "fault-injection")]
            panic_at: config.test_panic_at_phase,
            #[cfg(feature = "fault-injection")]
            pause_at: config
                .test_pause_at_phase
                .map(|p| (p, std::time::Duration::from_secs(config.test_pause_seconds))),
            config,
            dry_run,
            cancel,
            staging,
            state: InstallState::default(),
            warnings: Vec::new(),
            log: Vec::new(),
            audit: Vec::new(),
            phase_completed: None,
            reporter,
            current: Phase::Validate,
            fraction: 0.0,
            resources: Vec::new(),
        }
    }

    pub(crate) fn begin_phase(&mut self, phase: Phase) {
        self.current = phase;
        self.log_line(&format!("== phase {phase} =="));
        self.reporter.phase_started(phase);
        self.progress(0.0, &phase.label());
    }

    pub(crate) fn finish_phase(&mut self, phase: Phase) {
        self.progress(1.0, &phase.label());
        self.phase_completed = Some(phase);
        self.reporter.phase_finished(phase);
    }

    /// Reports progress within the current phase (`within` in 0..=1). The
    /// overall fraction sent to clients never goes backwards.
    pub fn progress(&mut self, within: f64, message: &str) {
        let n = Phase::ALL.len() as f64;
        let overall = ((self.current.index() as f64 + within.clamp(0.0, 1.0)) / n).min(1.0);
        if overall > self.fraction {
            self.fraction = overall;
        }
        self.reporter.progress(self.fraction, message);
    }

    /// A non-fatal problem: kept for the result, sent as `Warning`, logged.
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        tracing::warn!(phase = %self.current, "{message}");
        self.log_line(&format!("WARNING: {message}"));
        self.reporter.warning(&message);
        self.warnings.push(message);
    }

    /// Appends a line to the install log (and the daemon's log). Never pass
    /// a secret here.
    pub fn log_line(&mut self, line: &str) {
        tracing::info!(job = self.job_id, "{line}");
        self.log.push(line.to_string());
    }

    /// In a dry run: one operation this phase would perform. Logged and sent
    /// as a progress message so clients can print the plan.
    pub fn operation(&mut self, description: &str) {
        self.log_line(&format!("would: {description}"));
        let f = 0.5;
        self.progress(f, description);
    }

    /// Runs `cmd` for the current phase within `timeout`, killed within
    /// about 20 ms of a Cancel: the command line
    /// and its output go to the install log; a failure becomes a
    /// [`PhaseError`] with the translated `summary` (the detail names the
    /// command and carries its stderr).
    pub fn run_logged(
        &mut self,
        cmd: &mut Command,
        timeout: std::time::Duration,
        summary: &str,
    ) -> Result<CmdOutput, PhaseError> {
        self.run_logged_input(cmd, None, timeout, summary)
    }

    /// As [`JobContext::run_logged`], feeding `stdin` (may be a secret: it
    /// is never logged).
    pub fn run_logged_input(
        &mut self,
        cmd: &mut Command,
        stdin: Option<&[u8]>,
        timeout: std::time::Duration,
        summary: &str,
    ) -> Result<CmdOutput, PhaseError> {
        self.log_line(&format!("$ {}", command::describe(cmd)));
        let result = command::run_cancellable(cmd, stdin, timeout, self.cancel.flag());
        let output = match &result {
            Ok(out) => out
                .stdout
                .lines()
                .chain(out.stderr.lines())
                .map(str::to_string)
                .collect::<Vec<_>>(),
            Err(e) => e.output().lines().map(str::to_string).collect(),
        };
        for line in output.iter().filter(|l| !l.trim().is_empty()) {
            self.log_line(&format!("  {line}"));
        }
        result.map_err(|e| PhaseError::new(summary, e.to_string()))
    }

    /// Blocks until the person overrides or cancels an integrity failure.
    pub fn await_integrity_decision(&mut self, mismatches: Vec<Mismatch>) -> IntegrityDecision {
        self.reporter.await_integrity_decision(mismatches)
    }

    /// Keeps a resource guard alive until cleanup or failure; guards are
    /// dropped in reverse order of holding.
    pub fn hold<T: Any + Send>(&mut self, name: &str, guard: T) {
        self.log_line(&format!("holding {name}"));
        self.resources.push((name.to_string(), Box::new(guard)));
    }

    /// Releases every held guard, newest first (unmount in reverse, then
    /// detach loop devices). Used by cleanup and on failure.
    pub fn release_all(&mut self) {
        while let Some((name, guard)) = self.resources.pop() {
            drop(guard);
            self.log_line(&format!("released {name}"));
        }
    }

    /// Names of the guards currently held, oldest first (for tests and logs).
    pub fn held(&self) -> Vec<String> {
        self.resources.iter().map(|(n, _)| n.clone()).collect()
    }
}

impl Drop for JobContext {
    fn drop(&mut self) {
        self.release_all();
    }
}
