//! A logged-on session kept alive by a background thread until it is dropped.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::client::{Client, Session};
use crate::error::{Error, Result};

/// The shortest wait between two heartbeats (a lease of one second still gets a few).
const MIN_PERIOD: Duration = Duration::from_millis(250);

/// Whether a guarded session is still alive, or why it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// The last heartbeat renewed the lease (or none was due yet).
    Alive,
    /// The last heartbeat did not reach the server or the server failed (5xx); heartbeats go
    /// on, and the session lives while its lease has not lapsed.
    Unreachable {
        /// What failed.
        error: String,
    },
    /// The server ended the session; heartbeats stopped.
    Ended {
        /// Why: `lease-lapsed`, `logged-on-elsewhere`, `user-removed`, `station-removed`,
        /// `station-disabled`, `licenses-removed`, `logged-off`; `None` when the server did
        /// not say.
        reason: Option<String>,
        /// The server's message.
        message: String,
    },
    /// The server refused a heartbeat for another cause (a revoked token, say); heartbeats
    /// stopped.
    Refused {
        /// The refusal.
        error: String,
    },
    /// [`SessionGuard::logoff`] logged it off.
    LoggedOff,
}

impl SessionStatus {
    /// Whether the session may still be alive (heartbeats go on).
    pub fn is_alive(&self) -> bool {
        matches!(
            self,
            SessionStatus::Alive | SessionStatus::Unreachable { .. }
        )
    }
}

struct State {
    status: SessionStatus,
    lease_expires_at: String,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A session logged on by [`Client::logon`]: its lease is renewed on a background thread
/// until the guard is dropped, which logs the session off (as [`SessionGuard::logoff`] does,
/// but without telling of a failure). Both wait for a heartbeat in flight (at most the
/// client's request timeout).
pub struct SessionGuard {
    client: Client,
    session: Session,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SessionGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionGuard")
            .field("session", &self.session.session)
            .field("user", &self.session.user)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

/// The wait between heartbeats for a lease of `lease_seconds`: about a third of it.
fn period(lease_seconds: Option<u32>) -> Duration {
    // The server's default lease when it did not say (allocation's DEFAULT_LEASE_SECS).
    let lease = Duration::from_secs(u64::from(lease_seconds.unwrap_or(600).max(1)));
    (lease / 3).max(MIN_PERIOD)
}

impl SessionGuard {
    pub(crate) fn start(client: Client, session: Session) -> SessionGuard {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                status: SessionStatus::Alive,
                lease_expires_at: session.lease_expires_at.clone(),
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let every = period(session.lease_seconds);
        let (c, s, id) = (client.clone(), shared.clone(), session.session.clone());
        let thread = std::thread::Builder::new()
            .name(format!(
                "licclient-heartbeat-{}",
                id.chars().take(8).collect::<String>()
            ))
            .spawn(move || heartbeats(&c, &s, &id, every))
            .ok();
        if thread.is_none() {
            // No thread could be made: the session lives until its lease lapses.
            shared.lock().status = SessionStatus::Refused {
                error: "no heartbeat thread could be started".into(),
            };
        }
        SessionGuard {
            client,
            session,
            shared,
            thread,
        }
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.session.session
    }

    /// The server's answer to the logon: user, station, licenses, warnings.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The license keys the user may use.
    pub fn licenses(&self) -> &[String] {
        &self.session.licenses
    }

    /// What the server said to tell the user at logon.
    pub fn warnings(&self) -> &[String] {
        &self.session.warnings
    }

    /// When the lease lapses unless renewed (RFC 3339), as of the last heartbeat.
    pub fn lease_expires_at(&self) -> String {
        self.shared.lock().lease_expires_at.clone()
    }

    /// Whether the session is still alive, or why it ended.
    pub fn status(&self) -> SessionStatus {
        self.shared.lock().status.clone()
    }

    /// Stop the heartbeats and wait for the thread.
    fn stop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Log the session off (`DELETE`), releasing its licenses; an error when the server
    /// refused (a session the server had already ended: [`Error::SessionEnded`]) or could not
    /// be reached.
    pub fn logoff(mut self) -> Result<()> {
        self.stop();
        let r = self.client.logoff(&self.session.session);
        // Whatever the answer, the drop does not try again.
        self.shared.lock().status = SessionStatus::LoggedOff;
        r
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.stop();
        let ended = !self.shared.lock().status.is_alive();
        if !ended {
            let _ = self.client.logoff(&self.session.session);
        }
    }
}

/// The heartbeat loop: renew every `every` until stopped or the server ends the session.
fn heartbeats(client: &Client, shared: &Shared, id: &str, every: Duration) {
    let mut wait = every;
    loop {
        {
            let st = shared.lock();
            let (st, _) = shared
                .wake
                .wait_timeout_while(st, wait, |s| !s.stop)
                .unwrap_or_else(PoisonError::into_inner);
            if st.stop {
                return;
            }
        }
        let r = client.heartbeat(id);
        let mut st = shared.lock();
        if st.stop {
            return;
        }
        wait = every;
        match r {
            Ok(expires) => {
                st.lease_expires_at = expires;
                st.status = SessionStatus::Alive;
            }
            Err(e) if e.is_transient() => {
                // Try again sooner: the lease may still be running.
                wait = (every / 3).max(MIN_PERIOD);
                st.status = SessionStatus::Unreachable {
                    error: e.to_string(),
                };
            }
            Err(Error::SessionEnded(r)) => {
                st.status = SessionStatus::Ended {
                    reason: r.reason,
                    message: r.message,
                };
                return;
            }
            Err(e) => {
                st.status = SessionStatus::Refused {
                    error: e.to_string(),
                };
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_come_at_a_third_of_the_lease() {
        assert_eq!(period(Some(60)), Duration::from_secs(20));
        assert_eq!(period(Some(3)), Duration::from_secs(1));
        assert_eq!(period(Some(0)), Duration::from_secs(1) / 3);
        assert_eq!(period(None), Duration::from_secs(200));
    }
}
