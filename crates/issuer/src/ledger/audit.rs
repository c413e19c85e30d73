//! Checking the audit log: the hash chain, and the files it must account for.

use std::collections::{HashMap, HashSet};
use store::TxExt;

use sha2::{Digest, Sha256};
use std::fmt;

use super::{audit_hash, hex, Ledger};
use crate::error::IssuerError;

/// Something wrong with the audit log. Each names the row (sequence number) or file at fault.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditProblem {
    /// The row's content no longer matches its hash: it was edited (or forged without the
    /// chain's rules).
    Edited {
        /// Sequence number of the row.
        seq: i64,
    },
    /// The row does not follow the row before it in the chain, although its own hash is
    /// consistent: it was inserted (or the chain was re-linked around it).
    Inserted {
        /// Sequence number of the row.
        seq: i64,
    },
    /// Rows are missing from the chain: the sequence jumps, or the chain's first row is not 1.
    Deleted {
        /// First missing sequence number.
        from_seq: i64,
        /// Last missing sequence number.
        to_seq: i64,
    },
    /// A row whose link to the previous row is broken where the previous row itself is fine
    /// and no row is missing by number (for example a deleted row whose successors were
    /// renumbered).
    BrokenLink {
        /// Sequence number of the row.
        seq: i64,
    },
    /// An issued file that no audit row records (its row was deleted).
    Unrecorded {
        /// The file id.
        file: String,
    },
    /// An issued file whose recorded bytes no longer hash to the SHA-256 its audit row
    /// records (the `files` row was rewritten: `issuer download` would hand out other bytes).
    FileAltered {
        /// The file id.
        file: String,
    },
    /// An inactive file that no audit row deactivates or supersedes.
    UnrecordedDeactivation {
        /// The file id.
        file: String,
    },
    /// An audit row deactivates a file that the ledger holds as active (a forged row).
    DeactivationNotApplied {
        /// Sequence number of the row.
        seq: i64,
        /// The file id.
        file: String,
    },
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditProblem::Edited { seq } => {
                write!(f, "row {seq}: its content does not match its hash (edited)")
            }
            AuditProblem::Inserted { seq } => write!(
                f,
                "row {seq}: not part of the chain (inserted): the next row links to the row before it"
            ),
            AuditProblem::Deleted { from_seq, to_seq } if from_seq == to_seq => {
                write!(f, "row {from_seq}: missing (deleted)")
            }
            AuditProblem::Deleted { from_seq, to_seq } => {
                write!(f, "rows {from_seq} to {to_seq}: missing (deleted)")
            }
            AuditProblem::BrokenLink { seq } => write!(
                f,
                "row {seq}: does not link to the row before it (a row was removed or replaced before it)"
            ),
            AuditProblem::Unrecorded { file } => write!(
                f,
                "file {file}: issued but no audit row records it (its row was deleted)"
            ),
            AuditProblem::FileAltered { file } => write!(
                f,
                "file {file}: its recorded bytes do not match the SHA-256 its audit row records (altered)"
            ),
            AuditProblem::UnrecordedDeactivation { file } => write!(
                f,
                "file {file}: inactive but no audit row deactivates or supersedes it"
            ),
            AuditProblem::DeactivationNotApplied { seq, file } => write!(
                f,
                "row {seq}: deactivates file {file}, which the ledger holds as active (forged row)"
            ),
        }
    }
}

/// The result of [`Ledger::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditReport {
    /// Rows read.
    pub rows: u64,
    /// Sequence number of the last row.
    pub head_seq: i64,
    /// Hash of the last row (hex): note it elsewhere to detect a rewritten chain later
    /// (`audit verify --head SEQ:HASH`).
    pub head_hash: String,
    /// Everything found wrong, in chain order; empty when the log is intact.
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    /// Whether nothing is wrong.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

struct Row {
    seq: i64,
    hash: Vec<u8>,
    own_ok: bool,
}

impl Ledger {
    /// Re-compute the audit log's hash chain and check it against the files it must record.
    ///
    /// Each row's hash covers the previous row's hash, so an edited row fails its own hash,
    /// an inserted row breaks the link of the row after it, and a deleted row leaves a gap in
    /// the sequence (or, if the rows after it were renumbered, a broken link). A deleted last
    /// row leaves a file no row records. `head`, a `(seq, hash)` noted earlier, catches a
    /// chain rewritten end to end by someone who knows the hash rule.
    pub fn verify_audit(&self, head: Option<(i64, [u8; 32])>) -> Result<AuditReport, IssuerError> {
        let mut problems = Vec::new();
        let mut window: Vec<Row> = Vec::with_capacity(3);
        // Each issued file's id and the SHA-256 of its bytes, as its audit row records them.
        let mut recorded: HashMap<String, Option<String>> = HashMap::new();
        let mut deactivations: Vec<(i64, String)> = Vec::new();
        let mut count = 0u64;
        let mut head_ok = head.is_none();
        super::for_each_row(
            self.tx(),
            "SELECT seq, at, actor, action, subject, before, after, prev_hash, hash FROM audit ORDER BY seq",
            &mut |r| {
            count += 1;
            let seq: i64 = r.get(0)?;
            let at: i64 = r.get(1)?;
            let actor: String = r.get(2)?;
            let action: String = r.get(3)?;
            let subject: String = r.get(4)?;
            let before: Option<String> = r.get(5)?;
            let after: Option<String> = r.get(6)?;
            let prev: Vec<u8> = r.get(7)?;
            let hash: Vec<u8> = r.get(8)?;
            let hash_at = |n: i64| {
                audit_hash(
                    &prev,
                    n,
                    at,
                    &actor,
                    &action,
                    &subject,
                    before.as_deref(),
                    after.as_deref(),
                )
            };
            // The content is intact if the hash matches at this sequence number, or at a
            // neighbouring one (the row itself is unchanged but was renumbered when a row was
            // inserted before it, +1, or deleted before it, -1).
            let shift = if hash_at(seq).as_slice() == hash.as_slice() {
                Some(0)
            } else {
                [1i64, -1]
                    .into_iter()
                    .find(|d| hash_at(seq - d).as_slice() == hash.as_slice())
            };
            let own_ok = shift.is_some();
            match action.as_str() {
                "file.issue" | "file.update" => {
                    let sha = after
                        .as_deref()
                        .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                        .and_then(|v| v["file"]["sha256"].as_str().map(str::to_string));
                    recorded.insert(subject.clone(), sha);
                    // An update's row also records the file it superseded.
                    if let Some(old) = before
                        .as_deref()
                        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                        .and_then(|v| v["file"]["id"].as_str().map(str::to_string))
                    {
                        deactivations.push((seq, old));
                    }
                }
                // An imported file: its hash, and whether it came in deactivated.
                "file.import" => {
                    let file = after
                        .as_deref()
                        .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                        .map(|v| v["file"].clone());
                    let sha = file
                        .as_ref()
                        .and_then(|f| f["sha256"].as_str().map(str::to_string));
                    recorded.insert(subject.clone(), sha);
                    if file.is_some_and(|f| f["active"] == false) {
                        deactivations.push((seq, subject.clone()));
                    }
                }
                "file.deactivate" => deactivations.push((seq, subject.clone())),
                _ => {}
            }
            if let Some((hs, hh)) = head {
                if hs == seq && hh.as_slice() == hash.as_slice() {
                    head_ok = true;
                }
            }
            let expected = window.last().map_or(1, |p| p.seq + 1);
            let gap = seq != expected;
            if gap {
                problems.push(AuditProblem::Deleted {
                    from_seq: expected,
                    to_seq: seq - 1,
                });
            }
            if !own_ok {
                problems.push(AuditProblem::Edited { seq });
            }
            let linked = match window.last() {
                Some(p) => prev == p.hash,
                None => prev == [0u8; 32],
            };
            if !linked && own_ok && !gap {
                // Does it link to the row two back? Then the row between was inserted.
                let skip = window.len() >= 2 && window[window.len() - 2].hash == prev;
                match window.last() {
                    Some(p) if skip && p.own_ok => {
                        problems.push(AuditProblem::Inserted { seq: p.seq })
                    }
                    Some(p) if !p.own_ok => {} // already reported as edited
                    // Renumbered down by one and linking to a row no longer there: the row
                    // that had this number was deleted.
                    _ if shift == Some(-1) => problems.push(AuditProblem::Deleted {
                        from_seq: seq,
                        to_seq: seq,
                    }),
                    _ => problems.push(AuditProblem::BrokenLink { seq }),
                }
            }
            if window.len() == 2 {
                window.remove(0);
            }
            window.push(Row { seq, hash, own_ok });
            Ok(())
        })?;
        let (head_seq, head_hash) = window
            .last()
            .map_or((0, String::new()), |r| (r.seq, hex(&r.hash)));
        // The head noted earlier must still be in the chain: otherwise it was rewritten (or
        // truncated below it).
        if let (false, Some((hs, _))) = (head_ok, head) {
            problems.push(AuditProblem::BrokenLink { seq: hs });
        }
        // Every file must be recorded, and every inactive file deactivated or superseded.
        let mut st = self
            .db
            .prepare("SELECT id, active, bytes FROM files ORDER BY seq")?;
        let files = st.query_map([], |r| {
            let bytes: Vec<u8> = r.get(2)?;
            Ok((
                r.get::<String>(0)?,
                r.get::<bool>(1)?,
                hex(&Sha256::digest(&bytes)),
            ))
        })?;
        let deactivated: HashSet<&str> = deactivations.iter().map(|(_, f)| f.as_str()).collect();
        let mut active: HashSet<String> = HashSet::new();
        for f in files {
            let (id, is_active, sha) = f?;
            match recorded.get(&id) {
                None => problems.push(AuditProblem::Unrecorded { file: id.clone() }),
                Some(Some(r)) if *r != sha => {
                    problems.push(AuditProblem::FileAltered { file: id.clone() })
                }
                // Recorded with its hash, or by a row without one (left to the chain check).
                Some(_) => {}
            }
            if !is_active && !deactivated.contains(id.as_str()) {
                problems.push(AuditProblem::UnrecordedDeactivation { file: id.clone() });
            }
            if is_active {
                active.insert(id);
            }
        }
        for (seq, file) in &deactivations {
            if active.contains(file) {
                problems.push(AuditProblem::DeactivationNotApplied {
                    seq: *seq,
                    file: file.clone(),
                });
            }
        }
        Ok(AuditReport {
            rows: count,
            head_seq,
            head_hash,
            problems,
        })
    }

    /// Sequence number and hash of the audit log's last row (`(0, zeros)` when empty).
    pub fn audit_head(&self) -> Result<(i64, [u8; 32]), IssuerError> {
        use store::OptionalExt;
        let r: Option<(i64, Vec<u8>)> = self
            .db
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match r {
            Some((s, h)) => (s, h.try_into().unwrap_or([0u8; 32])),
            None => (0, [0u8; 32]),
        })
    }
}

/// The text form of an audit head, `SEQ:HASH` (the hash as 64 lower-case hex digits): what
/// `issuer audit head` prints and `issuer audit verify --head` takes back.
pub fn format_head(seq: i64, hash: &[u8; 32]) -> String {
    format!("{seq}:{}", hex(hash))
}

/// Read an audit head written by [`format_head`] (hex digits in either case); `None` when it
/// is not of that form.
pub fn parse_head(s: &str) -> Option<(i64, [u8; 32])> {
    let (seq, h) = s.trim().split_once(':')?;
    let seq: i64 = seq.parse().ok()?;
    if h.len() != 64 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, b) in hash.iter_mut().enumerate() {
        *b = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((seq, hash))
}
