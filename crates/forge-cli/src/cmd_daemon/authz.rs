//! Authorization on a console or over SSH: polkit may ask for an
//! administrator's password during `Install` and the integrity override.
//! When no graphical agent serves the session and a person sits at
//! forgectl's terminal ([`forge_proto::tty_agent::wanted`]), those calls run
//! with `pkttyagent` registered for this process (the agent forge-tui uses
//! too), which asks on the terminal. forgectl has read its own secrets
//! (files or hidden prompts) before it makes either call, so the agent and
//! forgectl never read the terminal at the same time. A refusal is worded
//! here ([`install_refused`], [`override_refused`]).

use forge_proto::i18n::trf;
use forge_proto::tty_agent::{self, TtyAgent};
use forge_proto::ForgeError;

/// Runs `call` with the text polkit agent beside it when one is
/// [`tty_agent::wanted`]; the agent is stopped when the call returns.
pub async fn authorized<T>(call: impl std::future::Future<Output = T>) -> T {
    if !tty_agent::wanted() {
        return call.await;
    }
    // Starting waits (up to 5 s) for the agent to register: off the loop.
    let (agent, problem) = tokio::task::spawn_blocking(TtyAgent::start_for_call)
        .await
        .unwrap_or((None, Some("the agent's start-up task failed".into())));
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
    let out = call.await;
    drop(agent);
    out
}

/// The sentence for polkit's refusal of `Install`, naming the D-Bus error
/// so scripts and logs can match it in any language.
pub fn install_refused(e: &ForgeError) -> String {
    trf(
        "forgectl: not authorized to install ({error}). Installing needs an administrator's password; nothing was written.",
        &[("error", e.error_name())],
    )
}

/// The sentence for polkit's refusal of the integrity override.
pub fn override_refused(e: &ForgeError) -> String {
    trf(
        "forgectl: not authorized to override the failed verification ({error}); cancelling.",
        &[("error", e.error_name())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_error() {
        let e = ForgeError::NotAuthorized("You are not allowed to do this.".into());
        let install = install_refused(&e);
        assert!(install.contains("org.intergenos.Forge1.Error.NotAuthorized"));
        assert!(install.contains("nothing was written"));
        assert!(override_refused(&e).contains("org.intergenos.Forge1.Error.NotAuthorized"));
    }
}
