//! `licadmin compliance`: one event per exceeded license; exit 23 when any.

use std::fmt::Write as _;

use allocation::Allocator;

use crate::output::{out, Output};
use crate::CliError;

/// `licadmin compliance`'s examples.
pub(crate) const HELP: &str = "Examples:\n  licadmin compliance || echo \"out of compliance (exit 23)\"\n  licadmin compliance --json";

/// The events, one line each; exit 23 when there is any.
pub(crate) fn run(a: &Allocator) -> Result<Output, CliError> {
    let events = a.check_compliance()?;
    let mut t = String::new();
    for e in &events {
        let _ = writeln!(t, "{e}");
    }
    let compliant = events.is_empty();
    let mut o = out(
        t,
        serde_json::json!({ "compliant": compliant, "events": events }),
    );
    if !compliant {
        o.code = 23;
    }
    Ok(o)
}
