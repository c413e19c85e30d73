//! What the administrator sees: `license`, `station list`, `session list`, `org list`,
//! `user list`, `report` and `load`, as text for people and JSON for `--json`. Every value
//! printed is escaped here ([`esc`]): a name or a file's text cannot forge a line or a column.

use std::fmt::Write as _;
use std::path::Path;

use allocation::{
    Allocator, LicenseChanges, LicenseView, LoadView, ReportView, StationEntry, UserFilter,
};

use super::{out, print_stderr, to_json, CliError, Output};

/// `text` with every refused character escaped, tabs and line breaks included.
fn esc(text: &str) -> String {
    format::text::escape_refused(text, &[]).into_owned()
}

/// `-` for nothing.
fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".into()
    } else {
        text
    }
}

/// A key with its name in words: `Client Access (I3_ACCESS_CLIENT)`, or the key alone.
fn key_words(key: &str, description: Option<&str>) -> String {
    match description {
        Some(d) => format!("{} ({})", esc(d), esc(key)),
        None => esc(key),
    }
}

/// The width of each column: its widest cell or heading.
fn widths(headers: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    width
}

/// Columns padded to their widest cell (cells are escaped already); `right` marks numeric
/// columns. The last column is not padded.
fn table(headers: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let n = headers.len();
    let width = widths(headers, rows);
    let mut t = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let pad = width[i].saturating_sub(cell.chars().count());
            if right.contains(&i) {
                l.push_str(&" ".repeat(pad));
                l.push_str(cell);
            } else {
                l.push_str(cell);
                if i + 1 < n {
                    l.push_str(&" ".repeat(pad));
                }
            }
        }
        t.push_str(l.trim_end());
        t.push('\n');
    };
    line(&mut headers.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    t
}

fn expiry_text(expires_at: Option<format::Timestamp>, days_left: Option<i64>) -> String {
    match (expires_at, days_left) {
        (Some(t), Some(d)) if d < 0 => format!("{t} (expired {} day(s) ago)", -d),
        (Some(t), Some(d)) => format!("{t} ({d} day(s) left)"),
        (Some(t), None) => t.to_string(),
        (None, _) => "never (perpetual)".into(),
    }
}

/// `licadmin license`: View License Information and View Feature Information.
pub(crate) fn license(a: &Allocator) -> Result<Output, CliError> {
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

fn station_rows(list: &[StationEntry]) -> Vec<Vec<String>> {
    list.iter()
        .map(|s| {
            vec![
                esc(&s.name),
                s.kind.to_string(),
                if s.licensing { "on" } else { "off" }.into(),
                or_dash(esc(&s.licenses.join(", "))),
                match &s.logged_on {
                    Some(l) => format!("{} (session {})", esc(&l.user), esc(&l.session)),
                    None => "-".into(),
                },
            ]
        })
        .collect()
}

const STATION_HEADERS: [&str; 5] = ["Station", "Kind", "Licensing", "Licenses", "Logged on"];

/// `licadmin station list [--license KEY]`.
pub(crate) fn stations(a: &Allocator, license: Option<&str>) -> Result<Output, CliError> {
    let list = a.stations(license)?;
    let t = if list.is_empty() {
        match license {
            Some(k) => format!("no station holds {}\n", esc(k)),
            None => "no stations\n".into(),
        }
    } else {
        table(&STATION_HEADERS, &station_rows(&list), &[])
    };
    Ok(out(t, serde_json::json!({ "stations": list })))
}

/// `licadmin session list`.
pub(crate) fn sessions(a: &Allocator) -> Result<Output, CliError> {
    let list = a.session_list()?;
    let t = if list.is_empty() {
        "no one is logged on\n".into()
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|s| {
                vec![
                    esc(&s.user),
                    match (&s.station, &s.remote_number) {
                        (Some(st), _) => format!("station {}", esc(st)),
                        (None, Some(n)) => format!("remote number {}", esc(n)),
                        (None, None) => "no station".into(),
                    },
                    or_dash(esc(&s.licenses.join(", "))),
                    s.lease_expires_at.to_string(),
                    esc(&s.session),
                ]
            })
            .collect();
        table(
            &["User", "Where", "Licenses held", "Lease expires", "Session"],
            &rows,
            &[],
        )
    };
    Ok(out(t, serde_json::json!({ "sessions": list })))
}

/// `licadmin org list`.
pub(crate) fn orgs(a: &Allocator) -> Result<Output, CliError> {
    let l = a.organizations()?;
    let mut t = String::new();
    let count = l.organizations.len();
    let _ = match l.organizations_allowed {
        Some(n) => writeln!(t, "{count} organization(s), {n} licensed"),
        None => writeln!(t, "{count} organization(s) (no activation file is loaded)"),
    };
    for o in &l.organizations {
        let _ = writeln!(t, "\n{} ({} user(s))", esc(&o.name), o.users);
        if o.keys.is_empty() {
            t.push_str("  no limits set, nothing in use\n");
            continue;
        }
        let rows: Vec<Vec<String>> = o
            .keys
            .iter()
            .map(|k| {
                vec![
                    esc(&k.key),
                    esc(k.description.unwrap_or("-")),
                    k.min.to_string(),
                    k.max.map_or_else(|| "none".into(), |m| m.to_string()),
                    k.used.to_string(),
                ]
            })
            .collect();
        for line in table(
            &["Key", "Name", "Minimum", "Maximum", "Used"],
            &rows,
            &[2, 3, 4],
        )
        .lines()
        {
            let _ = writeln!(t, "  {line}");
        }
    }
    Ok(out(t, to_json(&l)))
}

/// `licadmin user list`: users with column headings; with `--license KEY`, the stations
/// that hold the key too (the key serves those stations' users as well).
pub(crate) fn users(a: &Allocator, filter: &UserFilter) -> Result<Output, CliError> {
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

/// `licadmin report`: a header (file, type, expiry), then per key, in words, the counts of
/// Interaction Administrator's Licenses Allocation table.
pub(crate) fn report(a: &Allocator) -> Result<Output, CliError> {
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

/// `licadmin load FILE`: what was loaded, what changed against the file it replaced, and a
/// warning (standard error and JSON) when it is for another account or site.
pub(crate) fn load(a: &Allocator, file: &Path) -> Result<Output, CliError> {
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
