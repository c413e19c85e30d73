//! The pages' urlencoded forms: their fields, and their anti-forgery token checked
//! against the session.

use issuer::PartQuantity;

use crate::error::PortalError;
use crate::http::PageUser;

/// Read a urlencoded form into its pairs (repeated and dynamic names kept).
pub(crate) fn pairs(body: &[u8]) -> Result<Vec<(String, String)>, PortalError> {
    let s =
        std::str::from_utf8(body).map_err(|_| PortalError::bad_request("the form is not UTF-8"))?;
    let mut out = Vec::new();
    for kv in s.split('&').filter(|x| !x.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

pub(crate) fn decode(s: &str) -> Result<String, PortalError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| PortalError::bad_request("the form has a bad %-escape"))?;
                out.push(h);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| PortalError::bad_request("the form is not UTF-8"))
}

/// A state-changing form's fields, once its anti-forgery token is this session's.
pub(crate) fn checked_form(
    u: &PageUser,
    body: &[u8],
) -> Result<Vec<(String, String)>, PortalError> {
    let p = pairs(body)?;
    u.check_csrf(csrf_of(&p))?;
    Ok(p)
}

/// The form's anti-forgery token: its one `csrf` field (empty when there is none, or more
/// than one, so the form is refused as stale).
pub(crate) fn csrf_of(p: &[(String, String)]) -> &str {
    let mut v = p.iter().filter(|(k, _)| k == "csrf");
    match (v.next(), v.next()) {
        (Some((_, t)), None) => t,
        _ => "",
    }
}

pub(crate) fn field<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

pub(crate) fn add_items(p: &[(String, String)]) -> Result<Vec<PartQuantity>, PortalError> {
    let mut add = Vec::new();
    for (k, v) in p {
        if let Some(part) = k.strip_prefix("add:") {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let q: u32 = v.parse().map_err(|_| {
                PortalError::bad_request(format!(
                    "the quantity of {} must be a whole number from 0 to 4294967295, not '{}'",
                    part.escape_debug(),
                    v.escape_debug()
                ))
            })?;
            if q > 0 {
                add.push(PartQuantity {
                    part: part.to_string(),
                    quantity: q,
                });
            }
        }
    }
    Ok(add)
}
