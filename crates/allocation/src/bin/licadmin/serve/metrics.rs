//! `GET /metrics`: the pool in Prometheus's text format (version 0.0.4), without a token.

use std::fmt::Write as _;
use std::sync::PoisonError;

use allocation::AllocError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{blocking, St};

/// A label value escaped as the text format wants: backslash, double quote and line feed.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

pub(super) async fn metrics(State(s): State<St>) -> Response {
    let pool = blocking(&s, |a| {
        a.release_lapsed()?;
        let report = match a.report() {
            Ok(r) => Some(r),
            Err(AllocError::NoLicenseLoaded) => None,
            Err(e) => return Err(e),
        };
        Ok((report, a.sessions()?.len()))
    })
    .await;
    let (report, sessions) = match pool {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut t = String::new();
    let _ = writeln!(t, "# HELP i3lic_license_allowed Licenses the loaded file grants, per key and allocation method.\n# TYPE i3lic_license_allowed gauge");
    let mut in_use = String::from("# HELP i3lic_license_in_use Licenses in use (assignable: configured; concurrent: held by live sessions; session: checked out by connections), per key and method.\n# TYPE i3lic_license_in_use gauge\n");
    for k in report.iter().flat_map(|r| &r.keys) {
        let key = escape_label(&k.name);
        // A session key is checked out per connection, from its whole count.
        let methods: &[(&str, u32, u32)] = if allocation::session_kind(&k.name).is_some() {
            &[(
                "session",
                k.assignable_allowed.saturating_add(k.concurrent_allowed),
                k.checkouts_in_use,
            )]
        } else {
            &[
                ("assignable", k.assignable_allowed, k.assignable_used()),
                ("concurrent", k.concurrent_allowed, k.concurrent_in_use),
            ]
        };
        for &(method, allowed, used) in methods {
            let _ = writeln!(
                t,
                "i3lic_license_allowed{{key=\"{key}\",method=\"{method}\"}} {allowed}"
            );
            let _ = writeln!(
                in_use,
                "i3lic_license_in_use{{key=\"{key}\",method=\"{method}\"}} {used}"
            );
        }
    }
    t.push_str(&in_use);
    let _ = writeln!(t, "# HELP i3lic_license_denials_total Logons and checkouts refused since the server started, per key and reason.\n# TYPE i3lic_license_denials_total counter");
    for ((key, reason), n) in s
        .denials
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        let _ = writeln!(
            t,
            "i3lic_license_denials_total{{key=\"{}\",reason=\"{}\"}} {n}",
            escape_label(key),
            escape_label(reason)
        );
    }
    let _ = writeln!(t, "# HELP i3lic_sessions Open sessions.\n# TYPE i3lic_sessions gauge\ni3lic_sessions {sessions}");
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        t,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::escape_label;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
