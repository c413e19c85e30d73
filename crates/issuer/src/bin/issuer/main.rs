//! `issuer`: keys, catalog, ledger and activation files for vendor staff.

mod catalog_cmd;
mod cli;
mod error;
mod output;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use format::{LicenseType, Timestamp};
use issuer::keys::{self, KdfParams};
use issuer::{Catalog, IssueRequest, IssuerError, Ledger, PartQuantity, SiteDetails, Summary};

use cli::{
    AccountCommand, ActivityArgs, AuditCommand, CatalogCommand, Cli, Command, IssueArgs,
    OrderCommand, SiteCommand, UpdateArgs, UpgradeArgs,
};
use error::CliError;
use issuer::{ActivityFilter, FileDetails, UpdateRequest, UpgradeSelection};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = format!("issuer: error: {e}");
            let mut src = std::error::Error::source(&e);
            // thiserror's transparent variants share their inner message; print causes once.
            let mut last = e.to_string();
            while let Some(s) = src {
                let t = s.to_string();
                if !last.contains(&t) {
                    msg.push_str(&format!(": {t}"));
                }
                last = t;
                src = s.source();
            }
            output::eprint_line(&msg);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

fn ledger_path(cli: &Cli) -> PathBuf {
    cli.db
        .clone()
        .or_else(|| {
            std::env::var_os("I3LIC_DB")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(issuer::default_ledger_path)
}

/// Open the ledger the command names. An existing ledger that group or others may open is
/// used, with a warning on standard error (printed once per command, however often the
/// ledger is opened): it holds customer data, but a vendor may share it with a group on
/// purpose, so it is not refused.
fn open_ledger(cli: &Cli) -> Result<Ledger, IssuerError> {
    warn_if_loose(Ledger::open(&ledger_path(cli))?)
}

/// Read from the ledger the command names, opened for reading only
/// ([`Ledger::open_read_only`]): commands that only read work for a user who may only read
/// the ledger, and never create one. Where the ledger had to be read without SQLite's locks
/// and changed meanwhile ([`Ledger::check_unchanged`]), the read is made again (at most three
/// times in all).
fn read_ledger<T>(
    cli: &Cli,
    read: impl Fn(&Ledger) -> Result<T, IssuerError>,
) -> Result<T, IssuerError> {
    let mut attempt = 1;
    loop {
        let ledger = warn_if_loose(Ledger::open_read_only(&ledger_path(cli))?)?;
        let result = read(&ledger);
        match ledger.check_unchanged() {
            Ok(()) => return result,
            Err(e) if attempt >= 3 => return Err(e),
            Err(_) => attempt += 1,
        }
    }
}

fn warn_if_loose(ledger: Ledger) -> Result<Ledger, IssuerError> {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Some(loose) = ledger.loose_permissions() {
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            output::eprint_line(&format!("issuer: warning: {loose}"));
        }
    }
    Ok(ledger)
}

fn load_catalog(path: Option<&Path>) -> Result<Catalog, IssuerError> {
    match path {
        None => Catalog::built_in().map_err(|error| IssuerError::Catalog {
            source_name: "built-in".into(),
            error,
        }),
        Some(p) => {
            let bytes =
                issuer::fsio::read_bounded(p, issuer::catalog::MAX_CATALOG_SIZE, "catalog")?;
            let text = String::from_utf8(bytes).map_err(|e| IssuerError::Catalog {
                source_name: p.display().to_string(),
                error: issuer::CatalogError::Syntax {
                    line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count(),
                    reason: "not UTF-8 text".into(),
                },
            })?;
            Catalog::parse(&text).map_err(|error| IssuerError::Catalog {
                source_name: p.display().to_string(),
                error,
            })
        }
    }
}

/// Who is running the command: `$USER` / `$LOGNAME`, else the account name of this process's
/// user id in /etc/passwd (Unix), else `uid N`. A variable whose value the ledger would
/// refuse ([`issuer::ledger::check_text`]: a control character such as a terminal escape,
/// blanks at its ends, more than 512 bytes, not UTF-8) is skipped with one warning naming the
/// name recorded instead. Decided once per command.
fn user_name() -> Option<String> {
    static NAME: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let mut skipped = Vec::new();
        let mut found = None;
        for var in ["USER", "LOGNAME"] {
            let Some(v) = std::env::var_os(var) else {
                continue;
            };
            if v.to_string_lossy().trim().is_empty() {
                continue;
            }
            match v.into_string() {
                Ok(v) if issuer::ledger::check_text("$USER", &v).is_ok() => {
                    found = Some(v);
                    break;
                }
                _ => skipped.push(var),
            }
        }
        let name = found.or_else(account_of_uid);
        for var in skipped {
            output::eprint_line(&format!(
                "issuer: warning: ${var} is not a usable name (it holds a control character, \
                 blanks at its ends, more than {} bytes or is not UTF-8): recording {} instead",
                format::MAX_TEXT_LEN,
                name.as_deref()
                    .map_or_else(|| "'unknown'".to_string(), |n| format!("'{n}'"))
            ));
        }
        name
    })
    .clone()
}

/// The account name of this process's user id in /etc/passwd (only one the ledger accepts),
/// else `uid N`.
fn account_of_uid() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let name = passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            (f.nth(1)? == uid.to_string()).then(|| name.to_string())
        });
        Some(
            name.filter(|n| !n.is_empty() && issuer::ledger::check_text("name", n).is_ok())
                .unwrap_or_else(|| format!("uid {uid}")),
        )
    }
    #[cfg(not(unix))]
    None
}

fn actor() -> String {
    user_name().unwrap_or_else(|| "unknown".into())
}

fn run(cli: Cli) -> Result<(), CliError> {
    let mut out = output::Out::stdout();
    match &cli.command {
        Command::Keygen {
            kid,
            out: dir,
            unencrypted,
            force,
        } => {
            if !keys::valid_kid(kid) {
                return Err(CliError::Usage(format!(
                    "--kid '{kid}': use 1 to 64 of A-Z a-z 0-9 . _ - (not starting with '.')"
                )));
            }
            let pass = if *unencrypted {
                None
            } else {
                Some(keys::passphrase_from_env_or_prompt(true)?)
            };
            let g = keys::keygen(
                dir,
                kid,
                pass.as_deref().map(|s| s.as_str()),
                KdfParams::DEFAULT,
                *force,
            )?;
            writeln!(out, "key id {}", g.key_id)?;
            writeln!(
                out,
                "secret key: {} ({})",
                g.secret_path.display(),
                if *unencrypted {
                    "UNENCRYPTED"
                } else {
                    "passphrase-encrypted"
                }
            )?;
            writeln!(out, "public key: {}", g.public_path.display())?;
        }
        Command::Catalog(CatalogCommand::List { json }) => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            if *json {
                let parts: Vec<_> = catalog.parts().collect();
                serde_json::to_writer_pretty(&mut out, &parts).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else {
                for p in catalog.parts() {
                    let up = catalog
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
            }
        }
        Command::Catalog(CatalogCommand::Show { part, json }) => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            catalog_cmd::show(&catalog, part, *json, &mut out)?;
        }
        Command::Catalog(CatalogCommand::Rules { json }) => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            catalog_cmd::rules(&catalog, *json, &mut out)?;
        }
        Command::Account(AccountCommand::Add { name }) => {
            open_ledger(&cli)?.add_account(name, &actor())?;
            writeln!(out, "added account {name}")?;
        }
        Command::Account(AccountCommand::List { json }) => {
            let names = read_ledger(&cli, |l| l.accounts())?;
            if *json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&names).map_err(std::io::Error::from)?
                )?;
            } else {
                for n in names {
                    writeln!(out, "{n}")?;
                }
            }
        }
        Command::Site(SiteCommand::Add {
            account,
            name,
            address,
            city,
            state,
            country,
            postal_code,
        }) => {
            let d = SiteDetails {
                address: address.clone(),
                city: city.clone(),
                state: state.clone(),
                country: country.clone(),
                postal_code: postal_code.clone(),
            };
            open_ledger(&cli)?.add_site(account, name, &d, &actor())?;
            writeln!(out, "added install site {name} to {account}")?;
        }
        Command::Site(SiteCommand::List { account, json }) => {
            let sites = read_ledger(&cli, |l| l.sites(account))?;
            if *json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&sites).map_err(std::io::Error::from)?
                )?;
            } else {
                writeln!(
                    out,
                    "{:<24} {:<32} {:<16} {:<12} {:<12} {:<10} Active",
                    "Name", "Address", "City", "State", "Country", "Postal"
                )?;
                for s in sites {
                    let d = &s.details;
                    writeln!(
                        out,
                        "{:<24} {:<32} {:<16} {:<12} {:<12} {:<10} {}",
                        s.name,
                        d.address.join(", "),
                        d.city,
                        d.state,
                        d.country,
                        d.postal_code,
                        if s.active { "Yes" } else { "No" }
                    )?;
                }
            }
        }
        Command::Site(SiteCommand::Deactivate { account, name })
        | Command::Site(SiteCommand::Activate { account, name }) => {
            let active = matches!(cli.command, Command::Site(SiteCommand::Activate { .. }));
            open_ledger(&cli)?.set_site_active(account, name, active, &actor())?;
            writeln!(
                out,
                "install site {name} of {account} is {}",
                if active { "active" } else { "inactive" }
            )?;
        }
        Command::Order(OrderCommand::Add {
            account,
            part,
            quantity,
            perpetual: _,
            non_perpetual,
        }) => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            let included = open_ledger(&cli)?.add_order(
                &catalog,
                account,
                part,
                *quantity,
                !non_perpetual,
                &actor(),
            )?;
            writeln!(out, "added {quantity} x {part} to {account}")?;
            if let Some(inc) = included {
                writeln!(
                    out,
                    "added {quantity} x {inc} to {account} (included with the server)"
                )?;
            }
        }
        Command::Summary {
            account,
            site,
            json,
        } => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            let s = read_ledger(&cli, |l| l.summary(&catalog, account, site.as_deref()))?;
            if *json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&s).map_err(std::io::Error::from)?
                )?;
            } else {
                print_summary(&mut out, &s, site.is_some())?;
            }
        }
        Command::Issue(args) => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            let (reqs, batch) = issue_requests(args)?;
            let (out_path, req) =
                match (&args.out, &args.out_dir, reqs.first()) {
                    (Some(p), None, Some(req)) if !batch => (p, req),
                    (Some(_), _, _) => return Err(CliError::Usage(
                        "a batch writes one file per request: give --out-dir DIR instead of --out"
                            .into(),
                    )),
                    (None, Some(dir), _) => {
                        return issue_into(&cli, &catalog, args, &reqs, dir, &mut out);
                    }
                    _ => {
                        return Err(CliError::Usage(
                            "missing --out FILE or --out-dir DIR".into(),
                        ))
                    }
                };
            let mut ledger = open_ledger(&cli)?;
            // Everything that can be checked without the key is checked before asking for
            // a passphrase.
            ledger.check(&catalog, req)?;
            let key = keys::load_secret_key(&args.key, &mut || {
                keys::passphrase_from_env_or_prompt(false)
            })?;
            let issued = ledger.issue(&catalog, req, &key, Some(out_path), Timestamp::now())?;
            drop(key);
            writeln!(out, "{}", issued.file_id)?;
            output::eprint_line(&format!(
                "issuer: wrote {} ({} file, expires {})",
                out_path.display(),
                req.license_type.label(),
                issued.expires_at
            ));
        }
        Command::Update(args) => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            let u = update_request(args)?;
            let mut ledger = open_ledger(&cli)?;
            // Everything that can be checked without the key is checked before asking for
            // a passphrase.
            let req = ledger.check_update(&catalog, &args.id, &u)?;
            let key = keys::load_secret_key(&args.key, &mut || {
                keys::passphrase_from_env_or_prompt(false)
            })?;
            let issued = ledger.update(
                &catalog,
                &args.id,
                &u,
                &key,
                Some(&args.out),
                Timestamp::now(),
            )?;
            drop(key);
            writeln!(out, "{}", issued.file_id)?;
            output::eprint_line(&format!(
                "issuer: wrote {} ({} file, expires {}); it supersedes {}, which is now inactive",
                args.out.display(),
                req.license_type.label(),
                issued.expires_at,
                args.id.trim().to_ascii_lowercase()
            ));
        }
        Command::Deactivate { id, with_recovery } => {
            let mut ledger = open_ledger(&cli)?;
            let done = if *with_recovery {
                ledger.deactivate_with_recovery(id, &actor(), Timestamp::now())?
            } else {
                let returned = ledger.deactivate(id, &actor(), Timestamp::now())?;
                vec![issuer::Deactivated {
                    id: id.trim().to_ascii_lowercase(),
                    license_type: String::new(),
                    returned,
                }]
            };
            for (i, d) in done.iter().enumerate() {
                if i == 0 {
                    writeln!(out, "deactivated {}", d.id)?;
                } else {
                    writeln!(
                        out,
                        "deactivated {} (disaster recovery, with {})",
                        d.id, done[0].id
                    )?;
                }
                if d.returned.is_empty() {
                    writeln!(out, "it used no ordered units")?;
                }
                for (part, n) in &d.returned {
                    writeln!(out, "returned {n} x {part}")?;
                }
            }
        }
        Command::Activity(args) => {
            let filter = activity_filter(args)?;
            let rows = read_ledger(&cli, |l| l.activity(&filter))?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &rows).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else {
                print_activity(&mut out, &rows)?;
            }
        }
        Command::Show { id, json } => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            let d = read_ledger(&cli, |l| l.show(&catalog, id))?;
            if *json {
                serde_json::to_writer_pretty(&mut out, &d).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else {
                print_details(&mut out, &d)?;
            }
        }
        Command::Upgrade(args) => upgrade(&cli, args, &mut out)?,
        Command::Audit(AuditCommand::Head) => {
            let (seq, hash) = read_ledger(&cli, |l| l.audit_head())?;
            writeln!(out, "{}", issuer::ledger::format_head(seq, &hash))?;
        }
        Command::Audit(AuditCommand::Verify { head, json }) => {
            let head = head.as_deref().map(parse_head).transpose()?;
            let report = read_ledger(&cli, |l| l.verify_audit(head))?;
            if *json {
                serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else if report.intact() {
                writeln!(
                    out,
                    "audit log intact: {} rows, head {}:{}",
                    report.rows, report.head_seq, report.head_hash
                )?;
            } else {
                for p in &report.problems {
                    writeln!(out, "{p}")?;
                }
            }
            if !report.intact() {
                out.flush()?;
                return Err(CliError::AuditBroken(report.problems.len()));
            }
        }
        Command::Download { id, out: path } => {
            let bytes = read_ledger(&cli, |l| l.file_bytes(id))?;
            if path.as_os_str() == "-" {
                out.write_raw(&bytes)?;
            } else {
                issuer::fsio::write_atomic(path, &bytes, 0o644)?;
                output::eprint_line(&format!(
                    "issuer: wrote {} (activation file {}, as recorded)",
                    path.display(),
                    id.trim().to_ascii_lowercase()
                ));
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `issuer issue --out-dir DIR`: every request (a batch, or one) in one transaction, each
/// file written to `DIR/<machine>.i3lic`; prints `ID PATH` per file, in request order.
fn issue_into(
    cli: &Cli,
    catalog: &Catalog,
    args: &IssueArgs,
    reqs: &[IssueRequest],
    dir: &Path,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut ledger = open_ledger(cli)?;
    // Everything that can be checked without the key is checked before asking for a
    // passphrase.
    ledger.check_batch(catalog, reqs, Some(dir))?;
    let key = keys::load_secret_key(&args.key, &mut || {
        keys::passphrase_from_env_or_prompt(false)
    })?;
    let issued = ledger.issue_batch(catalog, reqs, &key, Some(dir), Timestamp::now())?;
    drop(key);
    for (req, f) in reqs.iter().zip(&issued) {
        let path = dir.join(issuer::batch_file_name(&req.machine)?);
        writeln!(out, "{} {}", f.file_id, path.display())?;
    }
    output::eprint_line(&format!(
        "issuer: wrote {} file(s) into {}, recorded in one transaction",
        issued.len(),
        dir.display()
    ));
    Ok(())
}

fn print_summary(out: &mut impl Write, s: &Summary, site_only: bool) -> std::io::Result<()> {
    // Columns are sized to their content (long descriptions such as IDS1's "... - Included
    // w/ Server" keep the numbers aligned); a part's per-unit license keys follow on their
    // own line, under the description.
    let table = |out: &mut dyn Write, parts: &[issuer::PartSummary]| -> std::io::Result<()> {
        let mut rows = Vec::new();
        for p in parts {
            rows.push(vec![
                p.part.clone(),
                p.category.clone(),
                p.description.clone(),
                p.total.to_string(),
                p.used.to_string(),
                p.available.to_string(),
            ]);
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
        let headers = [
            "Part Number",
            "Category",
            "Description",
            "Total",
            "Used",
            "Available",
        ];
        let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for r in &width_rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |out: &mut dyn Write, r: &[&str]| -> std::io::Result<()> {
            let mut l = String::new();
            for (i, c) in r.iter().enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                let pad = w[i].saturating_sub(c.chars().count());
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
            table(out, &site.parts)?;
        }
        return Ok(());
    }
    writeln!(out, "Account: {}", s.account)?;
    table(out, &s.parts)?;
    for site in &s.sites {
        writeln!(out)?;
        writeln!(
            out,
            "Install site: {}{}",
            site.site,
            if site.active { "" } else { " (inactive)" }
        )?;
        table(out, &site.parts)?;
    }
    Ok(())
}

fn parse_head(s: &str) -> Result<(i64, [u8; 32]), CliError> {
    issuer::ledger::parse_head(s).ok_or_else(|| {
        CliError::Usage(format!(
            "--head '{s}': expected SEQ:HASH (from `issuer audit head`)"
        ))
    })
}

/// A table with columns sized to their content; `right` marks right-aligned columns.
fn print_table(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[Vec<String>],
    right: &[usize],
) -> std::io::Result<()> {
    let width = |s: &str| s.chars().count();
    let mut w: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(width(c));
            }
        }
    }
    let line =
        |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            let mut l = String::new();
            for (i, (c, w)) in cells.zip(&w).enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                let pad = w.saturating_sub(width(c));
                if right.contains(&i) {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(c);
                } else {
                    l.push_str(c);
                    l.push_str(&" ".repeat(pad));
                }
            }
            writeln!(out, "{}", l.trim_end())
        };
    line(out, &mut headers.iter().copied())?;
    for r in rows {
        line(out, &mut r.iter().map(String::as_str))?;
    }
    Ok(())
}

fn print_activity(out: &mut impl Write, rows: &[issuer::ActivityRow]) -> std::io::Result<()> {
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let t: LicenseType = r.license_type.parse().unwrap_or(LicenseType::Production);
            let mut notes = Vec::new();
            if let Some(n) = &r.superseded_by {
                notes.push(format!("superseded by {n}"));
            } else if let (false, Some(d)) = (r.active, r.deactivated_at) {
                notes.push(format!("deactivated {}", d.date()));
            }
            if let Some(p) = &r.supersedes {
                notes.push(format!("supersedes {p}"));
            }
            vec![
                r.generated_at.date(),
                r.expires_at.date(),
                if r.active { "Yes" } else { "No" }.to_string(),
                r.install_site.clone(),
                r.generated_by.clone(),
                match &r.switchover_machine {
                    Some(s) => format!("{} + {s}", r.machine),
                    None => r.machine.clone(),
                },
                r.product.clone(),
                t.label().to_string(),
                r.sold_to.clone(),
                r.id.clone(),
                notes.join("; "),
            ]
        })
        .collect();
    print_table(
        out,
        &[
            "Generated",
            "Expires",
            "Active",
            "Install Site",
            "Generated By",
            "Machine",
            "Product",
            "Type",
            "Sold To",
            "File Id",
            "Notes",
        ],
        &table,
        &[],
    )?;
    writeln!(out, "Number of total results: {}", rows.len())
}

fn print_details(out: &mut impl Write, d: &FileDetails) -> std::io::Result<()> {
    let a = &d.activation;
    let state = match d.status {
        "superseded" => format!(
            "superseded by {} on {}",
            d.superseded_by.as_deref().unwrap_or("?"),
            d.deactivated_at.map(|t| t.to_string()).unwrap_or_default()
        ),
        "deactivated" => format!(
            "deactivated on {} by {}",
            d.deactivated_at.map(|t| t.to_string()).unwrap_or_default(),
            d.deactivated_by.as_deref().unwrap_or("?")
        ),
        s => s.to_string(),
    };
    let mut fields: Vec<(&str, String)> = vec![
        ("File Id", d.id.clone()),
        ("State", state),
        ("Product", format!("{} {}", a.product, a.product_version)),
        ("License Type", a.license_type.label().to_string()),
        ("Generation Date", a.issued_at.to_string()),
        ("Expiration Date", a.expires_at.to_string()),
        ("Grace Period", format!("{} days", a.grace_days)),
        ("Generated By", a.generated_by.clone()),
        ("Company Name", a.sold_to.clone()),
        ("Site Name", a.install_site.clone()),
    ];
    if let Some(p) = &d.supersedes {
        fields.push(("Supersedes", p.clone()));
    }
    if let Some(r) = &d.related_production {
        fields.push(("Related Production", r.clone()));
    }
    fields.extend([
        ("Machine Type", a.system_type.clone()),
        ("Mail Connector", a.mail_connector.clone()),
        ("Description", a.description.clone()),
        ("Bundle", a.bundle.clone()),
        ("Signing Key", d.key_id.clone()),
        ("SHA-256", d.sha256.clone()),
    ]);
    if !a.restrictions.is_empty() {
        fields.push((
            "Restrictions",
            a.restrictions
                .iter()
                .map(|r| r.describe())
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let w = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &fields {
        // A value not given (no machine type, no mail connector) reads `-`.
        let v = if v.trim().is_empty() {
            "-"
        } else {
            v.trim_end()
        };
        writeln!(out, "{k:<w$}  {v}")?;
    }
    writeln!(out)?;
    writeln!(out, "Server Info")?;
    let mut hosts = vec![vec![
        "primary".to_string(),
        a.primary_host.host_id.to_string(),
        a.primary_host.machine.clone(),
    ]];
    match &a.switchover_host {
        Some(h) => hosts.push(vec![
            "switchover".into(),
            h.host_id.to_string(),
            h.machine.clone(),
        ]),
        None if a.license_type == LicenseType::Production => hosts.push(vec![
            "switchover".into(),
            "(not given yet: add it with issuer update --switchover-host-id)".into(),
            String::new(),
        ]),
        None => {}
    }
    print_table(out, &["Server", "Host Id", "Machine Name"], &hosts, &[])?;
    writeln!(out)?;
    writeln!(out, "Features")?;
    for f in &a.features {
        writeln!(out, "  {f}")?;
    }
    writeln!(out)?;
    writeln!(out, "Licenses")?;
    for l in &a.licenses {
        writeln!(
            out,
            "  {} ({} assigned, {} pooled)",
            l.name, l.assigned, l.pooled
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Ordered Items Used")?;
    if a.ordered_items.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for o in &a.ordered_items {
        writeln!(out, "  {} {} ({})", o.part, o.description, o.quantity)?;
    }
    Ok(())
}

fn upgrade(cli: &Cli, args: &UpgradeArgs, out: &mut impl Write) -> Result<(), CliError> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let selection = if args.mirror {
        UpgradeSelection::Mirror
    } else {
        UpgradeSelection::Parts(args.part.iter().map(|p| p.trim().to_string()).collect())
    };
    let moved = open_ledger(cli)?.upgrade(
        &catalog,
        &args.account,
        &args.product,
        &args.from,
        &args.to,
        &selection,
        args.dry_run,
        &actor(),
    )?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &moved).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = moved
        .iter()
        .map(|m| {
            vec![
                m.from_part.clone(),
                m.to_part.clone(),
                m.description.clone(),
                m.quantity.to_string(),
                m.used.to_string(),
                if m.perpetual { "Yes" } else { "No" }.into(),
            ]
        })
        .collect();
    print_table(
        out,
        &["From", "To", "Description", "Quantity", "Used", "Perpetual"],
        &rows,
        &[3, 4],
    )?;
    writeln!(
        out,
        "{} {} order line(s) {} {} {} -> {}{}",
        if args.dry_run {
            "would upgrade"
        } else {
            "upgraded"
        },
        moved.len(),
        if args.mirror {
            "(mirrored)"
        } else {
            "(selected parts)"
        },
        args.product,
        args.from,
        args.to,
        if args.dry_run {
            "; nothing was changed"
        } else {
            ""
        }
    )?;
    Ok(())
}

/// A date filter: `YYYY-MM-DD` (the start of that day, or with `end`, the start of the next)
/// or a full UTC time.
fn parse_date(flag: &str, s: &str, end: bool) -> Result<Timestamp, CliError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(if end { t.plus_secs(1) } else { t });
    }
    let day: Timestamp = format!("{s}T00:00:00Z").parse().map_err(|_| {
        CliError::Usage(format!(
            "{flag} '{s}': expected a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ"
        ))
    })?;
    Ok(if end { day.plus_days(1) } else { day })
}

fn activity_filter(a: &ActivityArgs) -> Result<ActivityFilter, CliError> {
    let active = match a.active.trim().to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        "all" => None,
        other => {
            return Err(CliError::Usage(format!(
                "--active '{other}': expected yes, no or all"
            )))
        }
    };
    let license_type = a
        .license_type
        .as_deref()
        .map(|t| {
            t.parse::<LicenseType>()
                .map_err(|e| CliError::Usage(format!("--type: {e}")))
        })
        .transpose()?;
    Ok(ActivityFilter {
        account: a.account.clone(),
        site: a.site.clone(),
        from: a
            .from
            .as_deref()
            .map(|d| parse_date("--from", d, false))
            .transpose()?,
        to: a
            .to
            .as_deref()
            .map(|d| parse_date("--to", d, true))
            .transpose()?,
        active,
        product_line: a.product_line.clone(),
        license_type,
        generated_by: a.generated_by.clone(),
        machine: a.machine.clone(),
    })
}

fn parse_pairs(flag: &str, values: &[String]) -> Result<Vec<PartQuantity>, CliError> {
    values
        .iter()
        .map(|s| {
            let (part, q) = s
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("{flag} '{s}': expected PART=QUANTITY")))?;
            let quantity = q.trim().parse::<u32>().map_err(|_| {
                CliError::Usage(format!("{flag} '{s}': '{q}' is not a whole number"))
            })?;
            Ok(PartQuantity {
                part: part.trim().to_string(),
                quantity,
            })
        })
        .collect()
}

fn update_request(a: &UpdateArgs) -> Result<UpdateRequest, CliError> {
    Ok(UpdateRequest {
        host_id: a.host_id.clone(),
        machine: a.machine.clone(),
        switchover_host_id: a.switchover_host_id.clone(),
        switchover_machine: a.switchover_machine.clone(),
        switchover_part: a.switchover_part.clone(),
        remove_switchover: a.remove_switchover,
        add: parse_pairs("--add", &a.add)?,
        set: parse_pairs("--set", &a.set)?,
        system_type: a.system_type.clone(),
        mail_connector: a.mail_connector.clone(),
        generated_by: a.generated_by.clone().or_else(user_name).ok_or_else(|| {
            CliError::Usage("missing --generated-by (and $USER is not set)".into())
        })?,
    })
}

fn pick(flag: &Option<String>, file: Option<String>, name: &str) -> Result<String, CliError> {
    flag.clone().or(file).ok_or_else(|| {
        CliError::Usage(format!(
            "missing --{name} (give it on the command line or in --request)"
        ))
    })
}

/// One request as a request file gives it (every value optional: flags may supply it).
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileReq {
    account: Option<String>,
    site: Option<String>,
    product: Option<String>,
    version: Option<String>,
    #[serde(rename = "type")]
    license_type: Option<String>,
    host_id: Option<String>,
    machine: Option<String>,
    switchover_host_id: Option<String>,
    switchover_machine: Option<String>,
    switchover_part: Option<String>,
    server_part: Option<String>,
    #[serde(default)]
    add: Vec<PartQuantity>,
    system_type: Option<String>,
    mail_connector: Option<String>,
    generated_by: Option<String>,
    #[serde(default)]
    partner: bool,
    related: Option<String>,
}

/// A batch request file: values shared by every request, and the requests.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchFile {
    #[serde(default)]
    defaults: serde_json::Map<String, serde_json::Value>,
    requests: Vec<serde_json::Value>,
}

/// The requests of `issuer issue` (one, or a batch from `--request`) with command-line flags
/// taking precedence, and whether they came as a batch.
fn issue_requests(a: &IssueArgs) -> Result<(Vec<IssueRequest>, bool), CliError> {
    let Some(p) = &a.request else {
        return Ok((vec![issue_request(a, FileReq::default())?], false));
    };
    let bytes = issuer::fsio::read_bounded(p, REQUEST_FILE_MAX, "request file")?;
    let malformed = |reason: String| IssuerError::MalformedRequest {
        reason: format!("{}: {reason}", p.display()),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
    let is_batch = value
        .as_object()
        .is_some_and(|o| o.contains_key("requests"));
    // Bounded before anything is copied: a batch's defaults go into every request, so a
    // 4 MiB default would otherwise become gigabytes over 10,000 requests.
    match value.get("requests").and_then(|r| r.as_array()) {
        Some(r) if is_batch => {
            if r.len() > issuer::ledger::MAX_BATCH {
                return Err(malformed(format!(
                    "the batch holds {} requests; at most {} are issued at once",
                    r.len(),
                    issuer::ledger::MAX_BATCH
                ))
                .into());
            }
            if let Some(d) = value.get("defaults") {
                check_value_sizes(d, "defaults").map_err(malformed)?;
            }
            for (i, req) in r.iter().enumerate() {
                check_value_sizes(req, &format!("request {} of {}", i + 1, r.len()))
                    .map_err(malformed)?;
            }
        }
        _ => check_value_sizes(&value, "the request").map_err(malformed)?,
    }
    if !is_batch {
        let f: FileReq = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        return Ok((vec![issue_request(a, f)?], false));
    }
    let b: BatchFile = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
    for (flag, given) in [
        ("--host-id", a.host_id.is_some()),
        ("--machine", a.machine.is_some()),
        ("--switchover-host-id", a.switchover_host_id.is_some()),
        ("--switchover-machine", a.switchover_machine.is_some()),
    ] {
        if given {
            return Err(CliError::Usage(format!(
                "{flag} names one server: give it in each request of the batch {}",
                p.display()
            )));
        }
    }
    let count = b.requests.len();
    let mut reqs = Vec::with_capacity(count);
    for (i, r) in b.requests.into_iter().enumerate() {
        let serde_json::Value::Object(fields) = r else {
            return Err(malformed(format!("request {} of {count} is not an object", i + 1)).into());
        };
        let mut merged = b.defaults.clone();
        merged.extend(fields);
        let machine = merged
            .get("machine")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string();
        let within = |reason: String| {
            format!(
                "request {} of {count} (machine '{machine}'): {reason}",
                i + 1
            )
        };
        let f: FileReq = serde_json::from_value(serde_json::Value::Object(merged))
            .map_err(|e| malformed(within(e.to_string())))?;
        reqs.push(issue_request(a, f).map_err(|e| match e {
            CliError::Usage(m) => CliError::Usage(within(m)),
            other => other,
        })?);
    }
    Ok((reqs, true))
}

/// The largest request file read.
const REQUEST_FILE_MAX: usize = 4 * 1024 * 1024;

/// Refuse a value no request can use: a text longer than any field of an activation file
/// may be, or a list longer than one may hold. `at` names the value in the error.
fn check_value_sizes(v: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.len() > format::MAX_TEXT_LEN => Err(format!(
            "{at}: a text of {} bytes; at most {} are accepted",
            s.len(),
            format::MAX_TEXT_LEN
        )),
        Value::Array(a) if a.len() > format::MAX_LIST_LEN => Err(format!(
            "{at}: a list of {} entries; at most {} are accepted",
            a.len(),
            format::MAX_LIST_LEN
        )),
        Value::Array(a) => a.iter().try_for_each(|x| check_value_sizes(x, at)),
        Value::Object(o) => o
            .iter()
            .try_for_each(|(k, x)| check_value_sizes(x, &format!("{at}, '{k}'"))),
        _ => Ok(()),
    }
}

/// One request from a request file's values, command-line flags taking precedence.
fn issue_request(a: &IssueArgs, f: FileReq) -> Result<IssueRequest, CliError> {
    let t = pick(&a.license_type, f.license_type, "type")?;
    let license_type: LicenseType = t
        .parse()
        .map_err(|e: format::FormatError| CliError::Usage(format!("--type: {e}")))?;
    let add = if a.add.is_empty() {
        f.add
    } else {
        parse_pairs("--add", &a.add)?
    };
    let generated_by = a
        .generated_by
        .clone()
        .or(f.generated_by)
        .or_else(user_name)
        .ok_or_else(|| CliError::Usage("missing --generated-by (and $USER is not set)".into()))?;
    Ok(IssueRequest {
        account: pick(&a.account, f.account, "account")?,
        site: pick(&a.site, f.site, "site")?,
        product: pick(&a.product, f.product, "product")?,
        version: pick(&a.version, f.version, "version")?,
        license_type,
        host_id: pick(&a.host_id, f.host_id, "host-id")?,
        machine: pick(&a.machine, f.machine, "machine")?,
        switchover_host_id: a.switchover_host_id.clone().or(f.switchover_host_id),
        switchover_machine: a.switchover_machine.clone().or(f.switchover_machine),
        switchover_part: a.switchover_part.clone().or(f.switchover_part),
        server_part: pick(&a.server_part, f.server_part, "server-part")?,
        add,
        system_type: a.system_type.clone().or(f.system_type),
        mail_connector: a.mail_connector.clone().or(f.mail_connector),
        generated_by,
        partner: a.partner || f.partner,
        related: a.related.clone().or(f.related),
    })
}
