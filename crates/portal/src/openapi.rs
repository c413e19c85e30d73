//! The OpenAPI 3 document of the JSON API, served at `/api/v1/openapi.json`. The tests
//! check that every route of the API is in it and every path in it is routed.

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");
