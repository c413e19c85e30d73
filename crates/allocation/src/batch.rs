//! Group commit: many clients' logons, heartbeats, logoffs and checkouts in one write
//! transaction ([`Allocator::batch`]), so a server under a burst pays one commit (one
//! durable flush) for all of them.
//!
//! Logons are decided from one read of the pool ([`crate::batch_logon`]); runs of
//! heartbeats and of logoffs take a few statements each ([`crate::batch_sessions`]).
//! Every other operation, and a logon the rules refuse, runs under its own `SAVEPOINT`: a refused one is rolled back to it and
//! changes nothing, so one refusal never affects another in the batch. The batch holds the
//! store's writer lock as any change does, so in-use never exceeds licensed across
//! processes; inside it the operations see each other's changes in order, exactly as if
//! each had been its own transaction in that order.

use std::collections::BTreeMap;

use store::Tx;

use crate::allocator::{check_login, logout_in, validate_session_id};
use crate::checkouts::{check_checkout, return_checkout_in, validate_id, Checkout};
use crate::error::AllocError;
use crate::model::{Place, Session};
use crate::Allocator;

type Result<T> = std::result::Result<T, AllocError>;

/// One operation of a batch: the arguments of the `Allocator` method it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// [`Allocator::login`].
    Login {
        /// The user.
        user: String,
        /// Where.
        place: Place,
        /// The lease asked for (the default when none).
        lease_secs: Option<u32>,
    },
    /// [`Allocator::heartbeat`] of this session.
    Heartbeat(String),
    /// [`Allocator::logout`] of this session.
    Logout(String),
    /// [`Allocator::checkout`].
    Checkout {
        /// The session key.
        key: String,
        /// What is connecting.
        application: Option<String>,
        /// The lease asked for (the default when none).
        lease_secs: Option<u32>,
    },
    /// [`Allocator::renew_checkout`] of this checkout.
    RenewCheckout(String),
    /// [`Allocator::return_checkout`] of this checkout.
    ReturnCheckout(String),
}

/// A logon done in a batch: the session, and what the user may now use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logon {
    /// The session, as [`Allocator::login`] returns it.
    pub session: Session,
    /// The licenses assigned to the user and those the logon acquired, sorted, once each.
    pub licenses: Vec<String>,
    /// Days left before the license expires, if it does.
    pub days_left: Option<i64>,
}

/// What one operation of a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchDone {
    /// A logon ([`BatchOp::Login`]).
    Login(Box<Logon>),
    /// A renewed session ([`BatchOp::Heartbeat`]).
    Session(Box<Session>),
    /// A checkout made or renewed ([`BatchOp::Checkout`], [`BatchOp::RenewCheckout`]).
    Checkout(Box<Checkout>),
    /// A session ended or a checkout returned ([`BatchOp::Logout`], [`BatchOp::ReturnCheckout`]).
    Ended,
}

/// An operation whose input was checked: what runs inside the transaction.
enum Checked<'a> {
    Login(&'a str, &'a Place, u32),
    Heartbeat(&'a str),
    Logout(&'a str),
    Checkout(&'a str, Option<&'a str>, u32),
    RenewCheckout(&'a str),
    ReturnCheckout(&'a str),
}

fn check(op: &BatchOp) -> Result<Checked<'_>> {
    Ok(match op {
        BatchOp::Login {
            user,
            place,
            lease_secs,
        } => Checked::Login(user, place, check_login(user, place, *lease_secs)?),
        BatchOp::Heartbeat(id) => {
            validate_session_id(id)?;
            Checked::Heartbeat(id)
        }
        BatchOp::Logout(id) => {
            validate_session_id(id)?;
            Checked::Logout(id)
        }
        BatchOp::Checkout {
            key,
            application,
            lease_secs,
        } => {
            let lease = check_checkout(key, application.as_deref(), *lease_secs)?;
            Checked::Checkout(key, application.as_deref(), lease)
        }
        BatchOp::RenewCheckout(id) => {
            validate_id(id)?;
            Checked::RenewCheckout(id)
        }
        BatchOp::ReturnCheckout(id) => {
            validate_id(id)?;
            Checked::ReturnCheckout(id)
        }
    })
}

/// The session ids of the run of consecutive heartbeats (`true`), or of logoffs, that
/// starts at `i`, if one does.
fn run_at<'a>(checked: &[Option<Result<Checked<'a>>>], i: usize) -> Option<(bool, Vec<&'a str>)> {
    let heartbeat = match checked.get(i)? {
        Some(Ok(Checked::Heartbeat(_))) => true,
        Some(Ok(Checked::Logout(_))) => false,
        _ => return None,
    };
    let ids = checked[i..]
        .iter()
        .map_while(|c| match c {
            Some(Ok(Checked::Heartbeat(id))) if heartbeat => Some(*id),
            Some(Ok(Checked::Logout(id))) if !heartbeat => Some(*id),
            _ => None,
        })
        .collect();
    Some((heartbeat, ids))
}

impl Allocator {
    /// Run `ops` in one write transaction, each under its own savepoint, in order, and
    /// commit once: each operation's own result, as its `Allocator` method would have
    /// answered it run alone at that point (a refused logon is recorded as a denial, in
    /// the same transaction). An error of the whole (the store unreachable or busy, the
    /// commit failing) is the outer one: then nothing of the batch was done.
    pub fn batch(&self, ops: &[BatchOp]) -> Result<Vec<Result<BatchDone>>> {
        let checked: Vec<Result<Checked<'_>>> = ops.iter().map(check).collect();
        let mut checked: Vec<Option<Result<Checked<'_>>>> = checked.into_iter().map(Some).collect();
        if checked.iter().all(|c| matches!(c, Some(Err(_)))) {
            return Ok(checked
                .into_iter()
                .flatten()
                .map(|c| c.map(|_| BatchDone::Ended))
                .collect());
        }
        // Every operation of the batch reads the same license: verified once.
        let _pinned = crate::batch_license::BatchScope::begin();
        // The users of the batch's logons, for the one read of the pool.
        let users: Vec<&str> = ops
            .iter()
            .filter_map(|op| match op {
                BatchOp::Login {
                    user,
                    place: Place::Nowhere,
                    ..
                } => Some(user.as_str()),
                _ => None,
            })
            .collect();
        self.tx(|c, now| {
            let mut fast = crate::batch_logon::FastLogons::default();
            let mut out = Vec::with_capacity(checked.len());
            // The savepoint of the last operation that succeeded, still open: released in
            // the same round trip as the next one is taken (the commit releases the last).
            let mut open = false;
            let mut i = 0;
            while i < checked.len() {
                if let Some((heartbeat, ids)) = run_at(&checked, i) {
                    fast.flush(c, now)?;
                    let done = if heartbeat {
                        crate::batch_sessions::heartbeats(self, c, now, &ids)?
                    } else {
                        crate::batch_sessions::logoffs(c, now, &ids)?
                    };
                    if let Some(done) = done {
                        out.extend(done);
                        i += ids.len();
                        continue;
                    }
                }
                let slot = &mut checked[i];
                i += 1;
                let op = match slot.take() {
                    Some(Ok(op)) => op,
                    Some(Err(e)) => {
                        out.push(Err(e));
                        continue;
                    }
                    None => return Err(AllocError::Internal("a batch operation ran twice".into())),
                };
                if let Checked::Login(user, Place::Nowhere, lease) = &op {
                    if let Some(done) = fast.logon(self, c, now, user, *lease, &users)? {
                        out.push(Ok(done));
                        continue;
                    }
                }
                // What was decided from the pool state is written before anything else
                // runs, and the state read again after it.
                fast.flush(c, now)?;
                c.run_batch(if open {
                    "RELEASE SAVEPOINT i3lic_op; SAVEPOINT i3lic_op"
                } else {
                    "SAVEPOINT i3lic_op"
                })?;
                open = true;
                match self.run_checked(c, now, &op) {
                    Ok(done) => out.push(Ok(done)),
                    Err(e) => {
                        // A lost connection fails here too, and with it the whole batch.
                        c.run_batch("ROLLBACK TO SAVEPOINT i3lic_op; RELEASE SAVEPOINT i3lic_op")?;
                        open = false;
                        if let Checked::Login(user, _, _) = op {
                            crate::history::record_denial_in(
                                c,
                                now,
                                &format!("user '{user}'"),
                                &e,
                            )?;
                        }
                        out.push(Err(e));
                    }
                }
            }
            fast.flush(c, now)?;
            Ok(out)
        })
    }

    fn run_checked(&self, c: &dyn Tx, now: i64, op: &Checked<'_>) -> Result<BatchDone> {
        Ok(match *op {
            Checked::Login(user, place, lease) => {
                let mut keys = Some(BTreeMap::new());
                let session = self.login_keys_in(c, now, user, place, lease, &mut keys)?;
                let mut licenses: Vec<String> = keys.unwrap_or_default().into_keys().collect();
                licenses.extend(session.acquired.iter().cloned());
                licenses.sort();
                licenses.dedup();
                let days_left = self.license_in(c).ok().and_then(|l| l.days_left());
                BatchDone::Login(Box::new(Logon {
                    session,
                    licenses,
                    days_left,
                }))
            }
            Checked::Heartbeat(id) => BatchDone::Session(Box::new(self.heartbeat_in(c, now, id)?)),
            Checked::Logout(id) => {
                logout_in(c, now, id)?;
                BatchDone::Ended
            }
            Checked::Checkout(key, app, lease) => {
                BatchDone::Checkout(Box::new(self.checkout_in(c, now, key, app, lease)?))
            }
            Checked::RenewCheckout(id) => {
                BatchDone::Checkout(Box::new(self.renew_checkout_in(c, now, id)?))
            }
            Checked::ReturnCheckout(id) => {
                return_checkout_in(c, now, id)?;
                BatchDone::Ended
            }
        })
    }
}
