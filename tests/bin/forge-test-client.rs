//! `forge-test-client`: a scripted D-Bus client of forge-daemon for the
//! tests, run as a test user (see `forge_tests::client`). It reads one
//! command per line on stdin and writes one JSON object per line on stdout:
//! replies (`{"reply": cmd, "ok": bool, ...}`) and, after `watch`, every
//! job signal from the daemon (`{"signal": member, "path": .., "args": [..]}`),
//! PropertiesChanged of job objects included, in the order they arrived.
//!
//! Commands: `watch`, `install YAML_FILE IO_JSON_FILE`, `validate YAML_FILE`,
//! `cancel PATH`, `override PATH PHRASE...`, `props PATH`, `disks`, `groups`,
//! `version`. Privileged calls carry ALLOW_INTERACTIVE_AUTH like forgectl's.

use std::collections::HashMap;
use std::io::BufRead;

use forge_proto::dbus::{InstallerProxy, JobProxy, BUS_NAME, JOB_INTERFACE, JOB_PATH_PREFIX};
use forge_proto::{InstallIo, Secret};
use futures_util::StreamExt;
use serde_json::{json, Value};
use zbus::proxy::MethodFlags;
use zbus::OwnedObjectPath;

fn out(v: Value) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{v}");
    let _ = o.flush();
}

fn err_json(cmd: &str, e: &zbus::Error) -> Value {
    match e {
        zbus::Error::MethodError(name, msg, _) => json!({
            "reply": cmd, "ok": false, "error": name.as_str(), "message": msg.clone().unwrap_or_default()
        }),
        other => {
            json!({"reply": cmd, "ok": false, "error": "client", "message": other.to_string()})
        }
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

fn dicts(v: Vec<HashMap<String, zbus::OwnedVariant>>) -> Value {
    Value::Array(
        v.iter()
            .map(|m| {
                Value::Object(
                    m.iter()
                        .map(|(k, v)| (k.clone(), variant_json(v)))
                        .collect(),
                )
            })
            .collect(),
    )
}

async fn job(conn: &zbus::Connection, path: &str) -> zbus::Result<JobProxy<'static>> {
    JobProxy::builder(conn).path(path.to_string()).build().await
}

async fn command(conn: zbus::Connection, line: String) {
    let mut parts = line.splitn(3, ' ');
    let cmd = parts.next().unwrap_or_default().to_string();
    let a1 = parts.next().unwrap_or_default().to_string();
    let rest = parts.next().unwrap_or_default().to_string();
    let installer = match InstallerProxy::new(&conn).await {
        Ok(p) => p,
        Err(e) => return out(err_json(&cmd, &e)),
    };
    let flags = MethodFlags::ALLOW_INTERACTIVE_AUTH;
    let reply = match cmd.as_str() {
        "install" => {
            let yaml = std::fs::read_to_string(&a1).unwrap_or_default();
            let io: Value =
                serde_json::from_str(&std::fs::read_to_string(&rest).unwrap_or_default())
                    .unwrap_or(Value::Null);
            let io = InstallIo {
                disk: io["disk"].as_str().unwrap_or_default().to_string(),
                root_password: Secret::new(io["root_password"].as_str().unwrap_or_default()),
                user_password: Secret::new(io["user_password"].as_str().unwrap_or_default()),
                dry_run: io["dry_run"].as_bool().unwrap_or(false),
            };
            match installer
                .inner()
                .call_with_flags::<_, _, OwnedObjectPath>(
                    "Install",
                    flags,
                    &(yaml.as_str(), io.to_dbus()),
                )
                .await
            {
                Ok(p) => json!({"reply": cmd, "ok": true, "path": p.map(|p| p.to_string())}),
                Err(e) => err_json(&cmd, &e),
            }
        }
        "validate" => {
            let yaml = std::fs::read_to_string(&a1).unwrap_or_default();
            match installer.validate_plan(&yaml).await {
                Ok(p) => json!({"reply": cmd, "ok": true, "problems": p}),
                Err(e) => err_json(&cmd, &e),
            }
        }
        "cancel" | "override" => {
            let j = match job(&conn, &a1).await {
                Ok(j) => j,
                Err(e) => return out(err_json(&cmd, &e)),
            };
            let r = if cmd == "cancel" {
                j.inner()
                    .call_with_flags::<_, _, ()>("Cancel", flags, &())
                    .await
            } else {
                j.inner()
                    .call_with_flags::<_, _, ()>("OverrideIntegrity", flags, &(rest.as_str(),))
                    .await
            };
            match r {
                Ok(_) => json!({"reply": cmd, "ok": true}),
                Err(e) => err_json(&cmd, &e),
            }
        }
        "props" => {
            let j = match job(&conn, &a1).await {
                Ok(j) => j,
                Err(e) => return out(err_json(&cmd, &e)),
            };
            let r: zbus::Result<Value> = async {
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
        "disks" => match installer.list_disks().await {
            Ok(d) => json!({"reply": cmd, "ok": true, "disks": dicts(d)}),
            Err(e) => err_json(&cmd, &e),
        },
        "groups" => match installer.list_package_groups().await {
            Ok(d) => json!({"reply": cmd, "ok": true, "groups": dicts(d)}),
            Err(e) => err_json(&cmd, &e),
        },
        "version" => match installer.version().await {
            Ok(v) => json!({"reply": cmd, "ok": true, "version": v}),
            Err(e) => err_json(&cmd, &e),
        },
        other => {
            json!({"reply": other, "ok": false, "error": "client", "message": "unknown command"})
        }
    };
    out(reply);
}

fn signal_json(msg: &zbus::Message) -> Option<Value> {
    let h = msg.header();
    let member = h.member()?.to_string();
    let path = h.path()?.to_string();
    let body = msg.body();
    let from_job = h.interface().is_some_and(|i| i.as_str() == JOB_INTERFACE);
    let args = match member.as_str() {
        "PropertiesChanged" if !from_job => {
            let (iface, changed, invalidated): (
                String,
                HashMap<String, zbus::OwnedVariant>,
                Vec<String>,
            ) = body.deserialize().ok()?;
            let changed: serde_json::Map<String, Value> = changed
                .iter()
                .map(|(k, v)| (k.clone(), variant_json(v)))
                .collect();
            json!([iface, changed, invalidated])
        }
        _ if !from_job => return None,
        "PhaseStarted" | "PhaseFinished" => {
            let (p, i): (String, u32) = body.deserialize().ok()?;
            json!([p, i])
        }
        "Progress" => {
            let (f, m): (f64, String) = body.deserialize().ok()?;
            json!([f, m])
        }
        "Warning" => {
            let (m,): (String,) = body.deserialize().ok()?;
            json!([m])
        }
        "IntegrityFailed" => {
            let (m, p): (Vec<(String, String, String)>, String) = body.deserialize().ok()?;
            json!([m, p])
        }
        "Finished" => {
            let (b, c, e, w): (bool, String, String, Vec<String>) = body.deserialize().ok()?;
            json!([b, c, e, w])
        }
        _ => json!([]),
    };
    Some(json!({"signal": member, "path": path, "args": args}))
}

async fn watch(conn: zbus::Connection) -> zbus::Result<()> {
    let dbus = zbus::fdo::DBusProxy::new(&conn).await?;
    let owner = dbus.get_name_owner(BUS_NAME.try_into()?).await?;
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(owner.as_str())
        .path_namespace(JOB_PATH_PREFIX)
        .build()?;
    let mut stream =
        zbus::MessageStream::for_match_rule(rule, &conn, std::num::NonZeroUsize::new(100_000))
            .await?;
    out(json!({"reply": "watch", "ok": true}));
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if let Some(v) = signal_json(&msg) {
                out(v);
            }
        }
    });
    Ok(())
}

#[tokio::main]
async fn main() {
    let conn = match zbus::Connection::system().await {
        Ok(c) => c,
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
            if let Err(e) = watch(conn.clone()).await {
                out(err_json("watch", &e));
            }
            continue;
        }
        tasks.push(tokio::spawn(command(conn.clone(), line)));
    }
    for t in tasks {
        let _ = t.await;
    }
}
