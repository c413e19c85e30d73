//! Update Activation File: add seats, or the switchover host given later.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use maud::html;

use crate::error::PortalError;
use crate::http::PageUser;
use crate::service::{self, AppState, UpdateForm};

use super::form::{add_items, value, CsrfForm};
use super::layout::{csrf_field, may_generate_for_file, not_certified, page, PageResult};

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
                                         input type="hidden" name="add_part" value=(p.part);
                                         input.qty type="number" min="0" max=(p.available) value="0" id={ "u-" (p.part) } name="add_quantity"; } }
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

/// The Update Activation File form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct UpdatePageForm {
    switchover_host_id: String,
    switchover_machine: String,
    switchover_part: String,
    /// The add-on rows: each one's part and quantity, in order.
    add_part: Vec<String>,
    add_quantity: Vec<String>,
}

/// `POST /files/{file}/update`.
pub async fn update(
    State(st): State<Arc<AppState>>,
    Path(f): Path<String>,
    CsrfForm(u, p): CsrfForm<UpdatePageForm>,
) -> PageResult {
    may_generate_for_file(&st, &u, &f).await?;
    let form = UpdateForm {
        add: add_items(&p.add_part, &p.add_quantity)?,
        switchover_host_id: value(&p.switchover_host_id),
        switchover_machine: value(&p.switchover_machine),
        switchover_part: value(&p.switchover_part),
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

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/files/{file}/update", get(update_form).post(update))
}
