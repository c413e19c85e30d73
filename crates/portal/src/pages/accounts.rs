//! The accounts the user may see, and where `/` and an account's own address lead.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use maud::html;

use crate::http::PageUser;
use crate::service::{self, AppState};

use super::layout::{id_of, page, PageResult};

/// `GET /`.
pub async fn home() -> Redirect {
    Redirect::to("/accounts")
}

/// `GET /accounts`: the accounts the user may see.
pub async fn accounts(State(st): State<Arc<AppState>>, u: PageUser) -> PageResult {
    let c = u.caller.clone();
    let list = st.read(move |l, _| service::accounts(l, &c)).await?;
    Ok(page(
        "Accounts",
        Some(&u),
        html! {
            @if list.is_empty() {
                p { "No account is linked to your login yet. Ask the licensing team." }
            } @else {
                p { "Number of Total Results # " (list.len()) }
                ul.accounts {
                    @for a in &list {
                        li { a href={ "/accounts/" (a.id) "/summary" } { (a.name) } }
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
