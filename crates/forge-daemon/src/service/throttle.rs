//! The work budget of the unauthenticated calls (`ValidatePlan`,
//! `ListDisks`, `ListPackageGroups`; issue 9, item 1): any local user may
//! make them, so the daemon runs at most [`MAX_RUNNING`] at once, lets one
//! caller (one Unix user, however many connections it opens) hold at most
//! [`MAX_PER_CALLER`] of them running or waiting, and waits at most
//! [`MAX_WAIT`] for a turn. A caller over its share is answered `Busy` at
//! once, so a flood from one user cannot starve another: a second user
//! waits for at most one call of the first. A [`Permit`] gives its place
//! back on drop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use forge_proto::i18n::tr;
use forge_proto::ForgeError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zbus::message::Header;

/// Unauthenticated calls running at once, all callers together.
pub const MAX_RUNNING: usize = 4;
/// Calls one caller may have running or waiting.
pub const MAX_PER_CALLER: usize = 2;
/// Longest wait for a turn before the call is answered `Busy`.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Who a caller is for fairness: its Unix user, or its unique bus name when
/// the bus cannot say (a peer-to-peer connection).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Caller {
    Uid(u32),
    Name(String),
}

/// The budget; one per daemon.
pub struct Throttle {
    running: Arc<Semaphore>,
    callers: Arc<Mutex<HashMap<Caller, usize>>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            running: Arc::new(Semaphore::new(MAX_RUNNING)),
            callers: Arc::default(),
        }
    }
}

/// A turn: one running call of one caller, released on drop.
pub struct Permit {
    _running: OwnedSemaphorePermit,
    _share: Share,
}

/// One caller's place (running or waiting), given back on drop.
struct Share {
    callers: Arc<Mutex<HashMap<Caller, usize>>>,
    caller: Caller,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut map = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.caller);
            }
        }
    }
}

fn busy() -> ForgeError {
    ForgeError::Busy(tr(
        "The installer is busy answering other requests. Try again in a moment.",
    ))
}

impl Throttle {
    /// Waits for a turn for the sender of `header`, or `Busy` when the
    /// caller already has its share or no turn came within [`MAX_WAIT`].
    pub async fn enter(
        &self,
        conn: &zbus::Connection,
        header: &Header<'_>,
        call: &str,
    ) -> Result<Permit, ForgeError> {
        let caller = caller(conn, header).await;
        let share = {
            let mut map = self.callers.lock().unwrap_or_else(|p| p.into_inner());
            let n = map.entry(caller.clone()).or_insert(0);
            if *n >= MAX_PER_CALLER {
                tracing::info!(?caller, %call, "refused: the caller has its share running");
                return Err(busy());
            }
            *n += 1;
            Share {
                callers: Arc::clone(&self.callers),
                caller,
            }
        };
        match tokio::time::timeout(MAX_WAIT, Arc::clone(&self.running).acquire_owned()).await {
            Ok(Ok(running)) => Ok(Permit {
                _running: running,
                _share: share,
            }),
            _ => {
                tracing::warn!(caller = ?share.caller, %call, "refused: no turn in time");
                Err(busy())
            }
        }
    }
}

async fn caller(conn: &zbus::Connection, header: &Header<'_>) -> Caller {
    let Some(sender) = header.sender() else {
        return Caller::Name(String::new());
    };
    let uid = match zbus::fdo::DBusProxy::new(conn).await {
        Ok(bus) => bus
            .get_connection_unix_user(sender.clone().into())
            .await
            .ok(),
        Err(_) => None,
    };
    match uid {
        Some(uid) => Caller::Uid(uid),
        None => Caller::Name(sender.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_is_given_back_on_drop() {
        let t = Throttle::default();
        let caller = Caller::Uid(1000);
        t.callers.lock().unwrap().insert(caller.clone(), 1);
        drop(Share {
            callers: Arc::clone(&t.callers),
            caller,
        });
        assert!(t.callers.lock().unwrap().is_empty());
    }
}
