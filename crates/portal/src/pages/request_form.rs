//! The Activation File Request form: its fields in the page's words, and the form drawn
//! with the values sent and the errors next to their fields after a refusal.

use issuer::{AccountRef, NewRequest};
use maud::{html, Markup};

use crate::http::PageUser;

use super::form_errors::FormErrors;
use super::layout::csrf_field;

/// Each field of the form: its JSON name (as [`issuer::RequestProblem`] names it), the id
/// of its control and its label.
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("account_id", "r-account", "Sold To Account"),
    ("request_type", "r-type", "Request Type"),
    ("category", "r-cat", "Activation File Category"),
    ("file_type", "r-ft", "Activation File Type"),
    ("subject", "r-subject", "Subject"),
    ("description", "r-desc", "Description"),
    ("urgent", "r-urgent", "Urgent"),
    ("date_needed", "r-date", "Date Needed"),
    ("date_reason", "r-reason", "Date Reasoning"),
    ("contact_name", "r-contact", "Contact Name"),
    ("contact_email", "r-email", "Contact E-mail"),
    ("host_id", "r-host", "Primary Host Id"),
    ("backup_host_id", "r-backup", "Backup Host Id"),
    ("deployment_type", "r-deploy", "Deployment Type"),
    ("implementation_type", "r-impl", "Implementation Type"),
    ("order_number", "r-order", "SO# or PO#"),
    ("attachment", "r-files", "Attachments"),
];

/// The control id and label of the field with this JSON name.
pub fn field(json: &str) -> Option<(&'static str, &'static str)> {
    FIELDS
        .iter()
        .find(|(j, _, _)| *j == json)
        .map(|(_, id, label)| (*id, *label))
}

/// The request's problems, each next to its field and named by its label.
pub fn problems(r: &NewRequest, errors: &mut FormErrors) {
    for p in r.problems() {
        match field(p.field) {
            Some((id, label)) => errors.field(id, format!("{label}: {}", p.reason)),
            None => errors.general(p.reason),
        }
    }
}

/// An attachment refusal, next to the Attachments field.
pub fn attachment_error(errors: &mut FormErrors, message: String) {
    errors.field("r-files", format!("Attachments: {message}"));
}

/// The form with `r`'s values, the account `account` chosen, and `errors`; `files` says
/// whether files were chosen (a browser cannot refill a file input: they must be chosen
/// again).
pub fn form(
    u: &PageUser,
    accounts: &[AccountRef],
    account: Option<i64>,
    r: &NewRequest,
    errors: &FormErrors,
    files: bool,
) -> Markup {
    let select = |id: &'static str, name: &str, list: &[&str], value: &str, none: bool| {
        html! {
            select id=(id) name=(name) aria-invalid=[errors.invalid(id)] aria-describedby=[errors.described_by(id, "")] {
                @if none { option value="" { "--None--" } }
                @for t in list { option value=(t) selected[*t == value] { (t) } }
            }
            (errors.note(id))
        }
    };
    let input = |id: &'static str, name: &str, value: &str| {
        html! {
            input id=(id) name=(name) value=(value) aria-invalid=[errors.invalid(id)] aria-describedby=[errors.described_by(id, "")];
            (errors.note(id))
        }
    };
    html! {
        (errors.summary())
        form.card method="post" action="/requests" enctype="multipart/form-data" novalidate[!errors.is_empty()] {
            (csrf_field(u))
            h2 { "Step 1 – Complete Request Details" }
            label for="r-account" { "Sold To Account" }
            select id="r-account" name="account_id" required aria-invalid=[errors.invalid("r-account")] aria-describedby=[errors.described_by("r-account", "")] {
                @for a in accounts { option value=(a.id) selected[account == Some(a.id)] { (a.name) } }
            }
            (errors.note("r-account"))
            label for="r-type" { "Request Type" }
            (select("r-type", "request_type", issuer::ledger::REQUEST_TYPES, &r.request_type, false))
            label for="r-cat" { "Activation File Category (not for a question)" }
            (select("r-cat", "category", issuer::ledger::REQUEST_CATEGORIES, &r.category, true))
            label for="r-ft" { "Activation File Type (not for a question)" }
            (select("r-ft", "file_type", issuer::ledger::REQUEST_FILE_TYPES, &r.file_type, true))
            label for="r-subject" { "Subject" } (input("r-subject", "subject", &r.subject))
            label for="r-desc" { "Description" }
            textarea id="r-desc" name="description" rows="5" aria-invalid=[errors.invalid("r-desc")] aria-describedby=[errors.described_by("r-desc", "")] { (r.description) }
            (errors.note("r-desc"))
            input type="checkbox" id="r-urgent" name="urgent" value="yes" checked[r.urgent] aria-describedby=[errors.described_by("r-urgent", "")];
            label.inline for="r-urgent" { "Urgent (not for a question)" }
            (errors.note("r-urgent"))
            label for="r-date" { "Date Needed" }
            input id="r-date" name="date_needed" type="date" required value=(r.date_needed) aria-invalid=[errors.invalid("r-date")] aria-describedby=[errors.described_by("r-date", "")];
            (errors.note("r-date"))
            label for="r-reason" { "Date Reasoning" } (input("r-reason", "date_reason", &r.date_reason))
            h2 { "Request Summary" }
            label for="r-contact" { "Contact Name" } (input("r-contact", "contact_name", &r.contact_name))
            label for="r-email" { "Contact E-mail" } (input("r-email", "contact_email", &r.contact_email))
            label for="r-host" { "Primary Host Id" } (input("r-host", "host_id", &r.host_id))
            label for="r-backup" { "Backup Host Id" } (input("r-backup", "backup_host_id", &r.backup_host_id))
            label for="r-deploy" { "Deployment Type (not for a question)" }
            (select("r-deploy", "deployment_type", issuer::ledger::DEPLOYMENT_TYPES, &r.deployment_type, true))
            label for="r-impl" { "Implementation Type (not for a question)" }
            (select("r-impl", "implementation_type", issuer::ledger::IMPLEMENTATION_TYPES, &r.implementation_type, true))
            label for="r-order" { "SO# or PO#" } (input("r-order", "order_number", &r.order_number))
            h2 { "Step 2 – Add Attachments" }
            p.help id="r-files-help" { "Up to " (issuer::ledger::MAX_ATTACHMENTS) " files of at most 1 MiB each: the original activation file (.i3lic), text, logs, PDF or screenshots." }
            @if files { p.help { strong { "Choose the files again:" } " a browser cannot keep the files of a form that was not sent." } }
            label for="r-files" { "Attachments" }
            input id="r-files" name="attachment" type="file" multiple accept=".i3lic,.txt,.log,.pdf,.png,.jpg,.jpeg" aria-invalid=[errors.invalid("r-files")] aria-describedby=[errors.described_by("r-files", "")];
            (errors.note("r-files"))
            button type="submit" { "Submit" }
        }
    }
}
