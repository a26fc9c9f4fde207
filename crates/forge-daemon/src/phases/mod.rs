//! One module per install phase, named as docs/design.md section 5 names them.
//! Each exposes `run(&mut JobContext) -> Result<(), PhaseError>`; in a dry
//! run (`ctx.dry_run`) a phase after verify only describes its operations.

pub mod bootloader;
pub mod cleanup;
pub mod config;
pub mod hooks;
pub mod mok;
pub mod mount;
pub mod packages;
pub mod partition;
pub mod services;
pub mod users;
pub mod validate;
pub mod verify;
pub mod virtual_fs;
