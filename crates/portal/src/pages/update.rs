//! Update Activation File: change the machine (host ID, name, system type, mail connector),
//! the switchover machine and its item, and add seats; the file's current quantities beside
//! the rows. A refusal shows the form again as it was sent, the error on its field.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use format::LicenseType;
use maud::html;

use crate::error::PortalError;
use crate::http::PageUser;
use crate::service::{self, AppState, UpdateForm};

use super::form::{add_items, value, CsrfForm};
use super::form_errors::{FormErrors, REFUSED};
use super::layout::{
    account_page, csrf_field, may_generate_for_file, not_certified, page, PageResult,
};
use super::machine_form::{
    kept_quantity, machine_field, quantity_errors, refusal_field, switchover_fields,
    SwitchoverFields,
};
use super::new_file::{MAIL_CONNECTORS, SYSTEM_TYPES};

/// `GET /files/{file}/update`: the form, filled in with the file as it is.
pub async fn update_form(
    State(st): State<Arc<AppState>>,
    u: PageUser,
    Path(f): Path<String>,
) -> PageResult {
    update_page(st, u, f, None, &FormErrors::none()).await
}

/// The file as the form shows it first: its machine, switchover machine and settings.
fn current(d: &issuer::FileDetails, switchover_part: Option<String>) -> UpdatePageForm {
    let a = &d.activation;
    UpdatePageForm {
        host_id: String::new(),
        machine: a.primary_host.machine.clone(),
        system_type: a.system_type.clone(),
        mail_connector: a.mail_connector.clone(),
        switchover_host_id: String::new(),
        switchover_machine: a
            .switchover_host
            .as_ref()
            .map(|h| h.machine.clone())
            .unwrap_or_default(),
        switchover_part: switchover_part.unwrap_or_default(),
        add_part: Vec::new(),
        add_quantity: Vec::new(),
    }
}

/// The file's switchover server item, if it holds one.
fn switchover_part_of(st: &AppState, d: &issuer::FileDetails) -> Option<String> {
    d.activation
        .ordered_items
        .iter()
        .find(|i| {
            i.part != d.server_part && st.catalog.part(&i.part).is_some_and(|p| p.server.is_some())
        })
        .map(|i| i.part.clone())
}

async fn update_page(
    st: Arc<AppState>,
    u: PageUser,
    f: String,
    kept: Option<&UpdatePageForm>,
    errors: &FormErrors,
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
    let in_file = |part: &str| {
        d.activation
            .ordered_items
            .iter()
            .filter(|i| i.part == part)
            .map(|i| u64::from(i.quantity))
            .sum::<u64>()
    };
    let sw_now = switchover_part_of(&st, &d);
    let switchovers: Vec<&issuer::catalog::Part> = st
        .catalog
        .parts()
        .filter(|p| {
            p.category == category
                && p.server
                    .as_ref()
                    .is_some_and(|sv| sv.types.contains(&LicenseType::Switchover))
                && (sw_now.as_deref() == Some(p.number.as_str())
                    || s.iter().any(|x| x.part == p.number && x.available > 0))
        })
        .collect();
    let first = current(&d, sw_now.clone());
    let k = kept.unwrap_or(&first);
    let kept_quantity = |part: &str| kept_quantity(&k.add_part, &k.add_quantity, part);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        REFUSED
    };
    let sw = d.activation.switchover_host.as_ref();
    Ok((status, account_page(
        "Update Activation File",
        &a,
        Some(&u),
        html! {
            p.account { "Account Name: " a href={ "/accounts/" (a.id) "/activity" } { (a.name) } }
            (errors.summary())
            p { "Updating " a href={ "/files/" (d.id) } { code { (d.id) } } " (" (d.activation.primary_host.machine) "). "
                "A new file replaces it; the old one stops counting. Leave a field as it is to keep it." }
            @if !u.caller.may_generate() { (not_certified(a.id)) } @else {
            form.card method="post" action={ "/files/" (d.id) "/update" } novalidate {
                (csrf_field(&u))
                fieldset.fields {
                    legend { "Machine Details" }
                    label for="host_id" { "New Host Id" }
                    p.help id="host_id-help" { "Now: " code { (d.activation.primary_host.binding_code()) } ". Leave blank to keep it." }
                    input id="host_id" name="host_id" value=(k.host_id) autocomplete="off" spellcheck="false" data-hostid-check="host_id-check" aria-invalid=[errors.invalid("host_id")] aria-describedby=[errors.described_by("host_id", "host_id-help host_id-check")];
                    (errors.note("host_id"))
                    p.check id="host_id-check" aria-live="polite" {}
                    (machine_field("machine", "Machine Name", &k.machine, false, errors))
                    label for="system_type" { "System Type" }
                    select id="system_type" name="system_type" {
                        option value="" selected[k.system_type.trim().is_empty()] { "--None--" }
                        @for x in SYSTEM_TYPES { option value=(x) selected[k.system_type.trim() == *x] { (x) } }
                    }
                    label for="mail_connector" { "Mail Connector" }
                    select id="mail_connector" name="mail_connector" {
                        option value="" selected[k.mail_connector.trim().is_empty()] { "--None--" }
                        @for x in MAIL_CONNECTORS { option value=(x) selected[k.mail_connector.trim() == *x] { (x) } }
                    }
                }
                @if addons.is_empty() { p { "The account has no add-on items of " (category) "." } } @else {
                fieldset {
                    legend { "Add seats" }
                    table.cards {
                        caption.sr { "Add-on items" }
                        thead { tr { th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "In this file" } th scope="col" { "Available" } th scope="col" { "Add" } } }
                        tbody {
                            @for p in &addons {
                                @let qid = format!("u-{}", p.part);
                                tr { td data-label="Part Number" { (p.part) } td data-label="Description" { (p.description) } td.num data-label="In this file" { (in_file(&p.part)) } td.num data-label="Available" { (p.available) }
                                    td data-label="Add" { label.sr for=(qid) { "Units of " (p.part) " to add" }
                                         input type="hidden" name="add_part" value=(p.part);
                                         input.qty type="number" min="0" max=(p.available) value=(kept_quantity(&p.part)) id=(qid) name="add_quantity" aria-invalid=[errors.invalid(&qid)] aria-describedby=[errors.described_by(&qid, "")];
                                         (errors.note(&qid)) } }
                            }
                        }
                    }
                } }
                fieldset.fields {
                    legend { "Switchover Machine" }
                    (switchover_fields(SwitchoverFields {
                        host_label: if sw.is_some() { "New Host Id" } else { "Host Id" },
                        help: Some(html! { @match sw {
                            Some(h) => { "Now: " code { (h.binding_code()) } ". Leave blank to keep it." },
                            None => "The file has no switchover machine yet: give its Host Id, Machine Name and item to add it.",
                        } }),
                        check_id: "u-switchover-check",
                        part_label: "Switchover Server Item",
                        host_id: &k.switchover_host_id,
                        machine: &k.switchover_machine,
                        part: &k.switchover_part,
                    }, &switchovers, errors))
                }
                button type="submit" { "Update Activation File" }
                " " a href={ "/files/" (d.id) } { "Cancel" }
            }
            }
        },
    )).into_response())
}

/// The Update Activation File form: every field as shown (a field left as the file has it
/// changes nothing).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct UpdatePageForm {
    host_id: String,
    machine: String,
    system_type: String,
    mail_connector: String,
    switchover_host_id: String,
    switchover_machine: String,
    switchover_part: String,
    /// The add-on rows: each one's part and quantity, in order.
    add_part: Vec<String>,
    add_quantity: Vec<String>,
}

impl UpdatePageForm {
    /// What the page finds wrong itself, each on its field, in the page's words.
    fn check(&self, had_switchover: bool, errors: &mut FormErrors) {
        // A file with a switchover machine keeps what is left blank; one without needs both.
        let sw_given = !self.switchover_host_id.trim().is_empty()
            || !self.switchover_machine.trim().is_empty();
        if !had_switchover && sw_given {
            if self.switchover_host_id.trim().is_empty() {
                errors.field(
                    "switchover_host_id",
                    "Enter the Host Id of the switchover machine too.",
                );
            }
            if self.switchover_machine.trim().is_empty() {
                errors.field(
                    "switchover_machine",
                    "Enter the Machine Name of the switchover machine too.",
                );
            }
        }
        quantity_errors(
            &self.add_part,
            &self.add_quantity,
            "u",
            |p| format!("The units of {p} to add"),
            errors,
        );
    }

    /// The changes the form asks, against the file as it is (`was`): a field left blank or
    /// as the file has it changes nothing.
    fn changes(&self, was: &UpdatePageForm, d: &issuer::FileDetails) -> UpdateForm {
        let changed = |new: &str, old: &str| {
            (!new.trim().is_empty() && new.trim() != old.trim()).then(|| new.trim().to_string())
        };
        let sw = d.activation.switchover_host.as_ref();
        let sw_host = value(&self.switchover_host_id);
        let sw_machine = changed(&self.switchover_machine, &was.switchover_machine);
        // The switchover host changes as a pair of host ID and machine name.
        let (switchover_host_id, switchover_machine) = match (sw_host, sw_machine, sw) {
            (None, None, _) => (None, None),
            (h, m, Some(old)) => (
                Some(h.unwrap_or_else(|| old.binding_code())),
                Some(m.unwrap_or_else(|| old.machine.clone())),
            ),
            (h, m, None) => (h, m),
        };
        UpdateForm {
            add: Vec::new(),
            host_id: value(&self.host_id),
            machine: changed(&self.machine, &was.machine),
            system_type: changed(&self.system_type, &was.system_type),
            mail_connector: changed(&self.mail_connector, &was.mail_connector),
            switchover_host_id,
            switchover_machine,
            switchover_part: value(&self.switchover_part)
                .filter(|p| p.trim() != was.switchover_part.trim()),
        }
    }

    /// The element id of the field a refusal is about, on this form.
    fn field_id(&self, e: &PortalError) -> Option<String> {
        refusal_field(e, None, &self.switchover_part, &self.add_part, "u")
    }
}

/// `POST /files/{file}/update`.
pub async fn update(
    State(st): State<Arc<AppState>>,
    Path(f): Path<String>,
    CsrfForm(u, p): CsrfForm<UpdatePageForm>,
) -> PageResult {
    may_generate_for_file(&st, &u, &f).await?;
    // Rows without their part or quantity are not this page's form: 400.
    if p.add_part.len() != p.add_quantity.len() {
        add_items(&p.add_part, &p.add_quantity)?;
    }
    let c = u.caller.clone();
    let f1 = f.clone();
    let d = st
        .read(move |l, cat| Ok(service::file(l, cat, &c, &f1)?.1))
        .await?;
    let was = current(&d, switchover_part_of(&st, &d));
    let mut errors = FormErrors::none();
    p.check(d.activation.switchover_host.is_some(), &mut errors);
    if !errors.is_empty() {
        return update_page(st, u, f, Some(&p), &errors).await;
    }
    let mut form = p.changes(&was, &d);
    form.add = add_items(&p.add_part, &p.add_quantity).unwrap_or_default();
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
            let message = if e.kind == "conflict" && e.message.contains("changes nothing") {
                PortalError::new(
                    e.status,
                    e.kind,
                    "Nothing was changed: change a field or add seats, then update.",
                )
            } else {
                e
            };
            errors.refusal(&message, p.field_id(&message).as_deref());
            update_page(st, u, f, Some(&p), &errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/files/{file}/update", get(update_form).post(update))
}
