//! `licadmin token ...`: the license server's bearer tokens.

use std::fmt::Write as _;

use allocation::Allocator;
use clap::Subcommand;

use crate::output::{out, time_text, Output};
use crate::CliError;

/// `licadmin token ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCmd {
    /// Make a bearer token and print it (the only time it is shown: the store keeps its digest).
    #[command(after_help = "Examples:\n  TOKEN=$(licadmin token create softphones)")]
    Create {
        /// A name for it (who or what uses it).
        name: String,
    },
    /// List the tokens: name, when made, when revoked.
    #[command(after_help = "Examples:\n  licadmin token list --json")]
    List,
    /// Revoke a token: refused from the next request on.
    #[command(after_help = "Examples:\n  licadmin token revoke softphones")]
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// Run a `token` command.
pub(crate) fn run(a: &Allocator, cmd: &TokenCmd) -> Result<Output, CliError> {
    Ok(match cmd {
        TokenCmd::Create { name } => {
            let t = a.create_token(name)?;
            out(
                format!("{t}\n"),
                serde_json::json!({ "name": name, "token": t }),
            )
        }
        TokenCmd::List => {
            let list = a.tokens()?;
            let mut t = String::new();
            for k in &list {
                let _ = writeln!(
                    t,
                    "{}\tcreated {}\t{}",
                    k.name,
                    time_text(k.created_at),
                    match k.revoked_at {
                        Some(r) => format!("revoked {}", time_text(r)),
                        None => "active".into(),
                    }
                );
            }
            out(t, serde_json::json!({ "tokens": list }))
        }
        TokenCmd::Revoke { name } => {
            a.revoke_token(name)?;
            super::ok()
        }
    })
}
