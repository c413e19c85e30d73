//! A refused form shown again: every value kept as it was sent, each error next to its
//! field (the field `aria-invalid` and described by its message) and a summary at the top
//! whose entries link to the fields. Pages collect the errors in a [`FormErrors`] and ask it
//! for the markup of each place. Every form of the portal shows its refusal this way.

use axum::http::StatusCode;
use maud::{html, Markup};

use crate::error::PortalError;

/// The status of a form shown again after a refusal.
pub const REFUSED: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// One error: the id of the field it is about (`None`: the form as a whole) and what is
/// wrong, in the page's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The element id of the field (the summary links to it).
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The errors of a refused form, in the order the form shows its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    items: Vec<FieldError>,
    /// The summary's heading when the page names what was not done.
    title: Option<&'static str>,
    /// The refusal's status when the service gave one (409 for a name taken).
    refused_with: Option<StatusCode>,
}

impl FormErrors {
    /// No errors (the form as first shown).
    pub fn none() -> Self {
        Self::default()
    }

    /// No errors yet; the summary's heading says `title` (such as "The user was not saved").
    pub fn titled(title: &'static str) -> Self {
        Self {
            title: Some(title),
            ..Self::default()
        }
    }

    /// Keep the status the service refused with, for [`FormErrors::status`].
    pub fn refused_with(&mut self, status: StatusCode) {
        self.refused_with = Some(status);
    }

    /// The page's status: 200 when nothing was refused, else the service's status, else
    /// `otherwise`.
    pub fn status(&self, otherwise: StatusCode) -> StatusCode {
        match self.refused_with {
            _ if self.is_empty() => StatusCode::OK,
            Some(s) => s,
            None => otherwise,
        }
    }

    /// An error about the field with element id `id`.
    pub fn field(&mut self, id: &str, message: impl Into<String>) {
        self.items.push(FieldError {
            id: Some(id.to_string()),
            message: message.into(),
        });
    }

    /// An error about the form as a whole.
    pub fn general(&mut self, message: impl Into<String>) {
        self.items.push(FieldError {
            id: None,
            message: message.into(),
        });
    }

    /// A refusal from the service: on the field `id` names (`None`: the whole form).
    pub fn refusal(&mut self, e: &PortalError, id: Option<&str>) {
        match id {
            Some(id) => self.field(id, e.message.clone()),
            None => self.general(e.message.clone()),
        }
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether the field `id` has an error.
    pub fn has(&self, id: &str) -> bool {
        self.items.iter().any(|e| e.id.as_deref() == Some(id))
    }

    /// The summary at the top of the form: every error, each a link to its field.
    pub fn summary(&self) -> Markup {
        html! {
            @if !self.is_empty() {
                div.error.error-summary role="alert" aria-labelledby="error-summary-title" {
                    h2 id="error-summary-title" { (self.title.unwrap_or("The form could not be sent")) }
                    ul {
                        @for e in &self.items {
                            li { @match &e.id {
                                Some(id) => a href={ "#" (id) } { (e.message) },
                                None => (e.message),
                            } }
                        }
                    }
                }
            }
        }
    }

    /// The message(s) shown next to the field `id` (nothing when it has none); its element
    /// id is [`FormErrors::note_id`].
    pub fn note(&self, id: &str) -> Markup {
        html! {
            @if self.has(id) {
                p.field-error id=(Self::note_id(id)) {
                    @for e in self.items.iter().filter(|e| e.id.as_deref() == Some(id)) {
                        (e.message) " "
                    }
                }
            }
        }
    }

    /// The element id of the field `id`'s message.
    pub fn note_id(id: &str) -> String {
        format!("{id}-error")
    }

    /// The field's `aria-describedby`: `also` (its help, its live check) and its message
    /// when it has one; `None` when empty.
    pub fn described_by(&self, id: &str, also: &str) -> Option<String> {
        let mut v: Vec<String> = also.split_whitespace().map(str::to_string).collect();
        if self.has(id) {
            v.push(Self::note_id(id));
        }
        (!v.is_empty()).then(|| v.join(" "))
    }

    /// The field's `aria-invalid`: `Some("true")` when it has an error.
    pub fn invalid(&self, id: &str) -> Option<&'static str> {
        self.has(id).then_some("true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_is_linked_from_the_summary_and_described_by_its_note() {
        let mut e = FormErrors::none();
        assert_eq!(e.summary().into_string(), "");
        e.field("host_id", "Enter the <Host Id>.");
        e.general("Nothing was generated.");
        let s = e.summary().into_string();
        assert!(
            s.contains(r##"<a href="#host_id">Enter the &lt;Host Id&gt;.</a>"##),
            "{s}"
        );
        assert!(s.contains("<li>Nothing was generated.</li>"), "{s}");
        assert!(e
            .note("host_id")
            .into_string()
            .contains(r#"id="host_id-error""#));
        assert_eq!(e.note("machine").into_string(), "");
        assert_eq!(
            e.described_by("host_id", "host_id-help").as_deref(),
            Some("host_id-help host_id-error")
        );
        assert_eq!(e.described_by("machine", ""), None);
        assert_eq!(e.invalid("host_id"), Some("true"));
        assert_eq!(e.invalid("machine"), None);
    }

    #[test]
    fn the_status_is_ok_without_errors_else_the_refusal_s_else_the_page_s() {
        let mut e = FormErrors::titled("The user was not saved");
        e.refused_with(StatusCode::CONFLICT);
        assert_eq!(e.status(StatusCode::BAD_REQUEST), StatusCode::OK);
        e.general("Taken.");
        assert_eq!(e.status(StatusCode::BAD_REQUEST), StatusCode::CONFLICT);
        assert!(e.summary().into_string().contains("The user was not saved"));
        let mut f = FormErrors::none();
        f.field("x", "Bad.");
        assert_eq!(f.status(StatusCode::BAD_REQUEST), StatusCode::BAD_REQUEST);
    }
}
