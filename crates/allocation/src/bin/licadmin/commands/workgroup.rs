//! `licadmin workgroup ...`: ACD workgroups, the media types each routes, and members.

use std::fmt::Write as _;

use allocation::{Allocator, MEDIA_TYPES};
use clap::Subcommand;
use serde_json::json;

use crate::output::{out, to_json, Output};
use crate::CliError;

/// ACD workgroups.
#[derive(Debug, Subcommand)]
pub(crate) enum WorkgroupCmd {
    /// Add a workgroup routing these media types (call, chat, email, generic; callback is
    /// call). A member whose ACD Media level covers fewer types is warned at logon.
    #[command(
        after_help = "Examples:\n  licadmin workgroup add support --media call,email,chat\n  licadmin workgroup add sales --media call"
    )]
    Add {
        /// The workgroup's name.
        name: String,
        /// The media types it routes, comma-separated.
        #[arg(long, value_name = "TYPE,...", value_delimiter = ',', required = true)]
        media: Vec<String>,
    },
    /// Add or remove members.
    #[command(subcommand)]
    Member(MemberCmd),
    /// List the workgroups: media types and members.
    #[command(
        after_help = "Examples:\n  licadmin workgroup list\n  licadmin workgroup list --json"
    )]
    List,
}

/// `workgroup member add|remove WG USER`.
#[derive(Debug, Subcommand)]
pub(crate) enum MemberCmd {
    /// Make a user a member of a workgroup.
    #[command(after_help = "Examples:\n  licadmin workgroup member add support alice")]
    Add {
        /// The workgroup.
        workgroup: String,
        /// The user.
        user: String,
    },
    /// Take a user out of a workgroup.
    #[command(after_help = "Examples:\n  licadmin workgroup member remove support alice")]
    Remove {
        /// The workgroup.
        workgroup: String,
        /// The user.
        user: String,
    },
}

/// Run a `workgroup` command.
pub(crate) fn run(a: &Allocator, cmd: &WorkgroupCmd) -> Result<Output, CliError> {
    let ok = || out(String::new(), json!({ "ok": true }));
    Ok(match cmd {
        WorkgroupCmd::Add { name, media } => {
            let media: Vec<&str> = media.iter().map(String::as_str).collect();
            let w = a.add_workgroup(name, &media)?;
            out(
                format!("workgroup '{}' routes {}\n", w.name, w.media.join(", ")),
                to_json(&w),
            )
        }
        WorkgroupCmd::Member(MemberCmd::Add { workgroup, user }) => {
            a.add_workgroup_member(workgroup, user)?;
            ok()
        }
        WorkgroupCmd::Member(MemberCmd::Remove { workgroup, user }) => {
            a.remove_workgroup_member(workgroup, user)?;
            ok()
        }
        WorkgroupCmd::List => {
            let list = a.workgroups()?;
            let mut t = String::new();
            if list.is_empty() {
                let _ = writeln!(t, "no workgroups (media types: {})", MEDIA_TYPES.join(", "));
            } else {
                let _ = writeln!(t, "{:<24} {:<28} Members", "Workgroup", "Media");
            }
            for w in &list {
                let _ = writeln!(
                    t,
                    "{:<24} {:<28} {}",
                    w.name,
                    w.media.join(","),
                    if w.members.is_empty() {
                        "-".to_string()
                    } else {
                        w.members.join(", ")
                    }
                );
            }
            out(t, json!({ "workgroups": list }))
        }
    })
}
