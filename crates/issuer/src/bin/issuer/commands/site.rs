//! `issuer site add|list|deactivate|activate`.

use std::io::Write;

use issuer::{Site, SiteDetails};

use crate::cli::{Cli, SiteCommand};
use crate::context::{actor, open_ledger, read_ledger};
use crate::error::CliError;
use crate::output::{emit, print_table, Render};

/// An account's install sites (JSON: a list of sites).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Sites(Vec<Site>);

impl Render for Sites {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let rows: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|s| {
                let d = &s.details;
                vec![
                    s.name.clone(),
                    d.address.join(", "),
                    d.city.clone(),
                    d.state.clone(),
                    d.country.clone(),
                    d.postal_code.clone(),
                    if s.active { "Yes" } else { "No" }.into(),
                ]
            })
            .collect();
        print_table(
            out,
            &[
                "Name", "Address", "City", "State", "Country", "Postal", "Active",
            ],
            &rows,
            &[],
        )
    }
}

/// A site added, deactivated or activated (JSON: `{account, site, active}`).
#[derive(serde::Serialize)]
struct SiteState<'a> {
    account: &'a str,
    site: &'a str,
    active: bool,
    #[serde(skip)]
    added: bool,
}

impl Render for SiteState<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.added {
            return writeln!(out, "added install site {} to {}", self.site, self.account);
        }
        writeln!(
            out,
            "install site {} of {} is {}",
            self.site,
            self.account,
            if self.active { "active" } else { "inactive" }
        )
    }
}

/// A site edited (JSON: `{account, site, details, changed}`).
#[derive(serde::Serialize)]
struct Edited<'a> {
    account: &'a str,
    site: &'a str,
    details: SiteDetails,
    changed: bool,
}

impl Render for Edited<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.changed {
            return writeln!(
                out,
                "install site {} of {} is unchanged (it already says that)",
                self.site, self.account
            );
        }
        let d = &self.details;
        writeln!(
            out,
            "install site {} of {}: {}",
            self.site,
            self.account,
            [
                d.address.join(", "),
                d.city.clone(),
                d.state.clone(),
                d.country.clone(),
                d.postal_code.clone()
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
        )
    }
}

/// Run a `site` command.
pub fn run(cli: &Cli, command: &SiteCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        SiteCommand::Edit {
            account,
            name,
            new_name,
            address1,
            address2,
            address3,
            city,
            state,
            country,
            postal_code,
        } => {
            let mut ledger = open_ledger(cli)?;
            let canonical = ledger.site_name(account, name)?;
            let site = ledger
                .sites(account)?
                .into_iter()
                .find(|s| s.name == canonical)
                .ok_or_else(|| issuer::IssuerError::UnknownSite {
                    account: account.clone(),
                    name: name.clone(),
                    suggestions: Vec::new(),
                })?;
            let mut d = site.details.clone();
            let mut lines: Vec<String> = (0..3)
                .map(|i| d.address.get(i).cloned().unwrap_or_default())
                .collect();
            for (i, given) in [address1, address2, address3].into_iter().enumerate() {
                if let Some(v) = given {
                    lines[i] = v.clone();
                }
            }
            d.address = lines.into_iter().filter(|l| !l.is_empty()).collect();
            for (field, given) in [
                (&mut d.city, city),
                (&mut d.state, state),
                (&mut d.country, country),
                (&mut d.postal_code, postal_code),
            ] {
                if let Some(v) = given {
                    *field = v.clone();
                }
            }
            let changed = ledger.edit_site(account, name, new_name.as_deref(), &d, &actor())?;
            let v = Edited {
                account,
                site: new_name.as_deref().unwrap_or(name),
                details: d,
                changed,
            };
            emit(out, &v, cli.json)?;
        }
        SiteCommand::Add {
            account,
            name,
            address,
            city,
            state,
            country,
            postal_code,
        } => {
            let d = SiteDetails {
                address: address.clone(),
                city: city.clone(),
                state: state.clone(),
                country: country.clone(),
                postal_code: postal_code.clone(),
            };
            let mut ledger = open_ledger(cli)?;
            ledger.add_site(account, name, &d, &actor())?;
            let account = &ledger.account_name(account)?;
            let v = SiteState {
                account,
                site: name,
                active: true,
                added: true,
            };
            emit(out, &v, cli.json)?;
        }
        SiteCommand::List { account } => {
            let sites = read_ledger(cli, |l| l.sites(account))?;
            emit(out, &Sites(sites), cli.json)?;
        }
        SiteCommand::Deactivate { account, name } | SiteCommand::Activate { account, name } => {
            let active = matches!(command, SiteCommand::Activate { .. });
            open_ledger(cli)?.set_site_active(account, name, active, &actor())?;
            let v = SiteState {
                account,
                site: name,
                active,
                added: false,
            };
            emit(out, &v, cli.json)?;
        }
    }
    Ok(())
}
