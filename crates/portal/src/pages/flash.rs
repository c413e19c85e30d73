//! A message shown once, on the page a form's redirect leads to ("Your changes were saved."):
//! the redirect sets a short cookie naming one of a few fixed messages (never text from the
//! request), the next page in the browser shows it at the top of its main content, and its
//! answer removes the cookie.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use crate::service::AppState;

/// The cookie holding the message's name.
pub const FLASH_COOKIE: &str = "i3lic_flash";

/// The messages a redirect may leave for the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flash {
    /// An edit was saved.
    Saved,
    /// The user logged out.
    LoggedOut,
}

impl Flash {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flash::Saved => "saved",
            Flash::LoggedOut => "logged-out",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Flash> {
        [Flash::Saved, Flash::LoggedOut]
            .into_iter()
            .find(|f| f.name() == s)
    }

    fn text(self) -> &'static str {
        match self {
            Flash::Saved => "Your changes were saved.",
            Flash::LoggedOut => "You are logged out.",
        }
    }
}

tokio::task_local! {
    /// The message the page being answered shows, if any.
    static SHOWN: Option<Flash>;
}

/// A redirect (303) to `to` that leaves `f` for the page there.
pub fn redirect(st: &AppState, to: &str, f: Flash) -> Response {
    let mut r = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&crate::http::flash_cookie(st, f.name())) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The message of the page being answered, as the layout writes it (nothing without one).
pub(crate) fn shown() -> Markup {
    match SHOWN.try_with(|f| *f).ok().flatten() {
        Some(f) => html! { p.ok role="status" { (f.text()) } },
        None => html! {},
    }
}

/// Around every page: a GET with a message's cookie shows it and removes the cookie.
pub(crate) async fn layer(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let f = crate::http::cookie(req.headers(), FLASH_COOKIE).and_then(Flash::from_name);
    let Some(f) = f.filter(|_| req.method() == Method::GET) else {
        return next.run(req).await;
    };
    let mut r = SHOWN.scope(Some(f), next.run(req)).await;
    // Shown once: on a page, not on a redirect that passes it on.
    if r.status().is_success() {
        if let Ok(v) = HeaderValue::from_str(&crate::http::flash_cookie(&st, "")) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}
