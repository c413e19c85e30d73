//! `issuer site add|list|deactivate|activate`.

use std::io::Write;

use issuer::{Site, SiteDetails};

use crate::cli::{Cli, SiteCommand};
use crate::context::{actor, open_ledger, read_ledger};
use crate::error::CliError;
use crate::output::{emit, Render};

/// An account's install sites (JSON: a list of sites).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Sites(Vec<Site>);

impl Render for Sites {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{:<24} {:<32} {:<16} {:<12} {:<12} {:<10} Active",
            "Name", "Address", "City", "State", "Country", "Postal"
        )?;
        for s in &self.0 {
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
        Ok(())
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

/// Run a `site` command.
pub fn run(cli: &Cli, command: &SiteCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
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
            open_ledger(cli)?.add_site(account, name, &d, &actor())?;
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
