//! `forge-daemon` as a library: the pipeline, its phases, the resource
//! guards and the configuration, so that the `forge-daemon` binary (the
//! D-Bus service) and root-only tests share one implementation.

pub mod checks;
pub mod config;
pub mod phases;
pub mod pipeline;
pub mod resources;
pub mod target;
pub mod trust;

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`), for the unit tests.
#[cfg(test)]
#[path = "../../../tests/harness/skip.rs"]
mod test_skip;
