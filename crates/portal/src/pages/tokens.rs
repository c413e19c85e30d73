//! API Tokens: each user creates, lists and revokes their own; staff see and revoke
//! everyone's. A new token's secret is shown once (only its digest is kept).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use format::Timestamp;
use issuer::PortalToken;
use maud::{html, Markup};

use crate::auth;
use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::AppState;

use super::flash::Flash;
use super::form::{CsrfForm, NoFields};
use super::form_errors::FormErrors;
use super::layout::{csrf_field, date, id_of, page, PageResult};

/// `GET /tokens`: the caller's API tokens (staff: everyone's), and the form to make one.
pub async fn tokens(State(st): State<Arc<AppState>>, u: PageUser) -> PageResult {
    tokens_page(st, u, None, "").await
}

async fn list(st: &Arc<AppState>, u: &PageUser) -> Result<Vec<PortalToken>, PortalError> {
    let who = (!u.caller.is_staff()).then_some(u.caller.user.id);
    st.read(move |l, _| Ok(l.portal_tokens(who)?)).await
}

/// A Unix time as a page's date (`YYYY-MM-DD`).
fn when(t: i64) -> Markup {
    match Timestamp::from_unix(t) {
        Some(t) => html! { (date(t)) },
        None => html! { "(unknown)" },
    }
}

async fn tokens_page(
    st: Arc<AppState>,
    u: PageUser,
    problem: Option<PortalError>,
    label: &str,
) -> PageResult {
    let list = list(&st, &u).await?;
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let mut errors = FormErrors::titled("The token was not created");
    if let Some(p) = &problem {
        errors.field("t-label", format!("Label: {}", p.message));
    }
    let body = page(
        "API Tokens",
        Some(&u),
        html! {
            p { "Programs call the portal's API with a token in the Authorization header (Bearer). A token acts as you: revoke it when it is no longer used." }
            (table(&u, &list))
            h2 id="create" { "Create a token" }
            (errors.summary())
            form.card method="post" action="/tokens" novalidate {
                (csrf_field(&u))
                label for="t-label" { "Label (what uses it, such as a build server)" }
                (errors.note("t-label"))
                input id="t-label" name="label" type="text" required maxlength="200" value=(label)
                    aria-invalid=[errors.invalid("t-label")]
                    aria-describedby=[errors.described_by("t-label", "")];
                button type="submit" { "Create token" }
            }
        },
    );
    Ok((status, body).into_response())
}

fn table(u: &PageUser, list: &[PortalToken]) -> Markup {
    let staff = u.caller.is_staff();
    html! {
        @if list.is_empty() {
            p.empty { "No API tokens yet. Create one below for a program that calls the API." }
        } @else {
            table.cards {
                caption { @if staff { "Every user's API tokens" } @else { "Your API tokens" } }
                thead { tr {
                    @if staff { th scope="col" { "User" } }
                    th scope="col" { "Label" } th scope="col" { "Created" } th scope="col" { "Status" } th scope="col" { "Actions" }
                } }
                tbody { @for t in list { tr {
                    @if staff { td data-label="User" { (t.email) } }
                    td data-label="Label" { (t.label) }
                    td data-label="Created" { (when(t.created_at)) }
                    td data-label="Status" { @match t.revoked_at { Some(r) => { "Revoked " (when(r)) }, None => { "Active" } } }
                    td.actions { @if t.revoked_at.is_none() {
                        a href={ "/tokens/" (t.id) "/revoke" } { "Revoke" span.sr { " " (t.label) } }
                    } }
                } } }
            }
        }
    }
}

/// The form to create a token.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NewTokenForm {
    label: String,
}

/// `POST /tokens`: create a token for the caller; its secret is shown once.
pub async fn create(
    State(st): State<Arc<AppState>>,
    CsrfForm(u, p): CsrfForm<NewTokenForm>,
) -> PageResult {
    let label = p.label.trim().to_string();
    if label.is_empty() {
        let e = PortalError::bad_request("give the token a label, such as what will use it.");
        return tokens_page(st, u, Some(e), "").await;
    }
    u.caller.require_manage_tokens_of(u.caller.user.id)?;
    let (secret, digest) = auth::new_token();
    let (email, actor, l2) = (u.caller.user.email.clone(), u.caller.actor(), label.clone());
    let made = crate::once_done::value(&st, u.caller.clone(), move |l, _, _, _| {
        Ok(l.add_portal_token(&email, &digest, &l2, &actor)?)
    })
    .await;
    match made {
        Ok((_, false)) => {}
        // Sent again: no second token, and the first one's secret is not shown again.
        Ok((id, true)) => return created_before(st, u, id).await,
        Err(e) if e.status.is_client_error() => return tokens_page(st, u, Some(e), &label).await,
        Err(e) => return Err(e.into()),
    }
    let body = page(
        "API token created",
        Some(&u),
        html! {
            p.ok role="status" { "The token " strong { (label) } " was created." }
            label for="t-secret" { "Your new token" }
            input id="t-secret" type="text" readonly value=(secret) size="70" aria-describedby="t-secret-hint";
            p id="t-secret-hint" { "Copy it now (select it and press Ctrl+C): it is shown only this once and cannot be seen again. Keep it as you would a password." }
            p { a href="/tokens" { "Back to API Tokens" } }
        },
    );
    // The secret must not stay in any cache.
    Ok(([(header::CACHE_CONTROL, "no-store")], body).into_response())
}

/// The answer to the create form sent again: the token it created (`id`) is listed, its
/// secret not shown (it was shown once, to the first).
async fn created_before(st: Arc<AppState>, u: PageUser, id: i64) -> PageResult {
    let list = list(&st, &u).await?;
    let label = list
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.label.clone())
        .unwrap_or_default();
    let body = page(
        "API token already created",
        Some(&u),
        html! {
            p.notice role="status" { "This form was sent before: the token " strong { (label) } " was created then, and its secret was shown only that once. If it was not copied, revoke the token and create another." }
            (table(&u, &list))
            p { a href="/tokens" { "Back to API Tokens" } }
        },
    );
    Ok(([(header::CACHE_CONTROL, "no-store")], body).into_response())
}

/// The token `id` when the caller may manage it (404 when there is none, 403 otherwise).
async fn owned(st: &Arc<AppState>, u: &PageUser, id: i64) -> Result<PortalToken, PageError> {
    let t = st
        .read(move |l, _| l.portal_token(id)?.ok_or_else(PortalError::not_found))
        .await?;
    u.caller.require_manage_tokens_of(t.user_id)?;
    Ok(t)
}

/// `GET /tokens/{id}/revoke`: what revoking does, before it is done.
pub async fn revoke_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let t = owned(&st, &u, id_of(&id)?).await?;
    Ok(page(
        &format!("Revoke API token {}", t.label),
        Some(&u),
        html! {
            p { "Revoke the token " strong { (t.label) } " of " (t.email) ", created " (when(t.created_at)) "?" }
            p { "Every program that uses it is refused from now on. This cannot be undone: a new token would have to be created and given to those programs." }
            @if t.revoked_at.is_none() {
                form.card method="post" action={ "/tokens/" (t.id) "/revoke" } {
                    (csrf_field(&u))
                    button type="submit" { "Revoke " (t.label) }
                }
            } @else {
                p.notice { "It is already revoked." }
            }
            p { a href="/tokens" { "Cancel: back to API Tokens" } }
        },
    ))
}

/// `POST /tokens/{id}/revoke`: revoke a token (the caller's own; staff any).
pub async fn revoke(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, _): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let t = owned(&st, &u, id_of(&id)?).await?;
    let actor = u.caller.actor();
    st.write(move |l, _, _| Ok(l.revoke_portal_token(t.id, &actor)?))
        .await?;
    Ok(super::flash::redirect(&st, "/tokens", Flash::Saved))
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/tokens", get(tokens).post(create))
        .route("/tokens/{id}/revoke", get(revoke_form).post(revoke))
}
