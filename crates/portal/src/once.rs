//! Requests done once: every page form carries a one-time token (field `once`, written
//! beside the anti-forgery field), and an API `POST` may carry an `Idempotency-Key` header.
//! Either becomes the caller's [`issuer::OnceKey`] (with the SHA-256 of the request's
//! method, path and body), which the change carries into the ledger: kept in the same
//! transaction as its work, so the same form posted twice (a double click, a refresh) or
//! the same API request retried does the work once and answers the first result.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use issuer::OnceKey;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::error::PortalError;
use crate::http::ApiError;
use crate::policy::Caller;

/// The form field of the one-time token.
pub const FIELD: &str = "once";

/// The API's header.
pub const HEADER: &str = "idempotency-key";

/// A new one-time token for a form (128 random bits, hex).
pub fn new_token() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The SHA-256 of a request: its method, path and body.
pub fn digest(method: &Method, path: &str, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    h.finalize().into()
}

/// The caller's key for a page form: its one `once` field (none: the form is done as
/// before, every time it is sent).
pub(crate) fn from_form(
    c: &mut Caller,
    fields: &[(String, String)],
    method: &Method,
    path: &str,
    body: &[u8],
) -> Result<(), PortalError> {
    let mut v = fields.iter().filter(|(k, _)| k == FIELD);
    let token = match (v.next(), v.next()) {
        (None, _) => return Ok(()),
        (Some((_, t)), None) => t,
        (Some(_), Some(_)) => return Err(PortalError::stale_form()),
    };
    let k = OnceKey::new(&c.actor(), token, digest(method, path, body))
        .map_err(|_| PortalError::stale_form())?;
    c.once = Some(k);
    Ok(())
}

/// The caller's key for a multipart page form (its body's boundary differs each time it is
/// sent): its one `once` field, with the digest of the fields and files as read.
pub(crate) fn from_multipart(
    c: &mut Caller,
    fields: &[(String, String)],
    files: &[(&str, &[u8])],
    path: &str,
) -> Result<(), PortalError> {
    let mut body = Vec::new();
    for (k, v) in fields {
        for part in [k.as_bytes(), v.as_bytes()] {
            body.extend_from_slice(&(part.len() as u64).to_be_bytes());
            body.extend_from_slice(part);
        }
    }
    for (name, bytes) in files {
        for part in [name.as_bytes(), bytes] {
            body.extend_from_slice(&(part.len() as u64).to_be_bytes());
            body.extend_from_slice(part);
        }
    }
    from_form(c, fields, &Method::POST, path, &body)
}

/// The request's digest, for [`from_header`]: put there by [`api_digest`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestDigest([u8; 32]);

/// Middleware of the API: a `POST` with an `Idempotency-Key` has its body read (within
/// `limit`) and its digest kept for [`from_header`].
pub(crate) async fn api_digest(limit: usize, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError(PortalError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The request body is too large.",
            ))
            .into_response()
        }
    };
    let d = digest(&parts.method, parts.uri.path(), &bytes);
    parts.extensions.insert(RequestDigest(d));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The caller's key for an API request: its `Idempotency-Key` header (a `POST` only).
pub(crate) fn from_header(
    c: &mut Caller,
    method: &Method,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> Result<(), PortalError> {
    if method != Method::POST {
        return Ok(());
    }
    let Some(v) = headers.get(HEADER) else {
        return Ok(());
    };
    let key = v.to_str().map_err(|_| {
        PortalError::bad_request("the Idempotency-Key header must be printable ASCII characters")
    })?;
    let Some(RequestDigest(d)) = extensions.get::<RequestDigest>().copied() else {
        return Err(PortalError::internal(
            "the request's digest was not taken for its Idempotency-Key",
        ));
    };
    let k = OnceKey::new(&c.actor(), key, d)
        .map_err(|e| PortalError::bad_request(format!("Idempotency-Key header: {e}")))?;
    c.once = Some(k);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_digests_cover_method_path_and_body() {
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 32);
        let d = digest(&Method::POST, "/a", b"x=1");
        assert_eq!(d, digest(&Method::POST, "/a", b"x=1"));
        assert_ne!(d, digest(&Method::POST, "/b", b"x=1"));
        assert_ne!(d, digest(&Method::POST, "/a", b"x=2"));
        assert_ne!(d, digest(&Method::PUT, "/a", b"x=1"));
    }
}
