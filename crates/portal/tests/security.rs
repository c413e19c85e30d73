//! Checks across every page and API call: what each role may see and do, anti-forgery
//! tokens on every form, security headers and bounded bodies, and the audit log's name for
//! each portal user.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

/// A form post: address, fields, the status expected.
type FormCase<'a> = (String, Vec<(&'a str, &'a str)>, u16);

/// Every role × every route × own and other account: the exact status. Requests that would
/// change something carry a body the checks refuse after access is decided, so the matrix
/// changes nothing and each status shows which check answered.
#[tokio::test]
async fn authorization_matrix() {
    let p = Portal::new();
    // A file of each account, to address file routes.
    let staff = p.token("staff@vendor.example");
    let mk = |acct: i64, name: &str, h: u8| {
        let mut b = production(&host(h), "m", &[]);
        b["account"] = json!(name);
        b["site"] = json!(if name == "Contoso" { "HQ" } else { "Main" });
        (acct, b)
    };
    let mut file_of = std::collections::HashMap::new();
    for (acct, body) in [mk(p.contoso, "Contoso", 40), mk(p.fabrikam, "Fabrikam", 41)] {
        let r = p
            .api(
                "POST",
                &format!("/api/v1/accounts/{acct}/files"),
                Some(&staff),
                Some(body),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        file_of.insert(acct, r.json()["id"].as_str().unwrap().to_string());
    }
    let req_body = |acct: i64| json!({"account_id": acct, "request": {"request_type": "Question", "subject": "", "date_needed": "2099-12-24"}});

    // (role, may generate, sees Fabrikam)
    let roles: &[(&str, bool, bool)] = &[
        ("staff@vendor.example", true, true),
        ("cert@contoso.example", true, false),
        ("plain@contoso.example", false, false),
        ("pat@partner.example", true, false),
        ("una@partner.example", false, false),
    ];
    let audit_before = p.on_ledger(|l| l.audit_head().unwrap());
    for &(email, may, sees_other) in roles {
        let t = p.token(email);
        let (cookie, csrf) = p.login(email).await;
        for (acct, own) in [(p.contoso, true), (p.fabrikam, false)] {
            let visible = own || sees_other;
            let seen = |ok: u16| if visible { ok } else { 404 };
            let gen = |ok: u16| {
                if !visible {
                    404
                } else if may {
                    ok
                } else {
                    403
                }
            };
            let f = &file_of[&acct];
            let bad_issue = production("not a host id", "m", &[]);
            let api_cases: Vec<(&str, String, Option<serde_json::Value>, u16)> = vec![
                (
                    "GET",
                    format!("/api/v1/accounts/{acct}/summary"),
                    None,
                    seen(200),
                ),
                (
                    "GET",
                    format!("/api/v1/accounts/{acct}/files"),
                    None,
                    seen(200),
                ),
                (
                    "POST",
                    format!("/api/v1/accounts/{acct}/files"),
                    Some(bad_issue.clone()),
                    gen(400),
                ),
                (
                    "GET",
                    format!("/api/v1/accounts/{acct}/sites"),
                    None,
                    seen(200),
                ),
                (
                    "POST",
                    format!("/api/v1/accounts/{acct}/sites"),
                    Some(json!({"name": ""})),
                    seen(400),
                ),
                ("GET", format!("/api/v1/files/{f}"), None, seen(200)),
                (
                    "GET",
                    format!("/api/v1/files/{f}/download"),
                    None,
                    seen(200),
                ),
                (
                    "POST",
                    format!("/api/v1/files/{f}/update"),
                    Some(json!({})),
                    gen(409),
                ),
                (
                    "POST",
                    format!("/api/v1/files/{f}/deactivate"),
                    Some(json!({"unknown": 1})),
                    400,
                ),
                (
                    "POST",
                    "/api/v1/requests".into(),
                    Some(req_body(acct)),
                    seen(400),
                ),
            ];
            for (m, path, body, want) in api_cases {
                let r = p.api(m, &path, Some(&t), body.clone()).await;
                assert_eq!(r.status.as_u16(), want, "{email} {m} {path}: {}", r.text());
                assert!(
                    want < 300 || r.json()["error"].is_object(),
                    "{email} {m} {path}"
                );
                let anon = p.api(m, &path, None, body).await;
                assert_eq!(anon.status, 401, "anonymous {m} {path}");
            }
            let pages = [
                format!("/accounts/{acct}/summary"),
                format!("/accounts/{acct}/software"),
                format!("/accounts/{acct}/activity"),
                format!("/accounts/{acct}/new"),
                format!("/accounts/{acct}/upgrade"),
                format!("/accounts/{acct}/sites"),
                format!(
                    "/accounts/{acct}/sites/{}/edit",
                    if own { "HQ" } else { "Main" }
                ),
                format!("/files/{f}"),
                format!("/files/{f}/download"),
                format!("/files/{f}/update"),
                format!("/files/{f}/deactivate"),
            ];
            for path in pages {
                let r = p.get(&path, Some(&cookie)).await;
                assert_eq!(r.status.as_u16(), seen(200), "{email} GET {path}");
                let anon = p.get(&path, None).await;
                assert_eq!(anon.status, StatusCode::SEE_OTHER, "anonymous GET {path}");
                assert!(anon.header("location").unwrap().starts_with("/login?next="));
            }
            // State-changing forms: access first, then the permission, then the input.
            let forms: Vec<FormCase> = vec![
                (
                    format!("/accounts/{acct}/new"),
                    // An unknown type: refused as input only after the permission.
                    vec![("type", "no such type"), ("host_id", "nope")],
                    if !visible {
                        404
                    } else if may {
                        400
                    } else {
                        403
                    },
                ),
                (
                    format!("/accounts/{acct}/sites"),
                    vec![("name", "")],
                    seen(400),
                ),
                (format!("/files/{f}/update"), vec![], gen(422)),
            ];
            for (path, mut fields, want) in forms {
                fields.push(("csrf", &csrf));
                let r = p.post_form(&path, Some(&cookie), &fields).await;
                assert_eq!(r.status.as_u16(), want, "{email} POST {path}: {}", r.text());
            }
        }
        // Staff-only: closing a request.
        let n = p
            .ledger()
            .add_request(
                &issuer::NewRequest {
                    account: "Contoso".into(),
                    request_type: "Question".into(),
                    subject: "Q".into(),
                    date_needed: "2099-12-24".into(),
                    ..Default::default()
                },
                &[],
                "t",
            )
            .unwrap();
        let r = p
            .post_form(
                &format!("/requests/{n}/close"),
                Some(&cookie),
                &[("csrf", &csrf), ("answer", "")],
            )
            .await;
        let want = if email.starts_with("staff") { 400 } else { 403 };
        assert_eq!(r.status.as_u16(), want, "{email} close: {}", r.text());
    }
    // Only the test's own request rows were added.
    let changed: Vec<String> = p
        .ledger()
        .audit_log(None, None)
        .unwrap()
        .into_iter()
        .filter(|r| r.seq > audit_before.0)
        .map(|r| r.action)
        .filter(|a| !["request.add", "portal-token.create"].contains(&a.as_str()))
        .collect();
    assert_eq!(changed, [] as [&str; 0], "the matrix changed nothing");
}

/// CSRF: a form without the session's token, or with another session's, is refused and
/// changes nothing.
#[tokio::test]
async fn forms_without_the_sessions_token_are_refused() {
    let p = Portal::new();
    let (c, _) = p.login("cert@contoso.example").await;
    let (_, other_csrf) = p.login("plain@contoso.example").await;
    let path = format!("/accounts/{}/sites", p.contoso);
    for token in ["", "x", other_csrf.as_str()] {
        let r = p
            .post_form(&path, Some(&c), &[("csrf", token), ("name", "Evil")])
            .await;
        assert_eq!(r.status, 403, "token {token:?}");
        assert!(r.text().contains("This form has expired"));
    }
    assert!(p
        .ledger()
        .sites("Contoso")
        .unwrap()
        .iter()
        .all(|s| s.name != "Evil"));
}

/// A form whose anti-forgery field is missing or given twice, or that is not a form at all,
/// answers the stale-form page (403), whatever the form.
#[tokio::test]
async fn forms_without_exactly_one_token_answer_the_stale_form_page() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let sites = format!("/accounts/{}/sites", p.contoso);
    let twice: &[(&str, &str)] = &[("csrf", &csrf), ("csrf", &csrf), ("name", "Lab")];
    for (path, form) in [
        ("/logout", &[][..]),
        (
            "/logout",
            &[("csrf", csrf.as_str()), ("csrf", csrf.as_str())][..],
        ),
        ("/requests/AFR-0000001/close", &[("answer", "x")][..]),
        (
            "/requests/AFR-0000001/close",
            &[("csrf", csrf.as_str()), ("csrf", "x"), ("answer", "x")][..],
        ),
        (&format!("/accounts/{}/upgrade", p.contoso), &[][..]),
        (sites.as_str(), twice),
        ("/requests", &[("csrf", csrf.as_str())][..]),
    ] {
        let r = p.post_form(path, Some(&c), form).await;
        assert_eq!(r.status, 403, "{path} {form:?}: {}", r.text());
        assert!(
            r.text().contains("This form has expired"),
            "{path}: {}",
            r.text()
        );
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
    }
    let r = p
        .post_form("/login", None, &[("email", "a@b.example")])
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("This form has expired"));
    assert_eq!(
        p.get("/accounts", Some(&c)).await.status,
        200,
        "still logged in"
    );
}

/// Security headers on pages, API answers and errors; bodies are bounded.
#[tokio::test]
async fn answers_carry_security_headers_and_bodies_are_bounded() {
    let p = Portal::new();
    for path in [
        "/login",
        "/api/v1/accounts",
        "/nowhere",
        "/api/v1/nowhere",
        "/health",
    ] {
        let r = p.get(path, None).await;
        let csp = r.header("content-security-policy").unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    }
    assert_eq!(
        p.get("/api/v1/nowhere", None).await.json()["error"]["kind"],
        "not-found"
    );
    let t = p.token("cert@contoso.example");
    let huge = "x".repeat(portal::MAX_API_REQUEST_BODY + 10);
    let r = p
        .api(
            "POST",
            "/api/v1/requests",
            Some(&t),
            Some(json!({ "account_id": 1, "request": huge })),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["kind"], "payload-too-large");
    let r = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 415);
}

/// Every change made through the portal, by page or API, is in the audit log under one
/// spelling of its user, `portal:EMAIL`: files issued and updated, requests, everything else.
#[tokio::test]
async fn the_audit_log_names_every_portal_user_as_portal_email() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);
    let r = p
        .api(
            "POST",
            &files,
            Some(&t),
            Some(production(&host(41), "audit-1", &[])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let add = json!({"add": [{"part": "SW-001-4.0-AL02", "quantity": 1}]});
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{id}/update"),
            Some(&t),
            Some(add),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let new_id = r.json()["id"].as_str().unwrap().to_string();
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{new_id}/deactivate"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let sites = format!("/api/v1/accounts/{}/sites", p.contoso);
    let r = p
        .api("POST", &sites, Some(&t), Some(json!({"name": "Audit Lab"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let req = json!({"account_id": p.contoso, "request": {"request_type": "Question", "subject": "Why", "date_needed": "2099-12-24"}});
    let r = p.api("POST", "/api/v1/requests", Some(&t), Some(req)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.json()["number"].as_str().unwrap().to_string();
    let (s, scsrf) = p.login("staff@vendor.example").await;
    let r = p
        .post_form(
            &format!("/requests/{number}/close"),
            Some(&s),
            &[("csrf", &scsrf), ("answer", "Because")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let l = p.ledger();
    let rows: Vec<(String, String)> = l
        .audit_log(None, None)
        .unwrap()
        .into_iter()
        .filter(|r| r.actor != "t")
        .map(|r| (r.action, r.actor))
        .collect();
    let actions: Vec<&str> = rows.iter().map(|(a, _)| a.as_str()).collect();
    for want in ["request.add", "request.close", "file.deactivate"] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    assert!(rows.len() >= 6, "{rows:?}");
    for (action, actor) in &rows {
        let want = if action == "request.close" {
            "portal:staff@vendor.example"
        } else {
            "portal:cert@contoso.example"
        };
        assert_eq!(actor, want, "{action}");
    }
    let by: Vec<String> = l
        .requests(None)
        .unwrap()
        .into_iter()
        .map(|r| r.requested_by)
        .collect();
    assert_eq!(by, ["portal:cert@contoso.example"]);
}

postgres_too!(
    forms_without_exactly_one_token_answer_the_stale_form_page,
    answers_carry_security_headers_and_bodies_are_bounded,
);
