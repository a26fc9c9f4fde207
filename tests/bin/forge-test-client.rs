//! `forge-test-client`: a scripted D-Bus client of forge-daemon for the
//! tests, run as a test user (see `forge_tests::client`). It talks through
//! `forge_proto::client` like every frontend. It reads one command per line
//! on stdin and writes one JSON object per line on stdout: replies
//! (`{"reply": cmd, "ok": bool, ...}`, errors by their full D-Bus name);
//! after `watch`, every signal the daemon emits under the job prefix
//! (`{"signal": member, "path": .., "args": [..]}`, PropertiesChanged of job
//! objects included) in the order they arrived; after `follow-install`, the
//! job's events as the client library delivers them
//! (`{"event": member, "path": .., "args": [..]}`, then `{"event": "end"}`).
//!
//! Commands: `watch`, `install YAML_FILE IO_JSON_FILE`,
//! `follow-install YAML_FILE IO_JSON_FILE`, `validate YAML_FILE`,
//! `cancel PATH`, `override PATH PHRASE...`, `props PATH`, `disks`,
//! `groups`, `version`, `active-job` (`path` null when none), and `forge-finished PATH` /
//! `forge-integrity PATH` (broadcast a forged `Finished(true, ...)` / `IntegrityFailed`
//! on PATH from this client's own connection).

use std::collections::HashMap;
use std::io::BufRead;

use forge_proto::client::{decode_signal, Daemon};
use forge_proto::dbus::{JOB_INTERFACE, JOB_PATH_PREFIX};
use forge_proto::wire::{phase_name, JobEvent};
use forge_proto::{ForgeError, InstallIo, Secret};
use futures_util::StreamExt;
use serde_json::{json, Value};

fn out(v: Value) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{v}");
    let _ = o.flush();
}

fn err_json(cmd: &str, e: &ForgeError) -> Value {
    match e {
        ForgeError::ZBus(zbus::Error::MethodError(name, msg, _)) => json!({
            "reply": cmd, "ok": false, "error": name.as_str(), "message": msg.clone().unwrap_or_default()
        }),
        ForgeError::ZBus(other) => {
            json!({"reply": cmd, "ok": false, "error": "client", "message": other.to_string()})
        }
        typed => json!({
            "reply": cmd, "ok": false, "error": typed.error_name(), "message": typed.message()
        }),
    }
}

fn variant_json(v: &zbus::OwnedVariant) -> Value {
    if let Ok(s) = String::try_from(v.try_clone().expect("clone")) {
        return json!(s);
    }
    if let Ok(b) = bool::try_from(v.try_clone().expect("clone")) {
        return json!(b);
    }
    if let Ok(n) = u64::try_from(v.try_clone().expect("clone")) {
        return json!(n);
    }
    if let Ok(n) = u32::try_from(v.try_clone().expect("clone")) {
        return json!(n);
    }
    if let Ok(n) = f64::try_from(v.try_clone().expect("clone")) {
        return json!(n);
    }
    if let Ok(a) = Vec::<String>::try_from(v.try_clone().expect("clone")) {
        return json!(a);
    }
    json!(format!("{v:?}"))
}

/// A job event as `(member, args)`, the args as the signal carries them.
fn event_json(ev: &JobEvent) -> (&'static str, Value) {
    match ev {
        JobEvent::PhaseStarted(p) => ("PhaseStarted", json!([p.as_str(), p.index()])),
        JobEvent::PhaseFinished(p) => ("PhaseFinished", json!([p.as_str(), p.index()])),
        JobEvent::Progress { fraction, message } => ("Progress", json!([fraction, message])),
        JobEvent::Warning(m) => ("Warning", json!([m])),
        JobEvent::IntegrityFailed { mismatches, phrase } => {
            let m: Vec<Value> = mismatches
                .iter()
                .map(|m| json!([m.path, m.expected, m.actual]))
                .collect();
            ("IntegrityFailed", json!([m, phrase]))
        }
        JobEvent::StateChanged(s) => ("StateChanged", json!([s.as_str()])),
        JobEvent::Finished {
            success,
            phase_completed,
            error,
            warnings,
        } => (
            "Finished",
            json!([success, phase_name(*phase_completed), error, warnings]),
        ),
    }
}

fn install_io(file: &str) -> InstallIo {
    let io: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap_or_default())
        .unwrap_or(Value::Null);
    InstallIo {
        disk: io["disk"].as_str().unwrap_or_default().to_string(),
        root_password: Secret::new(io["root_password"].as_str().unwrap_or_default()),
        user_password: Secret::new(io["user_password"].as_str().unwrap_or_default()),
        secure_boot_password: Secret::new(io["secure_boot_password"].as_str().unwrap_or_default()),
        dry_run: io["dry_run"].as_bool().unwrap_or(false),
    }
}

async fn command(daemon: Daemon, line: String) {
    let mut parts = line.splitn(3, ' ');
    let cmd = parts.next().unwrap_or_default().to_string();
    let a1 = parts.next().unwrap_or_default().to_string();
    let rest = parts.next().unwrap_or_default().to_string();
    let installer = daemon.installer();
    let reply = match cmd.as_str() {
        "install" => {
            let yaml = std::fs::read_to_string(&a1).unwrap_or_default();
            let io = install_io(&rest);
            match installer.install(&yaml, io.to_dbus()).await {
                Ok(p) => json!({"reply": cmd, "ok": true, "path": p.to_string()}),
                Err(e) => err_json(&cmd, &e.into()),
            }
        }
        "follow-install" => {
            let yaml = std::fs::read_to_string(&a1).unwrap_or_default();
            match daemon.install(&yaml, install_io(&rest)).await {
                Ok(mut job) => {
                    let path = job.path.clone();
                    tokio::spawn(async move {
                        while let Some(ev) = job.events.recv().await {
                            let (member, args) = event_json(&ev);
                            out(json!({"event": member, "path": job.path, "args": args}));
                        }
                        out(json!({"event": "end", "path": job.path, "args": []}));
                    });
                    json!({"reply": cmd, "ok": true, "path": path})
                }
                Err(e) => err_json(&cmd, &e),
            }
        }
        "forge-finished" => {
            let body = (true, "cleanup", "", Vec::<String>::new());
            match daemon
                .connection()
                .emit_signal(None::<&str>, a1.as_str(), JOB_INTERFACE, "Finished", &body)
                .await
            {
                Ok(()) => json!({"reply": cmd, "ok": true}),
                Err(e) => err_json(&cmd, &e.into()),
            }
        }
        "forge-integrity" => {
            let forged = vec![forge_proto::wire::Mismatch {
                path: "packages/forged.igos.tar.gz".into(),
                expected: "00".into(),
                actual: "11".into(),
            }];
            let body = (forged, "forged phrase");
            match daemon
                .connection()
                .emit_signal(
                    None::<&str>,
                    a1.as_str(),
                    JOB_INTERFACE,
                    "IntegrityFailed",
                    &body,
                )
                .await
            {
                Ok(()) => json!({"reply": cmd, "ok": true}),
                Err(e) => err_json(&cmd, &e.into()),
            }
        }
        "validate" => {
            let yaml = std::fs::read_to_string(&a1).unwrap_or_default();
            match daemon.validate_plan(&yaml).await {
                Ok(p) => json!({"reply": cmd, "ok": true, "problems": p}),
                Err(e) => err_json(&cmd, &e),
            }
        }
        "cancel" => match daemon.cancel(&a1).await {
            Ok(()) => json!({"reply": cmd, "ok": true}),
            Err(e) => err_json(&cmd, &e),
        },
        "override" => match daemon.override_integrity(&a1, &rest).await {
            Ok(()) => json!({"reply": cmd, "ok": true}),
            Err(e) => err_json(&cmd, &e),
        },
        "props" => {
            let r: Result<Value, ForgeError> = async {
                let j = daemon.job(&a1).await?;
                Ok(json!({
                    "State": j.state().await?, "Phase": j.phase().await?,
                    "PhaseIndex": j.phase_index().await?, "PhaseCount": j.phase_count().await?,
                    "Fraction": j.fraction().await?, "PhaseCompleted": j.phase_completed().await?,
                    "Warnings": j.warnings().await?,
                }))
            }
            .await;
            match r {
                Ok(p) => json!({"reply": cmd, "ok": true, "props": p}),
                Err(e) => err_json(&cmd, &e),
            }
        }
        "disks" => match daemon.list_disks().await {
            Ok(d) => {
                let d: Vec<Value> = d
                    .iter()
                    .map(|d| {
                        json!({
                            "device": d.device, "model": d.model, "size": d.size,
                            "removable": d.removable, "read_only": d.read_only,
                            "transport": d.transport, "in_use": d.in_use,
                        })
                    })
                    .collect();
                json!({"reply": cmd, "ok": true, "disks": d})
            }
            Err(e) => err_json(&cmd, &e),
        },
        "groups" => match daemon.list_package_groups().await {
            Ok(g) => {
                let g: Vec<Value> = g
                    .iter()
                    .map(|g| {
                        json!({
                            "name": g.name, "description": g.description, "required": g.required,
                            "packages": g.packages, "download_size": g.download_size,
                            "installed_size": g.installed_size,
                        })
                    })
                    .collect();
                json!({"reply": cmd, "ok": true, "groups": g})
            }
            Err(e) => err_json(&cmd, &e),
        },
        "version" => match daemon.version().await {
            Ok(v) => json!({"reply": cmd, "ok": true, "version": v}),
            Err(e) => err_json(&cmd, &e),
        },
        "active-job" => match daemon.active_job().await {
            Ok(p) => json!({"reply": cmd, "ok": true, "path": p}),
            Err(e) => err_json(&cmd, &e),
        },
        other => {
            json!({"reply": other, "ok": false, "error": "client", "message": "unknown command"})
        }
    };
    out(reply);
}

/// A signal as JSON: Job signals through the client library's decoder,
/// PropertiesChanged with every changed property.
fn signal_json(msg: &zbus::Message) -> Option<Value> {
    let h = msg.header();
    let member = h.member()?.to_string();
    let path = h.path()?.to_string();
    let from_job = h.interface().is_some_and(|i| i.as_str() == JOB_INTERFACE);
    let args = if from_job {
        let (_, args) = event_json(&decode_signal(msg)?);
        args
    } else if member == "PropertiesChanged" {
        let (iface, changed, invalidated): (
            String,
            HashMap<String, zbus::OwnedVariant>,
            Vec<String>,
        ) = msg.body().deserialize().ok()?;
        let changed: serde_json::Map<String, Value> = changed
            .iter()
            .map(|(k, v)| (k.clone(), variant_json(v)))
            .collect();
        json!([iface, changed, invalidated])
    } else {
        return None;
    };
    Some(json!({"signal": member, "path": path, "args": args}))
}

async fn watch(daemon: &Daemon) -> Result<(), ForgeError> {
    let owner = daemon.unique_name().to_string();
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(owner.clone())
        .path_namespace(JOB_PATH_PREFIX)
        .build()?;
    let mut stream = zbus::MessageStream::for_match_rule(
        rule,
        daemon.connection(),
        std::num::NonZeroUsize::new(100_000),
    )
    .await?;
    out(json!({"reply": "watch", "ok": true}));
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if msg.header().sender().map(|s| s.as_str()) != Some(owner.as_str()) {
                continue;
            }
            if let Some(v) = signal_json(&msg) {
                out(v);
            }
        }
    });
    Ok(())
}

#[tokio::main]
async fn main() {
    let daemon = match Daemon::connect_system().await {
        Ok(d) => d,
        Err(e) => {
            out(err_json("connect", &e));
            return;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut tasks = Vec::new();
    while let Some(line) = rx.recv().await {
        // Only the line break goes: a phrase's spaces are part of it.
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.trim().is_empty() {
            continue;
        }
        if line == "watch" {
            if let Err(e) = watch(&daemon).await {
                out(err_json("watch", &e));
            }
            continue;
        }
        tasks.push(tokio::spawn(command(daemon.clone(), line)));
    }
    for t in tasks {
        let _ = t.await;
    }
}
