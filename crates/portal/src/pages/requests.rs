//! Activation File Requests: the list, the form (multipart, with attachments), one request,
//! its attachments and, for staff, the answer that closes it.

use std::sync::Arc;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use issuer::{Attachment, NewRequest};
use maud::html;

use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::{self, AppState};

use super::file::file_response;
use super::form::{csrf_of, field, CsrfForm};
use super::layout::{csrf_field, date, page, PageResult};

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
            table {
                caption { "Requests" }
                thead { tr { th scope="col" { "Number" } th scope="col" { "Account" } th scope="col" { "Type" } th scope="col" { "Subject" } th scope="col" { "Date Needed" } th scope="col" { "Status" } } }
                tbody { @for r in &list { tr {
                    td { a href={ "/requests/" (r.number) } { (r.number) } } td { (r.account) }
                    td { (r.request.request_type) } td { (r.request.subject) } td { (r.request.date_needed) }
                    td { (r.status) @if r.request.urgent { " (urgent)" } }
                } } }
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
    request_page(st, u, q.account.and_then(|a| a.parse().ok()), None).await
}

async fn request_page(
    st: Arc<AppState>,
    u: PageUser,
    account: Option<i64>,
    problem: Option<PortalError>,
) -> PageResult {
    let c = u.caller.clone();
    let list = st.read(move |l, _| service::accounts(l, &c)).await?;
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    Ok((status, page(
        "Activation File Request",
        Some(&u),
        html! {
            @if let Some(p) = &problem { p.error role="alert" { (p.message) } }
            form.card method="post" action="/requests" enctype="multipart/form-data" {
                (csrf_field(&u))
                h2 { "Step 1 – Complete Request Details" }
                label for="r-account" { "Sold To Account" }
                select id="r-account" name="account_id" required {
                    @for a in &list { option value=(a.id) selected[account == Some(a.id)] { (a.name) } }
                }
                label for="r-type" { "Request Type" }
                select id="r-type" name="request_type" required {
                    @for t in issuer::ledger::REQUEST_TYPES { option value=(t) { (t) } }
                }
                label for="r-cat" { "Activation File Category (not for a question)" }
                select id="r-cat" name="category" {
                    option value="" { "--None--" }
                    @for t in issuer::ledger::REQUEST_CATEGORIES { option value=(t) { (t) } }
                }
                label for="r-ft" { "Activation File Type (not for a question)" }
                select id="r-ft" name="file_type" {
                    option value="" { "--None--" }
                    @for t in issuer::ledger::REQUEST_FILE_TYPES { option value=(t) { (t) } }
                }
                label for="r-subject" { "Subject" } input id="r-subject" name="subject" required;
                label for="r-desc" { "Description" } textarea id="r-desc" name="description" rows="5" {}
                input type="checkbox" id="r-urgent" name="urgent" value="yes";
                label.inline for="r-urgent" { "Urgent (not for a question)" }
                label for="r-date" { "Date Needed" } input id="r-date" name="date_needed" type="date" required;
                label for="r-reason" { "Date Reasoning" } input id="r-reason" name="date_reason";
                label for="r-host" { "Primary Host Id" } input id="r-host" name="host_id" autocomplete="off";
                label for="r-backup" { "Backup Host Id" } input id="r-backup" name="backup_host_id" autocomplete="off";
                h2 { "Step 2 – Add Attachments" }
                p.help { "Up to " (issuer::ledger::MAX_ATTACHMENTS) " files of at most 1 MiB each: the original activation file (.i3lic), text, logs, PDF or screenshots." }
                label for="r-files" { "Attachments" }
                input id="r-files" name="attachment" type="file" multiple accept=".i3lic,.txt,.log,.pdf,.png,.jpg,.jpeg";
                button type="submit" { "Submit" }
            }
        },
    )).into_response())
}

/// `POST /requests` (multipart): record the request, answer with its number.
pub async fn add_request(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    // Not a multipart form: not this portal's request form.
    let mut mp = mp.map_err(|_| PageError(PortalError::stale_form()))?;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut atts: Vec<Attachment> = Vec::new();
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
            let t =
                issuer::ledger::attachment_type(&fname, bytes.len()).map_err(PortalError::from)?;
            atts.push(Attachment {
                name: fname,
                content_type: t.into(),
                bytes: bytes.to_vec(),
            });
        } else {
            let v = f.text().await.map_err(bad)?;
            if v.len() > 30_000 {
                return Err(PageError(PortalError::bad_request(format!(
                    "the field {name} is too long"
                ))));
            }
            fields.push((name, v));
        }
    }
    u.check_csrf(csrf_of(&fields))?;
    let g = |k: &str| field(&fields, k).unwrap_or("").to_string();
    let account: Option<i64> = g("account_id").parse().ok();
    let Some(acc) = account else {
        return Err(PageError(PortalError::not_found()));
    };
    let r = NewRequest {
        account: String::new(),
        request_type: g("request_type"),
        category: g("category"),
        file_type: g("file_type"),
        subject: g("subject"),
        description: fields
            .iter()
            .find(|(k, _)| k == "description")
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default(),
        urgent: field(&fields, "urgent").is_some(),
        date_needed: g("date_needed"),
        date_reason: g("date_reason"),
        host_id: g("host_id"),
        backup_host_id: g("backup_host_id"),
    };
    let c = u.caller.clone();
    match st
        .write(move |l, _, _| service::add_request(l, &c, acc, r, &atts))
        .await
    {
        Ok(number) => Ok(Redirect::to(&format!("/requests/{number}")).into_response()),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            request_page(st, u, Some(acc), Some(e)).await
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
    let c = u.caller.clone();
    let n2 = n.clone();
    st.write(move |l, _, _| service::close_request(l, &c, &n2, &f.answer))
        .await?;
    Ok(Redirect::to(&format!("/requests/{}", n.trim())).into_response())
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
