//! Authorization through polkit. Every privileged call is checked with the
//! real polkit authority on the system bus, for the caller's
//! system-bus-name subject (never the daemon's own pid), honouring the
//! message's ALLOW_INTERACTIVE_AUTH flag. A refusal, or any failure to ask,
//! is `NotAuthorized` (fail closed).

use std::collections::HashMap;

use forge_proto::i18n::tr;
use forge_proto::ForgeError;
use zbus::message::{Flags, Header};
use zbus_polkit::policykit1::{AuthorityProxy, CheckAuthorizationFlags, Subject};

/// Asks polkit whether the sender of `header` may perform `action`.
/// `Ok(())` only on an explicit "authorized" answer.
pub async fn authorize(
    conn: &zbus::Connection,
    header: &Header<'_>,
    action: &str,
) -> Result<(), ForgeError> {
    let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
    let refused = || ForgeError::NotAuthorized(tr("You are not allowed to do this."));
    let subject = match Subject::new_for_message_header(header) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%action, "no polkit subject for the caller: {e}");
            return Err(refused());
        }
    };
    let flags = if header
        .primary()
        .flags()
        .contains(Flags::ALLOW_INTERACTIVE_AUTH)
    {
        CheckAuthorizationFlags::ALLOW_USER_INTERACTION
    } else {
        CheckAuthorizationFlags::empty()
    };
    let authority = match AuthorityProxy::new(conn).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(%action, %sender, "cannot reach polkit: {e}");
            return Err(refused());
        }
    };
    let details: HashMap<&str, &str> = HashMap::new();
    match authority
        .check_authorization(&subject, action, &details, flags, "")
        .await
    {
        Ok(r) if r.is_authorized => {
            tracing::info!(%action, %sender, "authorized by polkit");
            Ok(())
        }
        Ok(r) => {
            tracing::warn!(
                %action,
                %sender,
                challenge = r.is_challenge,
                "refused by polkit"
            );
            Err(refused())
        }
        Err(e) => {
            tracing::error!(%action, %sender, "polkit CheckAuthorization failed: {e}");
            Err(refused())
        }
    }
}
