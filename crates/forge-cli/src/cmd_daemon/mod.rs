//! `forgectl disks`, `forgectl groups`, `forgectl install`: clients of the
//! daemon over the system bus (docs/design.md section 4a), all through
//! `forge_proto::client`. Listing is [`listing`], the install and its job
//! following is [`install`], passwords and echo handling are [`terminal`],
//! the text polkit agent around authorized calls is [`authz`];
//! this module holds what they share: the event loop, the connection and
//! the wording of D-Bus failures.

mod authz;
mod install;
mod listing;
mod terminal;

pub use install::install;
pub use listing::{disks, groups};

use std::process::ExitCode;

use forge_proto::client::Daemon;
use forge_proto::i18n::{tr, trf};
use forge_proto::ForgeError;

/// A failure already explained to the person; carries the exit code.
pub struct Exit(pub u8);

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
fn describe(e: &ForgeError) -> String {
    match e {
        ForgeError::Unavailable(_) => tr("The installer service is not available."),
        ForgeError::Denied(_) => tr("The system bus refused the request."),
        ForgeError::ZBus(z) => trf(
            "Talking to the installer service failed ({error}).",
            &[("error", &short_error(z))],
        ),
        other => {
            let message = other.message();
            if message.is_empty() {
                other.error_name().to_string()
            } else {
                message
            }
        }
    }
}

/// Prints [`describe`]'s sentence for `e` on stderr.
fn report(e: &ForgeError) {
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

/// The system bus and, on it, the daemon (started if activatable).
async fn connect() -> Result<Daemon, Exit> {
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
    Daemon::new(conn).await.map_err(|e| {
        report(&e);
        Exit(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_worded_by_variant() {
        assert_eq!(
            describe(&ForgeError::Unavailable("org.intergenos.Forge1".into())),
            "The installer service is not available."
        );
        assert_eq!(
            describe(&ForgeError::Busy(
                "Another installation is already running.".into()
            )),
            "Another installation is already running."
        );
        assert_eq!(
            describe(&ForgeError::Failed(String::new())),
            "org.intergenos.Forge1.Error.Failed"
        );
        assert!(describe(&ForgeError::ZBus(zbus::Error::InvalidReply)).starts_with("Talking"));
    }
}
