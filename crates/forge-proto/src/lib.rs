//! `forge-proto`: everything FORGE's frontends and its daemon must agree on, and
//! nothing else. The install state (`install.yaml` v1 and `install_io`), its
//! validation, the 13 phase names, progress and job-state types, the wire
//! records (`wire`), the D-Bus names, error names and proxies, and the one
//! client every frontend uses (`client`) with the text polkit agent the
//! terminal frontends start beside it (`tty_agent`). No GTK, no root code.

pub mod catalog;
pub mod client;
pub mod contract;
pub mod dbus;
pub mod error;
pub mod i18n;
pub mod install_io;
pub mod layout;
pub mod phase;
pub mod plan;
pub mod tty_agent;
pub mod validate;
pub mod wire;
pub mod wizard;

pub use catalog::SystemCatalog;
pub use error::ForgeError;
pub use install_io::{InstallIo, Secret};
pub use phase::{JobState, Phase};
pub use plan::{BootMode, Filesystem, InstallPlan, Keyboard, PackageGroup, User};
pub use validate::Problem;
pub use wire::{DiskInfo, GroupInfo, JobEvent, Mismatch};

/// The daemon's version string, also the `Version` property.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
