//! The daemon's D-Bus objects against the contract in
//! `forge_proto::contract`, with no bus: the installer and a job object are
//! served on one end of a private peer-to-peer connection, the proxies of
//! `forge_proto::dbus` and the client's decoder sit on the other.
//!
//! 1. Introspection of both objects lists exactly the agreed members and
//!    signatures.
//! 2. Every proxy method reaches its handler (a typed FORGE error or a
//!    reply, never an fdo `InvalidArgs`/`UnknownMethod`), every property
//!    reads through its proxy getter.
//! 3. Every signal the job pump emits decodes, both through the proxy's
//!    generated signal types and through `forge_proto::client::decode_signal`.

use std::sync::Arc;

use forge_proto::client::decode_signal;
use forge_proto::contract::{introspected, members};
use forge_proto::dbus::{
    self, InstallerProxy, JobProxy, INSTALLER_INTERFACE, JOB_INTERFACE, OBJECT_PATH,
};
use forge_proto::wire::{JobEvent, Mismatch};
use forge_proto::{ForgeError, InstallIo, JobState, Phase};
use futures_util::StreamExt;
use zbus::proxy::CacheProperties;
use zbus::Connection;

use crate::config::DaemonConfig;
use crate::pipeline::context::CancelToken;
use crate::service::installer::Installer;
use crate::service::job::{pump, JobObject, JobShared};
use crate::service::jobs::Registry;

const JOB_PATH: &str = "/org/intergenos/Forge1/Job/1";

/// The daemon's objects on `server`, the other end as `client`.
async fn pair() -> (Connection, Connection) {
    let config: DaemonConfig =
        serde_yaml::from_str("payload: /nonexistent/payload\nkeyring: /nonexistent/keys.asc\n")
            .expect("config");
    let config = Arc::new(config);
    let installer = Installer {
        config: Arc::clone(&config),
        registry: Arc::new(Registry::default()),
    };
    // On a peer-to-peer connection calls carry no sender: "" is the starter.
    let shared = Arc::new(JobShared::new(
        1,
        String::new(),
        config,
        CancelToken::default(),
    ));
    let (a, b) = std::os::unix::net::UnixStream::pair().expect("socket pair");
    let server = zbus::connection::Builder::unix_stream(a)
        .server(zbus::Guid::generate())
        .p2p()
        .serve_at(OBJECT_PATH, installer)
        .serve_at(JOB_PATH, JobObject { shared });
    let client = zbus::connection::Builder::unix_stream(b).p2p();
    let (server, client) = tokio::join!(server.build(), client.build());
    (server.expect("server"), client.expect("client"))
}

async fn introspect(conn: &Connection, path: &str) -> String {
    zbus::fdo::IntrospectableProxy::builder(conn)
        .destination(dbus::BUS_NAME)
        .path(path.to_string())
        .build()
        .await
        .expect("introspectable proxy")
        .introspect()
        .await
        .expect("Introspect")
}

/// A method error must come from the handler (typed), not from zbus
/// refusing the call's signature.
fn reached_the_handler<T: std::fmt::Debug>(what: &str, r: zbus::Result<T>) {
    if let Err(e) = r {
        let e = ForgeError::from(e);
        assert!(
            !matches!(e, ForgeError::ZBus(_) | ForgeError::Unavailable(_)),
            "{what}: {e:?}"
        );
    }
}

#[tokio::test]
async fn introspection_matches_the_contract() {
    let (_server, client) = pair().await;
    for (path, iface) in [
        (OBJECT_PATH, INSTALLER_INTERFACE),
        (JOB_PATH, JOB_INTERFACE),
    ] {
        let xml = introspect(&client, path).await;
        assert_eq!(
            introspected(&xml, iface).expect("the interface is served"),
            members(iface),
            "{iface} drifted from forge_proto::contract:\n{xml}"
        );
    }
}

#[tokio::test]
async fn every_proxy_method_and_property_speaks_the_served_interface() {
    let (_server, client) = pair().await;
    let installer = InstallerProxy::builder(&client)
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .expect("installer proxy");
    assert_eq!(
        installer.version().await.expect("Version"),
        forge_proto::VERSION
    );
    assert_eq!(
        installer.active_job().await.expect("ActiveJob").as_str(),
        "/",
        "no job runs"
    );
    let problems = installer
        .validate_plan("version: 1\n")
        .await
        .expect("ValidatePlan");
    assert!(!problems.is_empty(), "an incomplete plan has problems");
    reached_the_handler("ListDisks", installer.list_disks().await);
    reached_the_handler("ListPackageGroups", installer.list_package_groups().await);
    let io = InstallIo::default().to_dbus();
    let r = installer.install("version: 1\n", io).await;
    // No polkit on a private connection: refused, by the handler.
    assert!(
        matches!(
            r.map_err(ForgeError::from),
            Err(ForgeError::NotAuthorized(_))
        ),
        "Install"
    );

    let job = JobProxy::builder(&client)
        .path(JOB_PATH)
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .expect("job proxy");
    assert_eq!(job.state().await.expect("State"), "running");
    assert_eq!(job.phase().await.expect("Phase"), "");
    assert_eq!(job.phase_index().await.expect("PhaseIndex"), 0);
    assert_eq!(job.phase_count().await.expect("PhaseCount"), 13);
    assert_eq!(job.fraction().await.expect("Fraction"), 0.0);
    assert_eq!(job.phase_completed().await.expect("PhaseCompleted"), "");
    assert!(job.warnings().await.expect("Warnings").is_empty());
    let r = job.override_integrity("phrase").await;
    assert!(
        matches!(
            r.map_err(ForgeError::from),
            Err(ForgeError::InvalidState(_))
        ),
        "OverrideIntegrity outside awaiting-override"
    );
    job.cancel().await.expect("the starter may cancel");
}

#[tokio::test]
async fn every_signal_the_job_emits_decodes_through_proxy_and_client() {
    let (server, client) = pair().await;
    let mut incoming = zbus::MessageStream::from(&client);
    let mismatch = Mismatch {
        path: "packages/busybox-1.0-1.igos.tar.gz".into(),
        expected: "aa".into(),
        actual: "bb".into(),
    };
    let sent = vec![
        JobEvent::PhaseStarted(Phase::Verify),
        JobEvent::Progress {
            fraction: 0.5,
            message: "checking".into(),
        },
        JobEvent::Warning("slow disk".into()),
        JobEvent::IntegrityFailed {
            mismatches: vec![mismatch.clone()],
            phrase: "I accept".into(),
        },
        JobEvent::StateChanged(JobState::Running),
        JobEvent::PhaseFinished(Phase::Verify),
        JobEvent::Finished {
            success: false,
            phase_completed: Some(Phase::Verify),
            error: "cancelled".into(),
            warnings: vec!["slow disk".into()],
        },
    ];
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for ev in &sent {
        tx.send(ev.clone()).expect("queue");
    }
    pump(server.clone(), JOB_PATH.to_string(), rx).await;

    let mut job_events = Vec::new();
    let mut members_seen = Vec::new();
    while let Some(Ok(msg)) = incoming.next().await {
        let hdr = msg.header();
        if hdr.message_type() != zbus::message::Type::Signal {
            continue;
        }
        let is_job = hdr.interface().map(|i| i.as_str()) == Some(JOB_INTERFACE);
        let member = hdr.member().map(|m| m.to_string()).unwrap_or_default();
        if is_job {
            // The proxy's generated signal types read the same bodies.
            let typed = match member.as_str() {
                "PhaseStarted" => {
                    dbus::PhaseStarted::from_message(msg.clone()).map(|s| s.args().map(|_| ()))
                }
                "PhaseFinished" => {
                    dbus::PhaseFinished::from_message(msg.clone()).map(|s| s.args().map(|_| ()))
                }
                "Progress" => {
                    dbus::Progress::from_message(msg.clone()).map(|s| s.args().map(|_| ()))
                }
                "Warning" => dbus::Warning::from_message(msg.clone()).map(|s| s.args().map(|_| ())),
                "IntegrityFailed" => dbus::IntegrityFailed::from_message(msg.clone()).map(|s| {
                    s.args()
                        .map(|a| assert_eq!(a.mismatches, vec![mismatch.clone()]))
                }),
                "Finished" => {
                    dbus::Finished::from_message(msg.clone()).map(|s| s.args().map(|_| ()))
                }
                other => panic!("a signal outside the contract: {other}"),
            };
            assert!(
                matches!(typed, Some(Ok(()))),
                "{member}: the proxy cannot read it"
            );
            members_seen.push(member.clone());
        }
        if let Some(ev) = decode_signal(&msg) {
            let last = ev.is_last();
            job_events.push(ev);
            if last {
                break;
            }
        }
    }
    // After `Finished`, the installer announces its `ActiveJob` ("/" here:
    // no job holds the slot).
    let active = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(msg)) = incoming.next().await {
            let hdr = msg.header();
            if hdr.path().map(|p| p.as_str()) != Some(OBJECT_PATH)
                || hdr.member().map(|m| m.as_str()) != Some("PropertiesChanged")
            {
                continue;
            }
            let (iface, changed, _): (
                String,
                std::collections::HashMap<String, zbus::OwnedVariant>,
                Vec<String>,
            ) = msg.body().deserialize().expect("PropertiesChanged body");
            if iface == INSTALLER_INTERFACE {
                return changed
                    .get("ActiveJob")
                    .and_then(|v| zbus::OwnedObjectPath::try_from(v.try_clone().ok()?).ok());
            }
        }
        None
    })
    .await
    .expect("ActiveJob announced after Finished");
    assert_eq!(active.as_ref().map(|p| p.as_str()), Some("/"));

    let signals: Vec<JobEvent> = job_events
        .iter()
        .filter(|e| !matches!(e, JobEvent::StateChanged(_)))
        .cloned()
        .collect();
    let sent_signals: Vec<JobEvent> = sent
        .iter()
        .filter(|e| !matches!(e, JobEvent::StateChanged(_)))
        .cloned()
        .collect();
    assert_eq!(
        signals, sent_signals,
        "every signal decodes to what was sent"
    );
    assert!(
        job_events
            .iter()
            .any(|e| matches!(e, JobEvent::StateChanged(JobState::Running))),
        "the State change arrives as PropertiesChanged: {job_events:?}"
    );
    let signal_names: Vec<String> = members(JOB_INTERFACE)
        .into_iter()
        .filter(|m| m.kind == forge_proto::contract::Kind::Signal)
        .map(|m| m.name)
        .collect();
    for name in &signal_names {
        assert!(members_seen.contains(name), "{name} was never emitted");
    }
}
