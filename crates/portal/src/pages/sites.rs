//! Install Sites: the list, a new site, a site's details, activate and deactivate.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use maud::html;

use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::{self, AppState, NewSite};

use super::flash::Flash;
use super::form::{yes_no, CsrfForm};
use super::form_errors::FormErrors;
use super::layout::{account_page, csrf_field, id_of, tabs, PageResult};
use super::site_confirm;
use super::site_form::{self, SiteForm};

/// `GET /accounts/{id}/sites`: Install Sites.
pub async fn sites(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    sites_page(st, u, id, SiteForm::default(), FormErrors::none()).await
}

/// The list and the New Install Site form, with the values sent and their errors (400)
/// after a refusal.
async fn sites_page(
    st: Arc<AppState>,
    u: PageUser,
    id: String,
    values: SiteForm,
    errors: FormErrors,
) -> PageResult {
    let id = id_of(&id)?;
    let c = u.caller.clone();
    let (a, list) = st.read(move |l, _| service::sites(l, &c, id)).await?;
    let status = errors.status(StatusCode::BAD_REQUEST);
    Ok((status, account_page(
        "Install Sites",
        &a,
        Some(&u),
        html! {
            (tabs(&a, "sites"))
            (errors.summary())
            p.count { "Number of Total Results # " (list.len()) }
            table.cards {
                caption { "Install sites" }
                thead { tr { th scope="col" { "Actions" } th scope="col" { "Name" } th scope="col" { "Address" } th scope="col" { "City" } th scope="col" { "State" } th scope="col" { "Country" } th scope="col" { "Postal Code" } th scope="col" { "Active" } } }
                tbody {
                    @for s in &list {
                        tr {
                            td.actions {
                                a href={ "/accounts/" (a.id) "/sites/" (crate::http::url_encode(&s.name)) "/edit" } { "Edit" span.sr { " site " (s.name) } }
                                " "
                                form.inline method="post" action={ "/accounts/" (a.id) "/sites/" (crate::http::url_encode(&s.name)) "/active" } {
                                    (csrf_field(&u))
                                    input type="hidden" name="active" value=(if s.active { "no" } else { "yes" });
                                    button type="submit" { @if s.active { "Deactivate" } @else { "Activate" } span.sr { " site " (s.name) } }
                                }
                            }
                            td data-label="Name" { (s.name) } td data-label="Address" { (s.details.address.join(", ")) }
                            td data-label="City" { (s.details.city) } td data-label="State" { (s.details.state) }
                            td data-label="Country" { (s.details.country) } td data-label="Postal Code" { (s.details.postal_code) }
                            td data-label="Active" { @if s.active { "Yes" } @else { "No" } }
                        }
                    }
                }
            }
            h2 { "New Install Site" }
            form.card method="post" action={ "/accounts/" (a.id) "/sites" } {
                (csrf_field(&u))
                (site_form::fields(&values, "s", &errors))
                button type="submit" { "Save" }
            }
        },
    )).into_response())
}

/// The yes/no form of the Activate and Deactivate buttons.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActiveForm {
    /// `yes` or `no`.
    pub active: String,
    /// `yes` once the consequences of deactivating a site with active files were shown.
    pub confirm: String,
}

/// The Install Site Details form's fields, trimmed.
fn site_details(p: &SiteForm) -> NewSite {
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
    let s = site_details(&p);
    let idn = id_of(&id)?;
    let errors = site_form::check(&p, "s");
    if !errors.is_empty() {
        return sites_page(st, u, id, p, errors).await;
    }
    let c = u.caller.clone();
    let to = format!("/accounts/{idn}/sites");
    let back = to.clone();
    match crate::once_done::page(
        &st,
        c,
        to.clone(),
        move |l, _, _, c| service::add_site(l, c, idn, &s),
        move |_| (back.clone(), Some(Flash::Saved)),
    )
    .await
    {
        Ok(r) => Ok(r),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            sites_page(st, u, id, p, site_form::refusal(e, "s")).await
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
    if !active && p.confirm != "yes" {
        let c = u.caller.clone();
        let s = site.clone();
        let (a, files) = st
            .read(move |l, _| {
                let files = service::site_active_files(l, &c, idn, &s)?;
                Ok((service::account(l, &c, idn)?, files))
            })
            .await?;
        if !files.is_empty() {
            return Ok(site_confirm::page_of(&u, &a, &site, &files));
        }
    }
    let to = format!("/accounts/{idn}/sites");
    let back = to.clone();
    Ok(crate::once_done::page(
        &st,
        u.caller.clone(),
        to,
        move |l, _, _, c| service::set_site_active(l, c, idn, &site, active),
        move |_| (back.clone(), Some(Flash::Saved)),
    )
    .await?)
}

/// `GET /accounts/{id}/sites/{site}/edit`: Install Site Details of an existing site.
pub async fn edit_site_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path((id, site)): Path<(String, String)>,
) -> PageResult {
    edit_site_page(st, u, id, site, None, FormErrors::none()).await
}

/// Install Site Details of `site`: its stored values, or the values sent and their errors
/// (400) after a refusal.
async fn edit_site_page(
    st: Arc<AppState>,
    u: PageUser,
    id: String,
    site: String,
    sent: Option<SiteForm>,
    errors: FormErrors,
) -> PageResult {
    let idn = id_of(&id)?;
    let c = u.caller.clone();
    let (a, list) = st.read(move |l, _| service::sites(l, &c, idn)).await?;
    let Some(s) = list.into_iter().find(|x| x.name == site) else {
        return Err(PageError(PortalError::not_found()));
    };
    let line = |i: usize| s.details.address.get(i).cloned().unwrap_or_default();
    let values = sent.unwrap_or_else(|| SiteForm {
        name: s.name.clone(),
        address1: line(0),
        address2: line(1),
        address3: line(2),
        city: s.details.city.clone(),
        state: s.details.state.clone(),
        country: s.details.country.clone(),
        postal_code: s.details.postal_code.clone(),
    });
    let status = errors.status(StatusCode::BAD_REQUEST);
    Ok((status, account_page(
        "Install Site Details",
        &a,
        Some(&u),
        html! {
            (tabs(&a, "sites"))
            (errors.summary())
            form.card method="post" action={ "/accounts/" (a.id) "/sites/" (crate::http::url_encode(&s.name)) "/edit" } {
                (csrf_field(&u))
                (site_form::fields(&values, "e", &errors))
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
    let s = site_details(&p);
    let idn = id_of(&id)?;
    let errors = site_form::check(&p, "e");
    if !errors.is_empty() {
        return edit_site_page(st, u, id, site, Some(p), errors).await;
    }
    let old = site.clone();
    let to = format!("/accounts/{idn}/sites");
    let back = to.clone();
    match crate::once_done::page(
        &st,
        u.caller.clone(),
        to,
        move |l, _, _, c| service::edit_site(l, c, idn, &old, &s),
        move |_| (back.clone(), Some(Flash::Saved)),
    )
    .await
    {
        Ok(r) => Ok(r),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let errors = site_form::refusal(e, "e");
            edit_site_page(st, u, id, site, Some(p), errors).await
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
