//! `forge-daemon`: FORGE's privileged D-Bus service (docs/design.md section 3).
//! It owns `org.intergenos.Forge1` on the system bus, checks every
//! privileged call with polkit, and runs one install at a time. Its trust
//! roots come only from its root-owned configuration file. Logs go to
//! stderr through `tracing` (the journal, under systemd).

mod cli;
mod service;

// The pipeline, its phases and the plan/target checks live in the library
// (shared with root-only tests); the D-Bus side is this binary's.
use forge_daemon::{checks, config, pipeline, resources, target};

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use forge_proto::dbus::{BUS_NAME, OBJECT_PATH};

use crate::cli::Args;
use crate::config::DaemonConfig;
use crate::service::installer::Installer;
use crate::service::jobs::Registry;

fn main() -> ExitCode {
    forge_proto::i18n::init(option_env!("FORGE_LOCALEDIR").unwrap_or("/usr/share/locale"));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FORGE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let args = Args::parse();
    // Passwords pass through this process: no core dumps, no ptrace by
    // non-root users.
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) only changes this process's flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let config = match DaemonConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("configuration: {e}");
            eprintln!(
                "{}",
                forge_proto::i18n::trf(
                    "forge-daemon: cannot use the configuration {file}; see the log.",
                    &[("file", &args.config.display().to_string())]
                )
            );
            return ExitCode::from(2);
        }
    };
    tracing::info!(
        config = %args.config.display(),
        payload = %config.payload.display(),
        keyring = %config.keyring.display(),
        allow_image_targets = config.allow_image_targets,
        "forge-daemon {} starting",
        forge_proto::VERSION
    );
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("tokio runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(serve(Arc::new(config))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}

async fn serve(config: Arc<DaemonConfig>) -> anyhow::Result<()> {
    let registry = Arc::new(Registry::default());
    let installer = Installer {
        config,
        registry: Arc::clone(&registry),
    };
    let conn = zbus::connection::Builder::system()
        .serve_at(OBJECT_PATH, installer)
        .name(BUS_NAME)
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("owning {BUS_NAME} on the system bus: {e}"))?;
    tracing::info!("serving {BUS_NAME} at {OBJECT_PATH}");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
    }
    // Stop a running install at its next safe point and let its guards
    // release before the process goes away.
    if registry.is_busy() {
        tracing::warn!("shutting down: cancelling the running install");
        registry.cancel_running();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        while registry.is_busy() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(conn);
    tracing::info!("forge-daemon stopped");
    Ok(())
}

#[cfg(test)]
mod cli_tests {
    use clap::CommandFactory;

    /// The man page's default is the daemon's default.
    #[test]
    fn the_command_line_default_is_the_config_default() {
        assert_eq!(
            crate::cli::DEFAULT_CONFIG,
            crate::config::DEFAULT_CONFIG_PATH
        );
        crate::cli::Args::command().debug_assert();
    }
}
