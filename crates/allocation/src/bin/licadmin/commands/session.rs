//! Sessions: `licadmin session list`, and `login`, `heartbeat` and `logout`, saying what
//! ended a session.

use allocation::{AllocError, Allocator, Entity, Place};
use clap::{Args, Subcommand};

use crate::output::text::{esc, or_dash, table};
use crate::output::{out, time_text, to_json, Output};
use crate::CliError;

/// `licadmin session ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum SessionCmd {
    /// List live sessions: user, station or remote number, licenses held, lease expiry.
    #[command(after_help = "Examples:\n  licadmin session list\n  licadmin session list --json")]
    List,
}

/// Run a `session` command.
pub(crate) fn run(a: &Allocator, cmd: &SessionCmd) -> Result<Output, CliError> {
    match cmd {
        SessionCmd::List => list(a),
    }
}

/// `licadmin session list`.
fn list(a: &Allocator) -> Result<Output, CliError> {
    let list = a.session_list()?;
    let t = if list.is_empty() {
        "no one is logged on\n".into()
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|s| {
                vec![
                    esc(&s.user),
                    match (&s.station, &s.remote_number) {
                        (Some(st), _) => format!("station {}", esc(st)),
                        (None, Some(n)) => format!("remote number {}", esc(n)),
                        (None, None) => "no station".into(),
                    },
                    or_dash(esc(&s.licenses.join(", "))),
                    s.lease_expires_at.to_string(),
                    esc(&s.session),
                ]
            })
            .collect();
        table(
            &["User", "Where", "Licenses held", "Lease expires", "Session"],
            &rows,
            &[],
        )
    };
    Ok(out(t, serde_json::json!({ "sessions": list })))
}

/// `licadmin login`'s arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  SESSION=$(licadmin login --user alice --station desk-1)\n  licadmin login --user bob --remote-number +13175550100 --lease 600"
)]
pub(crate) struct LoginArgs {
    /// The user.
    #[arg(long, value_name = "U")]
    user: String,
    /// At this station.
    #[arg(long, value_name = "S", conflicts_with = "remote_number")]
    station: Option<String>,
    /// As a dynamic remote station at this phone number.
    #[arg(long = "remote-number", value_name = "NUMBER")]
    remote_number: Option<String>,
    /// The lease in seconds (default 600).
    #[arg(long, value_name = "SECONDS")]
    lease: Option<u32>,
}

/// `licadmin heartbeat` and `licadmin logout`'s argument.
#[derive(Debug, Args)]
pub(crate) struct SessionArg {
    /// The session id.
    session: String,
}

/// `heartbeat`'s examples.
pub(crate) const HEARTBEAT_HELP: &str = "Examples:\n  licadmin heartbeat \"$SESSION\"";

/// `logout`'s examples.
pub(crate) const LOGOUT_HELP: &str = "Examples:\n  licadmin logout \"$SESSION\"";

/// `login`: the session id on the first line (for `SESSION=$(licadmin login ...)`); the
/// session it replaced and the logon's warnings on standard error (text) or in the JSON.
pub(crate) fn login(a: &Allocator, args: &LoginArgs) -> Result<Output, CliError> {
    let place = match (&args.station, &args.remote_number) {
        (Some(s), _) => Place::Station(s.clone()),
        (None, Some(n)) => Place::Remote(n.clone()),
        (None, None) => Place::Nowhere,
    };
    let user = &args.user;
    let s = a.login(user, place, args.lease)?;
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
pub(crate) fn heartbeat(a: &Allocator, args: &SessionArg) -> Result<Output, CliError> {
    let session = &args.session;
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

/// `logout SESSION`: end it.
pub(crate) fn logout(a: &Allocator, args: &SessionArg) -> Result<Output, CliError> {
    a.logout(&args.session)?;
    Ok(super::ok())
}
