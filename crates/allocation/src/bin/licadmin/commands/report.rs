//! `licadmin report`: the loaded file (id, type, expiry), then per key, in words, the counts
//! of Interaction Administrator's Licenses Allocation table.

use std::fmt::Write as _;

use allocation::{Allocator, ReportView};

use crate::output::text::{esc, expiry_text, table, widths};
use crate::output::{out, to_json, Output};
use crate::CliError;

/// `licadmin report`'s examples.
pub(crate) const HELP: &str = "Examples:\n  licadmin report\n  licadmin report --json";

/// `licadmin report`: a header (file, type, expiry), then per key, in words, the counts of
/// Interaction Administrator's Licenses Allocation table.
pub(crate) fn run(a: &Allocator) -> Result<Output, CliError> {
    let r = a.report_view()?;
    Ok(out(report_text(&r), to_json(&r)))
}

/// The report's columns, under the groups "Assignable" and "Concurrent" (the seed's
/// "Assignable Allowed", "Assignable Configured", "Concurrent Allowed" ...).
const REPORT_HEADERS: [&str; 8] = [
    "Key",
    "Name",
    "Allowed",
    "Configured",
    "Allowed",
    "Configured",
    "In use",
    "Notes",
];

fn report_text(r: &ReportView) -> String {
    let mut t = format!(
        "License file {}: {}, expires {}\n\n",
        esc(&r.file_id),
        r.type_label,
        expiry_text(r.expires_at, r.days_left)
    );
    let rows: Vec<Vec<String>> = r
        .keys
        .iter()
        .map(|k| {
            let c = &k.counts;
            let mut notes = c.notes.clone();
            if k.dynamic_remote_pool {
                notes.insert(
                    0,
                    "concurrent columns: the dynamic remote station pool".into(),
                );
            }
            if c.assignable_dynamic > 0 {
                notes.push(format!(
                    "{} dynamic remote logon(s) on unallocated assignable licenses",
                    c.assignable_dynamic
                ));
            }
            vec![
                esc(&c.name),
                esc(k.description.unwrap_or("-")),
                c.assignable_allowed.to_string(),
                c.assignable_configured.to_string(),
                c.concurrent_allowed.to_string(),
                c.concurrent_configured.to_string(),
                c.concurrent_in_use.to_string(),
                esc(&notes.join("; ")),
            ]
        })
        .collect();
    let body = table(&REPORT_HEADERS, &rows, &[2, 3, 4, 5, 6]);
    // The group headings over the counts: where the third and fifth columns start.
    let w = widths(&REPORT_HEADERS, &rows);
    let assignable_at = w[0] + w[1] + 4;
    let concurrent_at = assignable_at + w[2] + w[3] + 4;
    let mut group = " ".repeat(assignable_at);
    group.push_str("Assignable");
    group.push_str(&" ".repeat(concurrent_at.saturating_sub(group.len())));
    group.push_str("Concurrent");
    t.push_str(&group);
    t.push('\n');
    t.push_str(&body);
    if r.organizations_allowed > 0 || r.organizations > 0 {
        let _ = writeln!(
            t,
            "\nOrganizations: {} of {} licensed",
            r.organizations, r.organizations_allowed
        );
    }
    t
}
