//! The portal's one error type: an HTTP status, a stable kind and a message a customer
//! understands. The API answers it as JSON, the pages as an HTML page with the same words.

use axum::http::StatusCode;
use issuer::field::{name_fields, Field};
use issuer::IssuerError;

/// Why a portal request was refused. `kind` is stable (API clients match on it); `message`
/// is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `bad-request`, `unauthorized`, `forbidden`, `not-found`, `method-not-allowed`,
    /// `conflict`, `not-enough`, `rule`, `too-many-requests`, `payload-too-large`,
    /// `uri-too-long`, `unsupported-media-type`, `stale-form`, `key-reused`, `internal`.
    pub kind: &'static str,
    /// What is wrong, in words.
    pub message: String,
    /// The same in the API's words, when they differ (a field named by its JSON name).
    pub api_message: Option<String>,
    /// The field the refusal is about, when it names one (a form shows it there).
    pub field: Option<Field>,
}

impl PortalError {
    /// A refusal with this status, kind and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        PortalError {
            status,
            kind,
            message: message.into(),
            api_message: None,
            field: None,
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

    /// The API's JSON body: `{"error": {"kind", "message"}}`, the message in the API's words.
    pub fn to_json(&self) -> serde_json::Value {
        let message = self.api_message.as_ref().unwrap_or(&self.message);
        serde_json::json!({ "error": { "kind": self.kind, "message": message } })
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

/// A field as the pages name it.
fn page_words(f: Field) -> String {
    match f {
        Field::HostId => "the host ID",
        Field::SwitchoverHostId => "the switchover host ID",
        Field::ServerPart => "the server item",
        Field::SwitchoverPart => "the switchover item",
        Field::Related => "the related production file",
        Field::Add => "add-on items",
        Field::Set => "quantities",
        Field::Part => "the parts to upgrade",
        Field::Mirror => "upgrade everything",
        Field::WithRecovery => "its disaster recovery files too",
        Field::Receipt => "the release receipt",
        Field::Certified => "Certified",
        Field::Accounts => "Accounts",
    }
    .to_string()
}

/// A field as the API names it: its JSON name, quoted.
fn api_words(f: Field) -> String {
    format!("'{}'", f.json_name())
}

/// The issuer's message in a front end's words: the field a host-ID refusal is about, a
/// rule's detail, or every flag named as `name` calls its field.
fn in_words(
    e: &IssuerError,
    name: &dyn Fn(Field) -> String,
    host: &dyn Fn(Field) -> String,
) -> String {
    use IssuerError as E;
    match e {
        E::HostId { flag, source } => {
            let f = Field::of_flag(flag).unwrap_or(Field::HostId);
            format!("{}: {source}", host(f))
        }
        E::RequestCode { flag, source } => {
            let f = Field::of_flag(flag).unwrap_or(Field::HostId);
            format!("{}: {source}", host(f))
        }
        E::NoSwitchoverItem { account, category } => format!(
            "Account '{account}' has no switchover server item of {category} available, and a switchover pair needs one: order one, or provide the switchover information at another time."
        ),
        E::RuleViolated { detail, .. } => format!(
            "These items cannot go together in one activation file: {}",
            name_fields(detail, name)
        ),
        _ => name_fields(&e.to_string(), name),
    }
}

/// The field an issuer's refusal is about: the one it names first, or the add-on items
/// for units not available.
fn field_of(e: &IssuerError) -> Option<Field> {
    use IssuerError as E;
    match e {
        E::HostId { flag, .. } | E::RequestCode { flag, .. } => {
            Some(Field::of_flag(flag).unwrap_or(Field::HostId))
        }
        E::NotEnough { .. } => Some(Field::Add),
        E::NoSwitchoverItem { .. } => Some(Field::SwitchoverPart),
        _ => {
            let m = e.to_string();
            Field::ALL
                .into_iter()
                .filter_map(|f| {
                    m.match_indices(f.flag())
                        .find(|(i, _)| {
                            !m[i + f.flag().len()..]
                                .chars()
                                .next()
                                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
                        })
                        .map(|(i, _)| (i, f))
                })
                .min_by_key(|(i, _)| *i)
                .map(|(_, f)| f)
        }
    }
}

impl From<IssuerError> for PortalError {
    fn from(e: IssuerError) -> Self {
        let page_host = |f: Field| {
            if f == Field::SwitchoverHostId {
                "Switchover host ID".to_string()
            } else {
                "Host ID".to_string()
            }
        };
        let msg = in_words(&e, &page_words, &page_host);
        // The API's update has one field for both of the CLI's --add and --set.
        let api = in_words(&e, &api_words, &|f| f.json_name().to_string())
            .replace("'add', 'add'", "'add'")
            .replace("'add' / 'add'", "'add'");
        let mut out = Self::classify(&e, msg);
        out.field = field_of(&e);
        if out.kind != "internal" && api != out.message {
            out.api_message = Some(api);
        }
        out
    }
}

impl PortalError {
    /// The status and kind of an issuer's refusal.
    fn classify(e: &IssuerError, msg: String) -> Self {
        use IssuerError as E;
        match e {
            E::UnknownAccount { .. }
            | E::UnknownSite { .. }
            | E::UnknownFile { .. }
            | E::UnknownRequest { .. }
            | E::UnknownPortalUser { .. }
            | E::UnknownToken { .. } => Self::new(StatusCode::NOT_FOUND, "not-found", msg),
            E::NotEnough { .. } | E::NoSwitchoverItem { .. } => {
                Self::new(StatusCode::CONFLICT, "not-enough", msg)
            }
            E::RuleViolated { .. } | E::Rule { .. } | E::ExceedsProduction { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rule", msg)
            }
            E::KeyReused { .. } => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "key-reused", msg),
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
        assert_eq!(
            e.to_json()["error"]["message"],
            "part SW-001-4.0-AL02: it is an access item, not a server item ('server_part')"
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
        let api = h.to_json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(api.starts_with("switchover_host_id: "), "{api}");
        // A message without a field reads the same in both.
        let n = PortalError::from(IssuerError::NoChange { id: "x".into() });
        assert!(!n.to_json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--"));
        assert_eq!(PortalError::not_found().api_message, None);
    }
}
