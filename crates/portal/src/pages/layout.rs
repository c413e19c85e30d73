//! The frame every page is written in (header, navigation, main), the account's tabs, the
//! error page, the helpers pages share (dates, fast escaping, ids, the token field) and the
//! stylesheet and script.

use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use format::Timestamp;
use issuer::Role;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::{self, AppState};

pub(crate) type PageResult = Result<Response, PageError>;

const CSS: &str = include_str!("../../static/portal.css");
const JS: &str = include_str!("../../static/portal.js");

/// `GET /static/portal.css`.
pub async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// `GET /static/portal.js`: the live host-ID check (the pages work without it).
pub async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

pub(crate) fn role_label(r: Role) -> &'static str {
    match r {
        Role::Staff => "licensing staff",
        Role::Customer => "customer",
        Role::Partner => "partner",
    }
}

pub(crate) fn layout(title: &str, user: Option<&PageUser>, body: Markup) -> Markup {
    framed(title, title, user, body)
}

/// A page about one account: its tab's name first, then the account's (so the browser's
/// tabs and history tell accounts apart).
pub(crate) fn account_page(
    title: &str,
    a: &issuer::AccountRef,
    user: Option<&PageUser>,
    body: Markup,
) -> Response {
    framed(&format!("{title} · {}", a.name), title, user, body).into_response()
}

/// A date field written and read as `YYYY-MM-DD`, as the tables write dates (a browser's
/// date picker shows the reader's local format instead).
pub(crate) fn date_input(id: &str, name: &str, value: &str) -> Markup {
    html! {
        input id=(id) name=(name) type="text" inputmode="numeric" placeholder="YYYY-MM-DD"
            pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" size="10" value=(value);
    }
}

/// The frame with `doc_title` in the browser's title bar and `title` as the heading.
fn framed(doc_title: &str, title: &str, user: Option<&PageUser>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (doc_title) " · i3lic portal" }
                link rel="stylesheet" href="/static/portal.css";
                script src="/static/portal.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to main content" }
                header.top {
                    a.brand href="/accounts" { "i3lic · Manage Activation Files" }
                    @if let Some(u) = user {
                        nav aria-label="Portal" {
                            a href="/accounts" { "Accounts" }
                            a href="/requests" { "Activation File Requests" }
                            @if u.caller.may_manage_users() { a href="/users" { "Portal Users" } }
                            a href="/tokens" { "API Tokens" }
                            @if u.caller.may_approve_deactivation() { a href="/deactivations" { "Pending Deactivations" } }
                            span.who { (u.caller.user.email) " (" (role_label(u.caller.user.role))
                                @if u.caller.user.certified { ", certified" } ")" }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(u.session.csrf);
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (super::flash::shown())
                    (Inner(body))
                }
            }
        }
    }
}

/// A page's content, written into the layout with room made for it and the closing tags
/// after it at once (instead of the layout's string doubling as it grows).
struct Inner(Markup);

impl maud::Render for Inner {
    fn render_to(&self, out: &mut String) {
        out.reserve(self.0 .0.len() + 64);
        out.push_str(&self.0 .0);
    }
}

pub(crate) fn page(title: &str, user: Option<&PageUser>, body: Markup) -> Response {
    layout(title, user, body).into_response()
}

/// The page for a refusal.
pub fn error_page(e: &PortalError) -> Markup {
    let title = match e.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Not possible",
        StatusCode::UNPROCESSABLE_ENTITY => "A license rule refused this",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::UNAUTHORIZED => "Log in first",
        s if s.is_server_error() => "Something went wrong",
        _ => "This cannot be done",
    };
    layout(
        title,
        None,
        html! {
            p.error role="alert" { (e.message) }
            p { "Nothing was changed. " a href="/accounts" { "Back to your accounts" } }
        },
    )
}

pub(crate) fn tabs(a: &issuer::AccountRef, active: &str) -> Markup {
    let t = [
        ("summary", "Account Summary"),
        ("software", "Software Details"),
        ("activity", "Activation File Activity"),
        ("upgrade", "Upgrade Software"),
        ("new", "New Activation File"),
        ("sites", "Install Sites"),
    ];
    html! {
        p.account { "Account Name: " strong { (a.name) } }
        nav.tabs aria-label="Account" {
            @for (slug, label) in t {
                @if slug == active {
                    a href={ "/accounts/" (a.id) "/" (slug) } aria-current="page" { (label) }
                } @else {
                    a href={ "/accounts/" (a.id) "/" (slug) } { (label) }
                }
            }
        }
    }
}

pub(crate) fn id_of(s: &str) -> Result<i64, PageError> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or(PageError(PortalError::not_found()))
}

pub(crate) fn opt(v: &Option<String>) -> Option<String> {
    service::nonempty(v).map(String::from)
}

/// A calendar date on a page, `YYYY-MM-DD` (digits and dashes: nothing to escape).
pub(crate) fn date(t: Timestamp) -> Day {
    Day(t)
}

pub(crate) struct Day(Timestamp);

impl maud::Render for Day {
    fn render_to(&self, out: &mut String) {
        self.0.write_date(out);
    }
}

/// Text on a page, escaped exactly as maud escapes it (`&`, `<`, `>` and `"`), but copying
/// the runs between those bytes whole instead of one byte at a time: the long tables (the
/// activity list renders each file id seven times) spent a quarter of their time there.
pub(crate) struct Text<'a>(pub(crate) &'a str);

impl Text<'_> {
    /// The escaped text, to write more than once without escaping it again.
    pub(crate) fn escaped(&self) -> PreEscaped<String> {
        let mut out = String::with_capacity(self.0.len());
        maud::Render::render_to(self, &mut out);
        PreEscaped(out)
    }
}

impl maud::Render for Text<'_> {
    fn render_to(&self, out: &mut String) {
        let s = self.0;
        // Most text has nothing to escape: one pass that looks, then one copy.
        if !s.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"')) {
            out.push_str(s);
            return;
        }
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => continue,
            };
            // `i` is an ASCII byte's index, so both slices end on character boundaries.
            out.push_str(&s[start..i]);
            out.push_str(entity);
            start = i + 1;
        }
        out.push_str(&s[start..]);
    }
}

pub(crate) fn csrf_field(u: &PageUser) -> Markup {
    // With the form's one-time token: sent twice, its change is done once.
    html! {
        input type="hidden" name="csrf" value=(u.session.csrf);
        input type="hidden" name=(crate::once::FIELD) value=(crate::once::new_token());
    }
}

/// Why the generating forms are not offered to this user, and what to do instead.
pub(crate) fn not_certified(account: i64) -> Markup {
    html! {
        p.notice { "Only certified users generate activation files. "
            a href={ "/requests/new?account=" (account) } { "Send an activation file request" }
            " and the licensing team will generate it for you." }
    }
}

/// Refuse (403) a user who may not generate, before their form is read any further; an
/// account they cannot see answers 404 first, as everywhere.
pub(crate) async fn may_generate_for_account(
    st: &Arc<AppState>,
    u: &PageUser,
    id: &str,
) -> Result<(), PageError> {
    if u.caller.may_generate() {
        return Ok(());
    }
    let idn = id_of(id)?;
    let c = u.caller.clone();
    st.read(move |l, _| service::account(l, &c, idn)).await?;
    Err(PageError(PortalError::forbidden(
        crate::policy::NOT_CERTIFIED,
    )))
}

/// [`may_generate_for_account`] for the account of a file.
pub(crate) async fn may_generate_for_file(
    st: &Arc<AppState>,
    u: &PageUser,
    file: &str,
) -> Result<(), PageError> {
    if u.caller.may_generate() {
        return Ok(());
    }
    let (c, f) = (u.caller.clone(), file.to_string());
    st.read(move |l, _| service::file_account(l, &c, &f))
        .await?;
    Err(PageError(PortalError::forbidden(
        crate::policy::NOT_CERTIFIED,
    )))
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/static/portal.css", get(css))
        .route("/static/portal.js", get(js))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_as_maud_does() {
        for s in [
            "",
            "plain",
            "&",
            "<script>alert(\"x\")</script>",
            "a&b<c>d\"e'f",
            "Zürich & Genève <Süd>",
            "\u{1F600}&\u{1F600}\"",
            "&&&<<<>>>\"\"\"",
            "ends with &",
        ] {
            let fast = html! { (Text(s)) }.into_string();
            let maud = html! { (s) }.into_string();
            assert_eq!(fast, maud, "{s:?}");
            let attr = html! { a title=(Text(s)) {} }.into_string();
            assert_eq!(attr, html! { a title=(s) {} }.into_string(), "{s:?}");
        }
    }
}
