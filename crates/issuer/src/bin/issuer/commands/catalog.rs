//! `issuer catalog list|show|rules`: the parts, what a part grants and which license rules
//! apply, so vendor staff can check a catalog before using it.

use std::io::Write;

use format::{Holder, Method};
use issuer::catalog::{CatalogRules, Part, PartKind};
use issuer::Catalog;

use crate::cli::{CatalogCommand, Cli};
use crate::context::load_catalog;
use crate::error::CliError;
use crate::output::{emit, print_fields, Render};

/// Run a `catalog` command.
pub fn run(cli: &Cli, command: &CatalogCommand, out: &mut dyn Write) -> Result<(), CliError> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    match command {
        CatalogCommand::List {
            kind,
            version,
            search,
        } => {
            let kind = kind
                .as_deref()
                .map(|k| {
                    let k = k.trim().to_ascii_lowercase();
                    match k.as_str() {
                        "server" | "access" | "session" | "addon" => Ok(k),
                        _ => Err(CliError::Usage(format!(
                            "--kind '{k}': expected server, access, session or addon"
                        ))),
                    }
                })
                .transpose()?;
            let version = version.as_deref().map(str::trim);
            let search = search.as_deref().map(|s| s.trim().to_lowercase());
            let parts = catalog
                .parts()
                .filter(|p| kind.as_deref().is_none_or(|k| p.kind.as_str() == k))
                .filter(|p| version.is_none_or(|v| p.category.rsplit(' ').next() == Some(v)))
                .filter(|p| {
                    search.as_deref().is_none_or(|s| {
                        p.number.to_lowercase().contains(s)
                            || p.description.to_lowercase().contains(s)
                    })
                })
                .collect();
            emit(
                out,
                &PartList {
                    parts,
                    catalog: &catalog,
                },
                cli.json,
            )?
        }
        CatalogCommand::Show { part } => show(&catalog, part, cli.json, out)?,
        CatalogCommand::Rules => emit(out, &Rules(catalog.rules()), cli.json)?,
    }
    Ok(())
}

/// `issuer catalog list`: every part (JSON: a list of the catalog's parts).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct PartList<'a> {
    parts: Vec<&'a Part>,
    #[serde(skip)]
    catalog: &'a Catalog,
}

impl Render for PartList<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for p in &self.parts {
            let up = self
                .catalog
                .upgrade_of(&p.number)
                .map(|u| format!("  (upgrades to {u})"))
                .unwrap_or_default();
            let line = format!(
                "{:<18} {:<8} {:<8} {}{up}",
                p.number,
                p.category,
                format!("{:?}", p.kind).to_lowercase(),
                p.description
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// One license key of a part: its counts (per unit, or per file for a server item) and
/// who may hold it and how.
#[derive(serde::Serialize)]
struct KeyLine<'a> {
    key: &'a str,
    description: &'a str,
    assigned: u64,
    pooled: u64,
    holders: &'a [Holder],
    methods: &'a [Method],
}

/// `issuer catalog show PART --json`.
#[derive(serde::Serialize)]
struct PartView<'a> {
    part: &'a Part,
    upgrades_to: Option<&'a str>,
    /// `unit` for items (counts per unit ordered), `file` for a server item (once per file,
    /// with a development system's `each=N` spelled out).
    per: &'static str,
    licenses: Vec<KeyLine<'a>>,
    features: Vec<String>,
    rules: CatalogRules,
}

fn view<'a>(catalog: &'a Catalog, part: &'a Part) -> PartView<'a> {
    let counts: Vec<(String, (u64, u64))> = match part.kind {
        PartKind::Server => catalog.file_counts(part, &[]).into_iter().collect(),
        _ => part
            .grants
            .iter()
            .map(|g| (g.key.clone(), (g.assigned.into(), g.pooled.into())))
            .collect(),
    };
    let licenses = counts
        .iter()
        .filter_map(|(key, (assigned, pooled))| {
            let l = catalog.license(key)?;
            Some(KeyLine {
                key: &l.key,
                description: &l.description,
                assigned: *assigned,
                pooled: *pooled,
                holders: &l.holders,
                methods: &l.methods,
            })
        })
        .collect::<Vec<_>>();
    let features = match &part.server {
        Some(_) => catalog.file_features(part, &[]),
        None => part.features.clone(),
    };
    let rules = catalog.rules_about(
        licenses
            .iter()
            .map(|l| l.key)
            .chain(features.iter().map(String::as_str)),
    );
    PartView {
        part,
        upgrades_to: catalog.upgrade_of(&part.number),
        per: if part.kind == PartKind::Server {
            "file"
        } else {
            "unit"
        },
        licenses,
        features,
        rules,
    }
}

fn holders(v: &[Holder]) -> String {
    v.iter().map(|h| h.as_str()).collect::<Vec<_>>().join(", ")
}

fn methods(v: &[Method]) -> String {
    v.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
}

/// `issuer catalog show PART [--json]`.
fn show(catalog: &Catalog, number: &str, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let number = number.trim();
    let part = catalog.lookup_part(number)?;
    emit(out, &view(catalog, part), json)?;
    Ok(())
}

impl Render for PartView<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let v = self;
        let part = self.part;
        let mut fields: Vec<(&str, String)> = vec![
            ("Part", part.number.clone()),
            ("Description", part.description.clone()),
            ("Kind", part.kind.as_str().into()),
            ("Category", part.category.clone()),
            ("Upgrades to", v.upgrades_to.unwrap_or("-").into()),
        ];
        if let Some(spec) = &part.server {
            fields.push((
                "Types",
                spec.types
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            if let Some(inc) = &spec.includes {
                fields.push(("Includes", inc.clone()));
            }
            if let Some(d) = spec.development {
                fields.push((
                    "Development",
                    match d {
                        issuer::catalog::Development::Ordered => "ordered",
                        issuer::catalog::Development::NonOrdered => {
                            "non-ordered (included with a server)"
                        }
                    }
                    .into(),
                ));
            }
            if let Some(n) = spec.each {
                fields.push((
                    "Each",
                    format!(
                        "{n} assigned of every access and session key of {}",
                        part.category
                    ),
                ));
            }
            if spec.fixed {
                fields.push(("Add-ons", "none (a fixed configuration)".into()));
            } else if spec.takes_no_add_ons() {
                fields.push((
                    "Add-ons",
                    "none (its license types take no add-on items)".into(),
                ));
            }
        }
        print_fields(out, &fields)?;
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            if v.per == "file" {
                "Licenses per file"
            } else {
                "Licenses per unit"
            }
        )?;
        if v.licenses.is_empty() {
            writeln!(out, "  (none)")?;
        }
        let kw = v.licenses.iter().map(|l| l.key.len()).max().unwrap_or(0);
        for l in &v.licenses {
            writeln!(
                out,
                "  {:<kw$}  {} assigned, {} pooled  {}  (holders: {}; methods: {})",
                l.key,
                l.assigned,
                l.pooled,
                l.description,
                holders(l.holders),
                methods(l.methods),
            )?;
        }
        writeln!(out)?;
        writeln!(out, "Features")?;
        if v.features.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for f in &v.features {
            writeln!(out, "  {f}")?;
        }
        writeln!(out)?;
        writeln!(out, "Rules that apply to its keys and features")?;
        if v.rules.is_empty() {
            writeln!(out, "  (none)")?;
        }
        print_rule_lines(out, &v.rules)?;
        Ok(())
    }
}

/// Every rule of `rules` as `line N  record`, grouped in the catalog's order of kinds.
fn print_rule_lines(out: &mut dyn Write, rules: &CatalogRules) -> std::io::Result<()> {
    let lines: Vec<(usize, String)> = rules
        .keys
        .iter()
        .map(|r| (r.line, r.text()))
        .chain(rules.requires.iter().map(|r| (r.line, r.text())))
        .chain(rules.implies.iter().map(|r| (r.line, r.text())))
        .chain(rules.excludes.iter().map(|r| (r.line, r.text())))
        .chain(rules.needs.iter().map(|r| (r.line, r.text())))
        .collect();
    let w = lines
        .iter()
        .map(|(l, _)| l.to_string().len())
        .max()
        .unwrap_or(0);
    for (line, text) in lines {
        writeln!(out, "  line {line:<w$}  {text}")?;
    }
    Ok(())
}

/// `issuer catalog rules`: every rule (JSON: the catalog's rules).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Rules<'a>(&'a CatalogRules);

impl Render for Rules<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let r = self.0;
        let groups: [(&str, Vec<(usize, String)>); 5] = [
            (
                "Key attributes (a key not listed may be held by users and stations, assignable or concurrent)",
                r.keys.iter().map(|x| (x.line, x.text())).collect(),
            ),
            (
                "Requires (holding the key needs holding one of the others, on the same holder)",
                r.requires.iter().map(|x| (x.line, x.text())).collect(),
            ),
            (
                "Implies (allocating the key allocates the other with it; removing it removes the other)",
                r.implies.iter().map(|x| (x.line, x.text())).collect(),
            ),
            (
                "Excludes (no holder holds two of them at once)",
                r.excludes.iter().map(|x| (x.line, x.text())).collect(),
            ),
            (
                "Needs (a file that grants or enables the first grants or enables one of the others)",
                r.needs.iter().map(|x| (x.line, x.text())).collect(),
            ),
        ];
        let w = groups
            .iter()
            .flat_map(|(_, v)| v.iter().map(|(l, _)| l.to_string().len()))
            .max()
            .unwrap_or(0);
        for (i, (title, items)) in groups.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "{title}")?;
            if items.is_empty() {
                writeln!(out, "  (none)")?;
            }
            for (line, text) in items {
                writeln!(out, "  line {line:<w$}  {text}")?;
            }
        }
        Ok(())
    }
}
