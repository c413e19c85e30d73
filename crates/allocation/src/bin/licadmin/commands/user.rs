//! `licadmin user ...`: add (with licenses, in one transaction), edit, remove and list users.

use std::fmt::Write as _;

use allocation::{Allocator, Method, UserEdit, UserFilter};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::station::{station_rows, STATION_HEADERS};
use super::strs;
use crate::output::text::{esc, or_dash, table};
use crate::output::{lines, out, to_json, Output};
use crate::CliError;

/// `--method assignable|concurrent`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum MethodArg {
    Assignable,
    Concurrent,
}

impl MethodArg {
    pub(crate) fn method(self) -> Method {
        match self {
            MethodArg::Assignable => Method::Assignable,
            MethodArg::Concurrent => Method::Concurrent,
        }
    }
}

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

/// `licadmin user ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCmd {
    /// Add a user.
    #[command(
        after_help = "Examples:\n  licadmin user add alice --license I3_ACCESS_CLIENT\n  licadmin user add bob --method concurrent --org tenant-a"
    )]
    Add {
        /// The user's name.
        name: String,
        /// How its licenses are allocated.
        #[arg(long, value_enum, default_value = "assignable")]
        method: MethodArg,
        /// The user's organization.
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
        /// Allocate these keys too, in the same transaction (a refused key adds no user).
        #[arg(long = "license", value_name = "KEY", num_args = 1..)]
        licenses: Vec<String>,
    },
    /// Change a user's method, licensing (Enable Licenses) or dynamic remote logon right.
    #[command(after_help = USER_EDIT_HELP)]
    Edit {
        /// The user's name.
        name: String,
        /// The allocation method (refused, exit 22, while the user holds licenses).
        #[arg(long, value_enum)]
        method: Option<MethodArg>,
        /// off: release the user's licenses and keep them as settings (its session ends);
        /// on: restore those still available.
        #[arg(long, value_enum)]
        licensing: Option<OnOff>,
        /// The right "User-defined Telephone Number on Remote Login" (allowed by default).
        #[arg(long = "remote-logon", value_enum)]
        remote_logon: Option<AllowDeny>,
    },
    /// Remove a user (its licenses are released, its session ends).
    #[command(after_help = "Examples:\n  licadmin user remove alice")]
    Remove {
        /// The user's name.
        name: String,
    },
    /// List users, what they hold, and per key the counts allocated and available.
    #[command(
        after_help = "Examples:\n  licadmin user list\n  licadmin user list --license I3_ACCESS_CLIENT --name ali --json"
    )]
    List {
        /// Only users holding this key.
        #[arg(long, value_name = "KEY")]
        license: Option<String>,
        /// Only users whose name contains this text (case-insensitive).
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
    },
}

/// Run a `user` command.
pub(crate) fn run(a: &Allocator, cmd: &UserCmd) -> Result<Output, CliError> {
    match cmd {
        UserCmd::Add {
            name,
            method,
            org,
            licenses,
        } => add(a, name, method.method(), org.as_deref(), licenses),
        UserCmd::Edit {
            name,
            method,
            licensing,
            remote_logon,
        } => edit(
            a,
            name,
            UserEdit {
                method: method.map(MethodArg::method),
                licensing: licensing.map(|l| l == OnOff::On),
                remote_logon: remote_logon.map(|r| r == AllowDeny::Allow),
            },
        ),
        UserCmd::Remove { name } => {
            a.remove_user(name)?;
            Ok(super::ok())
        }
        UserCmd::List { license, name } => list(
            a,
            &UserFilter {
                license: license.clone(),
                name: name.clone(),
            },
        ),
    }
}

/// `user add NAME [--license KEY...]`: the user and its licenses in one transaction.
fn add(
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

/// `user edit`: what changed, in words.
fn edit(a: &Allocator, name: &str, edit: UserEdit) -> Result<Output, CliError> {
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

/// `licadmin user list`: users with column headings; with `--license KEY`, the stations
/// that hold the key too (the key serves those stations' users as well).
fn list(a: &Allocator, filter: &UserFilter) -> Result<Output, CliError> {
    let l = a.users(filter)?;
    let mut t = String::new();
    if l.users.is_empty() {
        t.push_str("no users\n");
    } else {
        let rows: Vec<Vec<String>> = l
            .users
            .iter()
            .map(|u| {
                vec![
                    esc(&u.name),
                    u.method.to_string(),
                    esc(u.organization.as_deref().unwrap_or("-")),
                    or_dash(esc(&u.licenses.join(", "))),
                    match &u.session {
                        Some(_) => {
                            format!("logged on (in use: {})", or_dash(esc(&u.in_use.join(", "))))
                        }
                        None => "-".into(),
                    },
                ]
            })
            .collect();
        t.push_str(&table(
            &["User", "Method", "Organization", "Licenses", "Session"],
            &rows,
            &[],
        ));
    }
    let mut json = to_json(&l);
    if let Some(key) = &filter.license {
        let stations = a.stations(Some(key))?;
        let _ = writeln!(t, "\nStations holding {} (station licenses):", esc(key));
        if stations.is_empty() {
            t.push_str("  none\n");
        } else {
            for line in table(&STATION_HEADERS, &station_rows(&stations), &[]).lines() {
                let _ = writeln!(t, "  {line}");
            }
        }
        json["stations"] = to_json(&stations);
    }
    t.push('\n');
    let rows: Vec<Vec<String>> = l
        .keys
        .iter()
        .map(|k| {
            vec![
                esc(&k.key),
                k.allocated.to_string(),
                k.available.to_string(),
            ]
        })
        .collect();
    t.push_str(&table(&["Key", "Allocated", "Available"], &rows, &[1, 2]));
    Ok(out(t, json))
}
