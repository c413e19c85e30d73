//! Releasing the loaded file (`licadmin release`): the store stops using it for good and
//! signs a release receipt with its install key, which the vendor checks before giving the
//! file's units back (docs/FORMAT.md section 20, docs/DEACTIVATION.md).

use format::receipt::{Receipt, ReleaseFacts};
use format::{HostId, PublicKey, Timestamp};
use hostid::RequestCode;
use serde::Serialize;
use store::{params, OptionalExt, Tx, TxExt};
use verify::License;

use crate::allocator::Allocator;
use crate::error::AllocError;
use crate::{identity, install_key};

/// What [`Allocator::release`] did, and the receipt to send to the vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The released file's id.
    pub file_id: String,
    /// Its lineage (refused by this store from now on, every generation).
    pub lineage: String,
    /// Its generation (0 for a version-1 file).
    pub generation: u32,
    /// The host-ID code of the file's host this machine matched.
    pub host_id: String,
    /// When (`YYYY-MM-DDTHH:MM:SSZ`).
    pub released_at: String,
    /// Sessions ended.
    pub sessions_ended: u64,
    /// Allocations (user and station grants) freed.
    pub allocations_freed: u64,
    /// Whether the file binds this store's install key to that host: only then can the
    /// vendor check the receipt (a file issued for a host-ID code, not a request code, binds
    /// none).
    pub key_bound: bool,
    /// The signed receipt (docs/FORMAT.md section 20), ready to paste or upload.
    pub receipt: String,
}

/// Refuse a file of a lineage the store released (exit 16, as a rollback): a release is for
/// good, whatever generation comes later.
pub(crate) fn refuse_released(c: &dyn Tx, l: &License) -> Result<(), AllocError> {
    let lineage = l.lineage().to_string();
    let released: Option<(String, i64)> = c
        .query_row(
            "SELECT file_id, released_at FROM released WHERE lineage = ?1",
            [&lineage],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match released {
        Some((file_id, at)) => Err(AllocError::Released {
            lineage,
            file_id,
            released_at: Timestamp::from_unix(at)
                .map(|t| t.to_string())
                .unwrap_or_else(|| at.to_string()),
        }),
        None => Ok(()),
    }
}

fn count(c: &dyn Tx, sql: &str) -> Result<u64, AllocError> {
    let n: i64 = c.query_row(sql, [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

impl Allocator {
    /// The store's public install key (the half a request code carries).
    pub fn install_key(&self) -> Result<PublicKey, AllocError> {
        self.read(|c, _| install_key::public(c))
    }

    /// The request code of this store on the machine with the strong host-ID code `host`
    /// (`licadmin request`). A short code is refused: a request code carries the strong form.
    pub fn request_code(&self, host: HostId) -> Result<RequestCode, AllocError> {
        let key = self.install_key()?;
        RequestCode::new(host, key.to_bytes()).map_err(|e| AllocError::InvalidInput {
            what: "host ID",
            reason: format!(
                "{e}; a request code needs the strong host-ID code (gethostid --strong)"
            ),
        })
    }

    /// Stop using the loaded file for good and sign a release receipt, in one transaction:
    /// the file's lineage is recorded as released (any generation of it is refused from then
    /// on, exit 16), every session ends (reason `released`), every allocation is freed, and
    /// the store holds no license ([`AllocError::NoLicenseLoaded`] afterwards). The file must
    /// still verify here (a store cannot release what it does not hold).
    pub fn release(&self) -> Result<Release, AllocError> {
        self.tx(|c, now| {
            let l = self.license_in(c)?;
            let key = install_key::secret(c)?;
            let host = l.matched_host();
            let released_at = Timestamp::from_unix(now).unwrap_or_else(Timestamp::now);
            let facts = ReleaseFacts {
                file_id: l.file_id(),
                lineage: l.lineage(),
                generation: l.generation().unwrap_or(0),
                host_id: host.host_id,
                released_at,
            };
            let receipt = Receipt::sign(&facts, &key);
            let key_bound = host.install_key.as_ref() == Some(key.public_key());
            drop(key);
            let sessions_ended = count(c, "SELECT COUNT(*) FROM sessions")?;
            let allocations_freed = count(
                c,
                "SELECT (SELECT COUNT(*) FROM user_grants) + (SELECT COUNT(*) FROM station_grants)",
            )?;
            c.execute(
                "INSERT INTO ended_sessions (id, reason, ended_at) SELECT id, 'released', ?1 FROM sessions WHERE true ON CONFLICT (id) DO NOTHING",
                [now],
            )?;
            for sql in [
                "DELETE FROM session_licenses",
                "DELETE FROM sessions",
                "DELETE FROM user_grants",
                "DELETE FROM station_grants",
                "DELETE FROM ceilings",
                "DELETE FROM license WHERE id = 1",
            ] {
                c.execute(sql, [])?;
            }
            c.execute(
                "INSERT INTO released (lineage, file_id, generation, released_at, receipt) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (lineage) DO UPDATE SET file_id = excluded.file_id, generation = excluded.generation,
                   released_at = excluded.released_at, receipt = excluded.receipt",
                params![
                    facts.lineage.to_string(),
                    facts.file_id.to_string(),
                    i64::from(facts.generation),
                    now,
                    receipt.as_str()
                ],
            )?;
            identity::log(
                c,
                released_at,
                "release",
                &format!(
                    "released file {} (lineage {}, generation {}); {sessions_ended} session(s) ended, {allocations_freed} allocation(s) freed",
                    facts.file_id, facts.lineage, facts.generation
                ),
            )?;
            Ok(Release {
                file_id: facts.file_id.to_string(),
                lineage: facts.lineage.to_string(),
                generation: facts.generation,
                host_id: facts.host_id.to_string(),
                released_at: released_at.to_string(),
                sessions_ended,
                allocations_freed,
                key_bound,
                receipt,
            })
        })
    }
}
