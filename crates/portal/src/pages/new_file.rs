//! New Activation File: step 1 chooses install site, product and license type, step 2 the
//! machine and the items; generating answers with the new file.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use format::LicenseType;
use issuer::IssueRequest;
use maud::html;

use crate::error::PortalError;
use crate::http::{PageError, PageUser};
use crate::service::{self, AppState};

use super::form::{add_items, value, CsrfForm};
use super::form_errors::{FormErrors, REFUSED};
use super::layout::{
    account_page, csrf_field, id_of, may_generate_for_account, not_certified, opt, page, tabs,
    PageResult,
};
use super::machine_form::{
    kept_quantity, machine_field, quantity_errors, refusal_field, switchover_fields,
    SwitchoverFields,
};

/// System types offered on the New Activation File form.
pub const SYSTEM_TYPES: &[&str] = &["Media Server Based (4.0+ only)", "Standard"];
/// Mail connectors offered on the New Activation File form.
pub const MAIL_CONNECTORS: &[&str] = &[
    "Microsoft Exchange Server",
    "IBM Lotus Domino",
    "IMAP",
    "None",
];

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
    let blank = NewFileForm::default();
    new_file_page(st, u, id, q, &blank, &FormErrors::none(), StatusCode::OK).await
}

/// Whether the switchover machine is given now (`switchover=now`); a form without the
/// choice gives it now exactly when it fills in a switchover field.
fn switchover_now(p: &NewFileForm) -> bool {
    match p.switchover.trim() {
        "now" => true,
        "later" => false,
        _ => p.switchover_values_given(),
    }
}

async fn new_file_page(
    st: Arc<AppState>,
    u: PageUser,
    id: String,
    q: NewFileQuery,
    kept: &NewFileForm,
    errors: &FormErrors,
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
    let now = switchover_now(kept);
    let kept_quantity = |part: &str| kept_quantity(&kept.add_part, &kept.add_quantity, part);
    let body = html! {
        (tabs(&a, "new"))
        @if !may {
            (not_certified(a.id))
        }
        (errors.summary())
        @if may {
        h2 { "Please select a product" }
        @if !sites.iter().any(|x| x.active) {
            p.notice { "The account has no active install site, and every activation file is for one. "
                a href={ "/accounts/" (a.id) "/sites" } { "Add or activate an install site" } ", then come back to this page." }
        }
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
            form.card method="post" action={ "/accounts/" (a.id) "/new" } novalidate {
                (csrf_field(&u))
                input type="hidden" name="site" value=(site.clone().unwrap_or_default());
                input type="hidden" name="product" value=(prod);
                input type="hidden" name="version" value=(ver);
                input type="hidden" name="type" value=(t.as_str());
                h2 { "Machine Details" }
                label for="host_id" { "Host Id *" }
                input id="host_id" name="host_id" value=(kept.host_id) required autocomplete="off" spellcheck="false" data-hostid-check="host_id-check" aria-invalid=[errors.invalid("host_id")] aria-describedby=[errors.described_by("host_id", "host_id-help host_id-check")];
                (errors.note("host_id"))
                p.help id="host_id-help" { "Run " code { "gethostid" } " on the server and copy the code it prints (or " code { "gethostid --strong" } ", or the request code of " code { "licadmin request" } ")." }
                p.help.warning { "A short host-ID code binds a production file weakly: anyone holding the file can build a machine that matches it. Use the strong code or a request code for production files." }
                p.check id="host_id-check" aria-live="polite" {}
                (machine_field("machine", "Machine Name *", &kept.machine, true, errors))
                label for="system_type" { "System Type" }
                p.help id="system_type-help" { "The System Type must be accurate or your license may not work as expected." }
                select id="system_type" name="system_type" aria-describedby="system_type-help" {
                    option value="" { "--None--" }
                    @for x in SYSTEM_TYPES { option value=(x) selected[kept.system_type.trim() == *x] { (x) } }
                }
                label for="mail_connector" { "Mail Connector" }
                select id="mail_connector" name="mail_connector" {
                    option value="" { "--None--" }
                    @for x in MAIL_CONNECTORS { option value=(x) selected[kept.mail_connector.trim() == *x] { (x) } }
                }
                fieldset id="server_part" {
                    legend { "Select One Valid Server Item" }
                    (errors.note("server_part"))
                    @if servers.is_empty() { p.notice { "The account has no server item for " (category) " " (t.label()) " files: choose another product or license type above, or send an "
                        a href={ "/requests/new?account=" (a.id) } { "activation file request" } "." } }
                    table.cards {
                        caption.sr { "Server items" }
                        thead { tr { th scope="col" { "Use" } th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Total" } th scope="col" { "Used" } th scope="col" { "Available" } } }
                        tbody {
                            @for (i, p) in servers.iter().enumerate() {
                                @let (tot, used, av) = available(&p.number).unwrap_or((0, 0, 0));
                                tr {
                                    td.actions { input type="radio" name="server_part" id={ "sp-" (i) } value=(p.number) required checked[servers.len() == 1 || kept.server_part.trim() == p.number] aria-describedby=[errors.described_by("server_part", "")]; }
                                    td data-label="Part Number" { label for={ "sp-" (i) } { (p.number) } }
                                    td data-label="Description" { (p.description) }
                                    @if partner && p.server.as_ref().is_some_and(|sv| sv.development == Some(issuer::catalog::Development::NonOrdered)) {
                                        td colspan="3" data-label="Available" { "Unlimited for partners (30 days)" }
                                    } @else {
                                        td.num data-label="Total" { (tot) } td.num data-label="Used" { (used) } td.num data-label="Available" { (av) }
                                    }
                                }
                            }
                        }
                    }
                }
                fieldset.switchover {
                    legend { "Switchover Machine" }
                    (errors.note("switchover_later"))
                    input type="radio" id="switchover_later" name="switchover" value="later" checked[!now] aria-describedby=[errors.described_by("switchover_later", "")];
                    label.inline for="switchover_later" { "Provide Switchover information at another time" }
                    br;
                    input type="radio" id="switchover_now" name="switchover" value="now" checked[now];
                    label.inline for="switchover_now" { "Provide Switchover information now" }
                    div.switchover-fields.shown[errors.has("switchover_later")] id="switchover-fields" {
                        (switchover_fields(SwitchoverFields {
                            host_label: "Host Id",
                            help: None,
                            check_id: "switchover-check",
                            part_label: "Select One Valid Switchover Server Item",
                            host_id: &kept.switchover_host_id,
                            machine: &kept.switchover_machine,
                            part: &kept.switchover_part,
                        }, &switchovers, errors))
                    }
                }
                @if !addons.is_empty() && t.as_str() != "switchover" {
                    fieldset {
                        legend { "Add-on items" }
                        table.cards {
                            caption.sr { "Add-on items" }
                            thead { tr { th scope="col" { "Part Number" } th scope="col" { "Description" } th scope="col" { "Available" } th scope="col" { "Quantity" } } }
                            tbody {
                                @for p in &addons {
                                    @let qid = format!("q-{}", p.part);
                                    tr {
                                        td data-label="Part Number" { (p.part) } td data-label="Description" { (p.description) } td.num data-label="Available" { (p.available) }
                                        td data-label="Quantity" {
                                            label.sr for=(qid) { "Quantity of " (p.part) }
                                            input type="hidden" name="add_part" value=(p.part);
                                            input.qty type="number" min="0" max=(p.available) value=(kept_quantity(&p.part)) id=(qid) name="add_quantity" aria-invalid=[errors.invalid(&qid)] aria-describedby=[errors.described_by(&qid, "")];
                                            (errors.note(&qid))
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
    Ok((
        status,
        account_page("New Activation File", &a, Some(&u), body),
    )
        .into_response())
}

/// The New Activation File form (step 2).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct NewFileForm {
    site: String,
    product: String,
    version: String,
    #[serde(rename = "type")]
    license_type: String,
    host_id: String,
    machine: String,
    system_type: String,
    mail_connector: String,
    /// `later` (the default) or `now`: when the switchover machine is given.
    switchover: String,
    switchover_host_id: String,
    switchover_machine: String,
    switchover_part: String,
    server_part: String,
    /// The add-on rows: each one's part and quantity, in order.
    add_part: Vec<String>,
    add_quantity: Vec<String>,
}

impl NewFileForm {
    /// Whether any switchover field is filled in.
    fn switchover_values_given(&self) -> bool {
        [
            &self.switchover_host_id,
            &self.switchover_machine,
            &self.switchover_part,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    /// What the page itself finds wrong before anything is asked of the ledger, in the
    /// page's words, each on its field.
    fn check(&self, errors: &mut FormErrors) {
        if self.host_id.trim().is_empty() {
            errors.field("host_id", "Enter the Host Id of the server.");
        }
        if self.machine.trim().is_empty() {
            errors.field("machine", "Enter the Machine Name of the server.");
        }
        if self.server_part.trim().is_empty() {
            errors.field("server_part", "Select one valid server item.");
        }
        let now = switchover_now(self);
        if !now && self.switchover_values_given() {
            errors.field(
                "switchover_later",
                "You chose to provide switchover information at another time, but filled in the switchover machine: choose \u{201c}Provide Switchover information now\u{201d} to use it, or clear its fields.",
            );
        }
        if now {
            if self.switchover_host_id.trim().is_empty() {
                errors.field(
                    "switchover_host_id",
                    "Enter the Host Id of the switchover machine, or provide switchover information at another time.",
                );
            }
            if self.switchover_machine.trim().is_empty() {
                errors.field(
                    "switchover_machine",
                    "Enter the Machine Name of the switchover machine, or provide switchover information at another time.",
                );
            }
        }
        quantity_errors(
            &self.add_part,
            &self.add_quantity,
            "q",
            |p| format!("The quantity of {p}"),
            errors,
        );
    }

    /// The element id of the field a refusal is about, on this form.
    fn field_id(&self, e: &PortalError) -> Option<String> {
        refusal_field(
            e,
            Some(&self.server_part),
            &self.switchover_part,
            &self.add_part,
            "q",
        )
    }
}

/// `POST /accounts/{id}/new`: generate the file, then offer it for download; a refusal
/// shows the form again as it was sent, the error on its field.
pub async fn new_file(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(u, p): CsrfForm<NewFileForm>,
) -> PageResult {
    may_generate_for_account(&st, &u, &id).await?;
    let q = NewFileQuery {
        site: value(&p.site),
        product: match (value(&p.product), value(&p.version)) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            _ => None,
        },
        license_type: value(&p.license_type),
    };
    let license_type = match p.license_type.trim().parse::<LicenseType>() {
        Ok(t) => t,
        Err(e) => {
            // An account the user cannot see answers 404 before their input is judged.
            let (c, idn) = (u.caller.clone(), id_of(&id)?);
            st.read(move |l, _| service::account(l, &c, idn)).await?;
            return Err(PageError(PortalError::bad_request(format!(
                "License Type: {e}"
            ))));
        }
    };
    // Rows without their part or quantity are not this page's form: 400.
    let add = add_items(&p.add_part, &p.add_quantity).unwrap_or_default();
    if p.add_part.len() != p.add_quantity.len() {
        add_items(&p.add_part, &p.add_quantity)?;
    }
    let mut errors = FormErrors::none();
    p.check(&mut errors);
    if !errors.is_empty() {
        return new_file_page(st, u, id, q, &p, &errors, REFUSED).await;
    }
    let now = switchover_now(&p);
    let sw = |v: &str| if now { value(v) } else { None };
    let req = IssueRequest {
        account: String::new(),
        site: value(&p.site).unwrap_or_default(),
        product: value(&p.product).unwrap_or_default(),
        version: value(&p.version).unwrap_or_default(),
        license_type,
        host_id: value(&p.host_id).unwrap_or_default(),
        machine: value(&p.machine).unwrap_or_default(),
        switchover_host_id: sw(&p.switchover_host_id),
        switchover_machine: sw(&p.switchover_machine),
        switchover_part: sw(&p.switchover_part),
        server_part: value(&p.server_part).unwrap_or_default(),
        add,
        system_type: value(&p.system_type),
        mail_connector: value(&p.mail_connector),
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
            errors.refusal(&e, p.field_id(&e).as_deref());
            new_file_page(st, u, id, q, &p, &errors, REFUSED).await
        }
        Err(e) => Err(e.into()),
    }
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/accounts/{id}/new", get(new_file_form).post(new_file))
}
