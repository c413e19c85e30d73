//! Activation File Requests: the list, the form (multipart, with attachments), one request,
//! its attachments and, for staff, the answer that closes it.

use std::sync::Arc;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use issuer::{Attachment, NewRequest};
use maud::html;

use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::{self, AppState};

use super::file::file_response;
use super::form::{csrf_of, field, CsrfForm};
use super::form_errors::FormErrors;
use super::layout::{csrf_field, date, page, PageResult};
use super::request_form;

/// `GET /requests`: the requests the user may see.
pub async fn requests(State(st): State<Arc<AppState>>, u: PageUser) -> PageResult {
    let c = u.caller.clone();
    let list = st.read(move |l, _| service::requests(l, &c)).await?;
    Ok(page(
        "Activation File Requests",
        Some(&u),
        html! {
            p { a.button href="/requests/new" { "New Activation File Request" } }
            p.count { "Number of Total Results # " (list.len()) }
            @if list.is_empty() {
                p.notice { "No activation file requests yet. To ask the licensing team for a file, a change or an answer, choose New Activation File Request." }
            } @else {
            table.cards {
                caption { "Requests" }
                thead { tr { th scope="col" { "Number" } th scope="col" { "Account" } th scope="col" { "Type" } th scope="col" { "Subject" } th scope="col" { "Date Needed" } th scope="col" { "Status" } } }
                tbody { @for r in &list { tr {
                    td data-label="Number" { a href={ "/requests/" (r.number) } { (r.number) } } td data-label="Account" { (r.account) }
                    td data-label="Type" { (r.request.request_type) } td data-label="Subject" { (r.request.subject) } td data-label="Date Needed" { (r.request.date_needed) }
                    td data-label="Status" { (r.status) @if r.request.urgent { " (urgent)" } }
                } } }
            }
            }
        },
    ))
}

/// Query of the request form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RequestFormQuery {
    account: Option<String>,
}

/// `GET /requests/new`: the Activation File Request form.
pub async fn request_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Query(q): Query<RequestFormQuery>,
) -> PageResult {
    let account = q.account.and_then(|a| a.parse().ok());
    let r = NewRequest::default();
    request_page(st, u, account, r, FormErrors::none(), false).await
}

/// The form, with the values sent and the errors next to their fields (400) after a refusal.
async fn request_page(
    st: Arc<AppState>,
    u: PageUser,
    account: Option<i64>,
    r: NewRequest,
    errors: FormErrors,
    files: bool,
) -> PageResult {
    let c = u.caller.clone();
    let list = st.read(move |l, _| service::accounts(l, &c)).await?;
    let status = errors.status(StatusCode::BAD_REQUEST);
    let body = request_form::form(&u, &list, account, &r, &errors, files);
    Ok((status, page("Activation File Request", Some(&u), body)).into_response())
}

/// `POST /requests` (multipart): record the request, answer with its number; a refused
/// request shows the form again with every value kept.
pub async fn add_request(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    // Not a multipart form: not this portal's request form.
    let mut mp = mp.map_err(|_| PageError(PortalError::stale_form()))?;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut atts: Vec<Attachment> = Vec::new();
    let mut errors = FormErrors::none();
    let mut files = false;
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError(PortalError::new(e.status(), "bad-request", e.body_text()))
    };
    while let Some(f) = mp.next_field().await.map_err(bad)? {
        let name = f.name().unwrap_or("").to_string();
        if name == "attachment" {
            let fname = f.file_name().unwrap_or("").to_string();
            let bytes = f.bytes().await.map_err(bad)?;
            if fname.is_empty() && bytes.is_empty() {
                continue;
            }
            files = true;
            match issuer::ledger::attachment_type(&fname, bytes.len()) {
                Ok(t) => atts.push(Attachment {
                    name: fname,
                    content_type: t.into(),
                    bytes: bytes.to_vec(),
                }),
                Err(e) => request_form::attachment_error(&mut errors, issuer::ledger::reason_of(e)),
            }
        } else {
            let v = f.text().await.map_err(bad)?;
            if v.len() > 30_000 {
                let label = request_form::field(&name).map_or("A field", |(_, l)| l);
                return Err(PageError(PortalError::bad_request(format!(
                    "{label} is too long: at most 30000 bytes"
                ))));
            }
            fields.push((name, v));
        }
    }
    u.check_csrf(csrf_of(&fields))?;
    let mut c = u.caller.clone();
    let sent_files: Vec<(&str, &[u8])> = atts
        .iter()
        .map(|a| (a.name.as_str(), a.bytes.as_slice()))
        .collect();
    crate::once::from_multipart(&mut c, &fields, &sent_files, "/requests")?;
    let g = |k: &str| field(&fields, k).unwrap_or("").to_string();
    let account: Option<i64> = g("account_id").parse().ok();
    let r = NewRequest {
        account: String::new(),
        request_type: g("request_type"),
        category: g("category"),
        file_type: g("file_type"),
        subject: g("subject"),
        description: g("description").replace("\r\n", "\n"),
        urgent: field(&fields, "urgent").is_some(),
        date_needed: g("date_needed"),
        date_reason: g("date_reason"),
        host_id: g("host_id"),
        backup_host_id: g("backup_host_id"),
        contact_name: g("contact_name"),
        contact_email: g("contact_email"),
        deployment_type: g("deployment_type"),
        implementation_type: g("implementation_type"),
        order_number: g("order_number"),
    };
    if account.is_none() {
        errors.field("r-account", "Sold To Account: choose an account");
    }
    if atts.len() > issuer::ledger::MAX_ATTACHMENTS {
        request_form::attachment_error(
            &mut errors,
            format!(
                "{} files; at most {} are accepted",
                atts.len(),
                issuer::ledger::MAX_ATTACHMENTS
            ),
        );
    }
    request_form::problems(&r, &mut errors);
    let Some(acc) = account.filter(|_| errors.is_empty()) else {
        return request_page(st, u, account, r, errors, files).await;
    };
    let sent = r.clone();
    match crate::once_done::page(
        &st,
        c,
        "/requests".into(),
        move |l, _, _, c| service::add_request(l, c, acc, sent, &atts),
        |number| (format!("/requests/{number}"), None),
    )
    .await
    {
        Ok(answer) => Ok(answer),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            errors.general(e.message);
            request_page(st, u, Some(acc), r, errors, files).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /requests/{number}`.
pub async fn request(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(n): Path<String>,
) -> PageResult {
    let c = u.caller.clone();
    let r = st.read(move |l, _| service::request(l, &c, &n)).await?;
    let x = &r.request;
    Ok(page(
        &format!("Request {}", r.number),
        Some(&u),
        html! {
            dl.facts {
                dt { "Account" } dd { (r.account) }
                dt { "Requested by" } dd { (r.requested_by) }
                dt { "Sent" } dd { (date(r.created_at)) }
                dt { "Request Type" } dd { (x.request_type) }
                @if !x.category.is_empty() { dt { "Category" } dd { (x.category) } }
                @if !x.file_type.is_empty() { dt { "File Type" } dd { (x.file_type) } }
                dt { "Subject" } dd { (x.subject) }
                dt { "Date Needed" } dd { (x.date_needed) @if x.urgent { " (urgent)" } }
                @if !x.date_reason.is_empty() { dt { "Date Reasoning" } dd { (x.date_reason) } }
                @if !x.host_id.is_empty() { dt { "Primary Host Id" } dd { code { (x.host_id) } } }
                @if !x.backup_host_id.is_empty() { dt { "Backup Host Id" } dd { code { (x.backup_host_id) } } }
                @if !x.contact_name.is_empty() { dt { "Contact Name" } dd { (x.contact_name) } }
                @if !x.contact_email.is_empty() { dt { "Contact E-mail" } dd { (x.contact_email) } }
                @if !x.deployment_type.is_empty() { dt { "Deployment Type" } dd { (x.deployment_type) } }
                @if !x.implementation_type.is_empty() { dt { "Implementation Type" } dd { (x.implementation_type) } }
                @if !x.order_number.is_empty() { dt { "SO# or PO#" } dd { (x.order_number) } }
                dt { "Status" } dd { (r.status) }
            }
            @if !x.description.is_empty() { h2 { "Description" } pre.text { (x.description) } }
            @if !r.attachments.is_empty() {
                h2 { "Attachments" }
                ul { @for a in &r.attachments { li { a href={ "/requests/" (r.number) "/attachments/" (a.position) } { (a.name) } " (" (a.size) " bytes)" } } }
            }
            @if let Some(ans) = &r.answer {
                h2 { "Answer" }
                p { "From " (r.closed_by.clone().unwrap_or_default()) @if let Some(t) = r.closed_at { " on " (date(t)) } }
                pre.text { (ans) }
            } @else if u.caller.may_close_request() {
                h2 { "Answer and close" }
                form.card method="post" action={ "/requests/" (r.number) "/close" } {
                    (csrf_field(&u))
                    label for="answer" { "Answer" }
                    textarea id="answer" name="answer" rows="5" required {}
                    button type="submit" { "Close request" }
                }
            }
            p { a href="/requests" { "All requests" } }
        },
    ))
}

/// `GET /requests/{number}/attachments/{position}`.
pub async fn attachment(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path((n, pos)): Path<(String, String)>,
) -> PageResult {
    let pos: i64 = pos
        .parse()
        .map_err(|_| PageError(PortalError::not_found()))?;
    let c = u.caller.clone();
    let a = st
        .read(move |l, _| service::attachment(l, &c, &n, pos))
        .await?;
    let mut r = file_response(&a.name, a.bytes);
    // Served as a download whatever its type, so no attachment is ever rendered here.
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(r)
}

/// The close form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CloseForm {
    answer: String,
}

/// `POST /requests/{number}/close` (staff).
pub async fn close_request(
    State(st): State<Arc<AppState>>,
    Path(n): Path<String>,
    CsrfForm(u, f): CsrfForm<CloseForm>,
) -> PageResult {
    let n2 = n.clone();
    let to = format!("/requests/{}", n.trim());
    let back = to.clone();
    Ok(crate::once_done::page(
        &st,
        u.caller.clone(),
        to,
        move |l, _, _, c| service::close_request(l, c, &n2, &f.answer),
        move |_| (back.clone(), None),
    )
    .await?)
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/requests", get(requests).post(add_request))
        .route("/requests/new", get(request_form))
        .route("/requests/{number}", get(request))
        .route("/requests/{number}/attachments/{position}", get(attachment))
        .route("/requests/{number}/close", post(close_request))
}
