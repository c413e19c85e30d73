//! What the New Activation File and Update Activation File forms share: the switchover
//! machine's fields, the machine name, the add-on rows' quantities kept and checked, and
//! which field a refusal of the service is about. One place, so both forms stay alike.

use issuer::catalog::Part;
use issuer::field::Field;
use maud::{html, Markup};

use crate::error::PortalError;

use super::form_errors::FormErrors;

/// How one form words and wires its switchover fields.
pub struct SwitchoverFields<'a> {
    /// The Host Id field's label.
    pub host_label: &'a str,
    /// The help under the label (element id `switchover-help`), if the form has one.
    pub help: Option<Markup>,
    /// The element id of the live host-ID check.
    pub check_id: &'a str,
    /// The switchover item's label.
    pub part_label: &'a str,
    /// The values sent: host ID, machine name, item.
    pub host_id: &'a str,
    /// The machine name sent.
    pub machine: &'a str,
    /// The item chosen.
    pub part: &'a str,
}

/// The switchover machine's Host Id, Machine Name and item, the values kept and each
/// error next to its field.
pub fn switchover_fields(f: SwitchoverFields<'_>, parts: &[&Part], errors: &FormErrors) -> Markup {
    let also = match f.help {
        Some(_) => format!("switchover-help {}", f.check_id),
        None => f.check_id.to_string(),
    };
    html! {
        label for="switchover_host_id" { (f.host_label) }
        @if let Some(h) = f.help { p.help id="switchover-help" { (h) } }
        input id="switchover_host_id" name="switchover_host_id" value=(f.host_id) autocomplete="off" spellcheck="false" data-hostid-check=(f.check_id) aria-invalid=[errors.invalid("switchover_host_id")] aria-describedby=[errors.described_by("switchover_host_id", &also)];
        (errors.note("switchover_host_id"))
        p.check id=(f.check_id) aria-live="polite" {}
        (machine_field("switchover_machine", "Machine Name", f.machine, false, errors))
        @if parts.is_empty() {
            p id="switchover_part" tabindex="-1" { "There are no switchover parts available." }
        } @else {
            label for="switchover_part" { (f.part_label) }
            select id="switchover_part" name="switchover_part" aria-invalid=[errors.invalid("switchover_part")] aria-describedby=[errors.described_by("switchover_part", "")] {
                option value="" { "--None--" }
                @for p in parts { option value=(p.number) selected[f.part.trim() == p.number] { (p.number) " " (p.description) } }
            }
        }
        (errors.note("switchover_part"))
    }
}

/// A machine name field (`id` is also its name), its value kept and its error below.
pub fn machine_field(
    id: &str,
    label: &str,
    value: &str,
    required: bool,
    errors: &FormErrors,
) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) name=(id) value=(value) required[required] aria-invalid=[errors.invalid(id)] aria-describedby=[errors.described_by(id, "")];
        (errors.note(id))
    }
}

/// The quantity sent for the add-on row of `part` ("0" when there is none).
pub fn kept_quantity(parts: &[String], quantities: &[String], part: &str) -> String {
    parts
        .iter()
        .zip(quantities)
        .find(|(p, _)| p.trim() == part)
        .map_or_else(|| "0".to_string(), |(_, q)| q.clone())
}

/// Each add-on row whose quantity is not a whole number: an error on its field (element
/// id `{prefix}-{part}`), `what` naming the quantity of the part.
pub fn quantity_errors(
    parts: &[String],
    quantities: &[String],
    prefix: &str,
    what: impl Fn(&str) -> String,
    errors: &mut FormErrors,
) {
    for (part, q) in parts.iter().zip(quantities) {
        let q = q.trim();
        if !q.is_empty() && q.parse::<u32>().is_err() {
            errors.field(
                &format!("{prefix}-{}", part.trim()),
                format!(
                    "{} must be a whole number, 0 or more (not \u{2018}{q}\u{2019}).",
                    what(part.trim())
                ),
            );
        }
    }
}

/// The element id of the field a refusal is about: the server item (when the form has
/// one), the switchover item, or the add-on row (element ids `{prefix}-{part}`) whose part
/// the message names; `None`: the form as a whole.
pub fn refusal_field(
    e: &PortalError,
    server_part: Option<&str>,
    switchover_part: &str,
    add_parts: &[String],
    prefix: &str,
) -> Option<String> {
    let part_in = |p: &str| !p.trim().is_empty() && e.message.contains(p.trim());
    match e.field? {
        Field::HostId => Some("host_id".into()),
        Field::SwitchoverHostId => Some("switchover_host_id".into()),
        Field::SwitchoverPart => Some("switchover_part".into()),
        Field::ServerPart => server_part.map(|_| "server_part".into()),
        Field::Add | Field::Set => {
            if server_part.is_some_and(part_in) {
                Some("server_part".into())
            } else if part_in(switchover_part) {
                Some("switchover_part".into())
            } else {
                add_parts
                    .iter()
                    .find(|p| part_in(p))
                    .map(|p| format!("{prefix}-{}", p.trim()))
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantity_kept_and_checked_per_row() {
        let parts = vec!["A-1".to_string(), " B-2 ".to_string()];
        let qs = vec!["3".to_string(), "x".to_string()];
        assert_eq!(kept_quantity(&parts, &qs, "A-1"), "3");
        assert_eq!(kept_quantity(&parts, &qs, "C-3"), "0");
        let mut e = FormErrors::none();
        quantity_errors(&parts, &qs, "q", |p| format!("The quantity of {p}"), &mut e);
        assert!(!e.has("q-A-1"));
        assert!(e
            .note("q-B-2")
            .into_string()
            .contains("The quantity of B-2 must"));
    }

    #[test]
    fn a_refusal_names_the_field_of_the_part_it_is_about() {
        let mut e = PortalError::bad_request("not enough seats of B-2".to_string());
        e.field = Some(Field::Add);
        let adds = vec!["B-2".to_string()];
        assert_eq!(
            refusal_field(&e, Some("S-1"), "", &adds, "q").as_deref(),
            Some("q-B-2")
        );
        e.message = "not enough seats of S-1".into();
        assert_eq!(
            refusal_field(&e, Some("S-1"), "", &adds, "q").as_deref(),
            Some("server_part")
        );
        e.field = Some(Field::ServerPart);
        assert_eq!(refusal_field(&e, None, "", &adds, "u"), None);
    }
}
