//! One module per `licadmin` command (as the issuer's `commands/`): each takes what clap
//! parsed, does its work through the library, and returns what it prints as an
//! [`Output`](crate::output::Output), text and JSON; [`crate::output`] prints it.

pub(crate) mod allocate;
pub(crate) mod check;
pub(crate) mod completions;
pub(crate) mod compliance;
pub(crate) mod import;
pub(crate) mod license;
pub(crate) mod load;
pub(crate) mod log;
pub(crate) mod org;
pub(crate) mod preview;
pub(crate) mod release;
pub(crate) mod report;
pub(crate) mod request;
pub(crate) mod serve;
pub(crate) mod session;
pub(crate) mod station;
pub(crate) mod store;
pub(crate) mod token;
pub(crate) mod usage;
pub(crate) mod user;
pub(crate) mod workgroup;

use crate::output::{out, Output};

/// What a command that only changes something prints: nothing, `{"ok": true}` in JSON.
pub(crate) fn ok() -> Output {
    out(String::new(), serde_json::json!({ "ok": true }))
}

/// The strings as `&str`s, for the library's key lists.
pub(crate) fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
