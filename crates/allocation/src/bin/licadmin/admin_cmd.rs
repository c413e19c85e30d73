//! What the administrator does: add users and stations with their licenses, edit a user,
//! allocate (with the Basic Station warning), and log on or renew a session, saying what
//! ended a session.

use std::fmt::Write as _;

use allocation::{AllocError, Allocator, Entity, Method, Place, StationKind, Target, UserEdit};
use clap::ValueEnum;
use serde_json::json;

use crate::{lines, out, time_text, to_json, CliError, Output};

/// `user edit`'s examples.
pub(crate) const USER_EDIT_HELP: &str = "Examples:
  licadmin user edit alice --method concurrent
  licadmin user edit alice --licensing off
  licadmin user edit alice --licensing on
  licadmin user edit bob --remote-logon deny
A method change is refused (exit 22), naming the licenses, while the user holds any.
--licensing off releases the user's licenses and keeps them as settings (its session ends);
--licensing on gives back those still available and names any it could not.";

/// `--licensing on|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnOff {
    On,
    Off,
}

/// `--remote-logon allow|deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AllowDeny {
    Allow,
    Deny,
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `user add NAME [--license KEY...]`: the user and its licenses in one transaction.
pub(crate) fn user_add(
    a: &Allocator,
    name: &str,
    method: Method,
    org: Option<&str>,
    licenses: &[String],
) -> Result<Output, CliError> {
    let added = a.add_user_with(name, method, org, &strs(licenses))?;
    Ok(out(
        lines(&added),
        json!({ "ok": true, "allocated": added }),
    ))
}

/// `station add NAME [--license KEY...]`, warning when the station has no Basic Station.
pub(crate) fn station_add(
    a: &Allocator,
    name: &str,
    kind: StationKind,
    licenses: &[String],
) -> Result<Output, CliError> {
    let r = a.add_station_with(name, kind, &strs(licenses))?;
    let mut o = out(
        lines(&r.allocated),
        json!({ "ok": true, "allocated": r.allocated, "warnings": r.warnings }),
    );
    o.notes = r.warnings;
    Ok(o)
}

/// `station enable NAME`, warning when the station has no Basic Station.
pub(crate) fn station_enable(a: &Allocator, name: &str) -> Result<Output, CliError> {
    a.enable_station(name)?;
    let warnings = a.station_warnings(name)?;
    let mut o = out(String::new(), json!({ "ok": true, "warnings": warnings }));
    o.notes = warnings;
    Ok(o)
}

/// `allocate`, warning when a station is left without a Basic Station.
pub(crate) fn allocate(
    a: &Allocator,
    target: Target<'_>,
    keys: &[String],
) -> Result<Output, CliError> {
    let added = a.allocate(target, &strs(keys))?;
    let warnings = match target {
        Target::Station(s) => a.station_warnings(s)?,
        Target::User(_) => Vec::new(),
    };
    let mut o = out(
        lines(&added),
        json!({ "allocated": added, "warnings": warnings }),
    );
    o.notes = warnings;
    Ok(o)
}

/// `user edit`: what changed, in words.
pub(crate) fn user_edit(a: &Allocator, name: &str, edit: UserEdit) -> Result<Output, CliError> {
    let r = a.edit_user(name, &edit)?;
    let mut t = format!(
        "user '{}': method {}, licensing {}, remote logon {}\n",
        r.name,
        r.method,
        if r.licensing { "on" } else { "off" },
        if r.remote_logon { "allowed" } else { "denied" }
    );
    if !r.released.is_empty() {
        let _ = writeln!(t, "released (kept as settings): {}", r.released.join(", "));
    }
    if let Some(s) = &r.ended_session {
        let _ = writeln!(t, "ended session {s}");
    }
    if !r.restored.is_empty() {
        let _ = writeln!(t, "restored: {}", r.restored.join(", "));
    }
    // What could not be restored is part of the answer: on standard output.
    for n in &r.not_restored {
        let _ = writeln!(t, "not restored: {}: {}", n.key, n.reason);
    }
    Ok(out(t, to_json(&r)))
}

/// `login`: the session id on the first line (for `SESSION=$(licadmin login ...)`); the
/// session it replaced and the logon's warnings on standard error (text) or in the JSON.
pub(crate) fn login(
    a: &Allocator,
    user: &str,
    place: Place,
    lease: Option<u32>,
) -> Result<Output, CliError> {
    let s = a.login(user, place, lease)?;
    let mut o = out(format!("{}\n", s.id), to_json(&s));
    if let Some(r) = &s.replaced {
        o.notes.push(format!(
            "ended session {r} of user '{}': logged on elsewhere",
            s.user
        ));
    }
    o.notes.extend(s.warnings.iter().cloned());
    Ok(o)
}

/// `heartbeat SESSION`: a session that ended says why (logged on elsewhere, lease lapsed,
/// user or station removed ...), exit 20, kind `session-ended`.
pub(crate) fn heartbeat(a: &Allocator, session: &str) -> Result<Output, CliError> {
    match a.heartbeat(session) {
        Ok(s) => Ok(out(String::new(), to_json(&s))),
        Err(
            e @ AllocError::Unknown {
                what: Entity::Session,
                ..
            },
        ) => match a.session_end(session)? {
            Some(end) => Err(CliError::Refused {
                kind: "session-ended",
                code: e.exit_code(),
                message: format!(
                    "session {session} ended at {}: {}",
                    time_text(end.ended_at),
                    end.reason.replace('-', " ")
                ),
            }),
            None => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}
