//! Upgrade Software, with a preview of what would move.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use maud::html;

use crate::http::PageUser;
use crate::service::{self, AppState};

use super::form::{CsrfForm, NoFields};
use super::layout::{csrf_field, id_of, not_certified, page, tabs, PageResult};

/// `GET /accounts/{id}/upgrade`: Upgrade Software, with a preview of what would move.
pub async fn upgrade_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    let (a, preview) = st
        .write(move |l, cat, _| {
            let a = service::account(l, &c, idn)?;
            let p = match service::upgrade(l, cat, &c, idn, "CIC", "3.0", "4.0", true) {
                Ok(v) => Ok(v),
                Err(e) if e.status == StatusCode::CONFLICT => Err(e.message),
                Err(e) => return Err(e),
            };
            Ok((a, p))
        })
        .await?;
    Ok(page(
        "Upgrade Software",
        Some(&u),
        html! {
            (tabs(&a, "upgrade"))
            @if !u.caller.may_generate() { (not_certified(a.id)) }
            p { "Upgrade Option: CIC 3.0 → 4.0. Every item with an upgrade option moves, mirrored; files of 3.0 keep working until they are updated." }
            @match &preview {
                Err(why) => { p.notice { (why) } }
                Ok(lines) => {
                    p.count { "Number of Total Results # " (lines.len()) }
                    table {
                        caption { "Parts with upgrade options (preview)" }
                        thead { tr { th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Upgrade to" } th scope="col" { "Upgrade Quantity" } } }
                        tbody { @for x in lines { tr { td { (x.from_part) } td { (x.description) } td { (x.to_part) } td.num { (x.quantity) " of " (x.quantity) } } } }
                    }
                    @if u.caller.may_generate() {
                        form.card method="post" action={ "/accounts/" (a.id) "/upgrade" } {
                            (csrf_field(&u))
                            button type="submit" { "Upgrade Selected" }
                        }
                    }
                }
            }
        },
    ))
}

/// `POST /accounts/{id}/upgrade`.
pub async fn upgrade(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, _): CsrfForm<NoFields>,
) -> PageResult {
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    let lines = st
        .write(move |l, cat, _| service::upgrade(l, cat, &c, idn, "CIC", "3.0", "4.0", false))
        .await?;
    Ok(page(
        "Software upgraded",
        Some(&u),
        html! {
            p.ok role="status" { (lines.len()) " ordered items moved to CIC 4.0." }
            p { a href={ "/accounts/" (idn) "/summary" } { "Account Summary" } }
        },
    ))
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/accounts/{id}/upgrade", get(upgrade_form).post(upgrade))
}
