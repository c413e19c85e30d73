//! The portal's one error type: an HTTP status, a stable kind and a message a customer
//! understands. The API answers it as JSON, the pages as an HTML page with the same words.

use axum::http::StatusCode;
use issuer::IssuerError;

/// Why a portal request was refused. `kind` is stable (API clients match on it); `message`
/// is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `bad-request`, `unauthorized`, `forbidden`, `not-found`, `conflict`, `not-enough`,
    /// `rule`, `too-many-requests`, `payload-too-large`, `stale-form`, `internal`.
    pub kind: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

impl PortalError {
    /// A refusal with this status, kind and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        PortalError {
            status,
            kind,
            message: message.into(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }

    /// 404: nothing there, or nothing this caller may see (the two answer alike).
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "There is nothing here, or it belongs to an account you cannot see.",
        )
    }

    /// 401: no valid session or token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Log in first (or send a valid API token as 'Authorization: Bearer ...').",
        )
    }

    /// 403: the caller sees the account but may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 403: a form without the right anti-forgery token (stale or from another site).
    pub fn stale_form() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "stale-form",
            "This form has expired or did not come from this portal. Reload the page and try again.",
        )
    }

    /// 500: something unexpected; the details go to the server log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(target: "i3lic::portal", "internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; nothing was changed. Try again, or send an activation file request.",
        )
    }

    /// The JSON body: `{"error": {"kind", "message"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "kind": self.kind, "message": self.message } })
    }
}

impl std::fmt::Display for PortalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status.as_u16(),
            self.kind,
            self.message
        )
    }
}

impl std::error::Error for PortalError {}

impl From<IssuerError> for PortalError {
    fn from(e: IssuerError) -> Self {
        use IssuerError as E;
        let msg = e.to_string();
        match &e {
            E::UnknownAccount { .. }
            | E::UnknownSite { .. }
            | E::UnknownFile { .. }
            | E::UnknownRequest { .. }
            | E::UnknownPortalUser { .. }
            | E::UnknownToken { .. } => Self::new(StatusCode::NOT_FOUND, "not-found", msg),
            E::NotEnough { .. } => Self::new(StatusCode::CONFLICT, "not-enough", msg),
            E::RuleViolated { .. } | E::Rule { .. } | E::ExceedsProduction { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rule", msg)
            }
            E::HostId { .. }
            | E::MalformedRequest { .. }
            | E::UnknownPart { .. }
            | E::PartMismatch { .. }
            | E::Format(_) => Self::bad_request(msg),
            E::InactiveSite { .. }
            | E::InactiveFile { .. }
            | E::NotActive { .. }
            | E::Duplicate { .. }
            | E::ActiveRecovery { .. }
            | E::RecoveryAboveProduction { .. }
            | E::NoChange { .. }
            | E::RequestClosed { .. }
            | E::NothingToUpgrade { .. } => Self::new(StatusCode::CONFLICT, "conflict", msg),
            _ => Self::internal(msg),
        }
    }
}
