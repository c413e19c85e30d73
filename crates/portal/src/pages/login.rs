//! Log in and log out.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use crate::auth;
use crate::error::PortalError;
use crate::http::{session_cookie, AnySession, ClientAddr, PageError, PageUser};

use super::form::{CsrfForm, Form, NoFields};
use crate::service::AppState;

use super::layout::{csrf_field, layout, page, PageResult};

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
        // `/` lands a user with one account on it.
        _ => "/".into(),
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

/// The login form. A missing field is empty, so a form without its token answers the
/// stale-form page like one with a wrong token.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
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
    Form(f): Form<LoginForm>,
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

/// `POST /logout`.
pub async fn logout(
    State(st): State<Arc<AppState>>,
    CsrfForm(u, _): CsrfForm<NoFields>,
) -> PageResult {
    st.sessions().remove(&u.cookie).await;
    let mut r = super::flash::redirect(&st, "/login", super::flash::Flash::LoggedOut);
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&st, "")) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// `GET /logout`: a page with the logout button (logging out changes state, so it is a
/// form, not a link); without a session, to the login page.
pub async fn logout_form(u: Result<PageUser, crate::http::ToLogin>) -> Response {
    let Ok(u) = u else {
        return Redirect::to("/login").into_response();
    };
    page(
        "Log out",
        Some(&u),
        html! {
            p { "Log out of the portal on this browser? Your other sessions stay logged in." }
            form.card method="post" action="/logout" {
                (csrf_field(&u))
                button type="submit" { "Log out now" }
                a href="/" { "Stay logged in" }
            }
        },
    )
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/login",
            get(login_form)
                .post(login)
                .layer(DefaultBodyLimit::max(crate::MAX_FORM)),
        )
        .route("/logout", get(logout_form).post(logout))
}
