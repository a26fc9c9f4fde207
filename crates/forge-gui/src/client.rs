//! The GUI's side of `forge_proto::client::Daemon`. zbus runs on a tokio
//! runtime in its own thread; the GTK side awaits the results (tokio
//! `JoinHandle`s and channel receivers are runtime-agnostic futures) from
//! `glib::spawn_future_local`, so the main loop never blocks. Daemon errors
//! (the typed `ForgeError`) become [`ClientError`]: a short translated
//! message for people, chosen by the error's variant, and the full detail
//! on request.

use std::sync::Arc;

use tokio::sync::OnceCell;

use forge_proto::client::{Daemon, JobHandle};
use forge_proto::i18n::tr;
use forge_proto::{ForgeError, InstallIo};

use crate::model::{DiskInfo, GroupInfo};

/// A failed daemon call: `message` for people, `detail` for "Details".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub message: String,
    pub detail: String,
}

impl ClientError {
    fn internal(detail: impl Into<String>) -> ClientError {
        ClientError {
            message: tr("The installer stopped unexpectedly."),
            detail: detail.into(),
        }
    }

    /// The person-readable message of a daemon or bus error.
    pub fn from_forge(e: &ForgeError) -> ClientError {
        let refused =
            || tr("Authorization was refused. Installing needs an administrator's password.");
        let generic = || tr("The installer service reported an error.");
        let message = match e {
            ForgeError::NotAuthorized(_) | ForgeError::Denied(_) => refused(),
            ForgeError::InvalidPlan(_) => {
                tr("The installer service refused the choices made. See the details.")
            }
            ForgeError::Busy(_) => tr("Another installation is already running."),
            ForgeError::InvalidState(_) => {
                tr("The installation is not in a state that allows this.")
            }
            ForgeError::WrongPhrase(_) => {
                tr("The phrase does not match. Type it exactly as shown.")
            }
            ForgeError::Unavailable(_) => tr("The installer service is not running."),
            ForgeError::Failed(m) if !m.is_empty() => m.clone(),
            ForgeError::Failed(_) => generic(),
            ForgeError::ZBus(z) => match z {
                zbus::Error::MethodError(_, Some(m), _) if !m.is_empty() => m.clone(),
                zbus::Error::Connection(..)
                | zbus::Error::InputOutput(_)
                | zbus::Error::Address(_) => tr("Cannot reach the system bus."),
                _ => generic(),
            },
        };
        ClientError {
            message,
            detail: e.to_string(),
        }
    }
}

impl From<ForgeError> for ClientError {
    fn from(e: ForgeError) -> ClientError {
        ClientError::from_forge(&e)
    }
}

type Result<T> = std::result::Result<T, ClientError>;

/// Talks to `org.intergenos.Forge1` on the system bus (zbus honours
/// `DBUS_SYSTEM_BUS_ADDRESS`, which the tests and the demo set). The daemon
/// is found on the first call.
pub struct Client {
    rt: tokio::runtime::Runtime,
    daemon: Arc<OnceCell<Daemon>>,
}

/// The daemon, connected once.
async fn daemon(cell: &OnceCell<Daemon>) -> Result<Daemon> {
    Ok(cell.get_or_try_init(Daemon::connect_system).await?.clone())
}

impl Client {
    pub fn new() -> std::io::Result<Client> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("forge-dbus")
            .enable_all()
            .build()?;
        Ok(Client {
            rt,
            daemon: Arc::new(OnceCell::new()),
        })
    }

    /// Runs `f` with the daemon on the D-Bus thread and awaits its result
    /// without blocking.
    async fn run<T, F, Fut>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Daemon) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = std::result::Result<T, ForgeError>> + Send,
    {
        let cell = self.daemon.clone();
        let task = self
            .rt
            .spawn(async move { f(daemon(&cell).await?).await.map_err(ClientError::from) });
        match task.await {
            Ok(r) => r,
            Err(e) => Err(ClientError::internal(e.to_string())),
        }
    }

    pub async fn version(&self) -> Result<String> {
        self.run(|d| async move { d.version().await }).await
    }

    pub async fn list_disks(&self) -> Result<Vec<DiskInfo>> {
        self.run(|d| async move { d.list_disks().await }).await
    }

    pub async fn list_package_groups(&self) -> Result<Vec<GroupInfo>> {
        self.run(|d| async move { d.list_package_groups().await })
            .await
    }

    /// The daemon's verdict on a plan: (field, message) pairs.
    pub async fn validate_plan(&self, yaml: String) -> Result<Vec<(String, String)>> {
        self.run(|d| async move { d.validate_plan(&yaml).await })
            .await
    }

    /// Starts an install and follows the new job's events (subscribed
    /// before the call, only the daemon's). Polkit's password prompt
    /// happens during this call.
    pub async fn install(&self, yaml: String, io: InstallIo) -> Result<JobHandle> {
        self.run(|d| async move { d.install(&yaml, io).await })
            .await
    }

    /// `OverrideIntegrity(phrase)` on the job (polkit asks again).
    pub async fn override_integrity(&self, job: String, phrase: String) -> Result<()> {
        self.run(|d| async move { d.override_integrity(&job, &phrase).await })
            .await
    }

    /// `Cancel()` on the job.
    pub async fn cancel(&self, job: String) -> Result<()> {
        self.run(|d| async move { d.cancel(&job).await }).await
    }
}
