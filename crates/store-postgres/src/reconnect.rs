//! Connecting again after the connection to the server was lost (the server restarted, a
//! standby took over, an administrator ended the backend): the next transaction or statement
//! outside a transaction connects anew, as the URL says (with several hosts and
//! `target_session_attrs=read-write`, to whichever is the primary now). Nothing is retried:
//! the statement that met the loss failed, and what it had not committed was rolled back by
//! the server. After a failed attempt the next waits [`RECONNECT_PAUSE`], so a server that is
//! down is not asked again by every request; meanwhile the last failure is returned at once.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use postgres::Client;
use store::{Error, ErrorKind, Result};

use crate::config::Settings;
use crate::error::{map, CONNECTING};

/// How long after a failed attempt to connect again the next one waits.
pub const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// Where a connection goes, and the last failed attempt to connect there again.
pub(crate) struct Reconnect {
    pub(crate) settings: Settings,
    failed: RefCell<Option<(Instant, Error)>>,
}

impl Reconnect {
    pub(crate) fn new(settings: Settings) -> Reconnect {
        Reconnect {
            settings,
            failed: RefCell::new(None),
        }
    }

    /// A new client, or why there is none ([`ErrorKind::Io`]).
    pub(crate) fn connect(&self) -> Result<Client> {
        let mut failed = self.failed.try_borrow_mut().map_err(|_| {
            Error::new(
                ErrorKind::Other,
                "the connection is being made on another call",
            )
        })?;
        if let Some((at, e)) = failed.as_ref() {
            if at.elapsed() < RECONNECT_PAUSE {
                return Err(e.clone());
            }
        }
        let s = &self.settings;
        match s.config.connect(s.tls.clone()) {
            Ok(client) => {
                *failed = None;
                Ok(client)
            }
            Err(e) => {
                let cause = map(&e, CONNECTING, &s.target);
                let e = Error::new(
                    ErrorKind::Io,
                    format!(
                        "the connection to the store was lost and connecting again failed: {cause}"
                    ),
                );
                *failed = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }
}
