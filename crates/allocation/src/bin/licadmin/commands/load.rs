//! `licadmin load FILE`: verify an activation file and make it the server's license, saying
//! what changed against the file it replaced.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use allocation::{Allocator, LicenseChanges, LoadView};
use clap::Args;

use crate::output::text::{esc, key_words};
use crate::output::{out, print_stderr, to_json, Output};
use crate::CliError;

/// `licadmin load`'s arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  licadmin load ic1.i3lic\n  licadmin --trust keys/vendor.pub --store /var/lib/i3lic/store.db load ic1.i3lic"
)]
pub(crate) struct LoadArgs {
    /// The activation file (.i3lic).
    file: PathBuf,
}

/// `licadmin load FILE`: what was loaded, what changed against the file it replaced, and a
/// warning (standard error and JSON) when it is for another account or site.
pub(crate) fn run(a: &Allocator, args: &LoadArgs) -> Result<Output, CliError> {
    let file = &args.file;
    let v = a.load_file_showing_changes(file)?;
    for w in &v.warnings {
        print_stderr(&format!("licadmin: warning: {}", w.message));
    }
    Ok(out(load_text(file, &v), to_json(&v)))
}

fn load_text(file: &Path, v: &LoadView) -> String {
    let r = &v.report;
    let mut t = format!(
        "loaded {} ({})\n",
        esc(&file.display().to_string()),
        esc(&r.file_id)
    );
    for e in &r.out_of_compliance {
        let _ = writeln!(
            t,
            "out of compliance by {}: {}",
            e.excess(),
            esc(&e.to_string())
        );
    }
    if let Some(c) = &v.changes {
        t.push_str(&changes_text(c, r.replaced.is_none()));
    }
    for w in &v.warnings {
        let _ = writeln!(t, "warning: {}", esc(&w.message));
    }
    t
}

fn changes_text(c: &LicenseChanges, same_file: bool) -> String {
    let mut t = String::new();
    if same_file {
        let _ = writeln!(t, "the same file as before: nothing changed");
        return t;
    }
    let _ = writeln!(t, "replaced {}", esc(&c.previous_file_id));
    if c.is_empty() {
        t.push_str("no license or feature changed\n");
        return t;
    }
    let counts = |a: u32, p: u32| format!("{a} assignable, {p} pooled");
    for k in &c.added {
        let _ = writeln!(
            t,
            "  added    {}: {}",
            key_words(&k.key, k.description),
            counts(k.assigned_after, k.pooled_after)
        );
    }
    for k in &c.removed {
        let _ = writeln!(
            t,
            "  removed  {}: had {}",
            key_words(&k.key, k.description),
            counts(k.assigned_before, k.pooled_before)
        );
    }
    for k in &c.changed {
        let mut parts = Vec::new();
        for (what, before, after) in [
            ("assignable", k.assigned_before, k.assigned_after),
            ("pooled", k.pooled_before, k.pooled_after),
        ] {
            if before != after {
                let dir = if after > before { "up" } else { "down" };
                parts.push(format!("{what} {dir} {before} -> {after}"));
            }
        }
        let _ = writeln!(
            t,
            "  changed  {}: {}",
            key_words(&k.key, k.description),
            parts.join(", ")
        );
    }
    for f in &c.features_added {
        let _ = writeln!(t, "  added    feature {}", esc(f));
    }
    for f in &c.features_removed {
        let _ = writeln!(t, "  removed  feature {}", esc(f));
    }
    t
}
