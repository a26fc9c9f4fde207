//! `org.intergenos.Forge1.Installer` at `/org/intergenos/Forge1`
//! (docs/design.md section 3). Anyone may list disks and groups and validate a
//! plan; `Install` needs the polkit install action. A refused or invalid
//! `Install` changes nothing: no job object, nothing written.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use forge_proto::dbus::{ACTION_INSTALL, JOB_PATH_PREFIX, OBJECT_PATH};
use forge_proto::i18n::tr;
use forge_proto::{ForgeError, InstallIo, InstallPlan, Problem};
use zbus::message::Header;
use zbus::object_server::ObjectServer;
use zbus::{ObjectPath, OwnedObjectPath, OwnedVariant};

use crate::checks;
use crate::config::DaemonConfig;
use crate::pipeline::context::CancelToken;
use crate::service::auth::authorize;
use crate::service::job::{pump, JobObject, JobShared};
use crate::service::jobs::{spawn_runner, JobSpec, Registry};
use crate::service::reporter::JobReporter;
use crate::target;

/// Plans larger than this are refused before parsing.
const MAX_PLAN_BYTES: usize = 64 * 1024;

pub struct Installer {
    pub config: Arc<DaemonConfig>,
    pub registry: Arc<Registry>,
}

fn busy() -> ForgeError {
    ForgeError::Busy(tr("Another installation is already running."))
}

fn failed() -> ForgeError {
    ForgeError::Failed(tr(
        "The installer could not start the installation. The system log has details.",
    ))
}

impl Installer {
    /// Runs `list` on the blocking pool while holding the caller's throttle
    /// turn for `call`, and converts each item with `to_dbus`. A failure (or
    /// a panicked task) is logged as "`call` failed" with its detail and
    /// answered with `ForgeError::Failed(message())`.
    async fn throttled_listing<T: Send + 'static>(
        &self,
        conn: &zbus::Connection,
        header: &Header<'_>,
        call: &str,
        list: fn(&DaemonConfig) -> Result<Vec<T>, String>,
        to_dbus: impl Fn(&T) -> HashMap<String, OwnedVariant>,
        message: impl FnOnce() -> String,
    ) -> Result<Vec<HashMap<String, OwnedVariant>>, ForgeError> {
        let _turn = self.registry.throttle.enter(conn, header, call).await?;
        let config = Arc::clone(&self.config);
        let items = tokio::task::spawn_blocking(move || list(&config))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
        match items {
            Ok(items) => Ok(items.iter().map(to_dbus).collect()),
            Err(detail) => {
                tracing::error!(%detail, "{call} failed");
                Err(ForgeError::Failed(message()))
            }
        }
    }
}

#[zbus::interface(name = "org.intergenos.Forge1.Installer")]
impl Installer {
    /// `aa{sv}`: device, model, size, removable, read_only, transport, in_use.
    async fn list_disks(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> Result<Vec<HashMap<String, OwnedVariant>>, ForgeError> {
        self.throttled_listing(
            conn,
            &header,
            "ListDisks",
            crate::service::disks::list,
            |d| d.to_dbus(),
            || tr("The installer could not list the disks."),
        )
        .await
    }

    /// `aa{sv}`: name, description, required, packages, download_size, installed_size.
    async fn list_package_groups(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> Result<Vec<HashMap<String, OwnedVariant>>, ForgeError> {
        self.throttled_listing(
            conn,
            &header,
            "ListPackageGroups",
            crate::service::groups::list,
            |g| g.to_dbus(),
            || tr("The installer could not read its signed package set."),
        )
        .await
    }

    /// `(field, message)` pairs; empty means valid. `Busy` when the caller
    /// is over its share of the unauthenticated work (service/throttle.rs).
    async fn validate_plan(
        &self,
        yaml: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> Result<Vec<(String, String)>, ForgeError> {
        if yaml.len() > MAX_PLAN_BYTES {
            return Ok(vec![("".into(), tr("The plan is too large."))]);
        }
        let _turn = self
            .registry
            .throttle
            .enter(conn, &header, "ValidatePlan")
            .await?;
        let yaml = yaml.to_string();
        let problems = tokio::task::spawn_blocking(move || checks::plan_problems(&yaml).1)
            .await
            .unwrap_or_else(|e| {
                tracing::error!("validation crashed: {e}");
                vec![Problem::new(
                    "",
                    tr("The installer could not check the plan."),
                )]
            });
        Ok(problems.into_iter().map(|p| (p.field, p.message)).collect())
    }

    /// Starts an install and returns the job object's path.
    async fn install(
        &self,
        yaml: &str,
        install_io: HashMap<String, OwnedVariant>,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(object_server)] server: &ObjectServer,
    ) -> Result<OwnedObjectPath, ForgeError> {
        let caller = header.sender().map(|s| s.to_string()).unwrap_or_default();
        tracing::info!(%caller, "Install requested");
        if self.registry.is_busy() {
            return Err(busy());
        }
        authorize(conn, &header, ACTION_INSTALL).await?;

        let io = InstallIo::from_dbus(&install_io).map_err(|e| {
            tracing::info!(%caller, "Install refused: {e}");
            ForgeError::InvalidPlan(e.message())
        })?;
        if yaml.len() > MAX_PLAN_BYTES {
            return Err(ForgeError::InvalidPlan(tr("The plan is too large.")));
        }
        let (plan, io) = {
            let yaml = yaml.to_string();
            let config = Arc::clone(&self.config);
            tokio::task::spawn_blocking(move || check_install(&config, &yaml, io))
                .await
                .map_err(|e| {
                    tracing::error!("plan check crashed: {e}");
                    failed()
                })??
        };

        let cancel = CancelToken::default();
        let cancel_token = cancel.clone();
        let slot = self.registry.reserve(cancel.clone()).ok_or_else(busy)?;
        let id = slot.id;
        if let Err(e) = write_accepted_plan(&self.config.accepted_plan, &plan) {
            tracing::error!(path = %self.config.accepted_plan.display(), "writing the accepted plan: {e}");
            return Err(failed());
        }
        let shared = Arc::new(JobShared::new(
            id,
            caller.clone(),
            Arc::clone(&self.config),
            cancel,
        ));
        let path = format!("{JOB_PATH_PREFIX}/{id}");
        let object_path = OwnedObjectPath::try_from(path.clone()).map_err(|e| {
            tracing::error!("job path {path}: {e}");
            failed()
        })?;
        if let Err(e) = server
            .at(
                path.as_str(),
                JobObject {
                    shared: Arc::clone(&shared),
                },
            )
            .await
        {
            tracing::error!(%path, "registering the job object: {e}");
            return Err(failed());
        }
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(pump(conn.clone(), path.clone(), rx));
        let spec = JobSpec {
            plan,
            io,
            config: Arc::clone(&self.config),
            reporter: Arc::new(JobReporter { shared, events: tx }),
            cancel: cancel_token,
            slot,
        };
        if let Err(e) = spawn_runner(spec) {
            tracing::error!("starting the job thread: {e}");
            let _ = server.remove::<JobObject, _>(path.as_str()).await;
            return Err(failed());
        }
        tracing::info!(job = id, %caller, %path, "install accepted");
        announce_active_job(conn).await;
        Ok(object_path)
    }

    #[zbus(property)]
    fn version(&self) -> String {
        forge_proto::VERSION.to_string()
    }

    /// The running job's object path, or "/" when no job runs (from the
    /// job's acceptance until just before its `Finished`). A frontend
    /// started during an install follows that job with it. Changes are
    /// announced with PropertiesChanged, whose value is read when sent.
    #[zbus(property)]
    fn active_job(&self) -> OwnedObjectPath {
        active_job_path(self.registry.running_id())
    }
}

/// The `ActiveJob` value for the running job's id.
fn active_job_path(id: Option<u32>) -> OwnedObjectPath {
    let root = || OwnedObjectPath::from(ObjectPath::from_static_str_unchecked("/"));
    match id {
        Some(id) => {
            OwnedObjectPath::try_from(format!("{JOB_PATH_PREFIX}/{id}")).unwrap_or_else(|_| root())
        }
        None => root(),
    }
}

/// Emits PropertiesChanged for `ActiveJob` with its current value (after a
/// job was accepted, and after a job's `Finished`). Nothing when the
/// installer object is not served on `conn`.
pub async fn announce_active_job(conn: &zbus::Connection) {
    let Ok(iface) = conn
        .object_server()
        .interface::<_, Installer>(OBJECT_PATH)
        .await
    else {
        return;
    };
    let installer = iface.get().await;
    if let Err(e) = installer.active_job_changed(iface.signal_emitter()).await {
        tracing::warn!("announcing ActiveJob: {e}");
    }
}

/// Every check before a job is accepted: plan, install_io, target policy.
fn check_install(
    config: &DaemonConfig,
    yaml: &str,
    io: InstallIo,
) -> Result<(InstallPlan, InstallIo), ForgeError> {
    let (plan, mut problems) = checks::install_problems(yaml, &io);
    if !io.disk.is_empty() {
        if let Err(p) = target::resolve(config, &io.disk) {
            problems.push(p);
        }
    }
    match plan {
        Some(plan) if problems.is_empty() => Ok((plan, io)),
        _ => {
            if problems.is_empty() {
                problems.push(Problem::new("", tr("The plan is not valid.")));
            }
            tracing::info!(problems = problems.len(), "Install refused: invalid plan");
            Err(ForgeError::InvalidPlan(checks::problems_text(&problems)))
        }
    }
}

/// Writes the accepted plan (canonical YAML, no secrets) atomically:
/// parent directories 0755, file 0644.
pub fn write_accepted_plan(path: &Path, plan: &InstallPlan) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("accepted_plan has no parent directory"))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    f.write_all(plan.to_canonical_yaml().as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}
