//! Software Details: perpetual and non-perpetual units.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use maud::html;

use crate::http::PageUser;
use crate::service::{self, AppState};

use super::layout::{account_page, id_of, tabs, PageResult};

/// `GET /accounts/{id}/software`: Software Details (perpetual and non-perpetual units).
pub async fn software(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let id = id_of(&id)?;
    let c = u.caller.clone();
    let (a, parts) = st
        .read(move |l, cat| service::summary_parts(l, cat, &c, id, None, None))
        .await?;
    Ok(account_page(
        "Software Details",
        &a,
        Some(&u),
        html! {
            (tabs(&a, "software"))
            table.cards {
                caption { "What the account may license" }
                thead { tr {
                    th scope="col" { "Part Number" } th scope="col" { "Product Category" }
                    th scope="col" { "Description" } th scope="col" { "Sold To" }
                    th scope="col" { "Perpetual" } th scope="col" { "Non Perpetual" } th scope="col" { "Total" }
                } }
                tbody {
                    @for p in &parts {
                        tr {
                            td data-label="Part Number" { (p.part) } td data-label="Product Category" { (p.category) }
                            td data-label="Description" { (p.description) } td data-label="Sold To" { (a.name) }
                            td.num data-label="Perpetual" { (p.perpetual) } td.num data-label="Non Perpetual" { (p.non_perpetual) }
                            td.num data-label="Total" { (p.total) }
                        }
                    }
                }
            }
        },
    ))
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/accounts/{id}/software", get(software))
}
