//! The job object, `org.intergenos.Forge1.Job` at
//! `/org/intergenos/Forge1/Job/<n>`: its readable state (properties with
//! PropertiesChanged), its signals, and `Cancel` / `OverrideIntegrity`.
//!
//! The pipeline thread never touches D-Bus: its reporter
//! (`service::reporter`) updates the shared [`JobStatus`] and sends a
//! `forge_proto::wire::JobEvent` (the same record the clients decode) over a
//! channel; [`pump`], a tokio task, turns each event into signals and
//! PropertiesChanged. Only the
//! integrity question blocks the pipeline, on a channel answered by
//! `OverrideIntegrity` or `Cancel`.

use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use forge_proto::i18n::tr;
use forge_proto::wire::{phase_name, JobEvent, Mismatch};
use forge_proto::{ForgeError, JobState, Phase};
use tokio::sync::mpsc::UnboundedReceiver;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;

use crate::config::DaemonConfig;
use crate::pipeline::context::CancelToken;
use crate::pipeline::IntegrityDecision;
use crate::service::auth::authorize;

/// The job's readable state; the properties are read from here.
pub struct JobStatus {
    pub state: JobState,
    pub phase: String,
    pub phase_index: u32,
    pub fraction: f64,
    pub phase_completed: String,
    pub warnings: Vec<String>,
    /// Present only while awaiting an integrity decision.
    pub(super) decision: Option<mpsc::Sender<IntegrityDecision>>,
}

/// Everything the job object, the reporter and the runner share.
pub struct JobShared {
    pub id: u32,
    /// Unique bus name of the caller that started the job.
    pub starter: String,
    pub cancel: CancelToken,
    pub config: Arc<DaemonConfig>,
    status: Mutex<JobStatus>,
}

impl JobShared {
    pub fn new(
        id: u32,
        starter: String,
        config: Arc<DaemonConfig>,
        cancel: CancelToken,
    ) -> JobShared {
        JobShared {
            id,
            starter,
            cancel,
            config,
            status: Mutex::new(JobStatus {
                state: JobState::Running,
                phase: String::new(),
                phase_index: 0,
                fraction: 0.0,
                phase_completed: String::new(),
                warnings: Vec::new(),
                decision: None,
            }),
        }
    }

    /// Cancels at the next safe point; answers a pending integrity
    /// question with Cancel.
    pub fn request_cancel(&self) {
        self.cancel.cancel();
        let tx = self.status().decision.take();
        if let Some(tx) = tx {
            let _ = tx.send(IntegrityDecision::Cancel);
        }
    }

    /// The status, even if a panicking thread poisoned the lock.
    pub fn status(&self) -> MutexGuard<'_, JobStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The D-Bus object.
pub struct JobObject {
    pub shared: Arc<JobShared>,
}

#[zbus::interface(name = "org.intergenos.Forge1.Job")]
impl JobObject {
    /// Continues past an integrity failure. Only in awaiting-override, only
    /// with the override polkit action, only with the exact phrase.
    async fn override_integrity(
        &self,
        phrase: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> Result<(), ForgeError> {
        let caller = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.require_awaiting()?;
        authorize(conn, &header, forge_proto::dbus::ACTION_OVERRIDE).await?;
        if phrase != self.shared.config.override_phrase {
            tracing::warn!(job = self.shared.id, %caller, "override refused: wrong phrase");
            return Err(ForgeError::WrongPhrase(tr(
                "The phrase does not match. Type it exactly as shown.",
            )));
        }
        let tx = {
            let mut s = self.shared.status();
            if s.state != JobState::AwaitingOverride {
                return Err(invalid_state());
            }
            s.decision.take()
        };
        match tx {
            Some(tx) if tx.send(IntegrityDecision::Override).is_ok() => {
                tracing::warn!(job = self.shared.id, %caller, "integrity failure OVERRIDDEN by an authorized caller");
                Ok(())
            }
            _ => Err(invalid_state()),
        }
    }

    /// Cancels at the next safe point. The starter may always cancel; anyone
    /// else needs the install polkit action.
    async fn cancel(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> Result<(), ForgeError> {
        let caller = header.sender().map(|s| s.to_string()).unwrap_or_default();
        if self.shared.status().state.is_final() {
            return Err(invalid_state());
        }
        if caller != self.shared.starter {
            authorize(conn, &header, forge_proto::dbus::ACTION_INSTALL).await?;
        }
        self.shared.request_cancel();
        tracing::info!(job = self.shared.id, %caller, "cancel requested");
        Ok(())
    }

    #[zbus(property)]
    fn state(&self) -> String {
        self.shared.status().state.as_str().to_string()
    }

    #[zbus(property)]
    fn phase(&self) -> String {
        self.shared.status().phase.clone()
    }

    #[zbus(property)]
    fn phase_index(&self) -> u32 {
        self.shared.status().phase_index
    }

    #[zbus(property)]
    fn phase_count(&self) -> u32 {
        Phase::ALL.len() as u32
    }

    #[zbus(property)]
    fn fraction(&self) -> f64 {
        self.shared.status().fraction
    }

    #[zbus(property)]
    fn phase_completed(&self) -> String {
        self.shared.status().phase_completed.clone()
    }

    #[zbus(property)]
    fn warnings(&self) -> Vec<String> {
        self.shared.status().warnings.clone()
    }

    #[zbus(signal)]
    async fn phase_started(e: &SignalEmitter<'_>, phase: &str, index: u32) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn phase_finished(e: &SignalEmitter<'_>, phase: &str, index: u32) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn progress(e: &SignalEmitter<'_>, fraction: f64, message: &str) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn warning(e: &SignalEmitter<'_>, message: &str) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn integrity_failed(
        e: &SignalEmitter<'_>,
        mismatches: Vec<Mismatch>,
        phrase: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn finished(
        e: &SignalEmitter<'_>,
        success: bool,
        phase_completed: &str,
        error: &str,
        warnings: Vec<String>,
    ) -> zbus::Result<()>;
}

impl JobObject {
    fn require_awaiting(&self) -> Result<(), ForgeError> {
        if self.shared.status().state == JobState::AwaitingOverride {
            Ok(())
        } else {
            Err(invalid_state())
        }
    }
}

fn invalid_state() -> ForgeError {
    ForgeError::InvalidState(tr("The job is not waiting for that."))
}

/// Turns pipeline events into signals and PropertiesChanged, in order,
/// until `Finished` has been emitted.
pub async fn pump(conn: zbus::Connection, path: String, mut rx: UnboundedReceiver<JobEvent>) {
    let iface = match conn
        .object_server()
        .interface::<_, JobObject>(path.as_str())
        .await
    {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(%path, "job object vanished: {e}");
            return;
        }
    };
    while let Some(ev) = rx.recv().await {
        let last = ev.is_last();
        if let Err(e) = emit(&iface, ev).await {
            tracing::warn!(%path, "emitting a job signal failed: {e}");
        }
        if last {
            // The slot is free now: `ActiveJob` is "/" (or the next job).
            crate::service::installer::announce_active_job(&conn).await;
            break;
        }
    }
}

async fn emit(
    iface: &zbus::object_server::InterfaceRef<JobObject>,
    ev: JobEvent,
) -> zbus::Result<()> {
    let em = iface.signal_emitter();
    let obj = iface.get().await;
    match ev {
        JobEvent::PhaseStarted(p) => {
            obj.phase_changed(em).await?;
            obj.phase_index_changed(em).await?;
            JobObject::phase_started(em, p.as_str(), p.index()).await
        }
        JobEvent::PhaseFinished(p) => {
            obj.phase_completed_changed(em).await?;
            JobObject::phase_finished(em, p.as_str(), p.index()).await
        }
        JobEvent::Progress { fraction, message } => {
            obj.fraction_changed(em).await?;
            JobObject::progress(em, fraction, &message).await
        }
        JobEvent::Warning(msg) => {
            obj.warnings_changed(em).await?;
            JobObject::warning(em, &msg).await
        }
        JobEvent::IntegrityFailed { mismatches, phrase } => {
            tokio::spawn(watch_starter(
                iface.signal_emitter().connection().clone(),
                Arc::clone(&obj.shared),
            ));
            obj.state_changed(em).await?;
            JobObject::integrity_failed(em, mismatches, &phrase).await
        }
        JobEvent::StateChanged(_) => obj.state_changed(em).await,
        JobEvent::Finished {
            success,
            phase_completed,
            error,
            warnings,
        } => {
            obj.state_changed(em).await?;
            obj.phase_completed_changed(em).await?;
            obj.fraction_changed(em).await?;
            obj.warnings_changed(em).await?;
            let completed = phase_name(phase_completed);
            JobObject::finished(em, success, completed, &error, warnings).await
        }
    }
}

/// While the job awaits an integrity decision: if the client that started
/// it leaves the bus, nobody is there to read the mismatches, so the job is
/// cancelled (nothing has been written) rather than left waiting forever.
async fn watch_starter(conn: zbus::Connection, shared: Arc<JobShared>) {
    let Ok(dbus) = zbus::fdo::DBusProxy::new(&conn).await else {
        return;
    };
    let Ok(name) = zbus::names::BusName::try_from(shared.starter.as_str()) else {
        return;
    };
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if shared.status().state != JobState::AwaitingOverride {
            return;
        }
        if let Ok(false) = dbus.name_has_owner(name.clone()).await {
            tracing::warn!(
                job = shared.id,
                starter = %shared.starter,
                "the client that started the job left while it awaited an override; cancelling (nothing written)"
            );
            shared.request_cancel();
            return;
        }
    }
}
