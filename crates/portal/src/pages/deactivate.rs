//! The deactivate page (with a release receipt, uploaded or pasted) and vendor staff's list
//! of deactivations pending approval, each with an Approve button.

use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use format::receipt::MAX_RECEIPT_SIZE;
use maud::html;

use super::form::{check, csrf_of, field, pairs, CsrfForm, NoFields};
use super::form_errors::{FormErrors, REFUSED};
use super::layout::{account_page, csrf_field, page, PageResult};
use crate::deactivation;
use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::{self, AppState};

/// `GET /files/{file}/deactivate`: confirm, with a place for the release receipt.
pub async fn form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(f): Path<String>,
) -> PageResult {
    form_page(&st, &u, f, "", &FormErrors::none()).await
}

/// The deactivate form; after a refusal, with the pasted receipt kept and the error on it.
async fn form_page(
    st: &Arc<AppState>,
    u: &PageUser,
    f: String,
    receipt: &str,
    errors: &FormErrors,
) -> PageResult {
    let c = u.caller.clone();
    let (a, d) = st.read(move |l, cat| service::file(l, cat, &c, &f)).await?;
    let page = account_page(
        "Deactivate Activation File",
        &a,
        Some(u),
        html! {
            p.account { "Account Name: " (a.name) }
            (errors.summary())
            @if !d.active && errors.is_empty() {
                p.notice { "The file " code { (d.id) } " is " (d.status) ": there is nothing to deactivate. "
                    a href={ "/files/" (d.id) } { "View License" } " shows what replaced it." }
            } @else {
            p { "Deactivate " code { (d.id) } " (" (d.activation.primary_host.machine) ")?" }
            p { "A deactivated file keeps working on a server that still holds it, so its items become available again only against proof that the server stopped using it: on that server, run " code { "licadmin release" } " and give the release receipt it prints below. Without a receipt the file becomes inactive, but its items stay in use, pending approval by the licensing team (or returned at once if the account's rehost allowance has room)." }
            form.card method="post" enctype="multipart/form-data" action={ "/files/" (d.id) "/deactivate" } {
                (csrf_field(u))
                label for="receipt_file" { "Release receipt file" }
                input type="file" id="receipt_file" name="receipt_file" accept=".txt,text/plain";
                label for="receipt" { "or paste the release receipt" }
                textarea id="receipt" name="receipt" rows="12" cols="72" spellcheck="false" aria-invalid=[errors.invalid("receipt")] aria-describedby=[errors.described_by("receipt", "")] { (receipt) }
                (errors.note("receipt"))
                input type="checkbox" id="with_recovery" name="with_recovery" value="yes";
                label.inline for="with_recovery" { "Also deactivate the disaster recovery files that name it" }
                button type="submit" { "Deactivate" }
                " " a href={ "/files/" (d.id) } { "Cancel" }
            }
            }
        },
    );
    Ok((errors.status(REFUSED), page).into_response())
}

/// The fields of the deactivate form: a multipart form (with the receipt file) or an
/// urlencoded one, its anti-forgery token checked either way.
async fn fields(u: &PageUser, req: Request) -> Result<Vec<(String, String)>, PageError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let body = axum::body::Bytes::from_request(req, &())
            .await
            .map_err(|_| PageError(PortalError::bad_request("the form could not be read")))?;
        let p = pairs(&body)?;
        check(u, &p)?;
        return Ok(p);
    }
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|_| PageError(PortalError::stale_form()))?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError(PortalError::new(e.status(), "bad-request", e.body_text()))
    };
    let mut out = Vec::new();
    while let Some(f) = mp.next_field().await.map_err(bad)? {
        let name = f.name().unwrap_or("").to_string();
        let bytes = f.bytes().await.map_err(bad)?;
        if bytes.len() > MAX_RECEIPT_SIZE * 2 {
            return Err(PageError(PortalError::bad_request(format!(
                "the field {name} is too long for a release receipt"
            ))));
        }
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            PageError(PortalError::bad_request(format!(
                "the field {name} is not UTF-8 text"
            )))
        })?;
        out.push((name, text));
    }
    u.check_csrf(csrf_of(&out))?;
    Ok(out)
}

/// `POST /files/{file}/deactivate`: with a receipt (file or pasted), or without.
pub async fn submit(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(f): Path<String>,
    req: Request,
) -> PageResult {
    let p = fields(&u, req).await?;
    let with = field(&p, "with_recovery").is_some();
    let receipt = field(&p, "receipt_file")
        .or_else(|| field(&p, "receipt"))
        .map(str::to_string);
    let pasted = field(&p, "receipt").unwrap_or("").to_string();
    let mut c = u.caller.clone();
    crate::once::from_multipart(&mut c, &p, &[], &format!("/files/{f}/deactivate"))?;
    let f2 = f.clone();
    let done = match crate::once_done::value(&st, c, move |l, _, _, c| {
        deactivation::deactivate(l, c, &f2, receipt.as_deref(), with)
    })
    .await
    {
        Ok((done, _)) => done,
        // A refused receipt: the form again, what was pasted kept, the reason on it.
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::NOT_FOUND
                && e.status != StatusCode::FORBIDDEN =>
        {
            let mut errors = FormErrors::none();
            // On the receipt when the receipt is what was refused.
            errors.refusal(&e, (e.kind == "receipt").then_some("receipt"));
            errors.refused_with(e.status);
            return form_page(&st, &u, f, &pasted, &errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    let c = u.caller.clone();
    let a = st
        .read(move |l, _| service::file_account(l, &c, &f))
        .await?;
    Ok(page(
        "Activation file deactivated",
        Some(&u),
        html! {
            @for d in &done {
                p.ok role="status" { "Deactivated " code { (d.id) } "." }
                p { (deactivation::explain(d)) }
                @if !d.returned.is_empty() {
                    ul { @for (part, n) in &d.returned { li { (n) " × " (part) " available again" } } }
                }
                @if !d.pending.is_empty() {
                    ul { @for (part, n) in &d.pending { li { (n) " × " (part) " pending approval" } } }
                }
            }
            p { a href={ "/accounts/" (a.id) "/activity" } { "Back to Activation File Activity" } }
        },
    ))
}

/// `GET /deactivations`: vendor staff's list of deactivations pending approval.
pub async fn pending(State(st): State<Arc<AppState>>, u: PageUser) -> PageResult {
    let c = u.caller.clone();
    let list = st.read(move |l, _| deactivation::pending(l, &c)).await?;
    Ok(page(
        "Pending Deactivations",
        Some(&u),
        html! {
            p { "Files deactivated without a release receipt: their items stay in use until approved." }
            @if list.is_empty() {
                p { "No deactivation is pending." }
            } @else {
                table {
                    caption { "Pending deactivations" }
                    thead { tr {
                        th scope="col" { "File" } th scope="col" { "Account" } th scope="col" { "Install Site" }
                        th scope="col" { "Machine" } th scope="col" { "Deactivated" } th scope="col" { "By" }
                        th scope="col" { "Items" } th scope="col" { "" }
                    } }
                    tbody {
                        @for x in &list {
                            tr {
                                td { a href={ "/files/" (x.id) } { code { (x.id) } } }
                                td { (x.account) } td { (x.site) } td { (x.machine) }
                                td { (x.at.to_string()) } td { (x.by) }
                                td { @for (part, n) in &x.units { (n) " × " (part) br; } }
                                td {
                                    form method="post" action={ "/files/" (x.id) "/approve-deactivation" } {
                                        (csrf_field(&u))
                                        button type="submit" { "Approve" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `POST /files/{file}/approve-deactivation`: staff only (403 otherwise).
pub async fn approve(
    State(st): State<Arc<AppState>>,
    Path(f): Path<String>,
    CsrfForm(u, _): CsrfForm<NoFields>,
) -> PageResult {
    Ok(crate::once_done::page(
        &st,
        u.caller.clone(),
        "/deactivations".into(),
        move |l, _, _, c| deactivation::approve(l, c, &f),
        |_| ("/deactivations".into(), None),
    )
    .await?)
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/files/{file}/deactivate", get(form).post(submit))
        .route("/files/{file}/approve-deactivation", post(approve))
        .route("/deactivations", get(pending))
}
