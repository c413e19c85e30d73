//! Requests done once (table `idempotency`): a portal page form's one-time token, or an API
//! request's `Idempotency-Key`, is kept per user with the SHA-256 of the request it came
//! with and the answer it got, written in the same transaction as the work. Looked up in
//! that transaction (under the writer lock, so two requests with one key never both do the
//! work): the same key with the same request answers what the first one got; with another
//! request it is refused ([`IssuerError::KeyReused`]). Keys are kept [`KEEP_SECS`].
//!
//! Like sessions, keys are bookkeeping: they add no audit row (the work they go with has
//! its own).

use format::{FileId, SecretKey, Timestamp};
use store::{params, OptionalExt, Tx, TxExt};

use super::{Issued, Ledger};
use crate::catalog::Catalog;
use crate::error::IssuerError;
use crate::rules::{self, IssueRequest};

/// How long a key is kept: a repeat after this is new work.
pub const KEEP_SECS: i64 = 24 * 60 * 60;

/// The longest key accepted (an API client's `Idempotency-Key`).
pub const MAX_KEY_LEN: usize = 255;

/// One request's key: who sent it, the key, and the SHA-256 of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnceKey {
    /// Who sent it (`portal:EMAIL`): one user's key never answers another's request.
    pub actor: String,
    /// The key (printable ASCII, 1 to [`MAX_KEY_LEN`] characters).
    pub key: String,
    /// The SHA-256 of the request (method, path and body).
    pub request_sha256: [u8; 32],
}

impl OnceKey {
    /// A key, checked: printable ASCII without spaces, 1 to [`MAX_KEY_LEN`] characters.
    pub fn new(actor: &str, key: &str, request_sha256: [u8; 32]) -> Result<OnceKey, String> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(format!(
                "the idempotency key must have 1 to {MAX_KEY_LEN} characters, not {}",
                key.len()
            ));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "the idempotency key must be printable ASCII characters without spaces".into(),
            );
        }
        Ok(OnceKey {
            actor: actor.to_string(),
            key: key.to_string(),
            request_sha256,
        })
    }
}

/// What a key's request got the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// Its HTTP status.
    pub status: u16,
    /// Its body (for a file issued, the file's id).
    pub body: Vec<u8>,
}

/// The status kept for a file issued (its answer's body is the file's id).
pub const ISSUED_STATUS: u16 = 201;

impl Ledger {
    /// What `k`'s request got, in the transaction `tx` (`None`: not seen within
    /// [`KEEP_SECS`] of `now`); [`IssuerError::KeyReused`] when the key came with another
    /// request.
    pub(crate) fn answered_in(
        tx: &dyn Tx,
        k: &OnceKey,
        now: Timestamp,
    ) -> Result<Option<Answered>, IssuerError> {
        let row: Option<(Vec<u8>, i64, Vec<u8>)> = tx
            .query_row(
                "SELECT request_sha256, status, body FROM idempotency
                 WHERE actor = ?1 AND key = ?2 AND created_at > ?3",
                params![k.actor, k.key, now.unix() - KEEP_SECS],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((sha, _, _)) if sha != k.request_sha256 => {
                Err(IssuerError::KeyReused { key: k.key.clone() })
            }
            Some((_, status, body)) => Ok(Some(Answered {
                status: u16::try_from(status).unwrap_or(500),
                body,
            })),
        }
    }

    /// Keep `k`'s answer in the transaction `tx` (the one doing its work), and drop the keys
    /// older than [`KEEP_SECS`] (one that expired is replaced).
    pub(crate) fn remember_in(
        tx: &dyn Tx,
        k: &OnceKey,
        answer: &Answered,
        now: Timestamp,
    ) -> Result<(), IssuerError> {
        tx.execute(
            "DELETE FROM idempotency WHERE created_at <= ?1",
            params![now.unix() - KEEP_SECS],
        )?;
        tx.execute(
            "INSERT INTO idempotency (actor, key, request_sha256, status, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                k.actor,
                k.key,
                k.request_sha256.as_slice(),
                i64::from(answer.status),
                answer.body.as_slice(),
                now.unix()
            ],
        )?;
        Ok(())
    }

    /// What `k`'s request got, outside a transaction (for a test or a fast answer; the
    /// check that counts is the one in the work's transaction).
    pub fn answered(&self, k: &OnceKey, now: Timestamp) -> Result<Option<Answered>, IssuerError> {
        Self::answered_in(self.tx(), k, now)
    }

    /// [`Ledger::issue_each`], each request with its key (or none; `keys` shorter than
    /// `reqs` leaves the rest without): a request whose key was seen with the same request
    /// answers the file issued then (nothing new is issued or recorded); with another
    /// request it is refused ([`IssuerError::KeyReused`]); else its file is issued and the
    /// key kept in the same savepoint, so both are recorded or neither.
    pub fn issue_each_once(
        &mut self,
        catalog: &Catalog,
        reqs: &[IssueRequest],
        keys: &[Option<OnceKey>],
        key: &SecretKey,
        now: Timestamp,
    ) -> Result<Vec<Result<Issued, IssuerError>>, IssuerError> {
        let tx = self.db.begin_write()?;
        let mut out = Vec::with_capacity(reqs.len());
        for (i, req) in reqs.iter().enumerate() {
            let once = keys.get(i).and_then(Option::as_ref);
            if let Some(k) = once {
                match Self::answered_in(&tx, k, now) {
                    Ok(None) => {}
                    Ok(Some(a)) => {
                        out.push(Self::issued_again(&tx, &a));
                        continue;
                    }
                    Err(e) => {
                        out.push(Err(e));
                        continue;
                    }
                }
            }
            let req = &match Self::spelled(&tx, catalog, req) {
                Ok(r) => r,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            let signed = rules::plan(catalog, req).and_then(|plan| {
                let a = rules::activation(req, &plan, FileId::random(), now);
                let bytes = format::sign(&a, key)?.into_bytes();
                Ok((plan, a, bytes))
            });
            let (plan, a, bytes) = match signed {
                Ok(v) => v,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            tx.execute_batch("SAVEPOINT issue_one")?;
            let recorded = Self::record_in(&tx, req, &plan, &a, key, &bytes).and_then(|()| {
                let Some(k) = once else { return Ok(()) };
                let answer = Answered {
                    status: ISSUED_STATUS,
                    body: a.file_id.to_string().into_bytes(),
                };
                Self::remember_in(&tx, k, &answer, now)
            });
            match recorded {
                Ok(()) => {
                    tx.execute_batch("RELEASE issue_one")?;
                    out.push(Ok(Issued {
                        file_id: a.file_id,
                        bytes,
                        expires_at: a.expires_at,
                    }));
                }
                Err(e) => {
                    // Undo this request's rows only; failing to, the whole is undone.
                    tx.execute_batch("ROLLBACK TO issue_one")?;
                    tx.execute_batch("RELEASE issue_one")?;
                    out.push(Err(e));
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// The file `once`'s request issued, when it was seen (outside a transaction: a quick
    /// answer before checks that would refuse the repeat).
    pub(crate) fn answered_issue(
        &self,
        once: Option<&OnceKey>,
        now: Timestamp,
    ) -> Result<Option<Issued>, IssuerError> {
        match once {
            Some(k) => match Self::answered_in(self.tx(), k, now)? {
                Some(a) => Self::issued_again(self.tx(), &a).map(Some),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Record a signed file ([`Ledger::record`]) with its request's key in the same
    /// transaction; when the key was recorded meanwhile (another request with it), nothing
    /// is recorded and the file it issued is answered.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_once(
        &mut self,
        req: &IssueRequest,
        plan: &crate::rules::Plan,
        a: &format::Activation,
        key: &SecretKey,
        bytes: &[u8],
        once: Option<&OnceKey>,
        now: Timestamp,
    ) -> Result<Option<Issued>, IssuerError> {
        let tx = self.db.begin_write()?;
        if let Some(k) = once {
            if let Some(done) = Self::answered_in(&tx, k, now)? {
                return Self::issued_again(&tx, &done).map(Some);
            }
        }
        Self::record_in(&tx, req, plan, a, key, bytes)?;
        if let Some(k) = once {
            let answer = Answered {
                status: ISSUED_STATUS,
                body: a.file_id.to_string().into_bytes(),
            };
            Self::remember_in(&tx, k, &answer, now)?;
        }
        tx.commit()?;
        Ok(None)
    }

    /// The file a key's first request issued, as it was answered then.
    fn issued_again(tx: &dyn Tx, a: &Answered) -> Result<Issued, IssuerError> {
        let id = String::from_utf8_lossy(&a.body).into_owned();
        let (bytes, expires): (Vec<u8>, i64) = tx
            .query_row(
                "SELECT bytes, expires_at FROM files WHERE id = ?1",
                [id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| IssuerError::UnknownFile { id: id.clone() })?;
        Ok(Issued {
            file_id: id
                .parse()
                .map_err(|_| IssuerError::UnknownFile { id: id.clone() })?,
            bytes,
            expires_at: Timestamp::from_unix(expires)
                .ok_or(IssuerError::UnknownFile { id: id.clone() })?,
        })
    }
}
