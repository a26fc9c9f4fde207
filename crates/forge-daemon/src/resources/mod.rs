//! Guards for everything an install sets up on the host: the private mount
//! namespace, loop devices, mounts, child processes. Each releases on drop.
//! Also running tools with a time limit ([`command`]). Writing into the
//! target without leaving it is `forge_payload::confined`, shared with the
//! payload's extraction. Nothing here knows the pipeline or a job.

pub mod blockdev;
pub mod claim;
pub mod command;
pub mod esp;
pub mod loopdev;
pub mod mounts;
pub mod namespace;
pub mod partnodes;
pub mod passwd_hash;
pub mod sandbox;
