//! `licadmin log`: the recorded events, newest last.

use std::fmt::Write as _;

use allocation::Allocator;
use clap::Args;

use crate::output::{out, time_text, Output};
use crate::CliError;

/// `licadmin log`'s options.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  licadmin log\n  licadmin log --last 200 --json")]
pub(crate) struct LogArgs {
    /// How many of the newest events.
    #[arg(long, value_name = "N", default_value_t = 50)]
    last: u32,
}

/// The newest events, oldest first: time, kind, who, key, detail (each field escaped).
pub(crate) fn run(a: &Allocator, args: &LogArgs) -> Result<Output, CliError> {
    let events = a.events(args.last)?;
    let esc = |s: &str| format::text::escape_refused(s, &[]).into_owned();
    let mut t = String::new();
    for e in &events {
        let _ = writeln!(
            t,
            "{}  {:<7}  {}  {}  {}",
            time_text(e.at),
            e.kind.as_str(),
            esc(&e.who),
            e.key.as_deref().map_or_else(|| "-".to_string(), esc),
            esc(&e.detail)
        );
    }
    if events.is_empty() {
        t.push_str("(no events recorded)\n");
    }
    Ok(out(t, serde_json::json!({ "events": events })))
}
