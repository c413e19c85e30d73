//! Upgrade Software, as the reference's two tabs: the parts with an upgrade option (each
//! with its checkbox, or all of them mirrored) and those without; a confirmation page lists
//! what will change before anything moves.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use issuer::{UpgradeSelection, UpgradedLine};
use maud::{html, Markup};

use crate::error::PortalError;
use crate::http::PageUser;
use crate::service::{self, AppState};

use super::form::{value, CsrfForm};
use super::layout::{account_page, csrf_field, id_of, not_certified, tabs, PageResult};

const PRODUCT: &str = "CIC";
const FROM: &str = "3.0";
const TO: &str = "4.0";

/// `?tab=without`: the tab shown (the parts with upgrade options otherwise).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Tab {
    tab: Option<String>,
}

/// The parts chosen: one `part` per checked box, and `mirror` for all of them.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Choice {
    part: Vec<String>,
    mirror: String,
}

impl Choice {
    fn selection(&self) -> Result<UpgradeSelection, PortalError> {
        if value(&self.mirror).is_some() {
            return Ok(UpgradeSelection::Mirror);
        }
        let parts: Vec<String> = self.part.iter().filter_map(|p| value(p)).collect();
        if parts.is_empty() {
            return Err(PortalError::bad_request(
                "Choose at least one part to upgrade, or Mirror to upgrade them all.",
            ));
        }
        Ok(UpgradeSelection::Parts(parts))
    }
}

/// The lines of one part summed: (part, to part, description, quantity).
fn by_part(lines: &[UpgradedLine]) -> Vec<(String, String, String, u64)> {
    let mut out: Vec<(String, String, String, u64)> = Vec::new();
    for x in lines {
        match out.iter_mut().find(|o| o.0 == x.from_part) {
            Some(o) => o.3 += x.quantity,
            None => out.push((
                x.from_part.clone(),
                x.to_part.clone(),
                x.description.clone(),
                x.quantity,
            )),
        }
    }
    out
}

/// `GET /accounts/{id}/upgrade`: Upgrade Software.
pub async fn upgrade_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
    Query(t): Query<Tab>,
) -> PageResult {
    let without = t.tab.as_deref() == Some("without");
    tab_page(st, u, id_of(&id)?, without, None, &Choice::default()).await
}

async fn tab_page(
    st: Arc<AppState>,
    u: PageUser,
    idn: i64,
    without: bool,
    problem: Option<PortalError>,
    kept: &Choice,
) -> PageResult {
    let c = u.caller.clone();
    let (a, preview, plain) = st
        .write(move |l, cat, _| {
            let (a, parts) = service::summary_parts(l, cat, &c, idn, None, None)?;
            let plain: Vec<_> = parts
                .into_iter()
                .filter(|p| cat.upgrade_of(&p.part).is_none())
                .collect();
            let p = match service::upgrade(
                l,
                cat,
                &c,
                idn,
                PRODUCT,
                FROM,
                TO,
                &UpgradeSelection::Mirror,
                true,
            ) {
                Ok(v) => Ok(v),
                Err(e) if e.status == StatusCode::CONFLICT => Err(e.message),
                Err(e) => return Err(e),
            };
            Ok((a, p, plain))
        })
        .await?;
    let base = format!("/accounts/{}/upgrade", a.id);
    let subtabs = [
        ("?tab=without", "Parts without Upgrade Options", without),
        ("", "Parts with Upgrade Options", !without),
    ];
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let checked = |p: &str| kept.part.is_empty() || kept.part.iter().any(|x| x == p);
    let body = account_page(
        "Upgrade Software",
        &a,
        Some(&u),
        html! {
            (tabs(&a, "upgrade"))
            @if !u.caller.may_generate() { (not_certified(a.id)) }
            nav.tabs aria-label="Upgrade Software" {
                @for (q, label, on) in subtabs {
                    a href={ (base) (q) } aria-current=[on.then_some("page")] { (label) }
                }
            }
            @if without {
                @if plain.is_empty() {
                    p.empty { "Every ordered part of this account has an upgrade option." }
                } @else {
                    p.count { "Number of Total Results # " (plain.len()) }
                    table {
                        caption { "Parts without upgrade options" }
                        thead { tr { th scope="col" { "Part Number" } th scope="col" { "Product Category" } th scope="col" { "Description" } th scope="col" { "Quantity" } } }
                        tbody { @for x in &plain { tr { td { (x.part) } td { (x.category) } td { (x.description) } td.num { (x.total) } } } }
                    }
                }
            } @else {
                p { "Upgrade Option: CIC " (FROM) " → " (TO) ". Files of " (FROM) " keep working until they are updated." }
                @match &preview {
                    Err(why) => { p.notice { (why) } }
                    Ok(lines) => { (choose(&u, &base, &by_part(lines), problem.as_ref(), &checked, value(&kept.mirror).is_some())) }
                }
            }
        },
    );
    Ok((status, body).into_response())
}

fn choose(
    u: &PageUser,
    base: &str,
    rows: &[(String, String, String, u64)],
    problem: Option<&PortalError>,
    checked: &dyn Fn(&str) -> bool,
    mirror: bool,
) -> Markup {
    let may = u.caller.may_generate();
    html! {
        @if let Some(p) = problem {
            div.error-summary role="alert" {
                p.error { "Nothing was upgraded: " (p.message) }
                ul { li { a href="#up-parts" { "Parts to upgrade: " (p.message) } } }
            }
        }
        form.card method="post" action={ (base) "/confirm" } {
            (csrf_field(u))
            p.count { "Number of Total Results # " (rows.len()) }
            fieldset id="up-parts" aria-describedby=[problem.map(|_| "up-parts-error")] {
                legend { "Parts to upgrade" }
                @if let Some(p) = problem { p.field-error id="up-parts-error" { (p.message) } }
                table {
                    caption { "Parts with upgrade options" }
                    thead { tr { th scope="col" { "Upgrade" } th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Upgrade to" } th scope="col" { "Upgrade Quantity" } } }
                    tbody { @for (i, (from, to, desc, q)) in rows.iter().enumerate() { tr {
                        td { input type="checkbox" id={ "up-" (i) } name="part" value=(from) checked[checked(from)] disabled[!may];
                             label.sr for={ "up-" (i) } { "Upgrade " (from) } }
                        td { (from) } td { (desc) } td { (to) } td.num { (q) " of " (q) }
                    } } }
                }
            }
            input type="checkbox" id="up-mirror" name="mirror" value="yes" checked[mirror] disabled[!may];
            label.inline for="up-mirror" { "Mirror " (FROM) " → " (TO) ": upgrade every part above. By choosing this, annual support renewal is charged on the most recent software version of products." }
            @if may { button type="submit" { "Upgrade Selected" } }
        }
    }
}

/// `POST /accounts/{id}/upgrade/confirm`: what the chosen upgrade will change, to confirm.
pub async fn confirm(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, p): CsrfForm<Choice>,
) -> PageResult {
    let idn = id_of(&id)?;
    u.caller.require_generate()?;
    let sel = match p.selection() {
        Ok(s) => s,
        Err(e) => return tab_page(st, u, idn, false, Some(e), &p).await,
    };
    let (c, s2) = (u.caller.clone(), sel.clone());
    let lines = st
        .write(move |l, cat, _| {
            let lines = service::upgrade(l, cat, &c, idn, PRODUCT, FROM, TO, &s2, true)?;
            Ok((service::account(l, &c, idn)?, lines))
        })
        .await;
    let (a, lines) = match lines {
        Ok(v) => v,
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            return tab_page(st, u, idn, false, Some(e), &p).await
        }
        Err(e) => return Err(e.into()),
    };
    let rows = by_part(&lines);
    Ok(account_page(
        "Confirm the upgrade",
        &a,
        Some(&u),
        html! {
            p { "These parts move from CIC " (FROM) " to " (TO) @if sel == UpgradeSelection::Mirror { ", mirrored" } ". Their " (FROM) " order lines close; files of " (FROM) " keep working until they are updated." }
            table {
                caption { "What will change" }
                thead { tr { th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Upgrade to" } th scope="col" { "Quantity" } } }
                tbody { @for (from, to, desc, q) in &rows { tr { td { (from) } td { (desc) } td { (to) } td.num { (q) } } } }
            }
            form.card method="post" action={ "/accounts/" (idn) "/upgrade" } {
                (csrf_field(&u))
                @match &sel {
                    UpgradeSelection::Mirror => { input type="hidden" name="mirror" value="yes"; }
                    UpgradeSelection::Parts(ps) => { @for x in ps { input type="hidden" name="part" value=(x); } }
                }
                button type="submit" { @if rows.len() == 1 { "Upgrade this part" } @else { "Upgrade these " (rows.len()) " parts" } }
            }
            p { a href={ "/accounts/" (idn) "/upgrade" } { "Cancel: back to Upgrade Software" } }
        },
    ))
}

/// `POST /accounts/{id}/upgrade`: upgrade the confirmed parts.
pub async fn upgrade(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, p): CsrfForm<Choice>,
) -> PageResult {
    let idn = id_of(&id)?;
    u.caller.require_generate()?;
    let sel = p.selection()?;
    let c = u.caller.clone();
    let (a, lines) = st
        .write(move |l, cat, _| {
            let lines = service::upgrade(l, cat, &c, idn, PRODUCT, FROM, TO, &sel, false)?;
            Ok((service::account(l, &c, idn)?, lines))
        })
        .await?;
    Ok(account_page(
        "Software upgraded",
        &a,
        Some(&u),
        html! {
            p.ok role="status" { (lines.len()) " ordered items moved to CIC " (TO) "." }
            ul { @for x in &lines { li { (x.from_part) " → " (x.to_part) " (" (x.quantity) ")" } } }
            p { a href={ "/accounts/" (idn) "/summary" } { "Account Summary" } }
        },
    ))
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/accounts/{id}/upgrade", get(upgrade_form).post(upgrade))
        .route("/accounts/{id}/upgrade/confirm", post(confirm))
}
