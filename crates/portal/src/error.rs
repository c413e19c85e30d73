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
    /// `bad-request`, `unauthorized`, `forbidden`, `not-found`, `method-not-allowed`,
    /// `conflict`, `not-enough`, `rule`, `too-many-requests`, `payload-too-large`,
    /// `uri-too-long`, `unsupported-media-type`, `stale-form`, `internal`.
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

/// The issuer's messages name its command-line flags; on a page or in the API they name
/// the field instead.
fn in_portal_words(msg: &str) -> String {
    const WORDS: &[(&str, &str)] = &[
        ("--switchover-host-id", "the switchover host ID"),
        ("--host-id", "the host ID"),
        ("--server-part", "the server item"),
        ("--switchover-part", "the switchover item"),
        (
            "deactivate it with --with-recovery",
            "deactivate it with its disaster recovery files",
        ),
        ("--related ID", "the related production file"),
        ("--related", "the related production file"),
        ("--add", "add-on items"),
        ("--set", "quantities"),
        ("--mirror", "mirroring"),
        ("--part", "the part"),
    ];
    let mut out = msg.to_string();
    for (flag, words) in WORDS {
        out = out.replace(flag, words);
    }
    out
}

impl From<IssuerError> for PortalError {
    fn from(e: IssuerError) -> Self {
        use IssuerError as E;
        let msg = match &e {
            E::HostId { flag, source } => {
                let what = if flag.contains("switchover") {
                    "Switchover host ID"
                } else {
                    "Host ID"
                };
                format!("{what}: {source}")
            }
            E::RequestCode { flag, source } => {
                let what = if flag.contains("switchover") {
                    "Switchover host ID"
                } else {
                    "Host ID"
                };
                format!("{what}: {source}")
            }
            E::RuleViolated { detail, .. } => {
                format!("These items cannot go together in one activation file: {detail}")
            }
            _ => in_portal_words(&e.to_string()),
        };
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
            E::ReceiptInvalid { .. } | E::ReceiptNotForFile { .. } | E::ReceiptUsed { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "receipt", msg)
            }
            E::HostId { .. }
            | E::RequestCode { .. }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_fields_not_flags() {
        let e = PortalError::from(IssuerError::PartMismatch {
            part: "SW-001-4.0-AL02".into(),
            reason: "it is an access item, not a server item (--server-part)".into(),
        });
        assert_eq!(
            e.message,
            "part SW-001-4.0-AL02: it is an access item, not a server item (the server item)"
        );
        let h = PortalError::from(IssuerError::HostId {
            flag: "--switchover-host-id",
            source: "X".parse::<hostid::HostId>().unwrap_err(),
        });
        assert!(
            h.message.starts_with("Switchover host ID: "),
            "{}",
            h.message
        );
        assert_eq!(h.status, StatusCode::BAD_REQUEST);
    }
}
