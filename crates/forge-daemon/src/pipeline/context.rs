//! The state one install job carries through the phases: the plan, the
//! credentials, the daemon configuration, what earlier phases produced for
//! later ones, the install and audit logs, warnings, and every resource guard
//! (loop device, mounts) in the order it was set up.

use std::any::Any;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use forge_proto::{InstallIo, InstallPlan, Phase};

use crate::config::DaemonConfig;
use crate::pipeline::report::{IntegrityDecision, Mismatch, Reporter};

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
}

/// What earlier phases hand to later ones. Phases add fields here as they
/// need them; keep each field documented with the phase that fills it.
#[derive(Default)]
pub struct InstallState {
    /// validate: `efi` or `bios` (never `auto` once resolved).
    pub boot_mode: Option<forge_proto::BootMode>,
    /// validate: the block device or image file the install goes to.
    pub target_path: Option<PathBuf>,
    /// verify: the payload whose signatures held, the packages of the
    /// plan's groups (dependency closure), and what hashing them observed;
    /// the packages phase deploys exactly these.
    pub payload: Option<forge_payload::Payload>,
    pub packages: Vec<forge_payload::PackageEntry>,
    pub integrity: Option<forge_payload::IntegrityReport>,
    /// mount: where the target root is mounted (inside the job's namespace).
    pub root: Option<PathBuf>,
    /// packages: units the installed packages ask to be enabled.
    pub package_services: Vec<String>,
    /// packages: `.INSTALL` scripts to run in the hooks phase, in order
    /// (package name, path of the script inside the target).
    pub hooks: Vec<(String, PathBuf)>,
    /// partition: the whole-disk device partitioned (the block device, or
    /// the loop device an image file was attached to).
    pub disk_device: Option<PathBuf>,
    /// partition: the root partition's node and file system UUID.
    pub root_partition: Option<PathBuf>,
    pub root_uuid: Option<String>,
    /// partition (EFI): the ESP's node and its FAT volume id (`ABCD-1234`).
    pub esp_partition: Option<PathBuf>,
    pub esp_uuid: Option<String>,
    /// mount (EFI): host directory collecting the ESP's content; bootloader
    /// copies it onto the FAT file system with mtools.
    pub esp_staging: Option<PathBuf>,
    /// packages: (name, version) of every package deployed.
    pub deployed: Vec<(String, String)>,
    /// mok: the MOK certificate (PEM) and private key, paths in the target.
    pub mok_cert: Option<PathBuf>,
    pub mok_key: Option<PathBuf>,
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
    /// Test-only: fail the pipeline at this phase (from the daemon config).
    pub fault_at: Option<Phase>,
    /// Test-only: panic at this phase (from the daemon config).
    pub panic_at: Option<Phase>,
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
        let fault_at = config.test_fail_at_phase;
        let panic_at = config.test_panic_at_phase;
        JobContext {
            job_id,
            plan,
            io,
            config,
            dry_run,
            fault_at,
            panic_at,
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
