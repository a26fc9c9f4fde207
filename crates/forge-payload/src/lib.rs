//! The pkm trust chain as a library (docs/design.md section 4).
//!
//! - [`build::build_payload`]: manifest + index from `DIR/packages/`, signed
//!   with sequoia when given a key file.
//! - [`open_verified`]: both detached signatures checked against a
//!   [`Keyring`] ("valid when signed" and "valid now"), the verified bytes
//!   parsed, the index's signed `created`/`expires` window checked
//!   ([`freshness`]); [`Payload::verify_archives`] hashes the archives in parallel.
//! - [`deploy`]: extract and register packages into a root, confined,
//!   re-hashing each archive while it streams.
//! - [`confined`]: file operations below a root that never follow a
//!   symlink out of it (the deploy code's and the daemon's).
//! - `testkit` (cargo feature `testkit`, off by default): real keys,
//!   signatures and archives for tests; never in a shipped binary.
//!
//! Typical use (the daemon's verify and packages phases):
//!
//! ```no_run
//! # use std::path::Path;
//! # fn main() -> Result<(), forge_payload::PayloadError> {
//! let keyring = forge_payload::Keyring::load(Path::new("/usr/share/forge/release-keys.asc"))?;
//! let payload = forge_payload::open_verified(Path::new("/run/forge/payload"), &keyring)?;
//! let pkgs = payload.resolve_groups(&["core".to_string()])?;
//! let report = payload.verify_archives(&pkgs);
//! assert!(report.is_clean());
//! let done = forge_payload::deploy(&payload, &report, &pkgs, Path::new("/mnt/target"), &|_ev| {});
//! # let _ = done; Ok(()) }
//! ```

pub mod build;
pub mod confined;
mod deploy;
mod error;
pub mod freshness;
pub mod index;
mod integrity;
mod keyring;
mod payload;
pub mod pkginfo;
mod sigcheck;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use deploy::{deploy, deploy_until, DeployEvent, DeployReport, InstalledPackage, PKM_DB_DIR};
pub use error::{PayloadError, SigProblem, UnsafeReason};
pub use index::{PackageEntry, MAX_INDEX_BYTES};
pub use integrity::{FileCheck, FileStatus, IntegrityReport};
pub use keyring::{Keyring, MAX_KEYRING_BYTES};
pub use payload::{open_verified, open_verified_at, GroupSummary, Payload, PKM_PAYLOAD_RECORD};
pub use pkginfo::TIERS;
