//! Account Summary, with its filters.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use crate::http::{PageRefusal, PageSession};
use crate::service::{self, AppState};

use super::layout::{account_page, id_of, opt, tabs};

/// Filters of the summary page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SummaryFilters {
    site: Option<String>,
    category: Option<String>,
}

fn grants(p: &issuer::PartSummary) -> Markup {
    html! {
        @for g in &p.grants {
            span.grant { (g.key) " (" (g.assigned) " assigned, " (g.pooled) " pooled)" }
        }
    }
}

/// `GET /accounts/{id}/summary`: the Account Summary with its filters.
pub async fn summary(
    State(st): State<Arc<AppState>>,
    s: PageSession,
    Path(id): Path<String>,
    Query(q): Query<SummaryFilters>,
) -> Result<Response, PageRefusal> {
    let id = id_of(&id)?;
    let (site, category) = (opt(&q.site), opt(&q.category));
    let (s2, c2) = (site.clone(), category.clone());
    let (u, v) = s
        .read(&st, move |l, kept, cat, c| {
            service::summary_view(l, kept, cat, c, id, s2, c2)
        })
        .await?;
    let (a, rows, categories, sites) = (
        &v.account,
        v.rows.as_slice(),
        v.categories.as_slice(),
        v.sites.as_slice(),
    );
    Ok(account_page(
        "Account Summary",
        a,
        Some(&u),
        html! {
            (tabs(a, "summary"))
            form.filters method="get" {
                (site_filter("f-site", sites, site.as_deref()))
                label for="f-cat" { "Product Category:" }
                select id="f-cat" name="category" {
                    option value="" { "-- ALL --" }
                    @for k in categories {
                        option value=(k) selected[category.as_deref() == Some(k.as_str())] { (k) }
                    }
                }
                button type="submit" { "Apply Filters" }
                a href={ "/accounts/" (a.id) "/summary" } { "Clear Filters" }
            }
            p.count { "Number of Total Results # " (rows.len()) }
            @if rows.is_empty() {
                p.notice { "No ordered item matches these filters. "
                    a href={ "/accounts/" (a.id) "/summary" } { "Clear Filters" }
                    " to see every item; an account with no orders yet gets them from the licensing team once the order is booked." }
            }
            table.cards {
                caption { "Ordered items" @if let Some(x) = &site { " used at " (x) } }
                thead { tr {
                    th scope="col" { "Part Number" } th scope="col" { "Product Category" }
                    th scope="col" { "Description" } th scope="col" { "Total" }
                    th scope="col" { "Used" } th scope="col" { "Pending" }
                    th scope="col" { "Available" }
                } }
                tbody {
                    @for p in rows {
                        tr {
                            td data-label="Part Number" { (p.part) (grants(p)) }
                            td data-label="Product Category" { (p.category) }
                            td data-label="Description" { (p.description) }
                            td.num data-label="Total" { (p.total) }
                            td.num data-label="Used" { (p.used) }
                            td.num data-label="Pending" { (p.pending) }
                            td.num data-label="Available" { (p.available) }
                        }
                    }
                }
            }
        },
    ))
}

/// This page's routes.
/// The Install Site filter of an account's lists (element id `id`): every site, or the one
/// `chosen`.
pub(super) fn site_filter(id: &str, sites: &[issuer::Site], chosen: Option<&str>) -> Markup {
    html! {
        label for=(id) { "Install Site:" }
        select id=(id) name="site" {
            option value="" { "All Install Sites" }
            @for x in sites {
                option value=(x.name) selected[chosen == Some(x.name.as_str())] { (x.name) }
            }
        }
    }
}

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/accounts/{id}/summary", get(summary))
}
