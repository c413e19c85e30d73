//! `issuer`: keys, catalog, ledger and activation files for vendor staff.

mod cli;
mod error;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use format::{LicenseType, Timestamp};
use issuer::keys::{self, KdfParams};
use issuer::{Catalog, IssueRequest, IssuerError, Ledger, PartQuantity, SiteDetails, Summary};

use cli::{AccountCommand, CatalogCommand, Cli, Command, IssueArgs, OrderCommand, SiteCommand};
use error::CliError;

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
            eprintln!("{msg}");
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
/// user id in /etc/passwd (Unix), else `uid N`.
fn user_name() -> Option<String> {
    if let Some(u) = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
    {
        return Some(u);
    }
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
        Some(name.unwrap_or_else(|| format!("uid {uid}")))
    }
    #[cfg(not(unix))]
    None
}

fn actor() -> String {
    user_name().unwrap_or_else(|| "unknown".into())
}

fn run(cli: Cli) -> Result<(), CliError> {
    let out = std::io::stdout();
    let mut out = out.lock();
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
                    writeln!(
                        out,
                        "{:<18} {:<8} {:<8} {}{up}",
                        p.number,
                        p.category,
                        format!("{:?}", p.kind).to_lowercase(),
                        p.description
                    )?;
                }
            }
        }
        Command::Account(AccountCommand::Add { name }) => {
            Ledger::open(&ledger_path(&cli))?.add_account(name, &actor())?;
            writeln!(out, "added account {name}")?;
        }
        Command::Account(AccountCommand::List { json }) => {
            let names = Ledger::open(&ledger_path(&cli))?.accounts()?;
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
            Ledger::open(&ledger_path(&cli))?.add_site(account, name, &d, &actor())?;
            writeln!(out, "added install site {name} to {account}")?;
        }
        Command::Site(SiteCommand::List { account, json }) => {
            let sites = Ledger::open(&ledger_path(&cli))?.sites(account)?;
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
            Ledger::open(&ledger_path(&cli))?.set_site_active(account, name, active, &actor())?;
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
            let included = Ledger::open(&ledger_path(&cli))?.add_order(
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
            let s =
                Ledger::open(&ledger_path(&cli))?.summary(&catalog, account, site.as_deref())?;
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
            let req = issue_request(args)?;
            let mut ledger = Ledger::open(&ledger_path(&cli))?;
            // Everything that can be checked without the key is checked before asking for
            // a passphrase.
            ledger.check(&catalog, &req)?;
            let key = keys::load_secret_key(&args.key, &mut || {
                keys::passphrase_from_env_or_prompt(false)
            })?;
            let issued = ledger.issue(&catalog, &req, &key, Some(&args.out), Timestamp::now())?;
            drop(key);
            writeln!(out, "{}", issued.file_id)?;
            eprintln!(
                "issuer: wrote {} ({} file, expires {})",
                args.out.display(),
                req.license_type.label(),
                issued.expires_at
            );
        }
        Command::Download { id, out: path } => {
            let bytes = Ledger::open(&ledger_path(&cli))?.file_bytes(id)?;
            if path.as_os_str() == "-" {
                out.write_all(&bytes)?;
            } else {
                issuer::fsio::write_atomic(path, &bytes, 0o644)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn print_summary(out: &mut impl Write, s: &Summary, site_only: bool) -> std::io::Result<()> {
    let table = |out: &mut dyn Write,
                 parts: &[issuer::PartSummary],
                 used_label: &str|
     -> std::io::Result<()> {
        writeln!(
            out,
            "{:<18} {:<9} {:<48} {:>7} {:>7} {:>9}",
            "Part Number", "Category", "Description", "Total", used_label, "Available"
        )?;
        for p in parts {
            writeln!(
                out,
                "{:<18} {:<9} {:<48} {:>7} {:>7} {:>9}",
                p.part, p.category, p.description, p.total, p.used, p.available
            )?;
            let grants: Vec<String> = p
                .grants
                .iter()
                .map(|g| format!("{} ({} assigned, {} pooled)", g.key, g.assigned, g.pooled))
                .collect();
            if !grants.is_empty() {
                writeln!(out, "{:<18} per unit: {}", "", grants.join(", "))?;
            }
        }
        Ok(())
    };
    writeln!(out, "Account: {}", s.account)?;
    if !site_only {
        table(out, &s.parts, "Used")?;
    }
    for site in &s.sites {
        writeln!(out)?;
        writeln!(
            out,
            "Install site: {}{}",
            site.site,
            if site.active { "" } else { " (inactive)" }
        )?;
        table(out, &site.parts, "Used")?;
    }
    Ok(())
}

fn pick(flag: &Option<String>, file: Option<String>, name: &str) -> Result<String, CliError> {
    flag.clone().or(file).ok_or_else(|| {
        CliError::Usage(format!(
            "missing --{name} (give it on the command line or in --request)"
        ))
    })
}

/// The request from `--request` (if any) with command-line flags taking precedence.
fn issue_request(a: &IssueArgs) -> Result<IssueRequest, CliError> {
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
    let f: FileReq = match &a.request {
        None => FileReq::default(),
        Some(p) => {
            let bytes = issuer::fsio::read_bounded(p, 1024 * 1024, "request file")?;
            serde_json::from_slice(&bytes).map_err(|e| IssuerError::MalformedRequest {
                reason: format!("{}: {e}", p.display()),
            })?
        }
    };
    let t = pick(&a.license_type, f.license_type, "type")?;
    let license_type: LicenseType = t
        .parse()
        .map_err(|e: format::FormatError| CliError::Usage(format!("--type: {e}")))?;
    let add = if a.add.is_empty() {
        f.add
    } else {
        a.add
            .iter()
            .map(|s| {
                let (part, q) = s.split_once('=').ok_or_else(|| {
                    CliError::Usage(format!("--add '{s}': expected PART=QUANTITY"))
                })?;
                let quantity = q.trim().parse::<u32>().map_err(|_| {
                    CliError::Usage(format!("--add '{s}': '{q}' is not a whole number"))
                })?;
                Ok(PartQuantity {
                    part: part.trim().to_string(),
                    quantity,
                })
            })
            .collect::<Result<Vec<_>, CliError>>()?
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
