//! How the pipeline thread talks back to the D-Bus side: phase boundaries,
//! progress, warnings, and the integrity-override question. The daemon's job
//! object implements [`Reporter`]; tests may implement it too.

use forge_proto::Phase;

/// The person's answer to an integrity failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrityDecision {
    /// An authorized caller typed the exact phrase: continue.
    Override,
    /// Cancelled (or the job was abandoned): stop with the disk untouched.
    Cancel,
}

/// One archive that failed verification: (path, expected, actual), the
/// triple `IntegrityFailed` carries. `expected`/`actual` are hex SHA-256 or
/// a word such as `missing` / `unlisted`.
pub type Mismatch = (String, String, String);

/// Sink for everything the pipeline reports. Called from the pipeline thread;
/// implementations must not block except in [`Reporter::await_integrity_decision`].
pub trait Reporter: Send + Sync {
    fn phase_started(&self, phase: Phase);
    fn phase_finished(&self, phase: Phase);
    /// `fraction` is overall (0..=1) and already monotone.
    fn progress(&self, fraction: f64, message: &str);
    fn warning(&self, message: &str);
    /// Emits `IntegrityFailed`, moves the job to awaiting-override and blocks
    /// the pipeline thread until an authorized override or a cancel.
    fn await_integrity_decision(&self, mismatches: Vec<Mismatch>) -> IntegrityDecision;
}
