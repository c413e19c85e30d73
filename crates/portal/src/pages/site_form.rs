//! The Install Site Details form (new site and edit): its fields in the page's words, each
//! value checked next to its field, and the form drawn again with the values sent.

use maud::{html, Markup};

use crate::error::PortalError;

use super::form_errors::FormErrors;

/// The Install Site Details form.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct SiteForm {
    /// Name.
    pub name: String,
    /// Address Line 1.
    pub address1: String,
    /// Address Line 2.
    pub address2: String,
    /// Address Line 3.
    pub address3: String,
    /// City.
    pub city: String,
    /// State.
    pub state: String,
    /// Country.
    pub country: String,
    /// Postal Code.
    pub postal_code: String,
}

impl SiteForm {
    /// Each field: the suffix of its control's id, its name, its label and its value.
    fn fields(&self) -> [(&'static str, &'static str, &'static str, &str); 8] {
        [
            ("name", "name", "Name", &self.name),
            ("a1", "address1", "Address Line 1", &self.address1),
            ("a2", "address2", "Address Line 2", &self.address2),
            ("a3", "address3", "Address Line 3", &self.address3),
            ("city", "city", "City", &self.city),
            ("state", "state", "State", &self.state),
            ("country", "country", "Country", &self.country),
            ("postal", "postal_code", "Postal Code", &self.postal_code),
        ]
    }
}

/// The id of a control of the form whose ids start with `prefix` (`s` new, `e` edit).
fn id_of(prefix: &str, suffix: &str) -> &'static str {
    const IDS: &[&str] = &[
        "s-name",
        "s-a1",
        "s-a2",
        "s-a3",
        "s-city",
        "s-state",
        "s-country",
        "s-postal",
        "e-name",
        "e-a1",
        "e-a2",
        "e-a3",
        "e-city",
        "e-state",
        "e-country",
        "e-postal",
    ];
    IDS.iter()
        .find(|i| i.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) == Some(suffix))
        .copied()
        .unwrap_or("s-name")
}

/// Every value's problem, next to its field, named by its label.
pub fn check(p: &SiteForm, prefix: &str) -> FormErrors {
    let mut e = FormErrors::none();
    for (suffix, _, label, v) in p.fields() {
        let v = v.trim();
        let id = id_of(prefix, suffix);
        if suffix == "name" {
            if v.is_empty() {
                e.field(id, "Name: give the site a name");
                continue;
            }
            if v.contains(['/', '\\']) || v == "." || v == ".." {
                e.field(
                    id,
                    "Name: a site name cannot contain '/' or '\\' or be '.' or '..'",
                );
                continue;
            }
        }
        if let Err(x) = issuer::ledger::check_text(label, v) {
            e.field(id, issuer::ledger::reason_of(x));
        }
    }
    e
}

/// A refusal of the ledger, next to the Name when it is about the name (a site of that
/// name exists), else at the top.
pub fn refusal(e: PortalError, prefix: &str) -> FormErrors {
    let mut errors = FormErrors::none();
    errors.refused_with(e.status);
    if e.status == axum::http::StatusCode::CONFLICT {
        errors.field(id_of(prefix, "name"), format!("Name: {}", e.message));
    } else {
        errors.general(e.message);
    }
    errors
}

/// The form's fields with `p`'s values and `errors` next to them; ids start with `prefix`.
pub fn fields(p: &SiteForm, prefix: &str, errors: &FormErrors) -> Markup {
    html! {
        @for (suffix, name, label, v) in p.fields() {
            @let id = id_of(prefix, suffix);
            label for=(id) { (label) @if name == "name" { " *" } }
            input id=(id) name=(name) value=(v) required[name == "name"]
                aria-invalid=[errors.invalid(id)] aria-describedby=[errors.described_by(id, "")];
            (errors.note(id))
        }
    }
}
