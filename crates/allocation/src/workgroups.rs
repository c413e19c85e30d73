//! ACD workgroups and the ACD media levels (seed 001, "ACD Workgroup Queues" and "Notes for
//! ACD Routing of Multimedia"): a workgroup routes some media types to its members; a member
//! whose ACD Media level (1, 2, 3+) covers fewer types than its workgroups route is logged on
//! with a warning naming the types it will not receive.

use std::collections::BTreeMap;

use serde::Serialize;
use store::{params, OptionalExt, Tx, TxExt};

use crate::allocator::{grants, unknown, user_row, Allocator, HolderId};
use crate::error::{AllocError, Entity};
use crate::model::{validate_name, Session};

type Result<T> = std::result::Result<T, AllocError>;

/// The interaction types a workgroup may route (seed: "Valid Interaction Types are:
/// Call/Callback, Chat, Email, and Generic"), in that order. `callback` is taken for `call`.
pub const MEDIA_TYPES: &[&str] = &["call", "chat", "email", "generic"];

/// The ACD media level keys and how many media types each covers (3+: any number).
const LEVELS: &[(&str, &str, usize)] = &[
    ("I3_ACCESS_ACD_MEDIA_3_PLUS", "ACD Media 3 Plus", usize::MAX),
    ("I3_ACCESS_ACD_MEDIA_2", "ACD Media 2", 2),
    ("I3_ACCESS_ACD_MEDIA_1", "ACD Media 1", 1),
];

/// A workgroup as `workgroup list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workgroup {
    /// Its name.
    pub name: String,
    /// The media types it routes, in [`MEDIA_TYPES`] order.
    pub media: Vec<String>,
    /// Its members, sorted.
    pub members: Vec<String>,
}

/// The media types of `given`, checked, without repeats, in [`MEDIA_TYPES`] order.
fn media_list(given: &[&str]) -> Result<Vec<&'static str>> {
    let mut seen = [false; 4];
    for m in given {
        let t = m.trim().to_ascii_lowercase();
        let t = if t == "callback" { "call".into() } else { t };
        let Some(i) = MEDIA_TYPES.iter().position(|x| *x == t) else {
            return Err(AllocError::InvalidInput {
                what: "media type",
                reason: format!(
                    "{:?} is not a media type; a workgroup routes {} (Call/Callback, Chat, Email, Generic)",
                    m.chars().take(40).collect::<String>(),
                    MEDIA_TYPES.join(", ")
                ),
            });
        };
        seen[i] = true;
    }
    let out: Vec<&str> = MEDIA_TYPES
        .iter()
        .zip(seen)
        .filter(|(_, s)| *s)
        .map(|(m, _)| *m)
        .collect();
    if out.is_empty() {
        return Err(AllocError::InvalidInput {
            what: "media type",
            reason: format!(
                "none given; a workgroup routes one or more of {}",
                MEDIA_TYPES.join(", ")
            ),
        });
    }
    Ok(out)
}

fn workgroup_id(c: &dyn Tx, name: &str) -> Result<i64> {
    c.query_row("SELECT id FROM workgroups WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| unknown(Entity::Workgroup, name))
}

/// The warnings of a logon (empty: none): the user's ACD Media level, from the licenses of
/// the user, the station it logs on at and the session, against the media types its
/// workgroups route together.
pub(crate) fn logon_warnings(
    c: &dyn Tx,
    user: i64,
    station: Option<i64>,
    s: &Session,
) -> Result<Vec<String>> {
    let mut st = c.prepare_cached(
        "SELECT w.name, w.media FROM workgroups w JOIN workgroup_members m ON m.workgroup_id = w.id WHERE m.user_id = ?1 ORDER BY w.name",
    )?;
    let groups = st
        .query_map([user], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?
        .collect::<store::Result<Vec<_>>>()?;
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = grants(c, HolderId::User(user))?;
    if let Some(id) = station {
        keys.extend(grants(c, HolderId::Station(id))?);
    }
    Ok(warnings_of(&s.user, &groups, |k| {
        keys.contains_key(k) || s.acquired.iter().any(|a| a == k)
    }))
}

/// The logon warning of [`logon_warnings`] for `user` in `groups` (name, media), given
/// which keys the user holds, its station holds or the logon acquired.
pub(crate) fn warnings_of(
    user: &str,
    groups: &[(String, String)],
    holds: impl Fn(&str) -> bool,
) -> Vec<String> {
    if groups.is_empty() {
        return Vec::new();
    }
    let routed: Vec<&str> = MEDIA_TYPES
        .iter()
        .copied()
        .filter(|t| groups.iter().any(|(_, m)| m.split(',').any(|x| x == *t)))
        .collect();
    let level = LEVELS.iter().find(|(k, _, _)| holds(k));
    let covers = level.map_or(0, |l| l.2);
    if routed.len() <= covers {
        return Vec::new();
    }
    let level = level.map_or("no ACD Media license".to_string(), |(_, words, n)| {
        format!("{words}, which covers {n} media type(s)")
    });
    let names: Vec<&str> = groups.iter().map(|(n, _)| n.as_str()).collect();
    vec![format!(
        "user '{}' holds {level}, but its workgroups ({}) route {}: the system limits the ACD interaction types that the user receives until you resolve the licensing problem; it will not receive {}",
        user,
        names.join(", "),
        routed.join(", "),
        routed[covers..].join(", ")
    )]
}

impl Allocator {
    /// Add a workgroup routing `media` (names of [`MEDIA_TYPES`]; `callback` is `call`).
    pub fn add_workgroup(&self, name: &str, media: &[&str]) -> Result<Workgroup> {
        validate_name("workgroup name", name)?;
        let media = media_list(media)?;
        self.tx(|c, _| {
            if c.query_row("SELECT 1 FROM workgroups WHERE name = ?1", [name], |_| Ok(()))
                .optional()?
                .is_some()
            {
                return Err(AllocError::AlreadyExists {
                    what: Entity::Workgroup,
                    name: name.into(),
                });
            }
            c.execute(
                "INSERT INTO workgroups (id, name, media) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM workgroups), ?1, ?2)",
                params![name, media.join(",")],
            )?;
            Ok(Workgroup {
                name: name.into(),
                media: media.iter().map(|m| (*m).to_string()).collect(),
                members: Vec::new(),
            })
        })
    }

    /// Make a user a member of a workgroup (nothing changes when it is one already).
    pub fn add_workgroup_member(&self, workgroup: &str, user: &str) -> Result<()> {
        validate_name("workgroup name", workgroup)?;
        validate_name("user name", user)?;
        self.tx(|c, _| {
            let w = workgroup_id(c, workgroup)?;
            let u = user_row(c, user)?;
            c.execute(
                "INSERT INTO workgroup_members (workgroup_id, user_id) VALUES (?1, ?2) ON CONFLICT (workgroup_id, user_id) DO NOTHING",
                params![w, u.id],
            )?;
            Ok(())
        })
    }

    /// Take a user out of a workgroup (refused, exit 3, when it is not a member).
    pub fn remove_workgroup_member(&self, workgroup: &str, user: &str) -> Result<()> {
        validate_name("workgroup name", workgroup)?;
        validate_name("user name", user)?;
        self.tx(|c, _| {
            let w = workgroup_id(c, workgroup)?;
            let u = user_row(c, user)?;
            let n = c.execute(
                "DELETE FROM workgroup_members WHERE workgroup_id = ?1 AND user_id = ?2",
                params![w, u.id],
            )?;
            if n == 0 {
                return Err(AllocError::InvalidInput {
                    what: "workgroup member",
                    reason: format!("user '{user}' is not a member of workgroup '{workgroup}'"),
                });
            }
            Ok(())
        })
    }

    /// Every workgroup with its media types and members, by name.
    pub fn workgroups(&self) -> Result<Vec<Workgroup>> {
        self.read(|c, _| {
            let mut st = c.prepare_cached("SELECT id, name, media FROM workgroups ORDER BY name")?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?))
                })?
                .collect::<store::Result<Vec<_>>>()?;
            let mut st = c.prepare_cached(
                "SELECT m.workgroup_id, u.name FROM workgroup_members m JOIN users u ON u.id = m.user_id ORDER BY u.name",
            )?;
            let mut members: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for row in st.query_map([], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)))? {
                let (w, u) = row?;
                members.entry(w).or_default().push(u);
            }
            Ok(rows
                .into_iter()
                .map(|(id, name, media)| Workgroup {
                    name,
                    media: media.split(',').map(String::from).collect(),
                    members: members.remove(&id).unwrap_or_default(),
                })
                .collect())
        })
    }
}
