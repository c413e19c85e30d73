//! `licadmin license`: View License Information and View Feature Information in one view.

use std::fmt::Write as _;

use allocation::{Allocator, LicenseView};

use crate::output::text::{esc, expiry_text, table};
use crate::output::{out, to_json, Output};
use crate::CliError;

/// `licadmin license`'s examples.
pub(crate) const HELP: &str =
    "Examples:\n  licadmin license\n  licadmin --host-id CODE license --json";

/// `licadmin license`: View License Information and View Feature Information.
pub(crate) fn run(a: &Allocator) -> Result<Output, CliError> {
    let v = a.license_view()?;
    Ok(out(license_text(&v), to_json(&v)))
}

fn license_text(v: &LicenseView) -> String {
    let mut t = String::new();
    let mut field = |name: &str, value: String| {
        let _ = writeln!(t, "{name:<14} {value}");
    };
    field("File", esc(&v.file_id));
    field("Type", format!("{} ({})", v.type_label, v.license_type));
    field(
        "Product",
        format!("{} {}", esc(&v.product), esc(&v.version)),
    );
    field("Sold to", esc(&v.sold_to));
    field("Site", esc(&v.install_site));
    field("Issued", v.issued_at.to_string());
    field("Valid from", v.valid_from.to_string());
    field("Expires", expiry_text(v.expires_at, v.days_left));
    field(
        "Grace",
        match (v.grace_days, v.grace_ends) {
            (0, _) => "none".into(),
            (d, Some(end)) => format!("{d} day(s), until {end}"),
            (d, None) => format!("{d} day(s)"),
        },
    );
    if v.in_grace {
        field("", "expired: running on its grace period".into());
    }
    field(
        "Generation",
        match v.generation {
            Some(g) => format!("{g} of lineage {}", esc(&v.lineage)),
            None => "- (version-1 file)".into(),
        },
    );
    if let Some(s) = &v.supersedes {
        field("Supersedes", esc(s));
    }
    for (i, h) in v.hosts.iter().enumerate() {
        field(
            if i == 0 { "Hosts" } else { "" },
            format!(
                "{:<10}  {}  {}{}",
                h.role.to_string(),
                esc(&h.host_id),
                esc(&h.machine),
                if h.this_server {
                    "  <- this server"
                } else {
                    ""
                }
            ),
        );
    }
    if v.restrictions.is_empty() {
        field("Restrictions", "none".into());
    }
    for (i, r) in v.restrictions.iter().enumerate() {
        field(
            if i == 0 { "Restrictions" } else { "" },
            r.description.into(),
        );
    }
    for (name, value) in [
        ("System type", &v.system_type),
        ("Mail", &v.mail_connector),
        ("Bundle", &v.bundle),
        ("Description", &v.description),
    ] {
        if !value.is_empty() {
            field(name, esc(value));
        }
    }
    for w in &v.warnings {
        field("Warning", esc(&w.to_string()));
    }
    let _ = writeln!(t, "\nFeatures ({})", v.features.len());
    if v.features.is_empty() {
        t.push_str("  none\n");
    }
    for f in &v.features {
        let _ = writeln!(t, "  {}", esc(f));
    }
    let _ = writeln!(t, "\nLicenses ({})", v.licenses.len());
    let rows: Vec<Vec<String>> = v
        .licenses
        .iter()
        .map(|k| {
            vec![
                esc(&k.name),
                esc(k.description.unwrap_or("-")),
                k.assigned.to_string(),
                k.pooled.to_string(),
                if k.dynamic_remote_pool {
                    "pooled: dynamic remote stations".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    t.push_str(&table(
        &["Key", "Name", "Assignable", "Pooled (concurrent)", "Notes"],
        &rows,
        &[2, 3],
    ));
    if !v.ordered_items.is_empty() {
        t.push_str("\nOrdered items\n");
        let rows: Vec<Vec<String>> = v
            .ordered_items
            .iter()
            .map(|o| vec![esc(&o.part), o.quantity.to_string(), esc(&o.description)])
            .collect();
        t.push_str(&table(&["Part", "Quantity", "Description"], &rows, &[1]));
    }
    t
}
