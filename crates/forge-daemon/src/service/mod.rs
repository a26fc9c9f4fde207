//! The D-Bus objects: the installer at `/org/intergenos/Forge1` and one job
//! object per install.

pub mod installer;
pub mod job;
