//! A refused form shown again: a summary at the top (links to the fields) and each error next
//! to its field (`aria-describedby`, `aria-invalid`), in the page's words.

use axum::http::StatusCode;
use maud::{html, Markup};

/// The errors of one refused form: each with the id of the field it is about (`None` for
/// the form as a whole) and the message, the field's label first.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    /// `(field id, message)`, in the form's order.
    pub list: Vec<(Option<&'static str>, String)>,
    /// The status of the refusal when it is not 400 (409 for a name taken).
    pub refused_with: Option<StatusCode>,
}

impl FieldErrors {
    /// Add an error about the field `id` (or the whole form).
    pub fn add(&mut self, id: Option<&'static str>, message: impl Into<String>) {
        self.list.push((id, message.into()));
    }

    /// The page's status: 200 when nothing was refused, else the refusal's (400 by default).
    pub fn status(&self) -> StatusCode {
        match self.refused_with {
            _ if self.is_empty() => StatusCode::OK,
            Some(s) => s,
            None => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The first message about the field `id`.
    pub fn of(&self, id: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(f, _)| *f == Some(id))
            .map(|(_, m)| m.as_str())
    }

    /// The summary at the top of the form: one link per field error, the form's own errors
    /// as text.
    pub fn summary(&self) -> Markup {
        html! {
            @if !self.is_empty() {
                div.error.error-summary role="alert" aria-labelledby="error-summary-title" {
                    h2 id="error-summary-title" { "The form was not sent: correct the following" }
                    ul { @for (f, m) in &self.list { li {
                        @if let Some(f) = f { a href={ "#" (f) } { (m) } } @else { (m) }
                    } } }
                }
            }
        }
    }

    /// The message shown under the field `id`, if there is one (its id is `{id}-error`).
    pub fn message(&self, id: &str) -> Markup {
        html! {
            @if let Some(m) = self.of(id) { p.error.field-error id={ (id) "-error" } { (m) } }
        }
    }

    /// The `aria-describedby` value of the field `id` when it has an error.
    pub fn described_by(&self, id: &str) -> Option<String> {
        self.of(id).map(|_| format!("{id}-error"))
    }

    /// The `aria-invalid` value of the field `id` when it has an error.
    pub fn invalid(&self, id: &str) -> Option<&'static str> {
        self.of(id).map(|_| "true")
    }
}
