//! The typed D-Bus errors of `org.intergenos.Forge1` (docs/design.md
//! section 3, docs/daemon.md). Both the daemon (which returns them) and
//! clients (which match on them) use this one definition. A client turns any
//! `zbus::Error` into a [`ForgeError`] with `From`: the daemon's errors by
//! their full D-Bus name, the bus's "no such service" and "access denied"
//! errors onto [`ForgeError::Unavailable`] and [`ForgeError::Denied`].

use zbus::message::{Header, Message};
use zbus::names::ErrorName;
use zbus::DBusError;

/// The prefix of the daemon's error names.
pub const ERROR_PREFIX: &str = "org.intergenos.Forge1.Error";

/// `org.intergenos.Forge1.Error.*`. The message is a short, translated,
/// person-readable sentence; details go to the daemon's log.
#[derive(Debug)]
pub enum ForgeError {
    /// Any other failure of the bus or the connection, kept whole.
    ZBus(zbus::Error),
    NotAuthorized(String),
    InvalidPlan(String),
    Busy(String),
    InvalidState(String),
    WrongPhrase(String),
    Failed(String),
    /// Client side only (the daemon never returns it): the installer
    /// service is not on the bus (`ServiceUnknown`, `NameHasNoOwner`).
    Unavailable(String),
    /// Client side only: the bus or polkit refused before the daemon
    /// answered (`AccessDenied`, `AuthFailed`,
    /// `InteractiveAuthorizationRequired`).
    Denied(String),
}

impl ForgeError {
    /// The full D-Bus error name.
    pub fn error_name(&self) -> &'static str {
        match self {
            ForgeError::ZBus(_) => "org.freedesktop.zbus.Error",
            ForgeError::NotAuthorized(_) => "org.intergenos.Forge1.Error.NotAuthorized",
            ForgeError::InvalidPlan(_) => "org.intergenos.Forge1.Error.InvalidPlan",
            ForgeError::Busy(_) => "org.intergenos.Forge1.Error.Busy",
            ForgeError::InvalidState(_) => "org.intergenos.Forge1.Error.InvalidState",
            ForgeError::WrongPhrase(_) => "org.intergenos.Forge1.Error.WrongPhrase",
            ForgeError::Failed(_) => "org.intergenos.Forge1.Error.Failed",
            ForgeError::Unavailable(_) => "org.intergenos.Forge1.Error.Unavailable",
            ForgeError::Denied(_) => "org.intergenos.Forge1.Error.Denied",
        }
    }

    /// The sentence a typed error carries; `None` for [`ForgeError::ZBus`].
    fn sentence(&self) -> Option<&str> {
        match self {
            ForgeError::ZBus(_) => None,
            ForgeError::NotAuthorized(m)
            | ForgeError::InvalidPlan(m)
            | ForgeError::Busy(m)
            | ForgeError::InvalidState(m)
            | ForgeError::WrongPhrase(m)
            | ForgeError::Failed(m)
            | ForgeError::Unavailable(m)
            | ForgeError::Denied(m) => Some(m),
        }
    }

    /// The message the error carries (for the daemon's errors: a
    /// translated sentence), or the zbus error's text.
    pub fn message(&self) -> String {
        match self {
            ForgeError::ZBus(e) => e.to_string(),
            other => other.sentence().unwrap_or_default().to_string(),
        }
    }

    /// The typed error for a full D-Bus error name, if it is one of ours.
    pub fn from_name(name: &str, message: String) -> Option<ForgeError> {
        let short = name.strip_prefix(ERROR_PREFIX)?.strip_prefix('.')?;
        Some(match short {
            "NotAuthorized" => ForgeError::NotAuthorized(message),
            "InvalidPlan" => ForgeError::InvalidPlan(message),
            "Busy" => ForgeError::Busy(message),
            "InvalidState" => ForgeError::InvalidState(message),
            "WrongPhrase" => ForgeError::WrongPhrase(message),
            "Failed" => ForgeError::Failed(message),
            "Unavailable" => ForgeError::Unavailable(message),
            "Denied" => ForgeError::Denied(message),
            _ => return None,
        })
    }

    /// Same as `ForgeError::from(e)`.
    pub fn from_zbus(e: zbus::Error) -> ForgeError {
        ForgeError::from(e)
    }
}

impl From<zbus::Error> for ForgeError {
    fn from(e: zbus::Error) -> ForgeError {
        use zbus::fdo::Error as Fdo;
        match e {
            zbus::Error::MethodError(ref name, ref msg, _) => {
                ForgeError::from_name(name.as_str(), msg.clone().unwrap_or_default())
                    .unwrap_or(ForgeError::ZBus(e))
            }
            zbus::Error::FDO(f) => match *f {
                Fdo::ServiceUnknown(m) | Fdo::NameHasNoOwner(m) => ForgeError::Unavailable(m),
                Fdo::AccessDenied(m)
                | Fdo::AuthFailed(m)
                | Fdo::InteractiveAuthorizationRequired(m) => ForgeError::Denied(m),
                other => ForgeError::ZBus(zbus::Error::FDO(Box::new(other))),
            },
            other => ForgeError::ZBus(other),
        }
    }
}

impl From<zbus::fdo::Error> for ForgeError {
    fn from(e: zbus::fdo::Error) -> ForgeError {
        ForgeError::from(zbus::Error::from(e))
    }
}

impl DBusError for ForgeError {
    fn create_reply(&self, call: &Header<'_>) -> zbus::Result<Message> {
        let message = self.message();
        Message::error(call, self.name()).build(&(message,))
    }

    fn name(&self) -> ErrorName<'_> {
        ErrorName::from_static_str_unchecked(self.error_name())
    }

    fn description(&self) -> Option<&str> {
        match self {
            ForgeError::ZBus(e) => e.description(),
            other => other.sentence(),
        }
    }
}

impl std::fmt::Display for ForgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForgeError::ZBus(e) => write!(f, "{e}"),
            other => write!(f, "{}: {}", other.error_name(), other.message()),
        }
    }
}

impl std::error::Error for ForgeError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn method_error(name: &str, text: &str) -> zbus::Error {
        let call = Message::method_call("/org/intergenos/Forge1", "Install")
            .sender(":1.7")
            .build(&())
            .expect("build");
        let reply = Message::error(&call.header(), name)
            .build(&(text,))
            .expect("reply");
        zbus::Error::from(reply)
    }

    #[test]
    fn the_daemons_errors_map_by_full_name() {
        for (name, check) in [
            (
                "NotAuthorized",
                (|e| matches!(e, ForgeError::NotAuthorized(_))) as fn(&ForgeError) -> bool,
            ),
            ("InvalidPlan", |e| matches!(e, ForgeError::InvalidPlan(_))),
            ("Busy", |e| matches!(e, ForgeError::Busy(_))),
            ("InvalidState", |e| matches!(e, ForgeError::InvalidState(_))),
            ("WrongPhrase", |e| matches!(e, ForgeError::WrongPhrase(_))),
            ("Failed", |e| matches!(e, ForgeError::Failed(_))),
        ] {
            let full = format!("{ERROR_PREFIX}.{name}");
            let e = ForgeError::from(method_error(&full, "a sentence"));
            assert!(check(&e), "{full} became {e:?}");
            assert_eq!(e.message(), "a sentence");
            assert_eq!(e.error_name(), full);
        }
        // Only the full name counts: the same last component under another
        // prefix is somebody else's error.
        let e = ForgeError::from(method_error("com.example.Error.Busy", "x"));
        assert!(matches!(e, ForgeError::ZBus(_)), "{e:?}");
    }

    #[test]
    fn bus_errors_map_onto_clear_variants() {
        let e = ForgeError::from(method_error(
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "no such name",
        ));
        assert!(
            matches!(e, ForgeError::Unavailable(ref m) if m == "no such name"),
            "{e:?}"
        );
        let e = ForgeError::from(zbus::fdo::Error::NameHasNoOwner("gone".into()));
        assert!(matches!(e, ForgeError::Unavailable(_)), "{e:?}");
        let e = ForgeError::from(method_error(
            "org.freedesktop.DBus.Error.AccessDenied",
            "policy",
        ));
        assert!(matches!(e, ForgeError::Denied(_)), "{e:?}");
        let e = ForgeError::from(zbus::fdo::Error::Failed("other".into()));
        assert!(matches!(e, ForgeError::ZBus(_)), "{e:?}");
        let e = ForgeError::from(zbus::Error::InvalidReply);
        assert!(matches!(e, ForgeError::ZBus(zbus::Error::InvalidReply)));
    }

    #[test]
    fn replies_carry_the_name_and_the_sentence() {
        let call = Message::method_call("/org/intergenos/Forge1", "Install")
            .sender(":1.7")
            .build(&())
            .expect("build");
        let reply = ForgeError::Busy("Another installation is already running.".into())
            .create_reply(&call.header())
            .expect("reply");
        let back = ForgeError::from(zbus::Error::from(reply));
        assert!(
            matches!(back, ForgeError::Busy(ref m) if m == "Another installation is already running."),
            "{back:?}"
        );
    }
}
