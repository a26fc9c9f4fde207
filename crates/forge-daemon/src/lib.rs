//! `forge-daemon` as a library: the pipeline, its phases, the resource
//! guards and the configuration, so that the `forge-daemon` binary (the
//! D-Bus service) and root-only tests share one implementation.

pub mod checks;
pub mod config;
pub mod phases;
pub mod pipeline;
pub mod resources;
pub mod target;
