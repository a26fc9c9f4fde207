//! D-Bus names and the client proxies of docs/design.md section 3. The daemon
//! implements these interfaces; frontends talk through these proxies (via
//! `crate::client`), so both sides share one definition. Every member and
//! signature is also listed as data in `crate::contract`, which the daemon's
//! introspection is tested against.

use std::collections::HashMap;

use zbus::proxy;
use zbus::{OwnedObjectPath, OwnedVariant as OwnedValue};

pub const BUS_NAME: &str = "org.intergenos.Forge1";
pub const OBJECT_PATH: &str = "/org/intergenos/Forge1";
pub const INSTALLER_INTERFACE: &str = "org.intergenos.Forge1.Installer";
pub const JOB_INTERFACE: &str = "org.intergenos.Forge1.Job";
/// Job objects live at `JOB_PATH_PREFIX/<n>`.
pub const JOB_PATH_PREFIX: &str = "/org/intergenos/Forge1/Job";

/// Polkit action for `Install` (and `Cancel` of someone else's job).
pub const ACTION_INSTALL: &str = "org.intergenos.forge.install";
/// Polkit action for `OverrideIntegrity`.
pub const ACTION_OVERRIDE: &str = "org.intergenos.forge.override-integrity";

/// `org.intergenos.Forge1.Installer`.
#[proxy(
    interface = "org.intergenos.Forge1.Installer",
    default_service = "org.intergenos.Forge1",
    default_path = "/org/intergenos/Forge1"
)]
pub trait Installer {
    /// `aa{sv}`: device, model, size t, removable b, read_only b, transport, in_use b.
    fn list_disks(&self) -> zbus::Result<Vec<HashMap<String, OwnedValue>>>;

    /// `aa{sv}`: name, description, required b, packages u, download_size t, installed_size t.
    fn list_package_groups(&self) -> zbus::Result<Vec<HashMap<String, OwnedValue>>>;

    /// `(field path, message)` pairs; empty means valid.
    fn validate_plan(&self, yaml: &str) -> zbus::Result<Vec<(String, String)>>;

    /// Starts an install; returns the job object's path. Polkit may ask
    /// the person for a password during this call.
    #[zbus(allow_interactive_auth)]
    fn install(
        &self,
        yaml: &str,
        install_io: HashMap<String, OwnedValue>,
    ) -> zbus::Result<OwnedObjectPath>;

    #[zbus(property)]
    fn version(&self) -> zbus::Result<String>;

    /// The running job's object path, or "/" when no job runs.
    #[zbus(property)]
    fn active_job(&self) -> zbus::Result<OwnedObjectPath>;
}

/// `org.intergenos.Forge1.Job` at `/org/intergenos/Forge1/Job/<n>`.
#[proxy(
    interface = "org.intergenos.Forge1.Job",
    default_service = "org.intergenos.Forge1"
)]
pub trait Job {
    /// Polkit asks again (auth_admin, never kept).
    #[zbus(allow_interactive_auth)]
    fn override_integrity(&self, phrase: &str) -> zbus::Result<()>;

    /// Cancelling someone else's job needs the install authorization.
    #[zbus(allow_interactive_auth)]
    fn cancel(&self) -> zbus::Result<()>;

    #[zbus(property)]
    fn state(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn phase(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn phase_index(&self) -> zbus::Result<u32>;

    #[zbus(property)]
    fn phase_count(&self) -> zbus::Result<u32>;

    #[zbus(property)]
    fn fraction(&self) -> zbus::Result<f64>;

    #[zbus(property)]
    fn phase_completed(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn warnings(&self) -> zbus::Result<Vec<String>>;

    #[zbus(signal)]
    fn phase_started(&self, phase: String, index: u32) -> zbus::Result<()>;

    #[zbus(signal)]
    fn phase_finished(&self, phase: String, index: u32) -> zbus::Result<()>;

    #[zbus(signal)]
    fn progress(&self, fraction: f64, message: String) -> zbus::Result<()>;

    #[zbus(signal)]
    fn warning(&self, message: String) -> zbus::Result<()>;

    #[zbus(signal)]
    fn integrity_failed(
        &self,
        mismatches: Vec<crate::wire::Mismatch>,
        phrase: String,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    fn finished(
        &self,
        success: bool,
        phase_completed: String,
        error: String,
        warnings: Vec<String>,
    ) -> zbus::Result<()>;
}
