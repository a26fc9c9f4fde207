//! The D-Bus-facing half of the daemon (the binary's side of the
//! library/binary seam): the installer object at `/org/intergenos/Forge1`,
//! one job object per install, polkit authorization, the job registry and
//! runner, and the unauthenticated listings (disks, package groups) under
//! the work budget of `throttle`.
//! `contract_tests` checks these objects against `forge_proto::contract`.

pub mod auth;
pub mod disks;
pub mod groups;
pub mod installer;
pub mod job;
pub mod jobs;
pub mod reporter;
pub mod throttle;

#[cfg(test)]
mod contract_tests;
