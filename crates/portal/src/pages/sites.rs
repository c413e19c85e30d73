//! Install Sites: the list, a new site, a site's details, activate and deactivate.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::html;

use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::{self, AppState, NewSite};

use super::form::{yes_no, CsrfForm};
use super::layout::{csrf_field, id_of, page, tabs, PageResult};

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

/// The Install Site Details form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SiteForm {
    name: String,
    address1: String,
    address2: String,
    address3: String,
    city: String,
    state: String,
    country: String,
    postal_code: String,
}

/// The yes/no form of the Activate and Deactivate buttons.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActiveForm {
    /// `yes` or `no`.
    pub active: String,
}

/// The Install Site Details form's fields, trimmed.
fn site_form(p: &SiteForm) -> NewSite {
    let g = |v: &str| v.trim().to_string();
    NewSite {
        name: g(&p.name),
        address: vec![g(&p.address1), g(&p.address2), g(&p.address3)],
        city: g(&p.city),
        state: g(&p.state),
        country: g(&p.country),
        postal_code: g(&p.postal_code),
    }
}

/// `POST /accounts/{id}/sites`: add a site.
pub async fn add_site(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, p): CsrfForm<SiteForm>,
) -> PageResult {
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
    Path((id, site)): Path<(String, String)>,
    CsrfForm(u, p): CsrfForm<ActiveForm>,
) -> PageResult {
    let active = yes_no(&p.active, "active")?;
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    st.write(move |l, _, _| service::set_site_active(l, &c, idn, &site, active))
        .await?;
    Ok(Redirect::to(&format!("/accounts/{idn}/sites")).into_response())
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
    Path((id, site)): Path<(String, String)>,
    CsrfForm(u, p): CsrfForm<SiteForm>,
) -> PageResult {
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

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/accounts/{id}/sites", get(sites).post(add_site))
        .route("/accounts/{id}/sites/{site}/active", post(set_site_active))
        .route(
            "/accounts/{id}/sites/{site}/edit",
            get(edit_site_form).post(edit_site),
        )
}
