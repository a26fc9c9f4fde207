//! Guards for everything an install sets up on the host: the private mount
//! namespace, loop devices, mounts, child processes. Each releases on drop.
//! Also the helpers phases share: running tools with a time limit
//! ([`command`]) and writing into the target without leaving it ([`rootfs`]).

pub mod command;
pub mod esp;
pub mod loopdev;
pub mod mounts;
pub mod namespace;
pub mod passwd_hash;
pub mod rootfs;
