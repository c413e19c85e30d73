//! The accounts the user may see (searched and paged), and where `/` and an account's own
//! address lead.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use maud::html;

use crate::http::PageUser;
use crate::service::{self, AppState};

use super::layout::{id_of, page, PageResult};
use super::page_query::PageQuery;

/// Accounts per page of the list.
pub(crate) const ACCOUNTS_PAGE: usize = 25;

/// The list's search and page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AccountsQuery {
    /// Part of an account's name (case-blind).
    q: Option<String>,
    /// Page, from 1; past the last shows the last.
    page: Option<u64>,
}

/// `GET /`: a user with exactly one account lands on it; others on the list.
pub async fn home(State(st): State<Arc<AppState>>, u: PageUser) -> PageResult {
    let c = u.caller.clone();
    let list = st.read(move |l, _| service::accounts(l, &c)).await?;
    Ok(match list.as_slice() {
        [one] => Redirect::to(&format!("/accounts/{}/summary", one.id)),
        _ => Redirect::to("/accounts"),
    }
    .into_response())
}

/// `GET /accounts`: the accounts the user may see, searched by name and paged.
pub async fn accounts(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    PageQuery(q): PageQuery<AccountsQuery>,
) -> PageResult {
    let c = u.caller.clone();
    let all = st.read(move |l, _| service::accounts(l, &c)).await?;
    let search = service::nonempty(&q.q).map(str::to_lowercase);
    let found: Vec<_> = all
        .iter()
        .filter(|a| {
            search
                .as_deref()
                .is_none_or(|s| a.name.to_lowercase().contains(s))
        })
        .collect();
    let pages = found.len().div_ceil(ACCOUNTS_PAGE).max(1);
    let page_no = usize::try_from(q.page.unwrap_or(1))
        .unwrap_or(usize::MAX)
        .clamp(1, pages);
    let shown = found
        .iter()
        .skip((page_no - 1) * ACCOUNTS_PAGE)
        .take(ACCOUNTS_PAGE);
    let search_q = search
        .as_deref()
        .map(|_| {
            format!(
                "q={}&",
                crate::http::url_encode(service::nonempty(&q.q).unwrap_or(""))
            )
        })
        .unwrap_or_default();
    Ok(page(
        "Accounts",
        Some(&u),
        html! {
            @if all.is_empty() {
                p.notice { "No account is linked to your login yet. Ask the licensing team to link your login to your company's account." }
            } @else {
                @if all.len() > 1 {
                    form.search method="get" role="search" {
                        label for="acc-q" { "Search accounts by name" }
                        input id="acc-q" name="q" type="search" value=(service::nonempty(&q.q).unwrap_or(""));
                        button type="submit" { "Search" }
                        @if search.is_some() { a href="/accounts" { "Show all accounts" } }
                    }
                }
                p.count { "Number of Total Results # " (found.len()) }
                @if found.is_empty() {
                    p.notice { "No account's name contains that. Check the spelling, search for part of the name, or "
                        a href="/accounts" { "show all accounts" } "." }
                } @else {
                    ul.accounts {
                        @for a in shown {
                            li { a href={ "/accounts/" (a.id) "/summary" } { (a.name) } }
                        }
                    }
                }
                @if pages > 1 {
                    nav.pages aria-label="Pages" {
                        @if page_no > 1 { a href={ "?" (search_q) "page=" (page_no - 1) } { "Previous" } }
                        " Page " (page_no) " of " (pages) " "
                        @if page_no < pages { a href={ "?" (search_q) "page=" (page_no + 1) } { "Next" } }
                    }
                }
            }
        },
    ))
}

/// `GET /accounts/{id}`.
pub async fn account_home(Path(id): Path<String>) -> PageResult {
    let id = id_of(&id)?;
    Ok(Redirect::to(&format!("/accounts/{id}/summary")).into_response())
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/accounts", get(accounts))
        .route("/accounts/{id}", get(account_home))
}
