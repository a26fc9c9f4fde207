//! The D-Bus client. zbus runs on a tokio runtime in its own thread; the GTK
//! side awaits the results (tokio `JoinHandle`s and channel receivers are
//! runtime-agnostic futures) from `glib::spawn_future_local`, so the main
//! loop never blocks. Daemon errors become [`ClientError`]: a short
//! translated message for people and the full detail on request.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::{mpsc, OnceCell};
use zbus::{Connection, OwnedObjectPath};

use forge_proto::dbus::{InstallerProxy, JobProxy, JOB_INTERFACE, JOB_PATH_PREFIX};
use forge_proto::i18n::tr;
use forge_proto::InstallIo;

use crate::model::{DiskInfo, GroupInfo, JobEvent};

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

    /// Maps a zbus error to a short translated message.
    pub fn from_zbus(e: &zbus::Error) -> ClientError {
        let detail = e.to_string();
        let message = match e {
            zbus::Error::MethodError(name, msg, _) => {
                let short = name.as_str().rsplit('.').next().unwrap_or("");
                match short {
                    "NotAuthorized" => tr(
                        "Authorization was refused. Installing needs an administrator's password.",
                    ),
                    "InvalidPlan" => {
                        tr("The installer service refused the choices made. See the details.")
                    }
                    "Busy" => tr("Another installation is already running."),
                    "InvalidState" => tr("The installation is not in a state that allows this."),
                    "WrongPhrase" => tr("The phrase does not match. Type it exactly as shown."),
                    _ => msg
                        .clone()
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| tr("The installer service reported an error.")),
                }
            }
            zbus::Error::FDO(f) => match **f {
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_) => {
                    tr("The installer service is not running.")
                }
                zbus::fdo::Error::AccessDenied(_) | zbus::fdo::Error::AuthFailed(_) => {
                    tr("Authorization was refused. Installing needs an administrator's password.")
                }
                _ => tr("The installer service reported an error."),
            },
            zbus::Error::Connection(..) | zbus::Error::InputOutput(_) | zbus::Error::Address(_) => {
                tr("Cannot reach the system bus.")
            }
            _ => tr("The installer service reported an error."),
        };
        ClientError { message, detail }
    }
}

impl From<zbus::Error> for ClientError {
    fn from(e: zbus::Error) -> ClientError {
        ClientError::from_zbus(&e)
    }
}

type Result<T> = std::result::Result<T, ClientError>;

/// Talks to `org.intergenos.Forge1` on the system bus (zbus honours
/// `DBUS_SYSTEM_BUS_ADDRESS`, which the tests and the demo set).
pub struct Client {
    rt: tokio::runtime::Runtime,
    conn: Arc<OnceCell<Connection>>,
}

async fn connection(cell: &OnceCell<Connection>) -> zbus::Result<Connection> {
    cell.get_or_try_init(Connection::system).await.cloned()
}

/// A started job: its object path and the stream of its events.
pub struct JobHandle {
    pub path: String,
    pub events: mpsc::UnboundedReceiver<JobEvent>,
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
            conn: Arc::new(OnceCell::new()),
        })
    }

    /// Runs `f` on the D-Bus thread and awaits its result without blocking.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        match self.rt.spawn(f).await {
            Ok(r) => r,
            Err(e) => Err(ClientError::internal(e.to_string())),
        }
    }

    fn cell(&self) -> Arc<OnceCell<Connection>> {
        self.conn.clone()
    }

    pub async fn version(&self) -> Result<String> {
        let cell = self.cell();
        self.run(async move {
            let p = installer(&cell).await?;
            p.version().await.map_err(ClientError::from)
        })
        .await
    }

    pub async fn list_disks(&self) -> Result<Vec<DiskInfo>> {
        let cell = self.cell();
        self.run(async move {
            let p = installer(&cell).await?;
            let v = p.list_disks().await?;
            Ok(v.iter().map(DiskInfo::from_dbus).collect())
        })
        .await
    }

    pub async fn list_package_groups(&self) -> Result<Vec<GroupInfo>> {
        let cell = self.cell();
        self.run(async move {
            let p = installer(&cell).await?;
            let v = p.list_package_groups().await?;
            Ok(v.iter().map(GroupInfo::from_dbus).collect())
        })
        .await
    }

    /// The daemon's verdict on a plan: (field, message) pairs.
    pub async fn validate_plan(&self, yaml: String) -> Result<Vec<(String, String)>> {
        let cell = self.cell();
        self.run(async move {
            let p = installer(&cell).await?;
            p.validate_plan(&yaml).await.map_err(ClientError::from)
        })
        .await
    }

    /// Starts an install. Job signals are subscribed to *before* the call
    /// (a match on every job path), so none is missed; only the new job's
    /// are forwarded. Polkit's password prompt happens during this call.
    pub async fn install(&self, yaml: String, io: InstallIo) -> Result<JobHandle> {
        let cell = self.cell();
        let (tx, rx) = mpsc::unbounded_channel();
        let path = self
            .run(async move {
                let c = connection(&cell).await?;
                let rule = zbus::MatchRule::builder()
                    .msg_type(zbus::message::Type::Signal)
                    .interface(JOB_INTERFACE)
                    .path_namespace(JOB_PATH_PREFIX)
                    .build()
                    .map_err(|e| ClientError::internal(e.to_string()))?;
                let mut stream = zbus::MessageStream::for_match_rule(rule, &c, None).await?;
                let props_rule = zbus::MatchRule::builder()
                    .msg_type(zbus::message::Type::Signal)
                    .interface("org.freedesktop.DBus.Properties")
                    .member("PropertiesChanged")
                    .path_namespace(JOB_PATH_PREFIX)
                    .build()
                    .map_err(|e| ClientError::internal(e.to_string()))?;
                let mut props = zbus::MessageStream::for_match_rule(props_rule, &c, None).await?;
                let p = InstallerProxy::new(&c).await?;
                let dict = io.to_dbus();
                drop(io);
                let job: OwnedObjectPath = p.install(&yaml, dict).await?;
                let job_path = job.as_str().to_string();
                let want = job_path.clone();
                tokio::spawn(async move {
                    loop {
                        let msg = tokio::select! {
                            m = stream.next() => m,
                            m = props.next() => m,
                        };
                        let Some(Ok(msg)) = msg else { break };
                        let hdr = msg.header();
                        if hdr.path().map(|p| p.as_str()) != Some(want.as_str()) {
                            continue;
                        }
                        let Some(ev) = decode_signal(&msg) else {
                            continue;
                        };
                        let last = matches!(ev, JobEvent::Finished { .. });
                        if tx.send(ev).is_err() || last {
                            break;
                        }
                    }
                });
                Ok(job_path)
            })
            .await?;
        Ok(JobHandle { path, events: rx })
    }

    /// `OverrideIntegrity(phrase)` on the job (polkit asks again).
    pub async fn override_integrity(&self, job: String, phrase: String) -> Result<()> {
        let cell = self.cell();
        self.run(async move {
            let c = connection(&cell).await?;
            let p = job_proxy(&c, &job).await?;
            p.override_integrity(&phrase)
                .await
                .map_err(ClientError::from)
        })
        .await
    }

    /// `Cancel()` on the job.
    pub async fn cancel(&self, job: String) -> Result<()> {
        let cell = self.cell();
        self.run(async move {
            let c = connection(&cell).await?;
            let p = job_proxy(&c, &job).await?;
            p.cancel().await.map_err(ClientError::from)
        })
        .await
    }
}

async fn installer(cell: &OnceCell<Connection>) -> Result<InstallerProxy<'static>> {
    let c = connection(cell).await?;
    Ok(InstallerProxy::new(&c).await?)
}

async fn job_proxy(c: &Connection, path: &str) -> Result<JobProxy<'static>> {
    JobProxy::builder(c)
        .path(path.to_string())
        .build()
        .await
        .map_err(ClientError::from)
}

/// Decodes one Job signal (or a `State` property change) into an event.
fn decode_signal(msg: &zbus::Message) -> Option<JobEvent> {
    let hdr = msg.header();
    let member = hdr.member()?.as_str().to_string();
    let body = msg.body();
    match member.as_str() {
        "PhaseStarted" => body
            .deserialize::<(String, u32)>()
            .ok()
            .map(|(p, i)| JobEvent::PhaseStarted(p, i)),
        "PhaseFinished" => body
            .deserialize::<(String, u32)>()
            .ok()
            .map(|(p, i)| JobEvent::PhaseFinished(p, i)),
        "Progress" => body
            .deserialize::<(f64, String)>()
            .ok()
            .map(|(f, m)| JobEvent::Progress(f, m)),
        "Warning" => body.deserialize::<String>().ok().map(JobEvent::Warning),
        "IntegrityFailed" => body
            .deserialize::<(Vec<(String, String, String)>, String)>()
            .ok()
            .map(|(m, p)| JobEvent::IntegrityFailed(m, p)),
        "Finished" => body
            .deserialize::<(bool, String, String, Vec<String>)>()
            .ok()
            .map(
                |(success, phase_completed, error, warnings)| JobEvent::Finished {
                    success,
                    phase_completed,
                    error,
                    warnings,
                },
            ),
        "PropertiesChanged" => {
            let (_iface, changed, _inv) = body
                .deserialize::<(String, HashMap<String, zbus::OwnedVariant>, Vec<String>)>()
                .ok()?;
            match changed.get("State").map(|v| &**v) {
                Some(zbus::Variant::Str(s)) => Some(JobEvent::StateChanged(s.to_string())),
                _ => None,
            }
        }
        _ => None,
    }
}
