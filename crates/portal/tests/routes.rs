//! Every page and API call of the portal, in process: what each role may see and do, the
//! stories of the issue, refusals that change nothing, sessions, CSRF and headers.

mod common;

use axum::http::StatusCode;
use common::*;
use portal::auth;
use serde_json::json;

/// A form post: address, fields, the status expected.
type FormCase<'a> = (String, Vec<(&'a str, &'a str)>, u16);

fn summary_of(p: &Portal, account: &str) -> issuer::Summary {
    p.on_ledger(|l| {
        l.summary(&issuer::Catalog::built_in().unwrap(), account, None)
            .unwrap()
    })
}

fn verify_download(p: &Portal, bytes: &[u8], host_id: &str) -> verify::License {
    let trust = verify::TrustStore::new([p.key.public_key().clone()]).unwrap();
    verify::Verifier::for_product(trust, "CIC", "4.0")
        .host(verify::HostSource::Code(host_id.parse().unwrap()))
        .load(bytes)
        .unwrap()
}

/// The story of a certified customer, through the API: issue a production file for a pair,
/// download it (it verifies), update it to add seats, deactivate another; and every
/// refusal (no seats, a rule, a wrong host ID, another account) changes nothing.
#[tokio::test]
async fn certified_customer_story_through_the_api() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);

    let accounts = p.api("GET", "/api/v1/accounts", Some(&t), None).await;
    assert_eq!(accounts.status, 200);
    assert_eq!(
        accounts.json()["accounts"],
        json!([{"id": p.contoso, "name": "Contoso"}])
    );

    let mut pair = production(&host(1), "ic1", &[("SW-001-4.0-AL02", 10)]);
    pair["switchover_host_id"] = json!(host(2));
    pair["switchover_machine"] = json!("ic2");
    pair["switchover_part"] = json!("SW-001-4.0-SS03");
    let r = p.api("POST", &files, Some(&t), Some(pair)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/files/{id}"));

    let d = p
        .api(
            "GET",
            &format!("/api/v1/files/{id}/download"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(d.status, 200);
    assert_eq!(d.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        d.body,
        p.on_ledger(|l| l.file_bytes(&id).unwrap()),
        "the recorded bytes"
    );
    let lic = verify_download(&p, &d.body, &host(1));
    assert_eq!(lic.assigned("I3_ACCESS_CLIENT"), 10);

    let u = p
        .api(
            "POST",
            &format!("/api/v1/files/{id}/update"),
            Some(&t),
            Some(json!({"add": [{"part": "SW-001-4.0-AL02", "quantity": 5}]})),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.text());
    let new_id = u.json()["id"].as_str().unwrap().to_string();
    let nd = p
        .api(
            "GET",
            &format!("/api/v1/files/{new_id}/download"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(
        verify_download(&p, &nd.body, &host(1)).assigned("I3_ACCESS_CLIENT"),
        15
    );
    let old = p
        .api("GET", &format!("/api/v1/files/{id}"), Some(&t), None)
        .await;
    assert_eq!(old.json()["file"]["status"], "superseded");

    let other = p
        .api(
            "POST",
            &files,
            Some(&t),
            Some(production(&host(3), "lab", &[])),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.text());
    let other_id = other.json()["id"].as_str().unwrap().to_string();
    let de = p
        .api(
            "POST",
            &format!("/api/v1/files/{other_id}/deactivate"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(de.status, 200, "{}", de.text());
    // Without a release receipt the units stay used, pending staff approval.
    assert_eq!(de.json()["deactivated"][0]["how"], "pending");
    assert_eq!(
        de.json()["deactivated"][0]["pending"][0]["part"],
        "SW-001-4.0-SL03"
    );
    let again = p
        .api(
            "POST",
            &format!("/api/v1/files/{other_id}/deactivate"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.json()["error"]["kind"].clone()),
        (StatusCode::CONFLICT, json!("conflict"))
    );
    // Vendor staff approve the pending deactivation: the units come back.
    let staff = p.token("staff@vendor.example");
    let ap = p
        .api(
            "POST",
            &format!("/api/v1/files/{other_id}/approve-deactivation"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(ap.status, 200, "{}", ap.text());

    // Refusals: each changes nothing.
    let before = summary_of(&p, "Contoso");
    let audit_before = p.on_ledger(|l| l.audit_head().unwrap());
    let cases = [
        (
            production(&host(4), "big", &[("SW-001-4.0-AL02", 1000)]),
            409,
            "not-enough",
            "not enough SW-001-4.0-AL02",
        ),
        (
            production(&host(4), "social", &[("SW-001-4.0-AL07", 1)]),
            422,
            "rule",
            "I3_ACCESS_ACD_SOCIAL_MEDIA",
        ),
        (
            production("1NKRG-23000-002B3-BW000-00GGK", "typo", &[]),
            400,
            "bad-request",
            "host",
        ),
    ];
    for (body, status, kind, words) in cases {
        let r = p.api("POST", &files, Some(&t), Some(body)).await;
        assert_eq!(r.status.as_u16(), status, "{}", r.text());
        let e = r.json();
        assert_eq!(e["error"]["kind"], kind, "{e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains(words), "{msg}");
    }
    let fab = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.fabrikam),
            Some(&t),
            Some(production(&host(5), "x", &[])),
        )
        .await;
    assert_eq!(fab.status, 404, "another account's resources answer 404");
    assert_eq!(summary_of(&p, "Contoso"), before, "nothing changed");
    assert_eq!(
        p.on_ledger(|l| l.audit_head().unwrap()),
        audit_before,
        "no audit row either"
    );
    // Every change is in the audit log with the portal user.
    let actors: Vec<String> = p
        .on_ledger(|l| l.audit_log(None, None).unwrap())
        .into_iter()
        .filter(|r| r.action.starts_with("file."))
        .map(|r| r.actor)
        .collect();
    assert!(
        !actors.is_empty()
            && actors.iter().all(|a| a.ends_with("cert@contoso.example")
                || a.ends_with("staff@vendor.example")),
        "{actors:?}"
    );
    assert!(
        actors.contains(&"portal:staff@vendor.example".to_string()),
        "the approval"
    );
}

/// A partner generates a 30-day non-ordered development file for a served account; it uses
/// no ordered item.
#[tokio::test]
async fn partner_generates_development_files_without_limit() {
    let p = Portal::new();
    let t = p.token("pat@partner.example");
    let before = summary_of(&p, "Contoso");
    for n in 0..3 {
        let body = json!({
            "site": "HQ", "product": "CIC", "version": "4.0",
            "type": "development-small", "host_id": host(10 + n), "machine": format!("dev{n}"),
            "server_part": "SW-001-4.0-IDS1",
        });
        let r = p
            .api(
                "POST",
                &format!("/api/v1/accounts/{}/files", p.contoso),
                Some(&t),
                Some(body),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        let f = p
            .api("GET", &format!("/api/v1/files/{id}"), Some(&t), None)
            .await
            .json();
        assert_eq!(f["file"]["partner"], true);
        let issued = f["file"]["activation"]["issued_at"]
            .as_str()
            .unwrap()
            .parse::<format::Timestamp>()
            .unwrap();
        let expires = f["file"]["activation"]["expires_at"]
            .as_str()
            .unwrap()
            .parse::<format::Timestamp>()
            .unwrap();
        assert_eq!(issued.days_until(expires), 30);
    }
    assert_eq!(summary_of(&p, "Contoso"), before, "no ordered item used");
}

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

/// Pages: a certified customer reads the summary with its filters, generates a file for a
/// pair through the form, downloads it, updates it and deactivates another.
#[tokio::test]
async fn certified_customer_story_through_the_pages() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let s = p
        .get(&format!("/accounts/{}/summary", p.contoso), Some(&c))
        .await;
    assert_eq!(s.status, 200);
    let html = s.text();
    assert!(
        html.contains("SW-001-4.0-AL02")
            && html.contains("Clear Filters")
            && html.contains("Number of Total Results # 6"),
        "{html}"
    );
    let f = p
        .get(
            &format!("/accounts/{}/summary?site=HQ&category=CIC%204.0", p.contoso),
            Some(&c),
        )
        .await;
    assert!(f.text().contains("used at HQ"));

    let step2 = p
        .get(
            &format!(
                "/accounts/{}/new?site=HQ&product=CIC+4.0&type=production",
                p.contoso
            ),
            Some(&c),
        )
        .await;
    assert_eq!(step2.status, 200);
    let t = step2.text();
    assert!(
        t.contains("Select One Valid Server Item")
            && t.contains("Provide Switchover information at another time"),
        "{t}"
    );
    let (h1, h2) = (host(20), host(21));
    let r = p
        .post_form(
            &format!("/accounts/{}/new", p.contoso),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("site", "HQ"),
                ("product", "CIC"),
                ("version", "4.0"),
                ("type", "production"),
                ("host_id", &h1),
                ("machine", "ic1"),
                ("system_type", "Media Server Based (4.0+ only)"),
                ("mail_connector", "Microsoft Exchange Server"),
                ("server_part", "SW-001-4.0-SL03"),
                ("switchover_host_id", &h2),
                ("switchover_machine", "ic2"),
                ("switchover_part", "SW-001-4.0-SS03"),
                // Two add-on rows: each a part and its quantity, repeated keys in order.
                ("add_part", "SW-001-4.0-AL02"),
                ("add_quantity", "12"),
                ("add_part", "SW-001-4.0-AL06"),
                ("add_quantity", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.text();
    let at = body.find("/files/").unwrap() + 7;
    let id = body[at..at + body[at..].find('/').unwrap()].to_string();
    let d = p.get(&format!("/files/{id}/download"), Some(&c)).await;
    assert_eq!(
        d.header("content-disposition").unwrap(),
        "attachment; filename=\"ic1.i3lic\""
    );
    let lic = verify_download(&p, &d.body, &h2);
    assert_eq!(
        lic.assigned("I3_ACCESS_CLIENT"),
        12,
        "switchover host verifies too"
    );
    let act = p
        .get(
            &format!("/accounts/{}/activity?active=yes", p.contoso),
            Some(&c),
        )
        .await
        .text();
    assert!(act.contains("Multiple Servers: ic2"), "the pair marker");
    let view = p.get(&format!("/files/{id}"), Some(&c)).await.text();
    assert!(view.contains("I3_ACCESS_CLIENT</code> (12 assigned, 0 pooled)"));

    let u = p
        .post_form(
            &format!("/files/{id}/update"),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("add_part", "SW-001-4.0-AL02"),
                ("add_quantity", "3"),
            ],
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.text());
    assert!(u.text().contains("replaces"));

    // A refusal on the form: the page says why, and nothing changed.
    let before = summary_of(&p, "Contoso");
    let r = p
        .post_form(
            &format!("/accounts/{}/new", p.contoso),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("site", "HQ"),
                ("product", "CIC"),
                ("version", "4.0"),
                ("type", "production"),
                ("host_id", &host(22)),
                ("machine", "ic3"),
                ("server_part", "SW-001-4.0-SL03"),
                ("add_part", "SW-001-4.0-AL02"),
                ("add_quantity", "999"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("not enough SW-001-4.0-AL02 available"),
        "{}",
        r.text()
    );
    assert_eq!(summary_of(&p, "Contoso"), before);

    // Deactivate another file from the activity list.
    let t = p.token("cert@contoso.example");
    let other = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            Some(production(&host(23), "lab", &[])),
        )
        .await;
    let oid = other.json()["id"].as_str().unwrap().to_string();
    let de = p
        .post_form(
            &format!("/files/{oid}/deactivate"),
            Some(&c),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(de.status, 200, "{}", de.text());
    assert!(de.text().contains("pending approval"), "{}", de.text());
}

/// Install sites: add, refuse a duplicate with a message, deactivate.
#[tokio::test]
async fn install_sites_are_added_and_deactivated() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let path = format!("/accounts/{}/sites", p.contoso);
    let r = p
        .post_form(
            &path,
            Some(&c),
            &[
                ("csrf", &csrf),
                ("name", "Lab"),
                ("address1", "1 Way"),
                ("city", "Indy"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let dup = p
        .post_form(&path, Some(&c), &[("csrf", &csrf), ("name", "Lab")])
        .await;
    assert_eq!(dup.status, 409);
    assert!(
        dup.text()
            .contains("install site &#39;Lab&#39; already exists")
            || dup.text().contains("install site 'Lab' already exists"),
        "{}",
        dup.text()
    );
    let off = p
        .post_form(
            &format!("{path}/Lab/active"),
            Some(&c),
            &[("csrf", &csrf), ("active", "no")],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let sites = p.ledger().sites("Contoso").unwrap();
    assert!(!sites.iter().find(|s| s.name == "Lab").unwrap().active);
    // Edit: rename and give an address; the form shows what is there.
    let form = p.get(&format!("{path}/Lab/edit"), Some(&c)).await;
    assert!(
        form.status == 200 && form.text().contains("value=\"1 Way\""),
        "{}",
        form.text()
    );
    let r = p
        .post_form(
            &format!("{path}/Lab/edit"),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("name", "Lab 2"),
                ("address1", "2 Way"),
                ("city", "Indy"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let lab = p
        .ledger()
        .sites("Contoso")
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Lab 2")
        .unwrap();
    assert_eq!(lab.details.address, ["2 Way"]);
    let taken = p
        .post_form(
            &format!("{path}/Lab%202/edit"),
            Some(&c),
            &[("csrf", &csrf), ("name", "HQ")],
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.text());
    assert_eq!(
        p.get(
            &format!("/accounts/{}/sites/Main/edit", p.fabrikam),
            Some(&c)
        )
        .await
        .status,
        404
    );
    // A name that would add segments to the site's address is refused.
    for name in ["../../2/sites/Main", "a/b", "..", "a\\b"] {
        let r = p
            .post_form(&path, Some(&c), &[("csrf", &csrf), ("name", name)])
            .await;
        assert_eq!(r.status, 400, "{name}");
    }
}

/// Requests: a customer sends one with an attachment; staff see it and close it; the
/// customer reads the answer. Another account's request answers 404.
#[tokio::test]
async fn activation_file_requests_are_numbered_answered_and_kept() {
    let p = Portal::new();
    let t = p.token("plain@contoso.example");
    let body = json!({
        "account_id": p.contoso,
        "request": {"request_type": "Activation File Request", "category": "Activation File", "file_type": "Upgrade",
                    "subject": "Move to 4.0", "date_needed": "2099-12-24", "date_reason": "cut-over"},
        "attachments": [{"name": "old.i3lic", "content_base64": "aGVsbG8="}],
    });
    let r = p
        .api("POST", "/api/v1/requests", Some(&t), Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["number"], "AFR-0000001");
    let mut bad = body.clone();
    bad["attachments"][0]["name"] = json!("run.exe");
    let r = p.api("POST", "/api/v1/requests", Some(&t), Some(bad)).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not an accepted type"));

    let (sc, scsrf) = p.login("staff@vendor.example").await;
    let list = p.get("/requests", Some(&sc)).await.text();
    assert!(list.contains("AFR-0000001") && list.contains("Move to 4.0"));
    let att = p
        .get("/requests/AFR-0000001/attachments/1", Some(&sc))
        .await;
    assert_eq!(
        (att.status.as_u16(), att.body.as_slice()),
        (200, b"hello".as_slice())
    );
    assert_eq!(
        att.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    let close = p
        .post_form(
            "/requests/AFR-0000001/close",
            Some(&sc),
            &[("csrf", &scsrf), ("answer", "Done <b>now</b>")],
        )
        .await;
    assert_eq!(close.status, StatusCode::SEE_OTHER);
    let (cc, _) = p.login("plain@contoso.example").await;
    let page = p.get("/requests/AFR-0000001", Some(&cc)).await.text();
    assert!(
        page.contains("Done &lt;b&gt;now&lt;/b&gt;"),
        "escaped answer: {page}"
    );
    let (fc, _) = p.login("fab@fabrikam.example").await;
    assert_eq!(p.get("/requests/AFR-0000001", Some(&fc)).await.status, 404);
    assert_eq!(
        p.get("/requests/AFR-0000001/attachments/1", Some(&fc))
            .await
            .status,
        404
    );
}

/// The request form through the browser path: multipart with a file.
#[tokio::test]
async fn the_request_form_takes_multipart_attachments() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let b = "XBOUNDARYX";
    let mut body = String::new();
    for (k, v) in [
        ("csrf", csrf.as_str()),
        ("account_id", &p.contoso.to_string()),
        ("request_type", "Question"),
        ("subject", "How many seats?"),
        ("date_needed", "2099-12-31"),
    ] {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{b}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nsome notes\r\n--{b}--\r\n"));
    let req = axum::http::Request::post("/requests")
        .header("content-type", format!("multipart/form-data; boundary={b}"))
        .header("cookie", format!("i3lic_session={c}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = p.call(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/requests/AFR-0000001")
    );
    let rec = p.ledger().request("AFR-0000001").unwrap();
    assert_eq!(rec.attachments[0].name, "notes.txt");
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

/// Sessions: a new id at login (an id planted before it is worthless), logout ends the
/// session; cookies are HttpOnly and SameSite=Strict; the login form keeps no state on the
/// server and its token must match its cookie; `next` never leads off the portal.
#[tokio::test]
async fn sessions_are_fixation_safe_and_end_at_logout() {
    let p = Portal::new();
    let form = p.get("/login", None).await;
    let set = form.header("set-cookie").unwrap();
    assert!(
        set.starts_with("i3lic_login=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "not over TLS unless configured");
    assert!(cookie_of(&form).is_none(), "no session for the login form");
    // A session of another user planted in the browser: logging in replaces it, and the
    // planted one ends.
    let (planted, _) = p.login("plain@contoso.example").await;
    let r = p
        .try_login("cert@contoso.example", PASSWORD, Some(&planted))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let fresh = cookie_of(&r).unwrap();
    assert_ne!(fresh, planted);
    let set: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let sess = set
        .iter()
        .find(|c| c.starts_with("i3lic_session="))
        .unwrap();
    assert!(
        sess.contains("HttpOnly") && sess.contains("SameSite=Strict") && sess.contains("Path=/"),
        "{sess}"
    );
    assert_eq!(
        p.get("/accounts", Some(&planted)).await.status,
        StatusCode::SEE_OTHER,
        "the planted session ended"
    );
    let page = p.get("/accounts", Some(&fresh)).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("cert@contoso.example"));
    let out = p
        .post_form("/logout", Some(&fresh), &[("csrf", &csrf_of(&page.text()))])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.get("/accounts", Some(&fresh)).await.status,
        StatusCode::SEE_OTHER
    );
    // The login's token must be the form's cookie.
    let bad = p
        .post_form(
            "/login",
            None,
            &[
                ("csrf", "x"),
                ("email", "cert@contoso.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad.status, 403);
    // Open redirects are not followed, however the address is dressed.
    for next in [
        "//evil.example/",
        "/\t/evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/a\nb",
    ] {
        let form = p.get(&format!("/login?next={}", enc(next)), None).await;
        assert!(
            form.text().contains("name=\"next\" value=\"/\""),
            "{next:?}"
        );
    }
    let form = p
        .get("/login?next=/accounts/1/activity%3Fpage%3D2", None)
        .await;
    assert!(form
        .text()
        .contains("value=\"/accounts/1/activity?page=2\""));
}

/// Login: a wrong password and an unknown user say the same; attempts past the limit for
/// an account are refused with 429 even in parallel; oversized input is refused before
/// anything is counted or logged; a disabled user cannot log in and their token stops.
#[tokio::test]
async fn logins_are_throttled_and_disabled_users_refused() {
    let p = Portal::new();
    let unknown = p
        .try_login("nobody@x.example", "whatever at all", None)
        .await;
    assert_eq!(unknown.status, 401);
    assert!(unknown.text().contains("Wrong e-mail address or password."));
    let huge = "a".repeat(300) + "@x.example";
    assert_eq!(p.try_login(&huge, "x", None).await.status, 401);
    let n = auth_failures() as usize;
    let tries = (0..3 * n).map(|_| p.try_login("cert@contoso.example", "wrong password!", None));
    let answers = futures_join(tries.collect()).await;
    let failed = answers.iter().filter(|a| a.status == 401).count();
    let limited = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!(
        (failed, limited),
        (n, 2 * n),
        "in parallel, only the allowed attempts are checked"
    );
    let blocked = p.try_login("cert@contoso.example", PASSWORD, None).await;
    assert_eq!(blocked.status, 429, "even the right password waits");
    assert!(blocked.header("retry-after").is_some());
    let big_body = "x".repeat(portal::MAX_FORM + 1);
    let r = p.post_form("/login", None, &[("csrf", &big_body)]).await;
    assert_eq!(r.status, 413, "the login form is small");

    let t = p.token("plain@contoso.example");
    assert_eq!(
        p.api("GET", "/api/v1/accounts", Some(&t), None)
            .await
            .status,
        200
    );
    let (c, _) = p.login("plain@contoso.example").await;
    p.ledger()
        .set_portal_user_active("plain@contoso.example", false, "t")
        .unwrap();
    assert_eq!(
        p.api("GET", "/api/v1/accounts", Some(&t), None)
            .await
            .status,
        401
    );
    assert_eq!(
        p.get("/accounts", Some(&c)).await.status,
        StatusCode::SEE_OTHER,
        "open session ends"
    );
    assert_eq!(
        p.try_login("plain@contoso.example", PASSWORD, None)
            .await
            .status,
        401
    );
}

/// Behind a trusted proxy, failed logins are counted per client (the proxy's last entry of
/// `X-Forwarded-For`) and per account; successful logins never count; an account under
/// attack from one address still lets its owner in from another, after a short delay; a
/// peer that is not the proxy cannot choose its address with the header.
#[tokio::test]
async fn login_throttling_counts_failures_per_client_and_account() {
    let delay = std::time::Duration::from_millis(300);
    let p = Portal::new_with(|c| {
        c.trusted_proxies = portal::client::TrustedProxies {
            addrs: vec!["10.9.9.9".parse().unwrap()],
            header: Default::default(),
        };
        c.login_delay = delay;
    });
    let proxy = Some("10.9.9.9");
    let login = |email: &'static str, pw: &'static str, client: &'static str| {
        let p = &p;
        async move {
            p.try_login_from(email, pw, None, proxy, Some(&format!("1.2.3.4, {client}")))
                .await
                .status
        }
    };
    // Ordinary logins of many people through the proxy, more than an address may fail.
    for _ in 0..=auth::MAX_FAILURES_PER_ADDRESS {
        assert_eq!(
            login("cert@contoso.example", PASSWORD, "198.51.100.8").await,
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        login("cert@contoso.example", "wrong password!", "198.51.100.8").await,
        401,
        "successful logins never count"
    );
    // An attacker guesses one account.
    for _ in 0..auth::MAX_FAILURES {
        assert_eq!(
            login("plain@contoso.example", "wrong password!", "198.51.100.66").await,
            401
        );
    }
    assert_eq!(
        login("plain@contoso.example", PASSWORD, "198.51.100.66").await,
        429,
        "the attacker's address is refused for that account"
    );
    let started = std::time::Instant::now();
    assert_eq!(
        login("plain@contoso.example", PASSWORD, "198.51.100.7").await,
        StatusCode::SEE_OTHER,
        "the owner, from another address, logs in"
    );
    assert!(started.elapsed() >= delay, "after a short delay");
    assert_eq!(
        login("pat@partner.example", PASSWORD, "198.51.100.66").await,
        StatusCode::SEE_OTHER,
        "other accounts from the attacker's address are not locked"
    );
    // Without the proxy, the header names nobody: a direct client is its socket address.
    let direct = p
        .try_login_from(
            "plain@contoso.example",
            "wrong password!",
            None,
            Some("203.0.113.5"),
            Some("198.51.100.66"),
        )
        .await;
    assert_eq!(direct.status, 401, "not the attacker's count");
}

/// Disabling a user or setting their password (as `portal user disable|password` do, on the
/// ledger) ends their sessions for good: a cookie from before stays refused after `enable`.
/// A browser whose session ended gets the login page, not a loop of redirects.
#[tokio::test]
async fn disabling_or_a_new_password_ends_sessions_for_good() {
    let p = Portal::new();
    let email = "plain@contoso.example";
    let (before_disable, _) = p.login(email).await;
    let (looping, _) = p.login(email).await;
    let mut l = p.ledger();
    l.set_portal_user_active(email, false, "admin").unwrap();
    // The browser of a disabled user: the account page sends it to the login page, which
    // shows (it used to send the browser back, and so on).
    let r = p.get("/accounts", Some(&looping)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let form = p.get("/login?next=%2Faccounts", Some(&looping)).await;
    assert_eq!(form.status, 200, "the login page shows");
    assert!(form.text().contains("name=\"password\""));
    l.set_portal_user_active(email, true, "admin").unwrap();
    let r = p.get("/accounts", Some(&before_disable)).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "a cookie from before disable stays refused after enable"
    );
    assert_eq!(p.get("/login", Some(&before_disable)).await.status, 200);
    let (before_reset, _) = p.login(email).await;
    l.set_portal_password(
        email,
        &portal::auth::hash_password(email, PASSWORD).unwrap(),
        "admin",
    )
    .unwrap();
    assert_eq!(
        p.get("/accounts", Some(&before_reset)).await.status,
        StatusCode::SEE_OTHER,
        "a new password ends the sessions"
    );
    let (fresh, _) = p.login(email).await;
    assert_eq!(p.get("/accounts", Some(&fresh)).await.status, 200);
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

/// Every error under `/api/v1` is JSON `{"error": {"kind", "message"}}`, also those axum
/// makes itself: a method the address does not take, a body over the limit where the body
/// is read as bytes, an address too long.
#[tokio::test]
async fn every_api_error_is_json() {
    let p = Portal::new();
    let t = p.token("staff@vendor.example");
    let kind = |r: &Answer| {
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        r.json()["error"]["kind"].as_str().unwrap().to_string()
    };
    for (m, path) in [("PUT", "/api/v1/accounts"), ("DELETE", "/api/v1/requests")] {
        let r = p.api(m, path, Some(&t), None).await;
        assert_eq!(r.status, 405, "{m} {path}");
        assert_eq!(kind(&r), "method-not-allowed");
        assert!(r.header("allow").is_some());
    }
    let huge = "x".repeat(portal::MAX_BODY + 10);
    let r = p
        .api(
            "POST",
            "/api/v1/files/00000000000000000000000000000000/deactivate",
            Some(&t),
            Some(json!({ "with_recovery": huge })),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(kind(&r), "payload-too-large");
    let long = format!("/api/v1/hostid/check?code={}", "A".repeat(9000));
    let r = p.api("GET", &long, Some(&t), None).await;
    assert_eq!(r.status, 414);
    assert_eq!(kind(&r), "uri-too-long");
    let r = p
        .api("GET", "/api/v1/accounts/1/files?page=x", Some(&t), None)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(kind(&r), "bad-request");
    // The API's base addresses, which no route serves, are the API's too.
    for path in ["/api", "/api/v1", "/api/v1/", "/api/v1/nothing-here"] {
        let r = p.api("GET", path, Some(&t), None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(kind(&r), "not-found", "{path}");
    }
}

/// The API takes what the documentation promises: a request with five attachments of 1 MiB
/// (base64 makes the body 6.67 MiB), kept byte for byte.
#[tokio::test]
async fn the_api_takes_five_attachments_of_one_mib() {
    use base64::Engine as _;
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let max = issuer::ledger::MAX_ATTACHMENT_BYTES;
    let atts: Vec<serde_json::Value> = (0..issuer::ledger::MAX_ATTACHMENTS)
        .map(|i| {
            let bytes: Vec<u8> = (0..max).map(|j| b'a' + ((i + j) % 26) as u8).collect();
            json!({
                "name": format!("log{i}.txt"),
                "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        })
        .collect();
    let body = json!({
        "account_id": p.contoso,
        "request": { "request_type": "Question", "subject": "Logs", "description": "five logs", "date_needed": "2099-12-24" },
        "attachments": atts,
    });
    assert!(
        body.to_string().len() > portal::MAX_BODY,
        "over the form's limit"
    );
    let r = p
        .api("POST", "/api/v1/requests", Some(&t), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.json()["number"].as_str().unwrap().to_string();
    let l = p.ledger();
    for i in 0..issuer::ledger::MAX_ATTACHMENTS {
        let a = l.request_attachment(&number, i as i64 + 1).unwrap();
        assert_eq!(a.bytes.len(), max);
    }
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

/// Run the futures together on this task and wait for all of them.
async fn futures_join<F: std::future::Future>(v: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = v.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, f) in pending.iter_mut().enumerate() {
            if let Some(fut) = f {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *f = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

fn auth_failures() -> u32 {
    portal::auth::MAX_FAILURES
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

/// The live host-ID check explains a typo.
#[tokio::test]
async fn the_host_id_check_explains_typos() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let good = p
        .api(
            "GET",
            &format!("/api/v1/hostid/check?code={}", host(1)),
            Some(&t),
            None,
        )
        .await
        .json();
    assert_eq!(good["valid"], true);
    let mut typo = host(1);
    let last = typo.pop().unwrap();
    typo.push(if last == '0' { '1' } else { '0' });
    let bad = p
        .api(
            "GET",
            &format!("/api/v1/hostid/check?code={typo}"),
            Some(&t),
            None,
        )
        .await
        .json();
    assert_eq!(bad["valid"], false);
    assert!(bad["message"].as_str().unwrap().contains("check"), "{bad}");
    let (c, _) = p.login("cert@contoso.example").await;
    let page = p
        .get(&format!("/hostid-check?code={typo}"), Some(&c))
        .await
        .json();
    assert_eq!(page["valid"], false);
}

/// Every route of the API is in the OpenAPI document, and every path in it answers.
#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let p = Portal::new();
    let doc = p.get("/api/v1/openapi.json", None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let types: Vec<&str> = format::LicenseType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    let enum_of = |v: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = serde_json::from_value(v.clone()).unwrap();
        v.sort();
        v
    };
    let mut want: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    want.sort();
    assert_eq!(
        enum_of(&doc["components"]["schemas"]["IssueRequest"]["properties"]["type"]["enum"]),
        want
    );
    let files_get = &doc["paths"]["/api/v1/accounts/{id}/files"]["get"]["parameters"];
    let type_param = files_get
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "type")
        .unwrap();
    let mut with_any = want.clone();
    with_any.insert(0, String::new());
    assert_eq!(
        enum_of(&type_param["schema"]["enum"]),
        with_any,
        "empty means any type"
    );
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let src = include_str!("../src/lib.rs");
    let routed: Vec<String> = src
        .match_indices("\"/api/v1/")
        .map(|(i, _)| src[i + 1..i + 1 + src[i + 1..].find('"').unwrap()].to_string())
        .collect();
    let mut a = paths.clone();
    a.sort();
    let mut b = routed.clone();
    b.sort();
    b.dedup();
    assert_eq!(a, b, "document paths vs routes");
    let t = p.token("staff@vendor.example");
    for path in paths {
        let concrete = path
            .replace("{id}", &p.contoso.to_string())
            .replace("{file}", "00000000000000000000000000000000")
            .replace("{number}", "AFR-0000001");
        for m in doc["paths"][&path].as_object().unwrap().keys() {
            let r = p.api(&m.to_uppercase(), &concrete, Some(&t), None).await;
            assert_ne!(r.status, 405, "{m} {path} is routed");
            assert_ne!(r.status, 500, "{m} {path}");
        }
    }
}

/// Staff manage portal users from the portal: add one (who can then log in), disable one
/// (their open session ends); nobody else may.
#[tokio::test]
async fn staff_manage_portal_users() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    assert_eq!(p.get("/users", Some(&c)).await.status, 403);
    let r = p
        .post_form(
            "/users",
            Some(&c),
            &[
                ("csrf", &csrf),
                ("email", "x@y.example"),
                ("role", "staff"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let (s, scsrf) = p.login("staff@vendor.example").await;
    let page = p.get("/users", Some(&s)).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("plain@contoso.example"));
    let add_with = |pw: &'static str, pw2: &'static str| {
        let (s, scsrf) = (s.clone(), scsrf.clone());
        let p = &p;
        async move {
            p.post_form(
                "/users",
                Some(&s),
                &[
                    ("csrf", &scsrf),
                    ("email", "new@contoso.example"),
                    ("role", "customer"),
                    ("account", "Contoso"),
                    ("certified", "yes"),
                    ("password", pw),
                    ("password2", pw2),
                ],
            )
            .await
        }
    };
    let add = |pw2: &'static str| add_with(PASSWORD, pw2);
    let differ = add("something else entirely").await;
    assert_eq!(differ.status, 400);
    assert!(differ.text().contains("The two passwords differ."));
    for (weak, why) in [
        ("aaaaaaaaaa", "repeated"),
        ("Password2024!", "most common passwords"),
        ("qwertyuiop", "most common passwords"),
        ("New@Contoso.example", "e-mail"),
        ("new-contoso-1234", "e-mail"),
    ] {
        let r = add_with(weak, weak).await;
        assert_eq!(r.status, 400, "{weak}");
        assert!(r.text().contains(why), "{weak}: {}", r.text());
    }
    assert_eq!(add(PASSWORD).await.status, StatusCode::SEE_OTHER);
    let (nc, _) = p.login("new@contoso.example").await;
    let user = p
        .ledger()
        .portal_user_login("new@contoso.example")
        .unwrap()
        .unwrap()
        .0;
    assert!(user.certified && user.accounts == ["Contoso"]);
    let r = p
        .post_form(
            &format!("/users/{}/active", user.id),
            Some(&s),
            &[("csrf", &scsrf), ("active", "no")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.get("/accounts", Some(&nc)).await.status,
        StatusCode::SEE_OTHER,
        "their session ended"
    );
    let audit = p
        .ledger()
        .audit_log(None, None)
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.actor == "portal:staff@vendor.example" && r.action.starts_with("portal-user.")
        })
        .count();
    assert_eq!(
        audit, 2,
        "add and disable are in the audit log with the staff user"
    );
}

/// The readers keep the pages served most between requests; a change committed by anyone
/// (the portal itself, or an `issuer` command on the same ledger) shows on the very next
/// request, a disabled user is out at once, and what one caller's request kept is never
/// shown to a caller who may not see it.
#[tokio::test]
async fn kept_pages_follow_every_change_to_the_ledger() {
    let p = Portal::new();
    let (c, _) = p.login("cert@contoso.example").await;
    let summary = format!("/accounts/{}/summary", p.contoso);
    let activity = format!("/accounts/{}/activity", p.contoso);
    // Every reader serves (and keeps) both pages a few times.
    let views = |page: String| {
        let (p, c) = (&p, c.clone());
        async move {
            let mut last = String::new();
            for _ in 0..2 * portal::service::READERS {
                let r = p.get(&page, Some(&c)).await;
                assert_eq!(r.status, 200, "{page}: {}", r.text());
                last = r.text();
            }
            last
        }
    };
    assert!(!views(summary.clone()).await.contains("SW-001-4.0-PL04"));
    // A change by another connection, as an `issuer` command beside the portal makes it.
    p.on_ledger(|l| {
        l.add_order(
            &issuer::Catalog::built_in().unwrap(),
            "Contoso",
            "SW-001-4.0-PL04",
            3,
            true,
            "issuer-cli",
        )
        .unwrap()
    });
    for _ in 0..2 * portal::service::READERS {
        let r = p.get(&summary, Some(&c)).await;
        assert!(
            r.text().contains("SW-001-4.0-PL04"),
            "every reader sees the new line"
        );
    }

    // A file issued through the portal, then deactivated from outside it.
    let t = p.token("cert@contoso.example");
    let f = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            Some(production(&host(5), "ic5", &[])),
        )
        .await;
    assert_eq!(f.status, 201, "{}", f.text());
    let id = f.json()["id"].as_str().unwrap().to_string();
    let listed = views(activity.clone()).await;
    assert!(
        listed.contains(&format!("/files/{id}/deactivate")),
        "{listed}"
    );
    p.on_ledger(|l| {
        l.deactivate(&id, "issuer-cli", format::Timestamp::now())
            .unwrap()
    });
    for _ in 0..2 * portal::service::READERS {
        let r = p.get(&activity, Some(&c)).await;
        assert!(
            !r.text().contains(&format!("/files/{id}/deactivate")),
            "every reader lists the file as inactive"
        );
    }

    // The table kept for a certified user's view has the actions that change files; a user
    // of the same account who may not change them never gets it.
    let f2 = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            Some(production(&host(6), "ic6", &[])),
        )
        .await;
    let id2 = f2.json()["id"].as_str().unwrap().to_string();
    assert!(views(activity.clone())
        .await
        .contains(&format!("/files/{id2}/deactivate")));
    let (plain, _) = p.login("plain@contoso.example").await;
    for _ in 0..2 * portal::service::READERS {
        let r = p.get(&activity, Some(&plain)).await;
        assert_eq!(r.status, 200);
        assert!(
            r.text().contains(&format!("/files/{id2}\"")),
            "the file is listed"
        );
        assert!(!r.text().contains("/deactivate"), "without the actions");
    }

    // Staff's view of Fabrikam is kept; a Contoso customer still gets 404 for it.
    let (sc, _) = p.login("staff@vendor.example").await;
    let fab = format!("/accounts/{}/activity", p.fabrikam);
    for _ in 0..2 * portal::service::READERS {
        assert_eq!(p.get(&fab, Some(&sc)).await.status, 200);
        assert_eq!(p.get(&fab, Some(&c)).await.status, 404);
        let fs = format!("/accounts/{}/summary", p.fabrikam);
        assert_eq!(p.get(&fs, Some(&c)).await.status, 404);
    }

    // A user disabled from outside the portal is sent to the login page at once.
    p.on_ledger(|l| {
        l.set_portal_user_active("cert@contoso.example", false, "t")
            .unwrap()
    });
    for page in [&summary, &activity] {
        for _ in 0..2 * portal::service::READERS {
            let r = p.get(page, Some(&c)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
            assert!(r.header("location").unwrap().starts_with("/login?next="));
        }
    }
}

/// Files asked for at the same time are issued together (one transaction), each recorded
/// or refused on its own: with two server items left, exactly two of six requests get a
/// file, the others a 409 or a 404, and the ledger's counters match its files. On the
/// server's kind of runtime (several threads), where a change runs on the request's thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_asked_for_together_are_each_issued_or_refused_alone() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let fab = p.token("fab@fabrikam.example");
    let mine = format!("/api/v1/accounts/{}/files", p.contoso);
    let theirs = format!("/api/v1/accounts/{}/files", p.fabrikam);
    let calls = (0..6u8).map(|i| {
        let (p, t, fab, mine, theirs) = (&p, &t, &fab, &mine, &theirs);
        async move {
            let body = production(&host(30 + i), &format!("m{i}"), &[("SW-001-4.0-AL02", 10)]);
            match i {
                // Contoso's customer asking for Fabrikam's account: not theirs to see.
                4 => p.api("POST", theirs, Some(t), Some(body)).await,
                // Fabrikam's own customer, with Fabrikam's one server item.
                5 => {
                    let mut b = body;
                    b["site"] = serde_json::json!("Main");
                    b["account"] = serde_json::json!("Fabrikam");
                    b["add"] = serde_json::json!([]);
                    p.api("POST", theirs, Some(fab), Some(b)).await
                }
                _ => p.api("POST", mine, Some(t), Some(body)).await,
            }
        }
    });
    let answers = futures_join(calls.collect()).await;
    let status: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    let contoso: Vec<u16> = status[..4].to_vec();
    assert_eq!(
        contoso.iter().filter(|s| **s == 201).count(),
        2,
        "{status:?}"
    );
    assert_eq!(
        contoso.iter().filter(|s| **s == 409).count(),
        2,
        "{status:?}"
    );
    assert_eq!(status[4], 404, "{}", answers[4].text());
    assert_eq!(status[5], 201, "{}", answers[5].text());
    for a in answers.iter().filter(|a| a.status == 201) {
        let id = a.json()["id"].as_str().unwrap().to_string();
        assert!(p.on_ledger(|l| l.file_bytes(&id).is_ok()));
    }
    let (usage, files) = p.on_ledger(|l| {
        (
            l.verify_usage().unwrap(),
            l.activity(&issuer::ActivityFilter::default())
                .unwrap()
                .len(),
        )
    });
    assert!(usage.is_empty());
    assert_eq!(files, 3, "two files for Contoso, one for Fabrikam");
}

/// A file issued through the API with the site and part numbers in another case is signed
/// with the ledger's and the catalog's spelling (as `issuer issue` signs it), and an
/// update adding a part typed in another case grows that same item.
#[tokio::test]
async fn names_typed_in_another_case_are_signed_as_recorded() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);
    let mut req = production(&host(1), "ic1", &[("sw-001-4.0-al02", 4)]);
    req["account"] = json!("contoso");
    req["site"] = json!("hq");
    req["server_part"] = json!("Sw-001-4.0-Sl03");
    let r = p.api("POST", &files, Some(&t), Some(req)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let cat = issuer::Catalog::built_in().unwrap();
    let items = |id: &str| {
        let d = p.on_ledger(|l| l.show(&cat, id).unwrap());
        let a = d.activation;
        assert_eq!(
            (a.sold_to.as_str(), a.install_site.as_str()),
            ("Contoso", "HQ")
        );
        assert_eq!(d.server_part, "SW-001-4.0-SL03");
        a.ordered_items
            .into_iter()
            .map(|i| (i.part, i.quantity))
            .collect::<Vec<_>>()
    };
    let sl03 = || "SW-001-4.0-SL03".to_string();
    let al02 = || "SW-001-4.0-AL02".to_string();
    assert_eq!(items(&id), [(sl03(), 1), (al02(), 4)]);
    let u = p
        .api(
            "POST",
            &format!("/api/v1/files/{id}/update"),
            Some(&t),
            Some(json!({"add": [{"part": "sw-001-4.0-AL02", "quantity": 2}]})),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.text());
    let new_id = u.json()["id"].as_str().unwrap().to_string();
    assert_eq!(items(&new_id), [(sl03(), 1), (al02(), 6)]);
}

postgres_too!(
    certified_customer_story_through_the_api,
    activation_file_requests_are_numbered_answered_and_kept,
    sessions_are_fixation_safe_and_end_at_logout,
    login_throttling_counts_failures_per_client_and_account,
    forms_without_exactly_one_token_answer_the_stale_form_page,
    every_api_error_is_json,
    answers_carry_security_headers_and_bodies_are_bounded,
    the_host_id_check_explains_typos,
    kept_pages_follow_every_change_to_the_ledger,
    files_asked_for_together_are_each_issued_or_refused_alone,
    names_typed_in_another_case_are_signed_as_recorded,
);
