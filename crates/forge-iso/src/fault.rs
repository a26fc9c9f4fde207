//! Test-only fault points. In a release build (no `fault-injection`
//! feature, not a unit test) [`active`] is a constant `false` and the
//! faults are compiled out; with the feature the environment variable
//! `FORGE_ISO_FAULT` names one, in unit tests a thread-local does.

/// The faults a test can ask for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `veritysetup format` "succeeds" but leaves `filesystem.verity` empty.
    EmptyVerity,
    /// The SHA-256 file is never written.
    MissingSha256,
}

impl Fault {
    #[cfg(any(test, feature = "fault-injection"))]
    fn name(self) -> &'static str {
        match self {
            Fault::EmptyVerity => "empty-verity",
            Fault::MissingSha256 => "missing-sha256",
        }
    }
}

#[cfg(test)]
thread_local! {
    static FORCED: std::cell::Cell<Option<Fault>> = const { std::cell::Cell::new(None) };
}

/// Forces `fault` on this thread until the guard drops (unit tests).
#[cfg(test)]
pub fn force(fault: Fault) -> impl Drop {
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            FORCED.with(|f| f.set(None));
        }
    }
    FORCED.with(|f| f.set(Some(fault)));
    Guard
}

/// Whether `fault` is requested.
#[cfg(any(test, feature = "fault-injection"))]
pub fn active(fault: Fault) -> bool {
    #[cfg(test)]
    if FORCED.with(|f| f.get()) == Some(fault) {
        return true;
    }
    std::env::var("FORGE_ISO_FAULT").is_ok_and(|v| v == fault.name())
}

/// Whether `fault` is requested: never, in a release build.
#[cfg(not(any(test, feature = "fault-injection")))]
pub fn active(_fault: Fault) -> bool {
    false
}
