//! The typed D-Bus errors of `org.intergenos.Forge1` (docs/design.md section 3).
//! Both the daemon (which returns them) and clients (which match on them)
//! use this one definition.

use zbus::DBusError;

/// `org.intergenos.Forge1.Error.*`. The message is a short, translated,
/// person-readable sentence; details go to the daemon's log.
#[derive(Debug, DBusError)]
#[zbus(prefix = "org.intergenos.Forge1.Error")]
pub enum ForgeError {
    #[zbus(error)]
    ZBus(zbus::Error),
    NotAuthorized(String),
    InvalidPlan(String),
    Busy(String),
    InvalidState(String),
    WrongPhrase(String),
    Failed(String),
}
