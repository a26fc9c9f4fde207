//! The job registry (one install at a time) and the job runner: each
//! accepted install runs the pipeline on its own OS thread, inside a private
//! mount namespace, with its own thread pool for parallel work (started in
//! that namespace, ended with the job), and reports through a [`JobReport`] trait object (the
//! D-Bus job object implements it; this module does not know it).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use forge_proto::i18n::tr;
use forge_proto::{InstallIo, InstallPlan, JobState, Phase};

use crate::config::DaemonConfig;
use crate::pipeline::context::CancelToken;
use crate::pipeline::{self, JobContext, Outcome, Reporter};
use crate::resources::namespace::enter_private_mount_namespace;
use crate::service::throttle::Throttle;

/// What the runner reports through: the pipeline's [`Reporter`] plus the
/// job's last word, given once after every guard is released.
pub trait JobReport: Reporter {
    fn finish(
        &self,
        state: JobState,
        phase_completed: Option<Phase>,
        error: String,
        warnings: Vec<String>,
    );
}

#[derive(Default)]
struct Inner {
    next_id: u32,
    /// The running job: its id and cancel token.
    running: Option<(u32, CancelToken)>,
}

/// Hands out job ids and the single install slot, and holds the daemon's
/// budget for unauthenticated calls (one per daemon, like the slot).
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    pub throttle: Throttle,
}

/// The install slot, held from acceptance until the job's last word.
/// Dropping it frees the slot (also when `Install` fails after reserving).
pub struct Slot {
    registry: Arc<Registry>,
    pub id: u32,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = self.registry.lock();
        if inner.running.as_ref().map(|(id, _)| *id) == Some(self.id) {
            inner.running = None;
        }
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_busy(&self) -> bool {
        self.lock().running.is_some()
    }

    /// The id of the running job (from acceptance until just before its
    /// `Finished`), if any.
    pub fn running_id(&self) -> Option<u32> {
        self.lock().running.as_ref().map(|(id, _)| *id)
    }

    /// Takes the install slot, or `None` when a job is running.
    pub fn reserve(self: &Arc<Self>, cancel: CancelToken) -> Option<Slot> {
        let mut inner = self.lock();
        if inner.running.is_some() {
            return None;
        }
        inner.next_id += 1;
        let id = inner.next_id;
        inner.running = Some((id, cancel));
        Some(Slot {
            registry: Arc::clone(self),
            id,
        })
    }

    /// Asks the running job (if any) to stop at its next safe point.
    pub fn cancel_running(&self) {
        if let Some((_, c)) = &self.lock().running {
            c.cancel();
        }
    }
}

/// Everything the runner thread needs.
pub struct JobSpec {
    pub plan: InstallPlan,
    pub io: InstallIo,
    pub config: Arc<DaemonConfig>,
    pub reporter: Arc<dyn JobReport>,
    /// The job's cancel token (the one the registry holds for the slot).
    pub cancel: CancelToken,
    pub slot: Slot,
}

/// Starts the pipeline thread. The thread owns the slot and frees it just
/// before the job's last word, so a client that sees `Finished` may start
/// the next install at once.
pub fn spawn_runner(spec: JobSpec) -> std::io::Result<()> {
    let id = spec.slot.id;
    std::thread::Builder::new()
        .name(format!("forge-job-{id}"))
        .spawn(move || run_job(spec))
        .map(|_| ())
}

fn run_job(spec: JobSpec) {
    let JobSpec {
        plan,
        io,
        config,
        reporter,
        cancel,
        slot,
    } = spec;
    let id = slot.id;
    let staging: PathBuf = config.staging_dir.join(format!("job-{id}"));
    tracing::info!(job = id, dry_run = io.dry_run, disk = %io.disk, "job started");

    let made_staging = !io.dry_run && make_staging(&staging);
    let (state, phase_completed, error, warnings) = match enter_private_mount_namespace() {
        Err(detail) => {
            tracing::error!(job = id, %detail, "cannot isolate the job's mounts");
            (
                JobState::Failed,
                None,
                tr("The installer could not prepare its private working area."),
                Vec::new(),
            )
        }
        Ok(()) => {
            let pipeline_reporter: Arc<dyn Reporter> = reporter.clone();
            let mut ctx = JobContext::new(
                id,
                plan,
                io,
                Arc::clone(&config),
                pipeline_reporter,
                cancel.clone(),
                staging.clone(),
            );
            let outcome = match JobPool::start(id) {
                // Every parallel step of the job (hashing in verify, deploy)
                // runs on this pool, whose threads share the job's namespace.
                Ok(pool) => pool.run(|| run_guarded(id, &mut ctx)),
                Err(detail) => {
                    tracing::error!(job = id, %detail, "cannot start the job's threads");
                    Outcome::Failed {
                        phase: Phase::Validate,
                        error: pipeline::PhaseError::new(
                            tr("The installer could not prepare its private working area."),
                            detail,
                        ),
                    }
                }
            };
            let completed = ctx.phase_completed;
            let warnings = ctx.warnings.clone();
            drop(ctx); // release every guard before reporting
                       // Invariant 6, checked where it can be seen: nothing the job
                       // mounted may remain in its namespace once the guards are gone.
            let leftover: Vec<String> = crate::resources::mounts::mount_points()
                .into_iter()
                .filter(|p| p.starts_with(&staging))
                .map(|p| p.display().to_string())
                .collect();
            if leftover.is_empty() {
                tracing::info!(job = id, "leftover mounts: none");
            } else {
                tracing::error!(job = id, "leftover mounts: {}", leftover.join(" "));
            }
            summarize(id, outcome, &cancel, completed, warnings)
        }
    };
    if made_staging {
        // Only an empty directory goes; anything left is for a person.
        if let Err(e) = std::fs::remove_dir(&staging) {
            tracing::warn!(job = id, staging = %staging.display(), "staging directory left: {e}");
        }
    }
    tracing::info!(
        job = id,
        state = state.as_str(),
        phase_completed = forge_proto::wire::phase_name(phase_completed),
        error = %error,
        warnings = warnings.len(),
        "job finished"
    );
    drop(slot);
    reporter.finish(state, phase_completed, error, warnings);
}

/// The job's own rayon pool (issue 9, item 12). rayon's global pool would
/// start on the first job's thread, inherit that job's private mount
/// namespace and keep it alive for good, so a later job's hashing would read
/// the first job's view of the disk. This pool's threads are started by the
/// job thread after it entered its namespace, and are all gone (counted
/// through the exit handler) before the job gives its last word.
struct JobPool {
    pool: rayon::ThreadPool,
    threads: usize,
    exited: std::sync::mpsc::Receiver<()>,
}

/// Longest wait for the pool's threads to end after the job.
const POOL_EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl JobPool {
    fn start(id: u32) -> Result<JobPool, String> {
        let (tx, exited) = std::sync::mpsc::channel();
        let tx = Mutex::new(tx);
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(move |i| format!("forge-job-{id}-{i}"))
            .exit_handler(move |_| {
                let _ = tx.lock().map(|tx| tx.send(()));
            })
            .build()
            .map_err(|e| format!("starting the job's thread pool: {e}"))?;
        let threads = pool.current_num_threads();
        Ok(JobPool {
            pool,
            threads,
            exited,
        })
    }

    /// Runs `op` with this pool as rayon's current pool, then ends the pool
    /// and waits until every one of its threads has exited.
    fn run<R: Send>(self, op: impl FnOnce() -> R + Send) -> R {
        let out = self.pool.install(op);
        drop(self.pool);
        let deadline = std::time::Instant::now() + POOL_EXIT_WAIT;
        let mut ended = 0;
        while ended < self.threads {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.exited.recv_timeout(left) {
                Ok(()) => ended += 1,
                Err(_) => break,
            }
        }
        if ended == self.threads {
            tracing::info!(threads = ended, "job threads: all ended");
        } else {
            tracing::error!(ended, threads = self.threads, "job threads: not all ended");
        }
        out
    }
}

/// Runs the pipeline; a panic in a phase becomes a failure of the phase
/// after the last completed one (guards released, detail in the log), so
/// the job still gives its last word instead of staying `running` forever.
fn run_guarded(id: u32, ctx: &mut JobContext) -> Outcome {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pipeline::run(ctx)));
    match run {
        Ok(outcome) => outcome,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let phase = ctx
                .phase_completed
                .and_then(|p| Phase::ALL.get(p.index() as usize + 1).copied())
                .unwrap_or(Phase::Validate);
            tracing::error!(job = id, phase = %phase, "the pipeline panicked: {what}");
            ctx.log_line(&format!("phase {phase} panicked: {what}"));
            ctx.release_all();
            Outcome::Failed {
                phase,
                error: pipeline::PhaseError::new(
                    tr("The installer hit an internal error. The system log has details."),
                    format!("panic: {what}"),
                ),
            }
        }
    }
}

/// Creates the per-job staging directory (0700). Job ids start at 1 with
/// every daemon start, so a directory of the same name may be left from an
/// earlier run (the machine lost power mid-job): its empty directories
/// (mount points) and then itself are removed first; anything with content
/// stays for a person (and this job then works in it, as before).
fn make_staging(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(parent) = dir.parent() {
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(parent);
    }
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
        match std::fs::remove_dir(dir) {
            Ok(()) => {
                tracing::info!(staging = %dir.display(), "stale staging directory of an earlier run removed")
            }
            Err(e) => {
                tracing::warn!(staging = %dir.display(), "stale staging directory of an earlier run left: {e}")
            }
        }
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(staging = %dir.display(), "creating the staging directory: {e}");
            false
        }
    }
}

fn summarize(
    id: u32,
    outcome: Outcome,
    cancel: &CancelToken,
    completed: Option<Phase>,
    warnings: Vec<String>,
) -> (JobState, Option<Phase>, String, Vec<String>) {
    match outcome {
        Outcome::Succeeded => (JobState::Succeeded, completed, String::new(), warnings),
        Outcome::Cancelled { before } => {
            tracing::info!(job = id, before = %before, "job cancelled at a safe point");
            (
                JobState::Cancelled,
                completed,
                tr("The installation was cancelled."),
                warnings,
            )
        }
        Outcome::Failed { phase, error } if cancel.is_cancelled() => {
            tracing::info!(job = id, phase = %phase, detail = %error.detail, "job cancelled");
            (
                JobState::Cancelled,
                completed,
                tr("The installation was cancelled."),
                warnings,
            )
        }
        Outcome::Failed { phase, error } => {
            let msg = forge_proto::i18n::trf(
                "{phase}: {summary}",
                &[("phase", phase_name(phase)), ("summary", &error.summary)],
            );
            (JobState::Failed, completed, msg, warnings)
        }
    }
}

fn phase_name(p: Phase) -> &'static str {
    p.as_str()
}

#[cfg(test)]
mod tests {
    use super::make_staging;

    #[test]
    fn a_stale_staging_directory_of_an_earlier_run_is_replaced_when_empty() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let job = tmp.path().join("staging/job-1");
        assert!(make_staging(&job), "a fresh directory");
        // Power lost mid-job: the daemon restarts, ids start at 1 again.
        std::fs::create_dir_all(job.join("root")).expect("stale mount point");
        assert!(make_staging(&job), "empty leftovers are cleared");
        assert_eq!(std::fs::read_dir(&job).expect("made").count(), 0);
        // Content is for a person: kept, and this job does not own it.
        std::fs::create_dir_all(job.join("esp")).expect("dir");
        std::fs::write(job.join("esp/MOK.der"), b"x").expect("file");
        assert!(!make_staging(&job), "a directory with content is kept");
        assert!(job.join("esp/MOK.der").exists());
    }
}
