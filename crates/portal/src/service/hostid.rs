//! The live host-ID check, and the catalog's unknown-product refusal.

use axum::http::StatusCode;

use crate::error::PortalError;

/// What the live host-ID check says about a code as typed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostIdCheck {
    /// Whether the code is valid.
    pub valid: bool,
    /// `short` or `strong` when valid.
    pub form: Option<String>,
    /// The code as it will be written (canonical form) when valid.
    pub canonical: Option<String>,
    /// What is wrong, in words, when not.
    pub message: String,
}

/// Check a host-ID code as a customer typed it, explaining typos.
pub fn check_host_id(code: &str) -> HostIdCheck {
    match code.trim().parse::<hostid::HostId>() {
        Ok(h) => HostIdCheck {
            valid: true,
            form: Some(h.form().as_str().to_string()),
            canonical: Some(h.to_string()),
            message: "This host ID is valid.".into(),
        },
        Err(e) => HostIdCheck {
            valid: false,
            form: None,
            canonical: None,
            message: e.to_string(),
        },
    }
}

/// A refusal for the form of an unknown product version.
pub fn unknown_version(product: &str, version: &str) -> PortalError {
    PortalError::new(
        StatusCode::BAD_REQUEST,
        "bad-request",
        format!(
            "the catalog has no product '{} {}'",
            product.escape_debug(),
            version.escape_debug()
        ),
    )
}
