//! `issuer summary --account A [--site S] [--json]`: the seed's Account Summary.

use std::io::Write;

use issuer::Summary;

use crate::cli::Cli;
use crate::context::{load_catalog, read_ledger};
use crate::error::CliError;
use crate::output::{emit, Render};

/// The summary as printed: JSON is the library's [`Summary`]; the text shows only the site
/// tables when one site was asked for.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct View {
    summary: Summary,
    #[serde(skip)]
    site_only: bool,
}

impl Render for View {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        print_summary(out, &self.summary, self.site_only)
    }
}

/// Print the account summary (or one site's).
pub fn run(
    cli: &Cli,
    account: &str,
    site: Option<&str>,
    category: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let mut summary = read_ledger(cli, |l| l.summary(&catalog, account, site))?;
    if let Some(c) = category {
        // The seed's product-category filter: only that category's parts, in every table.
        let c = c.split_whitespace().collect::<Vec<_>>().join(" ");
        let keep = |p: &issuer::PartSummary| p.category.eq_ignore_ascii_case(&c);
        summary.parts.retain(keep);
        for s in &mut summary.sites {
            s.parts.retain(keep);
        }
    }
    let view = View {
        summary,
        site_only: site.is_some(),
    };
    emit(out, &view, cli.json)?;
    Ok(())
}

fn print_summary(out: &mut dyn Write, s: &Summary, site_only: bool) -> std::io::Result<()> {
    // Columns are sized to their content (long descriptions such as IDS1's "... - Included
    // w/ Server" keep the numbers aligned); a part's per-unit license keys follow on their
    // own line, under the description.
    // The account's table also splits Total into perpetual and non-perpetual units ordered;
    // a site's Total is what the site can have (Used + Available), which orders do not split.
    let table = |out: &mut dyn Write,
                 parts: &[issuer::PartSummary],
                 split: bool|
     -> std::io::Result<()> {
        let mut rows = Vec::new();
        for p in parts {
            let mut row = vec![
                p.part.clone(),
                p.category.clone(),
                p.description.clone(),
                p.total.to_string(),
            ];
            if split {
                row.push(p.perpetual.to_string());
                row.push(p.non_perpetual.to_string());
            }
            row.push(p.used.to_string());
            row.push(p.available.to_string());
            rows.push(row);
            let grants: Vec<String> = p
                .grants
                .iter()
                .map(|g| format!("{} ({} assigned, {} pooled)", g.key, g.assigned, g.pooled))
                .collect();
            if !grants.is_empty() {
                rows.push(vec![
                    String::new(),
                    String::new(),
                    format!("per unit: {}", grants.join(", ")),
                ]);
            }
        }
        // Grant lines may be long: they do not widen the description column.
        let width_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                if r.len() == 3 {
                    vec![String::new(); 3]
                } else {
                    r.clone()
                }
            })
            .collect();
        let mut headers = vec!["Part Number", "Category", "Description", "Total"];
        if split {
            headers.extend(["Perpetual", "Non-perpetual"]);
        }
        headers.extend(["Used", "Available"]);
        let mut w: Vec<usize> = headers
            .iter()
            .map(|h| crate::output::display_width(h))
            .collect();
        for r in &width_rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(crate::output::display_width(c));
            }
        }
        let line = |out: &mut dyn Write, r: &[&str]| -> std::io::Result<()> {
            let mut l = String::new();
            for (i, c) in r.iter().enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                let pad = w[i].saturating_sub(crate::output::display_width(c));
                if i >= 3 {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(c);
                } else if i + 1 == r.len() {
                    l.push_str(c);
                } else {
                    l.push_str(c);
                    l.push_str(&" ".repeat(pad));
                }
            }
            writeln!(out, "{}", l.trim_end())
        };
        line(out, &headers)?;
        for r in &rows {
            line(out, &r.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        // Units of deactivated files still counted as used until staff approve.
        for p in parts.iter().filter(|p| p.pending > 0) {
            writeln!(
                    out,
                    "pending: {} x {} of Used (deactivated without a release receipt, awaiting approval)",
                    p.pending, p.part
                )?;
        }
        Ok(())
    };
    if site_only {
        for site in &s.sites {
            writeln!(
                out,
                "Account: {}  Install site: {}{}",
                s.account,
                site.site,
                if site.active { "" } else { " (inactive)" }
            )?;
            table(out, &site.parts, false)?;
        }
        return Ok(());
    }
    writeln!(out, "Account: {}", s.account)?;
    table(out, &s.parts, true)?;
    for site in &s.sites {
        writeln!(out)?;
        writeln!(
            out,
            "Install site: {}{}",
            site.site,
            if site.active { "" } else { " (inactive)" }
        )?;
        table(out, &site.parts, false)?;
    }
    Ok(())
}
