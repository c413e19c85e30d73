//! `licadmin check`: every invariant of the store; exit 1 when any does not hold.

use std::fmt::Write as _;

use allocation::Allocator;

use crate::output::{out, Output};
use crate::CliError;

/// `licadmin check`'s examples.
pub(crate) const HELP: &str = "Examples:\n  licadmin check";

/// "consistent", or one line per problem.
pub(crate) fn run(a: &Allocator) -> Result<Output, CliError> {
    let problems = a.check()?;
    let mut t = String::new();
    if problems.is_empty() {
        t.push_str("consistent\n");
    }
    for p in &problems {
        let _ = writeln!(t, "{p}");
    }
    let consistent = problems.is_empty();
    let mut o = out(
        t,
        serde_json::json!({ "consistent": consistent, "problems": problems }),
    );
    if !consistent {
        o.code = 1;
    }
    Ok(o)
}
