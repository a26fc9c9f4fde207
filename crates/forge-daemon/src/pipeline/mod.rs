//! The install pipeline: the 13 phases in order, progress accounting, dry
//! runs, undo on failure, and (cargo feature `fault-injection`, tests only)
//! a failure, panic or pause injected at a configured phase.
//!
//! The pipeline runs synchronously on one dedicated OS thread (see
//! [`crate::resources::namespace`]), which owns a private mount namespace so
//! nothing it mounts is visible to, or left behind on, the host. Every
//! resource a phase sets up is a guard stored in the [`JobContext`]; on
//! failure the context is dropped and the guards release in reverse order.

pub mod context;
pub mod report;
pub mod state;

pub use context::JobContext;
pub use report::{IntegrityDecision, Reporter};
pub use state::InstallState;

use forge_proto::Phase;

use crate::phases;

/// Why a phase failed: a short, translated sentence for the person, and the
/// full detail for the log.
#[derive(Debug, thiserror::Error)]
#[error("{summary}: {detail}")]
pub struct PhaseError {
    /// Short, translated, shown to the person.
    pub summary: String,
    /// Full detail (command lines, stderr, paths); goes to the log only.
    pub detail: String,
}

impl PhaseError {
    pub fn new(summary: impl Into<String>, detail: impl Into<String>) -> PhaseError {
        PhaseError {
            summary: summary.into(),
            detail: detail.into(),
        }
    }
}

/// How a pipeline run ended.
#[derive(Debug)]
pub enum Outcome {
    Succeeded,
    /// `phase` failed; `phase_completed` is the last phase that finished.
    Failed {
        phase: Phase,
        error: PhaseError,
    },
    /// Cancelled at a safe point before `phase`.
    Cancelled {
        before: Phase,
    },
}

/// Test-only (cargo feature `fault-injection`, off in shipped builds): the
/// failure or panic the daemon configuration asked for at `phase`.
#[cfg(feature = "fault-injection")]
fn injected_fault(phase: Phase, ctx: &JobContext) -> Result<(), PhaseError> {
    if ctx.panic_at == Some(phase) {
        panic!("panic injection configured for phase {phase}");
    }
    if let Some((at, hold)) = ctx.pause_at {
        if at == phase {
            tracing::info!(phase = %phase, "pause injection configured for phase {phase}");
            let until = std::time::Instant::now() + hold;
            while std::time::Instant::now() < until {
                if ctx.cancel.is_cancelled() {
                    return Err(PhaseError::new(
                        forge_proto::i18n::tr("The installation was cancelled."),
                        format!("cancelled during the pause injected at phase {phase}"),
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
    if ctx.fault_at == Some(phase) {
        return Err(PhaseError::new(
            forge_proto::i18n::tr("Injected test failure"),
            format!("fault injection configured for phase {phase}"),
        ));
    }
    Ok(())
}

/// Runs one phase for real, or in a dry run describes what it would do.
fn run_phase(phase: Phase, ctx: &mut JobContext) -> Result<(), PhaseError> {
    #[cfg(feature = "fault-injection")]
    injected_fault(phase, ctx)?;
    match phase {
        Phase::Validate => phases::validate::run(ctx),
        Phase::Verify => phases::verify::run(ctx),
        Phase::Partition => phases::partition::run(ctx),
        Phase::Mount => phases::mount::run(ctx),
        Phase::VirtualFs => phases::virtual_fs::run(ctx),
        Phase::Packages => phases::packages::run(ctx),
        Phase::Config => phases::config::run(ctx),
        Phase::Users => phases::users::run(ctx),
        Phase::Mok => phases::mok::run(ctx),
        Phase::Bootloader => phases::bootloader::run(ctx),
        Phase::Hooks => phases::hooks::run(ctx),
        Phase::Services => phases::services::run(ctx),
        Phase::Cleanup => phases::cleanup::run(ctx),
    }
}

/// Runs every phase in order. Each phase checks `ctx.dry_run` itself: in a
/// dry run, validate and verify run for real and every later phase reports
/// the operations it would perform through `ctx.operation(...)` and writes
/// nothing.
pub fn run(ctx: &mut JobContext) -> Outcome {
    for phase in Phase::ALL {
        // A phase boundary is a safe point: nothing is half-written there.
        if ctx.cancel.is_cancelled() {
            ctx.release_all();
            return Outcome::Cancelled { before: phase };
        }
        ctx.begin_phase(phase);
        match run_phase(phase, ctx) {
            Ok(()) => ctx.finish_phase(phase),
            Err(error) => {
                tracing::error!(phase = %phase, detail = %error.detail, "phase failed");
                ctx.log_line(&format!("phase {phase} failed: {}", error.detail));
                ctx.release_all();
                return Outcome::Failed { phase, error };
            }
        }
    }
    Outcome::Succeeded
}
