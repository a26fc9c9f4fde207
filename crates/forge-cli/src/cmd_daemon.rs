//! `forgectl disks`, `forgectl groups`, `forgectl install`: clients of the
//! daemon over the system bus (docs/design.md section 4a). `install` subscribes
//! to the job's signals before it calls `Install`, so no early progress is
//! lost, prints live progress and warnings, asks for the override phrase on
//! a terminal when verification fails, and exits 0 only on success.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use forge_proto::dbus::{InstallerProxy, JobProxy, BUS_NAME, JOB_INTERFACE, JOB_PATH_PREFIX};
use forge_proto::i18n::{tr, trf};
use forge_proto::{InstallIo, JobState, Phase, Secret};
use futures_util::StreamExt;
use zbus::proxy::MethodFlags;
use zbus::{OwnedObjectPath, OwnedVariant};

#[derive(clap::Args)]
pub struct DisksArgs {}

#[derive(clap::Args)]
pub struct GroupsArgs {}

#[derive(clap::Args)]
pub struct InstallArgs {
    /// The install.yaml to install.
    pub plan: PathBuf,
    /// Target block device (or image file, where the daemon allows it).
    #[arg(long)]
    pub disk: String,
    /// Validate, verify and print the operations; touch nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub root_password_file: Option<PathBuf>,
    #[arg(long)]
    pub user_password_file: Option<PathBuf>,
}

/// A failure already explained to the person; carries the exit code.
struct Exit(u8);

fn run_async<F: std::future::Future<Output = Result<(), Exit>>>(f: F) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}", tr("forgectl: cannot start its event loop."));
            tracing::debug!("tokio: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(f) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit(code)) => ExitCode::from(code),
    }
}

/// A person-readable sentence for a D-Bus failure; FORGE's own errors carry
/// a translated message already.
fn describe(e: &zbus::Error) -> String {
    if let zbus::Error::MethodError(name, msg, _) = e {
        let name = name.as_str();
        if name.starts_with("org.intergenos.Forge1.Error.") {
            return msg.clone().unwrap_or_else(|| name.to_string());
        }
        if name == "org.freedesktop.DBus.Error.ServiceUnknown"
            || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
        {
            return tr("The installer service is not available.");
        }
        if name == "org.freedesktop.DBus.Error.AccessDenied" {
            return tr("The system bus refused the request.");
        }
    }
    trf(
        "Talking to the installer service failed ({error}).",
        &[("error", &short_error(e))],
    )
}

/// Prints [`describe`]'s sentence for `e` on stderr.
fn report(e: &zbus::Error) {
    eprintln!(
        "{}",
        trf("forgectl: {message}", &[("message", &describe(e))])
    );
}

/// The error's D-Bus name, or its kind, never a debug dump.
fn short_error(e: &zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(name, _, _) => name.to_string(),
        zbus::Error::InputOutput(io) => io.kind().to_string(),
        other => other
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

fn error_name(e: &zbus::Error) -> Option<&str> {
    match e {
        zbus::Error::MethodError(name, _, _) => Some(name.as_str()),
        _ => None,
    }
}

async fn connect() -> Result<(zbus::Connection, InstallerProxy<'static>), Exit> {
    let conn = zbus::Connection::system().await.map_err(|e| {
        eprintln!(
            "{}",
            trf(
                "forgectl: cannot reach the system bus ({error}).",
                &[("error", &short_error(&e))]
            )
        );
        Exit(2)
    })?;
    let proxy = InstallerProxy::new(&conn).await.map_err(|e| {
        report(&e);
        Exit(2)
    })?;
    Ok((conn, proxy))
}

fn str_of(m: &HashMap<String, OwnedVariant>, k: &str) -> String {
    m.get(k)
        .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
        .unwrap_or_default()
}

fn u64_of(m: &HashMap<String, OwnedVariant>, k: &str) -> u64 {
    m.get(k)
        .and_then(|v| {
            u64::try_from(v.try_clone().ok()?)
                .ok()
                .or_else(|| u32::try_from(v.try_clone().ok()?).ok().map(u64::from))
        })
        .unwrap_or(0)
}

fn bool_of(m: &HashMap<String, OwnedVariant>, k: &str) -> bool {
    m.get(k)
        .and_then(|v| bool::try_from(v.try_clone().ok()?).ok())
        .unwrap_or(false)
}

/// `1.5 GiB` style sizes.
fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

pub fn disks(_: DisksArgs) -> ExitCode {
    run_async(async {
        let (_conn, proxy) = connect().await?;
        let disks = proxy.list_disks().await.map_err(|e| {
            report(&e);
            Exit(1)
        })?;
        println!(
            "{:<28} {:>10}  {:<10} {:<24} {}",
            tr("DEVICE"),
            tr("SIZE"),
            tr("TRANSPORT"),
            tr("MODEL"),
            tr("NOTES")
        );
        for d in &disks {
            let mut notes = Vec::new();
            if bool_of(d, "in_use") {
                notes.push(tr("in use"));
            }
            if bool_of(d, "removable") {
                notes.push(tr("removable"));
            }
            if bool_of(d, "read_only") {
                notes.push(tr("read-only"));
            }
            println!(
                "{:<28} {:>10}  {:<10} {:<24} {}",
                str_of(d, "device"),
                human(u64_of(d, "size")),
                str_of(d, "transport"),
                str_of(d, "model"),
                notes.join(", ")
            );
        }
        Ok(())
    })
}

pub fn groups(_: GroupsArgs) -> ExitCode {
    run_async(async {
        let (_conn, proxy) = connect().await?;
        let groups = proxy.list_package_groups().await.map_err(|e| {
            report(&e);
            Exit(1)
        })?;
        println!(
            "{:<10} {:>8} {:>10} {:>10}  {:<9} {}",
            tr("GROUP"),
            tr("PACKAGES"),
            tr("DOWNLOAD"),
            tr("INSTALLED"),
            tr("REQUIRED"),
            tr("DESCRIPTION")
        );
        for g in &groups {
            println!(
                "{:<10} {:>8} {:>10} {:>10}  {:<9} {}",
                str_of(g, "name"),
                u64_of(g, "packages"),
                human(u64_of(g, "download_size")),
                human(u64_of(g, "installed_size")),
                if bool_of(g, "required") {
                    tr("yes")
                } else {
                    tr("no")
                },
                str_of(g, "description")
            );
        }
        Ok(())
    })
}

/// Restores the terminal's echo on drop.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn new() -> Option<EchoOff> {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        // SAFETY: valid termios for fd 0.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        Some(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}

fn read_line() -> Option<String> {
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s).ok()?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Some(s)
}

/// Asks twice on the terminal without echo; refuses without a terminal.
fn prompt_password(what: &str) -> Result<Secret, Exit> {
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "{}",
            trf(
                "forgectl: the {what} is needed; give it as a file, or run forgectl on a terminal.",
                &[("what", what)]
            )
        );
        return Err(Exit(2));
    }
    for _ in 0..3 {
        eprint!("{}", trf("Enter the {what}: ", &[("what", what)]));
        let _ = std::io::stderr().flush();
        let first = {
            let _echo = EchoOff::new();
            Secret::new(read_line().unwrap_or_default())
        };
        eprint!("{}", trf("Repeat the {what}: ", &[("what", what)]));
        let _ = std::io::stderr().flush();
        let second = {
            let _echo = EchoOff::new();
            Secret::new(read_line().unwrap_or_default())
        };
        if first == second {
            return Ok(first);
        }
        eprintln!("{}", tr("The two entries differ; try again."));
    }
    Err(Exit(2))
}

/// Reads a password file: its content without the final newline.
fn read_password_file(path: &Path) -> Result<Secret, Exit> {
    match std::fs::read_to_string(path) {
        Ok(mut s) => {
            if s.ends_with('\n') {
                s.pop();
                if s.ends_with('\r') {
                    s.pop();
                }
            }
            let secret = Secret::new(s.as_str());
            zeroize::Zeroize::zeroize(&mut s);
            Ok(secret)
        }
        Err(e) => {
            eprintln!(
                "{}",
                trf(
                    "forgectl: cannot read {file}: {error}",
                    &[
                        ("file", &path.display().to_string()),
                        ("error", &e.to_string())
                    ]
                )
            );
            Err(Exit(2))
        }
    }
}

fn password(file: &Option<PathBuf>, what: &str) -> Result<Secret, Exit> {
    match file {
        Some(f) => read_password_file(f),
        None => prompt_password(what),
    }
}

pub fn install(a: InstallArgs) -> ExitCode {
    // The passwords will be in this process's memory: no core dumps.
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) only changes this process's flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let yaml = match std::fs::read_to_string(&a.plan) {
        Ok(y) => y,
        Err(e) => {
            eprintln!(
                "{}",
                trf(
                    "forgectl: cannot read {file}: {error}",
                    &[
                        ("file", &a.plan.display().to_string()),
                        ("error", &e.to_string())
                    ]
                )
            );
            return ExitCode::from(2);
        }
    };
    let root_password = match password(&a.root_password_file, &tr("root password")) {
        Ok(p) => p,
        Err(Exit(c)) => return ExitCode::from(c),
    };
    let user_password = match password(&a.user_password_file, &tr("user password")) {
        Ok(p) => p,
        Err(Exit(c)) => return ExitCode::from(c),
    };
    let io = InstallIo {
        disk: a.disk.clone(),
        root_password,
        user_password,
        dry_run: a.dry_run,
    };
    run_async(run_install(yaml, io))
}

async fn run_install(yaml: String, io: InstallIo) -> Result<(), Exit> {
    let (conn, installer) = connect().await?;
    let fail = |e: zbus::Error| {
        report(&e);
        Exit(1)
    };
    // Starts the service if it is activatable, then learns its unique
    // name, so that only its signals are believed.
    installer.version().await.map_err(fail)?;
    let dbus = zbus::fdo::DBusProxy::new(&conn).await.map_err(fail)?;
    let owner = dbus
        .get_name_owner(BUS_NAME.try_into().map_err(|e: zbus::Error| fail(e))?)
        .await
        .map_err(|e| fail(e.into()))?;
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(owner.as_str())
        .interface(JOB_INTERFACE)
        .path_namespace(JOB_PATH_PREFIX)
        .build()
        .map_err(fail)?;
    let mut signals =
        zbus::MessageStream::for_match_rule(rule, &conn, std::num::NonZeroUsize::new(4096))
            .await
            .map_err(fail)?;

    let body = (yaml.as_str(), io.to_dbus());
    let reply = installer
        .inner()
        .call_with_flags::<_, _, OwnedObjectPath>(
            "Install",
            MethodFlags::ALLOW_INTERACTIVE_AUTH,
            &body,
        )
        .await;
    drop(body);
    let job_path = match reply {
        Ok(Some(p)) => p,
        Ok(None) => {
            eprintln!(
                "{}",
                tr("forgectl: the installer service gave no job for this install.")
            );
            return Err(Exit(1));
        }
        Err(e) => {
            if error_name(&e) == Some("org.intergenos.Forge1.Error.InvalidPlan") {
                eprintln!("{}", tr("The installer refused the plan:"));
                if let zbus::Error::MethodError(_, Some(msg), _) = &e {
                    for line in msg.lines() {
                        eprintln!("  {line}");
                    }
                }
            } else {
                report(&e);
            }
            return Err(Exit(1));
        }
    };
    let job = JobProxy::builder(&conn)
        .path(job_path.clone())
        .build()
        .await
        .map_err(fail)?;
    if io.dry_run {
        println!("{}", tr("Dry run: nothing will be written."));
    }

    let mut last_message = String::new();
    let mut current_label = String::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    let mut cancelling = false;
    // Ticks on which the job was already in a final state without its
    // Finished signal having reached us (a lost or malformed signal).
    let mut final_ticks = 0u8;
    loop {
        tokio::select! {
            msg = signals.next() => {
                let Some(Ok(msg)) = msg else {
                    eprintln!("{}", tr("forgectl: lost the connection to the installer service."));
                    return Err(Exit(1));
                };
                let header = msg.header();
                if header.path().map(|p| p.as_str()) != Some(job_path.as_str()) {
                    continue;
                }
                let member = header.member().map(|m| m.to_string()).unwrap_or_default();
                let body = msg.body();
                match member.as_str() {
                    "PhaseStarted" => {
                        if let Ok((name, index)) = body.deserialize::<(String, u32)>() {
                            current_label = Phase::from_name(&name).map(|p| p.label()).unwrap_or(name);
                            println!("[{}/{}] {}", index + 1, Phase::ALL.len(), current_label);
                        }
                    }
                    "Progress" => {
                        if let Ok((_, message)) = body.deserialize::<(f64, String)>() {
                            if !message.is_empty() && message != current_label && message != last_message {
                                println!("      {message}");
                                last_message = message;
                            }
                        }
                    }
                    "Warning" => {
                        if let Ok((message,)) = body.deserialize::<(String,)>() {
                            println!("{}", trf("  warning: {message}", &[("message", &message)]));
                        }
                    }
                    "IntegrityFailed" => {
                        if let Ok((mismatches, phrase)) = body.deserialize::<(Vec<(String, String, String)>, String)>() {
                            answer_integrity(&job, mismatches, phrase).await;
                        }
                    }
                    "Finished" => {
                        if let Ok((success, completed, error, warnings)) = body.deserialize::<(bool, String, String, Vec<String>)>() {
                            return report_finished(success, io.dry_run, &completed, &error, &warnings);
                        }
                    }
                    _ => {}
                }
            }
            _ = tokio::signal::ctrl_c(), if !cancelling => {
                cancelling = true;
                eprintln!("{}", tr("Cancelling at the next safe point..."));
                if let Err(e) = job.inner().call_with_flags::<_, _, ()>("Cancel", MethodFlags::ALLOW_INTERACTIVE_AUTH, &()).await {
                    report(&e);
                }
            }
            _ = tick.tick() => {
                let alive = dbus.get_name_owner(BUS_NAME.try_into().map_err(|e: zbus::Error| fail(e))?).await;
                if alive.map(|o| o != owner).unwrap_or(true) {
                    eprintln!("{}", tr("forgectl: the installer service stopped before the installation finished."));
                    return Err(Exit(1));
                }
                let state = job.state().await.ok().and_then(|s| JobState::from_name(&s));
                if state.is_some_and(JobState::is_final) {
                    final_ticks += 1;
                } else {
                    final_ticks = 0;
                }
                // Two ticks in a final state and still no Finished: report
                // from the job's properties instead of waiting forever.
                if final_ticks >= 2 {
                    let completed = job.phase_completed().await.unwrap_or_default();
                    let warnings = job.warnings().await.unwrap_or_default();
                    let success = state == Some(JobState::Succeeded);
                    let error = if success {
                        String::new()
                    } else {
                        tr("the job ended without reporting why; see the installer's log")
                    };
                    return report_finished(success, io.dry_run, &completed, &error, &warnings);
                }
            }
        }
    }
}

fn report_finished(
    success: bool,
    dry_run: bool,
    completed: &str,
    error: &str,
    warnings: &[String],
) -> Result<(), Exit> {
    if !warnings.is_empty() {
        println!("{}", tr("Warnings:"));
        for w in warnings {
            println!("  {w}");
        }
    }
    if success && dry_run {
        println!("{}", tr("Dry run finished; nothing was written."));
        Ok(())
    } else if success {
        println!("{}", tr("Installation finished successfully."));
        Ok(())
    } else {
        let last = if completed.is_empty() {
            tr("none")
        } else {
            completed.to_string()
        };
        eprintln!(
            "{}",
            trf(
                "Installation did not finish: {error} (last completed phase: {phase})",
                &[("error", error), ("phase", &last)]
            )
        );
        Err(Exit(1))
    }
}

/// Shows the mismatches and lets a person on a terminal type the phrase;
/// anything else cancels the job with the disk untouched.
async fn answer_integrity(
    job: &JobProxy<'_>,
    mismatches: Vec<(String, String, String)>,
    phrase: String,
) {
    eprintln!(
        "{}",
        tr("Package verification FAILED. These files do not match the signed manifest:")
    );
    for (path, expected, actual) in &mismatches {
        eprintln!(
            "  {}",
            trf(
                "{path}: expected {expected}, found {actual}",
                &[("path", path), ("expected", expected), ("actual", actual)]
            )
        );
    }
    let cancel = || async {
        if let Err(e) = job
            .inner()
            .call_with_flags::<_, _, ()>("Cancel", MethodFlags::ALLOW_INTERACTIVE_AUTH, &())
            .await
        {
            report(&e);
        }
    };
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "{}",
            tr("An override must be typed on a terminal; cancelling. The disk was not touched.")
        );
        cancel().await;
        return;
    }
    for _ in 0..3 {
        eprintln!(
            "{}",
            tr("To install anyway, type this phrase exactly; press Enter alone to cancel:")
        );
        eprintln!("  {phrase}");
        eprint!("> ");
        let _ = std::io::stderr().flush();
        let typed = tokio::task::spawn_blocking(read_line)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        if typed.is_empty() {
            cancel().await;
            return;
        }
        match job
            .inner()
            .call_with_flags::<_, _, ()>(
                "OverrideIntegrity",
                MethodFlags::ALLOW_INTERACTIVE_AUTH,
                &(typed.as_str(),),
            )
            .await
        {
            Ok(_) => {
                eprintln!("{}", tr("Override accepted; continuing."));
                return;
            }
            Err(e) if error_name(&e) == Some("org.intergenos.Forge1.Error.WrongPhrase") => {
                eprintln!("{}", describe(&e));
            }
            Err(e) => {
                report(&e);
                cancel().await;
                return;
            }
        }
    }
    cancel().await;
}
