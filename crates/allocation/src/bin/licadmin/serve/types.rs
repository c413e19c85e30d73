//! The license server's response bodies, as types: the handlers answer with them and the
//! OpenAPI document ([`super::openapi`]) is generated from them.

use serde::Serialize;
use utoipa::ToSchema;

/// A refusal: `{"error": {"kind", "message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The `error` member of a refusal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable: unauthorized, bad-request, payload-too-large, not-found, unknown-user,
    /// unknown-station, unknown-session, unknown-license-key, unknown-checkout,
    /// session-ended, checkout-ended, no-license, no-license-loaded, station-in-use,
    /// rule-*, unavailable (503: the store cannot be reached now; try again), ...
    pub kind: &'static str,
    /// In words, naming what is wrong.
    pub message: String,
    /// session-ended: logged-off, lease-lapsed, logged-on-elsewhere, user-removed,
    /// station-removed, station-disabled, licenses-removed; checkout-ended: returned,
    /// lease-lapsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A session (a user logged on).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    /// The session's id.
    pub session: String,
    /// The user logged on.
    pub user: String,
    /// The station logged on at, if any.
    pub station: Option<String>,
    /// The phone number of a dynamic remote logon, if any.
    pub remote_number: Option<String>,
    /// The lease period (seconds).
    pub lease_seconds: u32,
    /// When the lease lapses unless renewed (RFC 3339).
    #[schema(format = DateTime)]
    pub lease_expires_at: String,
    /// What the user may now use: the licenses assigned to the user and those the logon
    /// acquired (for a listed session: what it acquired).
    pub licenses: Vec<String>,
    /// The licenses this logon acquired (concurrent keys, a dynamic remote logon's Basic
    /// Station); POST only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquired: Option<Vec<String>>,
    /// Warnings (a renewed session, a license expiring soon); POST only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

/// The open sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// By user name.
    pub sessions: Vec<SessionBody>,
}

/// A renewed lease.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaseBody {
    /// When the lease lapses unless renewed again (RFC 3339).
    #[schema(format = DateTime)]
    pub lease_expires_at: String,
}

/// A checked-out session license (one connection).
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutBody {
    /// The checkout's id.
    pub checkout: String,
    /// The session key.
    pub key: String,
    /// The application that checked it out, if it said.
    pub application: Option<String>,
    /// The lease period (seconds).
    pub lease_seconds: u32,
    /// When it was checked out (RFC 3339).
    #[schema(format = DateTime)]
    pub started_at: String,
    /// When the lease lapses unless renewed (RFC 3339).
    #[schema(format = DateTime)]
    pub lease_expires_at: String,
}

/// The open checkouts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutList {
    /// By key, then start.
    pub checkouts: Vec<CheckoutBody>,
}

/// The compliance check's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceBody {
    /// Whether nothing is exceeded.
    pub compliant: bool,
    /// One per exceeded license.
    pub events: Vec<allocation::ComplianceEvent>,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}
