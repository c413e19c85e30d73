//! The HTML pages, as the seed's tabs. Every page works without JavaScript; every value is
//! escaped by maud; every state-changing form carries the session's anti-forgery token.

use std::sync::Arc;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use format::{LicenseType, Timestamp};
use issuer::{ActivityRow, Attachment, IssueRequest, NewRequest, PartQuantity, Role};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::auth;
use crate::error::PortalError;
use crate::http::{
    session_cookie, AnySession, ClientAddr, PageError, PageForm, PageRefusal, PageSession, PageUser,
};
use crate::kept::Key;
use crate::service::{self, ActivityQuery, AppState, NewSite, UpdateForm, PAGE_SIZE};

pub mod deactivate;

type PageResult = Result<Response, PageError>;

const CSS: &str = include_str!("../static/portal.css");
const JS: &str = include_str!("../static/portal.js");

/// System types offered on the New Activation File form.
pub const SYSTEM_TYPES: &[&str] = &["Media Server Based (4.0+ only)", "Standard"];
/// Mail connectors offered on the New Activation File form.
pub const MAIL_CONNECTORS: &[&str] = &[
    "Microsoft Exchange Server",
    "IBM Lotus Domino",
    "IMAP",
    "None",
];

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

fn role_label(r: Role) -> &'static str {
    match r {
        Role::Staff => "licensing staff",
        Role::Customer => "customer",
        Role::Partner => "partner",
    }
}

fn layout(title: &str, user: Option<&PageUser>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · i3lic portal" }
                link rel="stylesheet" href="/static/portal.css";
                script src="/static/portal.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/accounts" { "i3lic · Manage Activation Files" }
                    @if let Some(u) = user {
                        nav aria-label="Portal" {
                            a href="/accounts" { "Accounts" }
                            a href="/requests" { "Activation File Requests" }
                            @if u.caller.may_manage_users() { a href="/users" { "Portal Users" } }
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
                main id="main" {
                    h1 { (title) }
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

fn page(title: &str, user: Option<&PageUser>, body: Markup) -> Response {
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

fn tabs(a: &issuer::AccountRef, active: &str) -> Markup {
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

fn id_of(s: &str) -> Result<i64, PageError> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or(PageError(PortalError::not_found()))
}

fn opt(v: &Option<String>) -> Option<String> {
    service::nonempty(v).map(String::from)
}

/// A calendar date on a page, `YYYY-MM-DD` (digits and dashes: nothing to escape).
fn date(t: Timestamp) -> Day {
    Day(t)
}

struct Day(Timestamp);

impl maud::Render for Day {
    fn render_to(&self, out: &mut String) {
        self.0.write_date(out);
    }
}

/// Text on a page, escaped exactly as maud escapes it (`&`, `<`, `>` and `"`), but copying
/// the runs between those bytes whole instead of one byte at a time: the long tables (the
/// activity list renders each file id seven times) spent a quarter of their time there.
struct Text<'a>(&'a str);

impl Text<'_> {
    /// The escaped text, to write more than once without escaping it again.
    fn escaped(&self) -> PreEscaped<String> {
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

fn csrf_field(u: &PageUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(u.session.csrf); }
}

/// Why the generating forms are not offered to this user, and what to do instead.
fn not_certified(account: i64) -> Markup {
    html! {
        p.notice { "Only certified users generate activation files. "
            a href={ "/requests/new?account=" (account) } { "Send an activation file request" }
            " and the licensing team will generate it for you." }
    }
}

/// Refuse (403) a user who may not generate, before their form is read any further; an
/// account they cannot see answers 404 first, as everywhere.
async fn may_generate_for_account(
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
async fn may_generate_for_file(
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

/// `GET /`.
pub async fn home() -> Redirect {
    Redirect::to("/accounts")
}

/// Query of the login page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NextQuery {
    /// Where to go after logging in (a path of this portal).
    pub next: Option<String>,
}

/// Where to go after logging in: a path of this portal made only of characters that cannot
/// turn it into another host's address (no `//`, backslash, blanks or control characters,
/// which browsers drop before reading a URL).
fn safe_next(n: Option<&str>) -> String {
    let ok = |p: &str| {
        p.starts_with('/')
            && !p.starts_with("//")
            && p.len() <= 512
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-.?=&%+~".contains(&b))
    };
    match n {
        Some(p) if ok(p) => p.into(),
        _ => "/accounts".into(),
    }
}

fn login_page(csrf: &str, next: &str, email: &str, problem: Option<&str>) -> Markup {
    layout(
        "Log in",
        None,
        html! {
            @if let Some(p) = problem { p.error role="alert" { (p) } }
            form.card method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label for="email" { "E-mail address" }
                input id="email" name="email" type="email" autocomplete="username" required value=(email);
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Log in" }
            }
        },
    )
}

/// `GET /login`: the form. Its anti-forgery token is also set as a short-lived cookie
/// (`i3lic_login`, HttpOnly, SameSite=Strict) and the login must send both alike, so the
/// form keeps no state on the server: asking for it any number of times costs nothing.
pub async fn login_form(
    State(st): State<Arc<AppState>>,
    s: Option<AnySession>,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let mut ended = false;
    if let Some(s) = s {
        if let Some(id) = s.session.user_id {
            if crate::http::load_user(&st, id, s.session.epoch)
                .await
                .is_some()
            {
                return Redirect::to(&next).into_response();
            }
            // Its user was disabled or given a new password since: the session is over,
            // and the form shows (instead of sending the browser back to a page that
            // sends it here).
            st.sessions().remove(&s.cookie).await;
            ended = true;
        }
    }
    let token = auth::login_token();
    let mut r = login_page(&token, &next, "", None).into_response();
    let mut cookies = vec![crate::http::login_cookie(&st, &token)];
    if ended {
        cookies.push(session_cookie(&st, ""));
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// The login form.
#[derive(Debug, serde::Deserialize)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: check the form's token against its cookie, refuse oversized input before
/// anything else, count the attempt (throttled per account and per address), check the
/// password (a few at a time), then start a new session.
pub async fn login(
    State(st): State<Arc<AppState>>,
    s: Option<AnySession>,
    headers: axum::http::HeaderMap,
    ClientAddr(addr): ClientAddr,
    PageForm(f): PageForm<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let cookie = crate::http::cookie(&headers, auth::LOGIN_COOKIE).unwrap_or("");
    if cookie.is_empty() || !auth::constant_time_eq(cookie.as_bytes(), f.csrf.as_bytes()) {
        return PageError(PortalError::stale_form()).into_response();
    }
    let email = f.email.trim().to_string();
    let password = zeroize::Zeroizing::new(f.password);
    if issuer::ledger::check_email(&email).is_err() || password.len() > auth::MAX_PASSWORD {
        return (
            StatusCode::UNAUTHORIZED,
            login_page(
                &f.csrf,
                &next,
                "",
                Some("Wrong e-mail address or password."),
            ),
        )
            .into_response();
    }
    let attempt = match st.throttle.attempt(&email, addr) {
        Ok(a) => a,
        Err(wait) => {
            let msg = format!(
                "Too many failed logins. Try again in {} minutes.",
                wait.as_secs().div_ceil(60).max(1)
            );
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
                login_page(&f.csrf, &next, &email, Some(&msg)),
            )
                .into_response();
        }
    };
    // An account under attack from elsewhere: its logins wait, but go on.
    if !attempt.delay.is_zero() {
        tokio::time::sleep(attempt.delay).await;
    }
    let e2 = email.clone();
    let found = st
        .read(move |l, _| Ok(l.portal_user_login(&e2)?))
        .await
        .ok()
        .flatten();
    let (user, hash) = match found {
        Some((u, h)) if u.active => (Some(u), h),
        _ => (None, auth::dummy_hash().to_string()),
    };
    let Ok(permit) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        st.password_checks.clone().acquire_owned(),
    )
    .await
    else {
        st.throttle.not_checked(&email, addr);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5".to_string())],
            login_page(
                &f.csrf,
                &next,
                &email,
                Some("The portal is busy. Try again in a few seconds."),
            ),
        )
            .into_response();
    };
    let pw = password.clone();
    let good = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        auth::verify_password(&pw, &hash)
    })
    .await
    .unwrap_or(false);
    match user {
        Some(u) if good => {
            st.throttle.succeeded(&email, addr);
            if let Some(old) = s {
                st.sessions().remove(&old.cookie).await;
            }
            let cookie = match st.sessions().create(Some(u.id), u.sessions_epoch).await {
                Ok((cookie, _)) => cookie,
                Err(e) => return PageError(e).into_response(),
            };
            tracing::info!(target: "i3lic::portal", user = %u.email, "logged in");
            let mut r = Redirect::to(&next).into_response();
            for c in [
                session_cookie(&st, &cookie),
                crate::http::login_cookie(&st, ""),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        _ => {
            tracing::warn!(target: "i3lic::portal", user = %email.escape_debug(), "failed login");
            (
                StatusCode::UNAUTHORIZED,
                login_page(
                    &f.csrf,
                    &next,
                    &email,
                    Some("Wrong e-mail address or password."),
                ),
            )
                .into_response()
        }
    }
}

/// A form with only the anti-forgery token.
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    PageForm(f): PageForm<CsrfForm>,
) -> PageResult {
    u.check_csrf(&f.csrf)?;
    st.sessions().remove(&u.cookie).await;
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&st, "")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
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
    Ok(page(
        "Account Summary",
        Some(&u),
        html! {
            (tabs(a, "summary"))
            form.filters method="get" {
                label for="f-site" { "Install Site:" }
                select id="f-site" name="site" {
                    option value="" { "All Install Sites" }
                    @for x in sites {
                        option value=(x.name) selected[site.as_deref() == Some(x.name.as_str())] { (x.name) }
                    }
                }
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
            table {
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
                            td { (p.part) (grants(p)) }
                            td { (p.category) } td { (p.description) }
                            td.num { (p.total) } td.num { (p.used) } td.num { (p.pending) }
                            td.num { (p.available) }
                        }
                    }
                }
            }
        },
    ))
}

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
    Ok(page(
        "Software Details",
        Some(&u),
        html! {
            (tabs(&a, "software"))
            table {
                caption { "What the account may license" }
                thead { tr {
                    th scope="col" { "Part Number" } th scope="col" { "Product Category" }
                    th scope="col" { "Description" } th scope="col" { "Sold To" }
                    th scope="col" { "Perpetual" } th scope="col" { "Non Perpetual" } th scope="col" { "Total" }
                } }
                tbody {
                    @for p in &parts {
                        tr {
                            td { (p.part) } td { (p.category) } td { (p.description) } td { (a.name) }
                            td.num { (p.perpetual) } td.num { (p.non_perpetual) } td.num { (p.total) }
                        }
                    }
                }
            }
        },
    ))
}

fn activity_table(rows: &[ActivityRow], may_change: bool) -> Markup {
    html! {
        table {
            caption { "Activation files" }
            thead { tr {
                th scope="col" { "Generated Date" } th scope="col" { "Expiration Date" }
                th scope="col" { "Active" } th scope="col" { "Install Site" }
                th scope="col" { "Generated By" } th scope="col" { "Machine" }
                th scope="col" { "Product" } th scope="col" { "Type" }
                th scope="col" { "Sold To" } th scope="col" { "Actions" }
            } }
            tbody { (ActivityRows { rows, may_change }) }
        }
    }
}

/// The activity list's rows, written one by one straight into the table, with room made
/// for all of them first (a page of rows is most of the page's bytes).
struct ActivityRows<'a> {
    rows: &'a [ActivityRow],
    may_change: bool,
}

impl maud::Render for ActivityRows<'_> {
    fn render_to(&self, out: &mut String) {
        out.reserve(self.rows.len() * 640);
        for r in self.rows {
            out.push_str(&activity_row(r, self.may_change).0);
        }
    }
}

fn activity_row(r: &ActivityRow, may_change: bool) -> Markup {
    // Each file's id is written four times: escaped once.
    let id = Text(&r.id).escaped();
    html! {
        tr {
            td { (date(r.generated_at)) } td { (date(r.expires_at)) }
            td { @if r.active { "Yes" } @else { "No" } }
            td { (Text(&r.install_site)) } td { (Text(&r.generated_by)) }
            // The machine names the row, for the actions' links.
            th scope="row" {
                (Text(&r.machine))
                @if let Some(s) = &r.switchover_machine {
                    br; span.pair title="This file covers a switchover pair" { "Multiple Servers: " (Text(s)) }
                }
            }
            td { (Text(&r.product)) } td { (Text(&r.license_type)) } td { (Text(&r.sold_to)) }
            td.actions {
                a href={ "/files/" (id) } { "View" }
                " "
                a href={ "/files/" (id) "/download" } { "Download" }
                @if r.active && may_change {
                    " "
                    a href={ "/files/" (id) "/update" } { "Update" }
                    " "
                    // To the confirmation page, which says what comes back.
                    a href={ "/files/" (id) "/deactivate" } { "Deactivate" }
                }
            }
        }
    }
}

/// `GET /accounts/{id}/activity`: Activation File Activity with the seed's filters.
pub async fn activity(
    State(st): State<Arc<AppState>>,
    s: PageSession,
    Path(id): Path<String>,
    Query(q): Query<ActivityQuery>,
) -> Result<Response, PageRefusal> {
    let id = id_of(&id)?;
    let q2 = q.clone();
    let (u, (v, table)) = s
        .read(&st, move |l, kept, _, c| {
            let v = service::activity_view(l, kept, c, id, q2.clone())?;
            // The table is most of the page: kept as HTML, as long as its rows are.
            let may_change = c.may_generate();
            let key = Key::ActivityTable {
                account: v.account.id,
                query: q2,
                may_change,
            };
            let table = kept.get_or(key, || Ok(activity_table(&v.rows, may_change)))?;
            Ok((v, table))
        })
        .await?;
    let (a, total, sites) = (&v.account, v.total, v.sites.as_slice());
    let page_no = q.page.unwrap_or(1).max(1);
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut link_q = url_query(&[
        ("site", v(&q.site)),
        ("active", v(&q.active)),
        ("type", v(&q.license_type)),
        ("product", v(&q.product)),
        ("from", v(&q.from)),
        ("to", v(&q.to)),
        ("machine", v(&q.machine)),
    ]);
    if !link_q.is_empty() {
        link_q.push('&');
    }
    let active = v(&q.active).to_ascii_lowercase();
    Ok(page(
        "Activation File Activity",
        Some(&u),
        html! {
            (tabs(a, "activity"))
            form.filters method="get" {
                label for="a-site" { "Install Site:" }
                select id="a-site" name="site" {
                    option value="" { "All Install Sites" }
                    @for x in sites { option value=(x.name) selected[q.site.as_deref() == Some(x.name.as_str())] { (x.name) } }
                }
                label for="a-active" { "Active:" }
                select id="a-active" name="active" {
                    option value="all" selected[active.is_empty() || active == "all"] { "-- ALL --" }
                    option value="yes" selected[active == "yes"] { "Yes" }
                    option value="no" selected[active == "no"] { "No" }
                }
                label for="a-from" { "Generation Date (>=)" }
                input id="a-from" name="from" type="date" value=(v(&q.from));
                label for="a-to" { "Generation Date (<=)" }
                input id="a-to" name="to" type="date" value=(v(&q.to));
                label for="a-product" { "Product Line:" }
                input id="a-product" name="product" placeholder="CIC 4.0" value=(v(&q.product));
                label for="a-type" { "License Type:" }
                select id="a-type" name="type" {
                    option value="" { "-- ALL --" }
                    @for t in LicenseType::ALL { option value=(t.as_str()) selected[q.license_type.as_deref() == Some(t.as_str())] { (t.label()) } }
                }
                label for="a-machine" { "Machine Name" }
                input id="a-machine" name="machine" value=(v(&q.machine));
                button type="submit" { "Apply Filters" }
                a href={ "/accounts/" (a.id) "/activity" } { "Clear Filters" }
            }
            p.count { "Number of Total Results # " (total) }
            (PreEscaped(table.0.as_str()))
            @if pages > 1 {
                nav.pages aria-label="Pages" {
                    @if page_no > 1 { a href={ "?" (link_q) "page=" (page_no - 1) } { "Previous" } }
                    " Page " (page_no) " of " (pages) " "
                    @if page_no < pages { a href={ "?" (link_q) "page=" (page_no + 1) } { "Next" } }
                }
            }
        },
    ))
}

fn url_query(kv: &[(&str, String)]) -> String {
    kv.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::http::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /files/{file}`: View License.
pub async fn file(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(f): Path<String>,
) -> PageResult {
    let c = u.caller.clone();
    let (a, d) = st.read(move |l, cat| service::file(l, cat, &c, &f)).await?;
    let x = &d.activation;
    Ok(page(
        "View License",
        Some(&u),
        html! {
            p.account { "Account Name: " a href={ "/accounts/" (a.id) "/activity" } { (a.name) } }
            p { a.button href={ "/files/" (d.id) "/download" } { "Download License" } }
            dl.facts {
                dt { "File" } dd { code { (d.id) } " (" (d.status) ")" }
                dt { "Product" } dd { (x.product) " " (x.product_version) }
                dt { "License Type" } dd { (x.license_type.label()) }
                dt { "Generation Date" } dd { (date(x.issued_at)) }
                dt { "Expiration Date" } dd { (date(x.expires_at)) }
                dt { "Generated By" } dd { (x.generated_by) }
                dt { "Company Name" } dd { (x.sold_to) }
                dt { "Site Name" } dd { (x.install_site) }
                @if let Some(s) = &d.supersedes { dt { "Replaces" } dd { a href={ "/files/" (s) } { (s) } } }
                @if let Some(s) = &d.superseded_by { dt { "Replaced by" } dd { a href={ "/files/" (s) } { (s) } } }
            }
            h2 { "Details" }
            table {
                caption { "Servers" }
                thead { tr { th scope="col" { "Server" } th scope="col" { "Host Id" } th scope="col" { "Machine Name" } } }
                tbody {
                    tr { td { "Primary" } td { code { (x.primary_host.host_id) } } td { (x.primary_host.machine) } }
                    @if let Some(s) = &x.switchover_host {
                        tr { td { "Switchover" } td { code { (s.host_id) } } td { (s.machine) } }
                    }
                }
            }
            dl.facts {
                dt { "Machine Type" } dd { (x.system_type) }
                dt { "Mail Connector" } dd { (x.mail_connector) }
                dt { "Description" } dd { (x.description) }
                dt { "Bundle" } dd { (x.bundle) }
            }
            h2 { "Features" }
            ul { @for f in &x.features { li { code { (f) } } } }
            h2 { "Licenses" }
            ul { @for l in &x.licenses { li { code { (l.name) } " (" (l.assigned) " assigned, " (l.pooled) " pooled)" } } }
            h2 { "Ordered Items Used" }
            ul { @for o in &x.ordered_items { li { (o.part) " " (o.description) " (" (o.quantity) ")" } } }
        },
    ))
}

/// A download answer: the exact bytes, as an attachment, never cached.
pub fn file_response(name: &str, bytes: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /files/{file}/download`.
pub async fn download(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(f): Path<String>,
) -> PageResult {
    let c = u.caller.clone();
    let (name, bytes) = st
        .read(move |l, cat| service::download(l, cat, &c, &f))
        .await?;
    Ok(file_response(&name, bytes))
}

/// Step 1 and step 2 of the New Activation File form (GET parameters).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct NewFileQuery {
    site: Option<String>,
    /// `CIC 4.0`.
    product: Option<String>,
    #[serde(rename = "type")]
    license_type: Option<String>,
}

fn split_product(p: &str) -> Option<(String, String)> {
    let mut it = p.split_whitespace();
    let (a, b) = (it.next()?, it.next()?);
    it.next().is_none().then(|| (a.to_string(), b.to_string()))
}

/// `GET /accounts/{id}/new`: New Activation File. Step 1 chooses install site, product
/// and license type; step 2 (the same address with them filled in) asks for the machine
/// details and the items.
pub async fn new_file_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
    Query(q): Query<NewFileQuery>,
) -> PageResult {
    new_file_page(st, u, id, q, None, StatusCode::OK).await
}

async fn new_file_page(
    st: Arc<AppState>,
    u: PageUser,
    id: String,
    q: NewFileQuery,
    problem: Option<PortalError>,
    status: StatusCode,
) -> PageResult {
    let id = id_of(&id)?;
    let c = u.caller.clone();
    let (a, s, sites) = st
        .read(move |l, cat| {
            let (a, s) = service::summary_parts(l, cat, &c, id, None, None)?;
            let sites = l.sites(&a.name)?;
            Ok((a, s, sites))
        })
        .await?;
    let mut categories: Vec<String> = s.iter().map(|p| p.category.clone()).collect();
    if u.caller.may_choose_any_product() {
        for p in st.catalog.parts() {
            categories.push(p.category.clone());
        }
    }
    categories.sort();
    categories.dedup();
    let site = opt(&q.site);
    let product = opt(&q.product);
    let ltype = opt(&q.license_type).and_then(|t| t.parse::<LicenseType>().ok());
    let step2 =
        site.is_some() && product.as_deref().and_then(split_product).is_some() && ltype.is_some();
    let may = u.caller.may_generate();
    let body = html! {
        (tabs(&a, "new"))
        @if !may {
            (not_certified(a.id))
        }
        @if let Some(p) = &problem { p.error role="alert" { (p.message) } }
        @if may {
        h2 { "Please select a product" }
        form.card method="get" action={ "/accounts/" (a.id) "/new" } {
            p { "Sold To: " strong { (a.name) } }
            label for="n-site" { "Install Site" }
            select id="n-site" name="site" required {
                @for x in sites.iter().filter(|x| x.active) {
                    option value=(x.name) selected[site.as_deref() == Some(x.name.as_str())] { (x.name) }
                }
            }
            label for="n-product" { "Product and Version" }
            select id="n-product" name="product" required {
                @for k in &categories { option value=(k) selected[product.as_deref() == Some(k.as_str())] { (k) } }
            }
            label for="n-type" { "License Type" }
            select id="n-type" name="type" required {
                @for t in LicenseType::ALL { option value=(t.as_str()) selected[ltype == Some(t)] { (t.label()) } }
            }
            button type="submit" { "Go" }
            " " a href={ "/accounts/" (a.id) "/new" } { "Reset" }
        }
        }
        @if step2 && may {
            @let (prod, ver) = product.as_deref().and_then(split_product).unwrap_or_default();
            @let category = format!("{prod} {ver}");
            @let t = ltype.unwrap_or(LicenseType::Production);
            @let partner = u.caller.may_generate_non_ordered();
            @let available = |part: &str| s.iter().find(|p| p.part == part).map(|p| (p.total, p.used, p.available));
            @let servers: Vec<&issuer::catalog::Part> = st.catalog.parts().filter(|p| p.category == category && p.server.as_ref().is_some_and(|sv| sv.types.contains(&t) && (available(&p.number).is_some() || (partner && sv.development == Some(issuer::catalog::Development::NonOrdered))))).collect();
            @let switchovers: Vec<&issuer::catalog::Part> = st.catalog.parts().filter(|p| p.category == category && p.server.as_ref().is_some_and(|sv| sv.types.contains(&LicenseType::Switchover)) && available(&p.number).is_some_and(|x| x.2 > 0)).collect();
            @let addons: Vec<&issuer::PartSummary> = s.iter().filter(|p| p.category == category && st.catalog.part(&p.part).is_some_and(|c| c.server.is_none())).collect();
            form.card method="post" action={ "/accounts/" (a.id) "/new" } {
                (csrf_field(&u))
                input type="hidden" name="site" value=(site.clone().unwrap_or_default());
                input type="hidden" name="product" value=(prod);
                input type="hidden" name="version" value=(ver);
                input type="hidden" name="type" value=(t.as_str());
                h2 { "Machine Details" }
                label for="host_id" { "Host Id *" }
                input id="host_id" name="host_id" required autocomplete="off" spellcheck="false" data-hostid-check="host_id-check" aria-describedby="host_id-help host_id-check";
                p.help id="host_id-help" { "Run " code { "gethostid" } " on the server and copy the code it prints (or " code { "gethostid --strong" } ", or the request code of " code { "licadmin request" } ")." }
                p.help.warning { "A short host-ID code binds a production file weakly: anyone holding the file can build a machine that matches it. Use the strong code or a request code for production files." }
                p.check id="host_id-check" aria-live="polite" {}
                label for="machine" { "Machine Name *" }
                input id="machine" name="machine" required;
                label for="system_type" { "System Type" }
                p.help { "The System Type must be accurate or your license may not work as expected." }
                select id="system_type" name="system_type" {
                    option value="" { "--None--" }
                    @for x in SYSTEM_TYPES { option value=(x) { (x) } }
                }
                label for="mail_connector" { "Mail Connector" }
                select id="mail_connector" name="mail_connector" {
                    option value="" { "--None--" }
                    @for x in MAIL_CONNECTORS { option value=(x) { (x) } }
                }
                fieldset {
                    legend { "Select One Valid Server Item" }
                    @if servers.is_empty() { p.notice { "The account has no server item for " (category) " " (t.label()) " files." } }
                    table {
                        caption.sr { "Server items" }
                        thead { tr { th scope="col" { "Use" } th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Total" } th scope="col" { "Used" } th scope="col" { "Available" } } }
                        tbody {
                            @for (i, p) in servers.iter().enumerate() {
                                @let (tot, used, av) = available(&p.number).unwrap_or((0, 0, 0));
                                tr {
                                    td { input type="radio" name="server_part" id={ "sp-" (i) } value=(p.number) required checked[servers.len() == 1]; }
                                    td { label for={ "sp-" (i) } { (p.number) } }
                                    td { (p.description) }
                                    @if partner && p.server.as_ref().is_some_and(|sv| sv.development == Some(issuer::catalog::Development::NonOrdered)) {
                                        td colspan="3" { "Unlimited for partners (30 days)" }
                                    } @else {
                                        td.num { (tot) } td.num { (used) } td.num { (av) }
                                    }
                                }
                            }
                        }
                    }
                }
                fieldset {
                    legend { "Switchover Machine" }
                    input type="checkbox" id="switchover_later" name="switchover_later" value="yes" checked;
                    label.inline for="switchover_later" { "Provide Switchover information at another time" }
                    label for="switchover_host_id" { "Host Id" }
                    input id="switchover_host_id" name="switchover_host_id" autocomplete="off" spellcheck="false" data-hostid-check="switchover-check" aria-describedby="switchover-check";
                    p.check id="switchover-check" aria-live="polite" {}
                    label for="switchover_machine" { "Machine Name" }
                    input id="switchover_machine" name="switchover_machine";
                    @if switchovers.is_empty() {
                        p { "There are no switchover parts available." }
                    } @else {
                        label for="switchover_part" { "Switchover item" }
                        select id="switchover_part" name="switchover_part" {
                            option value="" { "--None--" }
                            @for p in &switchovers { option value=(p.number) { (p.number) " " (p.description) } }
                        }
                    }
                }
                @if !addons.is_empty() && t.as_str() != "switchover" {
                    fieldset {
                        legend { "Add-on items" }
                        table {
                            caption.sr { "Add-on items" }
                            thead { tr { th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Available" } th scope="col" { "Quantity" } } }
                            tbody {
                                @for p in &addons {
                                    tr {
                                        td { (p.part) } td { (p.description) } td.num { (p.available) }
                                        td {
                                            label.sr for={ "q-" (p.part) } { "Quantity of " (p.part) }
                                            input.qty type="number" min="0" max=(p.available) value="0" id={ "q-" (p.part) } name={ "add:" (p.part) };
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Generate Activation File" }
                " " a href={ "/accounts/" (a.id) "/activity" } { "Cancel" }
            }
        }
    };
    Ok((status, page("New Activation File", Some(&u), body)).into_response())
}

/// Read a urlencoded form into its pairs (repeated and dynamic names kept).
fn pairs(body: &[u8]) -> Result<Vec<(String, String)>, PortalError> {
    let s =
        std::str::from_utf8(body).map_err(|_| PortalError::bad_request("the form is not UTF-8"))?;
    let mut out = Vec::new();
    for kv in s.split('&').filter(|x| !x.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, PortalError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| PortalError::bad_request("the form has a bad %-escape"))?;
                out.push(h);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| PortalError::bad_request("the form is not UTF-8"))
}

/// A state-changing form's fields, once its anti-forgery token is this session's.
fn checked_form(u: &PageUser, body: &[u8]) -> Result<Vec<(String, String)>, PortalError> {
    let p = pairs(body)?;
    u.check_csrf(csrf_of(&p))?;
    Ok(p)
}

/// The form's anti-forgery token: its one `csrf` field (empty when there is none, or more
/// than one, so the form is refused as stale).
fn csrf_of(p: &[(String, String)]) -> &str {
    let mut v = p.iter().filter(|(k, _)| k == "csrf");
    match (v.next(), v.next()) {
        (Some((_, t)), None) => t,
        _ => "",
    }
}

fn field<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn add_items(p: &[(String, String)]) -> Result<Vec<PartQuantity>, PortalError> {
    let mut add = Vec::new();
    for (k, v) in p {
        if let Some(part) = k.strip_prefix("add:") {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let q: u32 = v.parse().map_err(|_| {
                PortalError::bad_request(format!(
                    "the quantity of {} must be a whole number from 0 to 4294967295, not '{}'",
                    part.escape_debug(),
                    v.escape_debug()
                ))
            })?;
            if q > 0 {
                add.push(PartQuantity {
                    part: part.to_string(),
                    quantity: q,
                });
            }
        }
    }
    Ok(add)
}

/// `POST /accounts/{id}/new`: generate the file, then offer it for download.
pub async fn new_file(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let p = checked_form(&u, &body)?;
    may_generate_for_account(&st, &u, &id).await?;
    let g = |k: &str| field(&p, k).map(String::from);
    let q = NewFileQuery {
        site: g("site"),
        product: match (g("product"), g("version")) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            _ => None,
        },
        license_type: g("type"),
    };
    let later = field(&p, "switchover_later").is_some();
    let license_type = match g("type").unwrap_or_default().parse::<LicenseType>() {
        Ok(t) => t,
        Err(e) => {
            // An account the user cannot see answers 404 before their input is judged.
            let (c, idn) = (u.caller.clone(), id_of(&id)?);
            st.read(move |l, _| service::account(l, &c, idn)).await?;
            return Err(PageError(PortalError::bad_request(format!(
                "license type: {e}"
            ))));
        }
    };
    let req = IssueRequest {
        account: String::new(),
        site: g("site").unwrap_or_default(),
        product: g("product").unwrap_or_default(),
        version: g("version").unwrap_or_default(),
        license_type,
        host_id: g("host_id").unwrap_or_default(),
        machine: g("machine").unwrap_or_default(),
        switchover_host_id: if later { None } else { g("switchover_host_id") },
        switchover_machine: if later { None } else { g("switchover_machine") },
        switchover_part: if later { None } else { g("switchover_part") },
        server_part: g("server_part").unwrap_or_default(),
        add: add_items(&p)?,
        system_type: g("system_type"),
        mail_connector: g("mail_connector"),
        generated_by: String::new(),
        partner: false,
        related: None,
    };
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    match service::issue(&st, c, idn, req).await {
        Ok(issued) => {
            let fid = issued.file_id.to_string();
            Ok(page(
                "Activation file generated",
                Some(&u),
                html! {
                    p.ok role="status" { "The activation file " code { (fid) } " was generated and recorded." }
                    p { a.button href={ "/files/" (fid) "/download" } { "Download" } " "
                        a href={ "/files/" (fid) } { "View License" } " "
                        a href={ "/accounts/" (idn) "/activity" } { "Activation File Activity" } }
                },
            ))
        }
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::NOT_FOUND
                && e.status != StatusCode::FORBIDDEN =>
        {
            let status = e.status;
            new_file_page(st, u, id, q, Some(e), status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /files/{file}/update`: add seats, or the switchover host given later.
pub async fn update_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(f): Path<String>,
) -> PageResult {
    update_page(st, u, f, None).await
}

async fn update_page(
    st: Arc<AppState>,
    u: PageUser,
    f: String,
    problem: Option<PortalError>,
) -> PageResult {
    let c = u.caller.clone();
    let (a, d, s) = st
        .read(move |l, cat| {
            let (a, d) = service::file(l, cat, &c, &f)?;
            let (_, s) = service::summary_parts(l, cat, &c, a.id, None, None)?;
            Ok((a, d, s))
        })
        .await?;
    let category = format!("{} {}", d.activation.product, d.activation.product_version);
    let addons: Vec<&issuer::PartSummary> = s
        .iter()
        .filter(|p| {
            p.category == category && st.catalog.part(&p.part).is_some_and(|c| c.server.is_none())
        })
        .collect();
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    Ok((status, page(
        "Update Activation File",
        Some(&u),
        html! {
            p.account { "Account Name: " a href={ "/accounts/" (a.id) "/activity" } { (a.name) } }
            @if let Some(p) = &problem { p.error role="alert" { (p.message) } }
            p { "Updating " a href={ "/files/" (d.id) } { code { (d.id) } } " (" (d.activation.primary_host.machine) "). "
                "A new file replaces it; the old one stops counting." }
            @if !u.caller.may_generate() { (not_certified(a.id)) } @else {
            form.card method="post" action={ "/files/" (d.id) "/update" } {
                (csrf_field(&u))
                @if addons.is_empty() { p { "The account has no add-on items of " (category) "." } } @else {
                fieldset {
                    legend { "Add seats" }
                    table {
                        caption.sr { "Add-on items" }
                        thead { tr { th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Available" } th scope="col" { "Add" } } }
                        tbody {
                            @for p in &addons {
                                tr { td { (p.part) } td { (p.description) } td.num { (p.available) }
                                    td { label.sr for={ "u-" (p.part) } { "Units of " (p.part) " to add" }
                                         input.qty type="number" min="0" max=(p.available) value="0" id={ "u-" (p.part) } name={ "add:" (p.part) }; } }
                            }
                        }
                    }
                } }
                @if d.activation.switchover_host.is_none() {
                    fieldset {
                        legend { "Switchover Machine" }
                        label for="switchover_host_id" { "Host Id" }
                        input id="switchover_host_id" name="switchover_host_id" autocomplete="off" spellcheck="false" data-hostid-check="u-switchover-check" aria-describedby="u-switchover-check";
                        p.check id="u-switchover-check" aria-live="polite" {}
                        label for="switchover_machine" { "Machine Name" }
                        input id="switchover_machine" name="switchover_machine";
                        label for="switchover_part" { "Switchover item (part number)" }
                        input id="switchover_part" name="switchover_part";
                    }
                }
                button type="submit" { "Update Activation File" }
                " " a href={ "/files/" (d.id) } { "Cancel" }
            }
            }
        },
    )).into_response())
}

/// `POST /files/{file}/update`.
pub async fn update(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(f): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let p = checked_form(&u, &body)?;
    may_generate_for_file(&st, &u, &f).await?;
    let g = |k: &str| field(&p, k).map(String::from);
    let form = UpdateForm {
        add: add_items(&p)?,
        switchover_host_id: g("switchover_host_id"),
        switchover_machine: g("switchover_machine"),
        switchover_part: g("switchover_part"),
        host_id: None,
        machine: None,
    };
    let c = u.caller.clone();
    let f2 = f.clone();
    match st
        .write(move |l, cat, key| service::update(l, cat, key, &c, &f2, form))
        .await
    {
        Ok(issued) => {
            let fid = issued.file_id.to_string();
            Ok(page(
                "Activation file updated",
                Some(&u),
                html! {
                    p.ok role="status" { "The new activation file " code { (fid) } " replaces " code { (f.trim().to_ascii_lowercase()) } "." }
                    p { a.button href={ "/files/" (fid) "/download" } { "Download" } " " a href={ "/files/" (fid) } { "View License" } }
                },
            ))
        }
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::NOT_FOUND
                && e.status != StatusCode::FORBIDDEN =>
        {
            update_page(st, u, f, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /accounts/{id}/sites`: Install Sites.
pub async fn sites(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    sites_page(st, u, id, None).await
}

async fn sites_page(
    st: Arc<AppState>,
    u: PageUser,
    id: String,
    problem: Option<PortalError>,
) -> PageResult {
    let id = id_of(&id)?;
    let c = u.caller.clone();
    let (a, list) = st.read(move |l, _| service::sites(l, &c, id)).await?;
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    Ok((status, page(
        "Install Sites",
        Some(&u),
        html! {
            (tabs(&a, "sites"))
            @if let Some(p) = &problem { p.error role="alert" { (p.message) } }
            p.count { "Number of Total Results # " (list.len()) }
            table {
                caption { "Install sites" }
                thead { tr { th scope="col" { "Actions" } th scope="col" { "Name" } th scope="col" { "Address" } th scope="col" { "City" } th scope="col" { "State" } th scope="col" { "Country" } th scope="col" { "Postal Code" } th scope="col" { "Active" } } }
                tbody {
                    @for s in &list {
                        tr {
                            td {
                                a href={ "/accounts/" (a.id) "/sites/" (crate::http::url_encode(&s.name)) "/edit" } { "Edit" span.sr { " site " (s.name) } }
                                " "
                                form.inline method="post" action={ "/accounts/" (a.id) "/sites/" (crate::http::url_encode(&s.name)) "/active" } {
                                    (csrf_field(&u))
                                    input type="hidden" name="active" value=(if s.active { "no" } else { "yes" });
                                    button type="submit" { @if s.active { "Deactivate" } @else { "Activate" } span.sr { " site " (s.name) } }
                                }
                            }
                            td { (s.name) } td { (s.details.address.join(", ")) } td { (s.details.city) }
                            td { (s.details.state) } td { (s.details.country) } td { (s.details.postal_code) }
                            td { @if s.active { "Yes" } @else { "No" } }
                        }
                    }
                }
            }
            h2 { "New Install Site" }
            form.card method="post" action={ "/accounts/" (a.id) "/sites" } {
                (csrf_field(&u))
                label for="s-name" { "Name *" } input id="s-name" name="name" required;
                label for="s-a1" { "Address Line 1" } input id="s-a1" name="address1";
                label for="s-a2" { "Address Line 2" } input id="s-a2" name="address2";
                label for="s-a3" { "Address Line 3" } input id="s-a3" name="address3";
                label for="s-city" { "City" } input id="s-city" name="city";
                label for="s-state" { "State" } input id="s-state" name="state";
                label for="s-country" { "Country" } input id="s-country" name="country";
                label for="s-postal" { "Postal Code" } input id="s-postal" name="postal_code";
                button type="submit" { "Save" }
            }
        },
    )).into_response())
}

/// The Install Site Details form's fields.
fn site_form(p: &[(String, String)]) -> NewSite {
    let g = |k: &str| field(p, k).unwrap_or("").to_string();
    NewSite {
        name: g("name"),
        address: vec![g("address1"), g("address2"), g("address3")],
        city: g("city"),
        state: g("state"),
        country: g("country"),
        postal_code: g("postal_code"),
    }
}

/// `POST /accounts/{id}/sites`: add a site.
pub async fn add_site(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let p = checked_form(&u, &body)?;
    let s = site_form(&p);
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    match st
        .write(move |l, _, _| service::add_site(l, &c, idn, &s))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/accounts/{idn}/sites")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            sites_page(st, u, id, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /accounts/{id}/sites/{site}/active`: activate or deactivate a site.
pub async fn set_site_active(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path((id, site)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let p = checked_form(&u, &body)?;
    let active = match field(&p, "active") {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(PageError(PortalError::bad_request(
                "active must be yes or no",
            )))
        }
    };
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    st.write(move |l, _, _| service::set_site_active(l, &c, idn, &site, active))
        .await?;
    Ok(Redirect::to(&format!("/accounts/{idn}/sites")).into_response())
}

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
    u: PageUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> PageResult {
    u.check_csrf(&f.csrf)?;
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
#[derive(Debug, serde::Deserialize)]
pub struct CloseForm {
    csrf: String,
    answer: String,
}

/// `POST /requests/{number}/close` (staff).
pub async fn close_request(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(n): Path<String>,
    PageForm(f): PageForm<CloseForm>,
) -> PageResult {
    u.check_csrf(&f.csrf)?;
    let c = u.caller.clone();
    let n2 = n.clone();
    st.write(move |l, _, _| service::close_request(l, &c, &n2, &f.answer))
        .await?;
    Ok(Redirect::to(&format!("/requests/{}", n.trim())).into_response())
}

/// `GET /hostid-check?code=`: the live host-ID check for the pages' script (session
/// cookie; the same check the API offers with a token).
pub async fn host_id_check(_u: PageUser, Query(q): Query<crate::api::CodeQuery>) -> Response {
    if q.code.len() > 200 {
        return crate::http::ApiError(PortalError::bad_request(
            "a host-ID code has at most 200 characters",
        ))
        .into_response();
    }
    axum::Json(service::check_host_id(&q.code)).into_response()
}

/// `GET /users` (staff): portal users, and the form to add one.
pub async fn users(State(st): State<Arc<AppState>>, u: PageUser) -> PageResult {
    users_page(st, u, None).await
}

async fn users_page(st: Arc<AppState>, u: PageUser, problem: Option<PortalError>) -> PageResult {
    u.caller.require_manage_users()?;
    let (list, accounts) = st
        .read(|l, _| Ok((l.portal_users()?, l.account_refs()?)))
        .await?;
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    Ok((status, page(
        "Portal Users",
        Some(&u),
        html! {
            @if let Some(p) = &problem { p.error role="alert" { (p.message) } }
            p.count { "Number of Total Results # " (list.len()) }
            table {
                caption { "Portal users" }
                thead { tr { th scope="col" { "E-mail" } th scope="col" { "Role" } th scope="col" { "Certified" } th scope="col" { "Accounts" } th scope="col" { "Active" } th scope="col" { "Actions" } } }
                tbody { @for x in &list { tr {
                    td { (x.email) } td { (role_label(x.role)) } td { @if x.certified { "Yes" } @else { "No" } }
                    td { @if x.role == Role::Staff { "(all)" } @else { (x.accounts.join(", ")) } }
                    td { @if x.active { "Yes" } @else { "No" } }
                    td {
                        @if x.id != u.caller.user.id {
                            form.inline method="post" action={ "/users/" (x.id) "/active" } {
                                (csrf_field(&u))
                                input type="hidden" name="active" value=(if x.active { "no" } else { "yes" });
                                button type="submit" { @if x.active { "Disable" } @else { "Enable" } span.sr { " " (x.email) } }
                            }
                        }
                    }
                } } }
            }
            h2 { "Add a portal user" }
            form.card method="post" action="/users" {
                (csrf_field(&u))
                label for="u-email" { "E-mail address" } input id="u-email" name="email" type="email" required autocomplete="off";
                label for="u-role" { "Role" }
                select id="u-role" name="role" {
                    option value="customer" { "Customer" } option value="partner" { "Partner" } option value="staff" { "Licensing staff" }
                }
                input type="checkbox" id="u-cert" name="certified" value="yes";
                label.inline for="u-cert" { "Certified (a customer or partner who may generate files)" }
                label for="u-accounts" { "Accounts (not for staff; hold Ctrl to choose several)" }
                select id="u-accounts" name="account" multiple size="6" {
                    @for a in &accounts { option value=(a.name) { (a.name) } }
                }
                label for="u-pw" { "Password (at least " (auth::MIN_PASSWORD) " characters)" }
                input id="u-pw" name="password" type="password" required autocomplete="new-password";
                label for="u-pw2" { "The same password again" }
                input id="u-pw2" name="password2" type="password" required autocomplete="new-password";
                button type="submit" { "Add user" }
            }
        },
    )).into_response())
}

/// `POST /users` (staff): add a portal user.
pub async fn add_user(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    body: axum::body::Bytes,
) -> PageResult {
    let p = checked_form(&u, &body)?;
    u.caller.require_manage_users()?;
    let g = |k: &str| field(&p, k).unwrap_or("").to_string();
    let accounts: Vec<String> = p
        .iter()
        .filter(|(k, v)| k == "account" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    let password = zeroize::Zeroizing::new(
        p.iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    );
    let again = zeroize::Zeroizing::new(
        p.iter()
            .find(|(k, _)| k == "password2")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    );
    let result: Result<(), PortalError> = async {
        let role: Role = g("role").parse()?;
        if *password != *again {
            return Err(PortalError::bad_request("The two passwords differ."));
        }
        let (pw, em) = (password.clone(), g("email"));
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&em, &pw))
            .await
            .map_err(PortalError::internal)?
            .map_err(PortalError::bad_request)?;
        let (email, certified, actor) = (
            g("email"),
            field(&p, "certified").is_some(),
            u.caller.actor(),
        );
        st.write(move |l, _, _| {
            Ok(
                l.add_portal_user(&email, role, certified, &accounts, &hash, &actor)
                    .map(|_| ())?,
            )
        })
        .await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/users").into_response()),
        Err(e) if e.status.is_client_error() => users_page(st, u, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /users/{id}/active` (staff): disable (ending their sessions) or enable a user.
pub async fn set_user_active(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let p = checked_form(&u, &body)?;
    u.caller.require_manage_users()?;
    let id = id_of(&id)?;
    let active = match field(&p, "active") {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(PageError(PortalError::bad_request(
                "active must be yes or no",
            )))
        }
    };
    if id == u.caller.user.id && !active {
        return Err(PageError(PortalError::bad_request(
            "You cannot disable yourself.",
        )));
    }
    let actor = u.caller.actor();
    st.write(move |l, _, _| {
        let target = l.portal_user(id)?.ok_or_else(PortalError::not_found)?;
        Ok(l.set_portal_user_active(&target.email, active, &actor)?)
    })
    .await?;
    if !active {
        st.sessions().remove_user(id).await;
    }
    Ok(Redirect::to("/users").into_response())
}

/// `GET /accounts/{id}/sites/{site}/edit`: Install Site Details of an existing site.
pub async fn edit_site_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path((id, site)): Path<(String, String)>,
) -> PageResult {
    edit_site_page(st, u, id, site, None).await
}

async fn edit_site_page(
    st: Arc<AppState>,
    u: PageUser,
    id: String,
    site: String,
    problem: Option<PortalError>,
) -> PageResult {
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    let (a, list) = st.read(move |l, _| service::sites(l, &c, idn)).await?;
    let Some(s) = list.into_iter().find(|x| x.name == site) else {
        return Err(PageError(PortalError::not_found()));
    };
    let line = |i: usize| s.details.address.get(i).cloned().unwrap_or_default();
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    Ok((status, page(
        "Install Site Details",
        Some(&u),
        html! {
            (tabs(&a, "sites"))
            @if let Some(p) = &problem { p.error role="alert" { (p.message) } }
            form.card method="post" action={ "/accounts/" (a.id) "/sites/" (crate::http::url_encode(&s.name)) "/edit" } {
                (csrf_field(&u))
                label for="e-name" { "Name *" } input id="e-name" name="name" required value=(s.name);
                label for="e-a1" { "Address Line 1" } input id="e-a1" name="address1" value=(line(0));
                label for="e-a2" { "Address Line 2" } input id="e-a2" name="address2" value=(line(1));
                label for="e-a3" { "Address Line 3" } input id="e-a3" name="address3" value=(line(2));
                label for="e-city" { "City" } input id="e-city" name="city" value=(s.details.city);
                label for="e-state" { "State" } input id="e-state" name="state" value=(s.details.state);
                label for="e-country" { "Country" } input id="e-country" name="country" value=(s.details.country);
                label for="e-postal" { "Postal Code" } input id="e-postal" name="postal_code" value=(s.details.postal_code);
                button type="submit" { "Save" }
                " " a href={ "/accounts/" (a.id) "/sites" } { "Cancel" }
            }
        },
    )).into_response())
}

/// `POST /accounts/{id}/sites/{site}/edit`: rename a site or change its address.
pub async fn edit_site(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path((id, site)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let p = checked_form(&u, &body)?;
    let s = site_form(&p);
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    let old = site.clone();
    match st
        .write(move |l, _, _| service::edit_site(l, &c, idn, &old, &s))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/accounts/{idn}/sites")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            edit_site_page(st, u, id, site, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
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
