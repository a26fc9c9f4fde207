//! What every frontend needs to talk to the daemon: [`Daemon`] connects,
//! learns the daemon's unique bus name once, calls its methods through the
//! [`crate::dbus`] proxies, and follows a job's signals as [`JobEvent`]s.
//!
//! Only the daemon's signals are believed: the match rules carry
//! `sender = <the daemon's unique name>` and each message's header is
//! checked again (sender and job path) before its body is decoded, so
//! another client of the bus cannot inject a `Finished` or an
//! `IntegrityFailed`. Errors arrive as the typed [`ForgeError`]; frontends
//! word them for people themselves.
//!
//! (Over 400 lines only by its unit tests: 294 lines of code, the rest
//! decodes a crafted message for every signal.)

use std::collections::HashMap;
use std::num::NonZeroUsize;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use zbus::message::Type as MessageType;
use zbus::proxy::CacheProperties;
use zbus::{Connection, MatchRule, Message, MessageStream, OwnedVariant};

use crate::dbus::{InstallerProxy, JobProxy, BUS_NAME, JOB_INTERFACE, JOB_PATH_PREFIX};
use crate::wire::{DiskInfo, GroupInfo, JobEvent, Mismatch};
use crate::{ForgeError, InstallIo, JobState, Phase};

const PROPERTIES_INTERFACE: &str = "org.freedesktop.DBus.Properties";
const DBUS_INTERFACE: &str = "org.freedesktop.DBus";

/// How many messages of a job may wait unread (a dry run sends a few
/// hundred; the bus connection stalls when a queue is full).
const QUEUE: usize = 4096;

/// A connection to the daemon, with its unique bus name resolved once.
#[derive(Clone, Debug)]
pub struct Daemon {
    conn: Connection,
    owner: String,
    installer: InstallerProxy<'static>,
}

/// A followed job: its object path and its events, in order. The channel
/// closes after `Finished`, or early when the daemon leaves the bus.
#[derive(Debug)]
pub struct JobHandle {
    pub path: String,
    pub events: mpsc::UnboundedReceiver<JobEvent>,
}

impl Daemon {
    /// Connects to the system bus (zbus honours `DBUS_SYSTEM_BUS_ADDRESS`,
    /// which the tests and the demo set) and finds the daemon.
    pub async fn connect_system() -> Result<Daemon, ForgeError> {
        Daemon::new(Connection::system().await?).await
    }

    /// Finds the daemon on `conn`: starts it if it is activatable, then
    /// resolves the unique name that owns `org.intergenos.Forge1`.
    pub async fn new(conn: Connection) -> Result<Daemon, ForgeError> {
        let dbus = zbus::fdo::DBusProxy::new(&conn).await?;
        let name = zbus::names::BusName::try_from(BUS_NAME)?;
        if dbus.name_has_owner(name.clone()).await? {
            // Already running: nothing to start.
        } else {
            dbus.start_service_by_name(BUS_NAME.try_into()?, 0).await?;
        }
        let owner = dbus.get_name_owner(name).await?.to_string();
        let installer = InstallerProxy::builder(&conn)
            .destination(owner.clone())
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        Ok(Daemon {
            conn,
            owner,
            installer,
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The unique bus name of the daemon this client talks to.
    pub fn unique_name(&self) -> &str {
        &self.owner
    }

    /// True while the daemon found at connect time is still on the bus.
    pub async fn is_alive(&self) -> bool {
        let Ok(dbus) = zbus::fdo::DBusProxy::new(&self.conn).await else {
            return false;
        };
        let Ok(name) = zbus::names::BusName::try_from(BUS_NAME) else {
            return false;
        };
        matches!(dbus.get_name_owner(name).await, Ok(o) if o.as_str() == self.owner)
    }

    /// The installer proxy, addressed to the daemon's unique name.
    pub fn installer(&self) -> &InstallerProxy<'static> {
        &self.installer
    }

    /// A proxy for the job at `path` (its properties, `Cancel`,
    /// `OverrideIntegrity`), addressed to the daemon's unique name.
    pub async fn job(&self, path: &str) -> Result<JobProxy<'static>, ForgeError> {
        Ok(JobProxy::builder(&self.conn)
            .destination(self.owner.clone())
            .path(path.to_string())
            .cache_properties(CacheProperties::No)
            .build()
            .await?)
    }

    pub async fn version(&self) -> Result<String, ForgeError> {
        Ok(self.installer.version().await?)
    }

    /// The object path of the job running now (to follow with
    /// [`Daemon::attach`]), or `None` when the daemon is idle.
    pub async fn active_job(&self) -> Result<Option<String>, ForgeError> {
        let path = self.installer.active_job().await?;
        Ok(job_path(path.as_str()))
    }

    pub async fn list_disks(&self) -> Result<Vec<DiskInfo>, ForgeError> {
        let v = self.installer.list_disks().await?;
        Ok(v.iter().map(DiskInfo::from_dbus).collect())
    }

    pub async fn list_package_groups(&self) -> Result<Vec<GroupInfo>, ForgeError> {
        let v = self.installer.list_package_groups().await?;
        Ok(v.iter().map(GroupInfo::from_dbus).collect())
    }

    /// The daemon's verdict on a plan: `(field path, message)` pairs,
    /// empty when valid.
    pub async fn validate_plan(&self, yaml: &str) -> Result<Vec<(String, String)>, ForgeError> {
        Ok(self.installer.validate_plan(yaml).await?)
    }

    /// Starts an install. The job signals are subscribed to *before* the
    /// call, so none is missed; only the new job's are forwarded. Polkit may
    /// ask the person for a password during this call.
    pub async fn install(&self, yaml: &str, io: InstallIo) -> Result<JobHandle, ForgeError> {
        let signals = self.subscribe(None).await?;
        let gone = self.watch_owner().await?;
        // The dictionary borrows the secrets from `io` (no copies); `io`
        // wipes them when it is dropped after the call. The one copy left is
        // zbus' serialized message buffer, which its API does not let us wipe.
        let dict = io.to_dbus_borrowed();
        let reply = self
            .installer
            .inner()
            .call_with_flags::<_, _, zbus::OwnedObjectPath>(
                "Install",
                zbus::proxy::MethodFlags::ALLOW_INTERACTIVE_AUTH,
                &(yaml, &dict),
            )
            .await;
        drop(dict);
        drop(io);
        let path = reply?
            .ok_or_else(|| zbus::Error::Failure("Install: no reply".into()))?
            .as_str()
            .to_string();
        Ok(self.follow(path, signals, gone))
    }

    /// Follows an existing job (same filtering as [`Daemon::install`]).
    /// Events emitted before this call are not replayed; read the job's
    /// properties for its state so far.
    pub async fn attach(&self, job: &str) -> Result<JobHandle, ForgeError> {
        let signals = self.subscribe(Some(job)).await?;
        let gone = self.watch_owner().await?;
        Ok(self.follow(job.to_string(), signals, gone))
    }

    /// `OverrideIntegrity(phrase)` on the job; polkit asks again.
    pub async fn override_integrity(&self, job: &str, phrase: &str) -> Result<(), ForgeError> {
        Ok(self.job(job).await?.override_integrity(phrase).await?)
    }

    /// `Cancel()` on the job.
    pub async fn cancel(&self, job: &str) -> Result<(), ForgeError> {
        Ok(self.job(job).await?.cancel().await?)
    }

    /// Every signal the daemon emits under the job prefix (or at `path`):
    /// the `Job` signals and `PropertiesChanged`, in one ordered stream.
    async fn subscribe(&self, path: Option<&str>) -> Result<MessageStream, ForgeError> {
        let rule = MatchRule::builder()
            .msg_type(MessageType::Signal)
            .sender(self.owner.clone())
            .path_namespace(path.unwrap_or(JOB_PATH_PREFIX).to_string())
            .build()?;
        Ok(MessageStream::for_match_rule(rule, &self.conn, NonZeroUsize::new(QUEUE)).await?)
    }

    /// `NameOwnerChanged` for the daemon's unique name: it fires when the
    /// daemon's connection goes away.
    async fn watch_owner(&self) -> Result<MessageStream, ForgeError> {
        let rule = MatchRule::builder()
            .msg_type(MessageType::Signal)
            .sender(DBUS_INTERFACE)
            .interface(DBUS_INTERFACE)
            .member("NameOwnerChanged")
            .arg(0, self.owner.clone())
            .build()?;
        Ok(MessageStream::for_match_rule(rule, &self.conn, None).await?)
    }

    fn follow(
        &self,
        path: String,
        mut signals: MessageStream,
        mut gone: MessageStream,
    ) -> JobHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let owner = self.owner.clone();
        let want = path.clone();
        tokio::spawn(async move {
            loop {
                let msg = tokio::select! {
                    m = signals.next() => m,
                    _ = gone.next() => break,
                    _ = tx.closed() => break,
                };
                let Some(Ok(msg)) = msg else { break };
                if !from_job(&msg, &owner, &want) {
                    continue;
                }
                let Some(ev) = decode_signal(&msg) else {
                    continue;
                };
                let last = ev.is_last();
                if tx.send(ev).is_err() || last {
                    break;
                }
            }
        });
        JobHandle { path, events: rx }
    }
}

/// `ActiveJob`'s value as an optional job path: "/" (no job) is `None`.
pub fn job_path(active_job: &str) -> Option<String> {
    (active_job != "/").then(|| active_job.to_string())
}

/// True when `msg` was sent by `owner` (the daemon's unique name) from the
/// job object at `path`. Pure; the match rules already ask the bus for the
/// same, this checks what actually arrived.
pub fn from_job(msg: &Message, owner: &str, path: &str) -> bool {
    let hdr = msg.header();
    hdr.sender().map(|s| s.as_str()) == Some(owner) && hdr.path().map(|p| p.as_str()) == Some(path)
}

/// Decodes one `Job` signal, or a `PropertiesChanged` of the job's `State`,
/// into an event. Anything else (other members, wrong body types, unknown
/// phase or state names) is `None`. Pure: it does not look at the sender.
pub fn decode_signal(msg: &Message) -> Option<JobEvent> {
    let hdr = msg.header();
    if hdr.message_type() != MessageType::Signal {
        return None;
    }
    let iface = hdr.interface()?.as_str();
    let member = hdr.member()?.as_str();
    let body = msg.body();
    if iface == PROPERTIES_INTERFACE && member == "PropertiesChanged" {
        let (changed_iface, changed, _invalidated) = body
            .deserialize::<(String, HashMap<String, OwnedVariant>, Vec<String>)>()
            .ok()?;
        if changed_iface != JOB_INTERFACE {
            return None;
        }
        return match changed.get("State").map(|v| &**v) {
            Some(zbus::Variant::Str(s)) => {
                JobState::from_name(s.as_str()).map(JobEvent::StateChanged)
            }
            _ => None,
        };
    }
    if iface != JOB_INTERFACE {
        return None;
    }
    match member {
        "PhaseStarted" => {
            let (name, _index) = body.deserialize::<(String, u32)>().ok()?;
            Phase::from_name(&name).map(JobEvent::PhaseStarted)
        }
        "PhaseFinished" => {
            let (name, _index) = body.deserialize::<(String, u32)>().ok()?;
            Phase::from_name(&name).map(JobEvent::PhaseFinished)
        }
        "Progress" => {
            let (fraction, message) = body.deserialize::<(f64, String)>().ok()?;
            Some(JobEvent::Progress { fraction, message })
        }
        "Warning" => {
            let (message,) = body.deserialize::<(String,)>().ok()?;
            Some(JobEvent::Warning(message))
        }
        "IntegrityFailed" => {
            let (mismatches, phrase) = body.deserialize::<(Vec<Mismatch>, String)>().ok()?;
            Some(JobEvent::IntegrityFailed { mismatches, phrase })
        }
        "Finished" => {
            let (success, completed, error, warnings) = body
                .deserialize::<(bool, String, String, Vec<String>)>()
                .ok()?;
            Some(JobEvent::Finished {
                success,
                phase_completed: Phase::from_name(&completed),
                error,
                warnings,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::phase_name;

    const JOB: &str = "/org/intergenos/Forge1/Job/3";
    const DAEMON: &str = ":1.4";

    fn signal<B>(member: &str, body: &B) -> Message
    where
        B: serde::Serialize + zbus::Type,
    {
        signal_from(DAEMON, JOB_INTERFACE, member, body)
    }

    fn signal_from<B>(sender: &str, iface: &str, member: &str, body: &B) -> Message
    where
        B: serde::Serialize + zbus::Type,
    {
        Message::signal(JOB, iface, member)
            .sender(sender)
            .build(body)
            .expect("signal")
    }

    fn state_change(iface: &str, state: &str) -> Message {
        let mut changed: HashMap<String, zbus::Variant<'_>> = HashMap::new();
        changed.insert("State".into(), zbus::Variant::from(state));
        signal_from(
            DAEMON,
            PROPERTIES_INTERFACE,
            "PropertiesChanged",
            &(iface, changed, Vec::<String>::new()),
        )
    }

    #[test]
    fn every_job_signal_decodes() {
        assert_eq!(
            decode_signal(&signal("PhaseStarted", &("virtual-fs", 4u32))),
            Some(JobEvent::PhaseStarted(Phase::VirtualFs))
        );
        assert_eq!(
            decode_signal(&signal("PhaseFinished", &("cleanup", 12u32))),
            Some(JobEvent::PhaseFinished(Phase::Cleanup))
        );
        assert_eq!(
            decode_signal(&signal("Progress", &(0.25f64, "Copying"))),
            Some(JobEvent::Progress {
                fraction: 0.25,
                message: "Copying".into()
            })
        );
        assert_eq!(
            decode_signal(&signal("Warning", &("disk is slow",))),
            Some(JobEvent::Warning("disk is slow".into()))
        );
        let mismatches = vec![Mismatch {
            path: "packages/busybox.tar.gz".into(),
            expected: "ab".into(),
            actual: "cd".into(),
        }];
        let m = signal("IntegrityFailed", &(mismatches.clone(), "I accept"));
        // The struct is the old `(String, String, String)` triple on the wire.
        let old = signal(
            "IntegrityFailed",
            &(
                vec![("p".to_string(), "e".to_string(), "a".to_string())],
                "x",
            ),
        );
        assert_eq!(m.body().signature(), old.body().signature());
        assert_eq!(m.body().signature().to_string(), "(a(sss)s)");
        assert_eq!(
            decode_signal(&m),
            Some(JobEvent::IntegrityFailed {
                mismatches,
                phrase: "I accept".into()
            })
        );
        assert_eq!(
            decode_signal(&signal(
                "Finished",
                &(false, "mount", "partition: failed", vec!["w1".to_string()])
            )),
            Some(JobEvent::Finished {
                success: false,
                phase_completed: Some(Phase::Mount),
                error: "partition: failed".into(),
                warnings: vec!["w1".into()],
            })
        );
        assert_eq!(
            decode_signal(&signal(
                "Finished",
                &(true, phase_name(None), "", Vec::<String>::new())
            )),
            Some(JobEvent::Finished {
                success: true,
                phase_completed: None,
                error: String::new(),
                warnings: vec![],
            })
        );
        assert_eq!(
            decode_signal(&state_change(JOB_INTERFACE, "awaiting-override")),
            Some(JobEvent::StateChanged(JobState::AwaitingOverride))
        );
    }

    #[test]
    fn anything_else_is_not_an_event() {
        // Wrong body type, unknown names, unknown members, other interfaces.
        assert_eq!(decode_signal(&signal("PhaseStarted", &(4u32,))), None);
        assert_eq!(
            decode_signal(&signal("PhaseStarted", &("nonsense", 0u32))),
            None
        );
        assert_eq!(decode_signal(&signal("Exploded", &("x",))), None);
        assert_eq!(
            decode_signal(&signal_from(DAEMON, "com.example.Job", "Warning", &("x",))),
            None
        );
        assert_eq!(
            decode_signal(&state_change(JOB_INTERFACE, "sleeping")),
            None
        );
        assert_eq!(
            decode_signal(&state_change("org.intergenos.Forge1.Installer", "failed")),
            None
        );
        let call = Message::method_call(JOB, "Warning")
            .interface(JOB_INTERFACE)
            .sender(DAEMON)
            .build(&("x",))
            .expect("call");
        assert_eq!(decode_signal(&call), None);
    }

    #[test]
    fn the_root_path_means_no_active_job() {
        assert_eq!(job_path("/"), None);
        assert_eq!(job_path(JOB), Some(JOB.to_string()));
    }

    #[test]
    fn only_the_daemons_signals_from_the_job_count() {
        let real = signal("Finished", &(false, "", "x", Vec::<String>::new()));
        assert!(from_job(&real, DAEMON, JOB));
        let forged = signal_from(
            ":1.99",
            JOB_INTERFACE,
            "Finished",
            &(true, "cleanup", "", Vec::<String>::new()),
        );
        assert!(!from_job(&forged, DAEMON, JOB));
        assert!(!from_job(&real, DAEMON, "/org/intergenos/Forge1/Job/2"));
        let anonymous = Message::signal(JOB, JOB_INTERFACE, "Warning")
            .build(&("x",))
            .expect("signal");
        assert!(!from_job(&anonymous, DAEMON, JOB));
    }
}
