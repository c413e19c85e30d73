//! The files resource of the API: the account comes from the address, refusals say what
//! was asked, and query-string refusals are the API's JSON naming the parameter. The stories
//! of a certified customer and a partner; files asked for at once; names typed in another case.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

/// `account` may be left out (the address names it); if given it must be the address's
/// (400 naming both) and not empty.
#[tokio::test]
async fn the_account_comes_from_the_address() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);

    let mut body = production(&host(1), "ic1", &[]);
    body.as_object_mut().unwrap().remove("account");
    let r = p.api("POST", &files, Some(&t), Some(body.clone())).await;
    assert_eq!(r.status, 201, "{}", r.text());

    let mut empty = production(&host(2), "ic2", &[]);
    empty["account"] = json!("");
    let r = p.api("POST", &files, Some(&t), Some(empty)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.starts_with("account: empty"), "{m}");

    let mut other = production(&host(3), "ic3", &[]);
    other["account"] = json!("Fabrikam");
    let r = p.api("POST", &files, Some(&t), Some(other)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.contains("'Fabrikam'") && m.contains("'Contoso'"), "{m}");

    // Only the first was generated.
    let list = p.api("GET", &files, Some(&t), None).await.json();
    assert_eq!(list["total"], 1, "{list}");
}

/// Adding 100 to a file holding 2 is refused naming the 100 asked, not the 102 the new file
/// would hold.
#[tokio::test]
async fn an_update_refusal_says_what_was_asked() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);
    let r = p
        .api(
            "POST",
            &files,
            Some(&t),
            Some(production(&host(1), "ic1", &[("SW-001-4.0-AL02", 2)])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{id}/update"),
            Some(&t),
            Some(json!({"add": [{"part": "SW-001-4.0-AL02", "quantity": 100}]})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        m.contains("asked 100, available 48 (beyond the 2 the file already holds)"),
        "{m}"
    );
}

/// A query string the API cannot read answers its JSON error, naming the parameter.
#[tokio::test]
async fn query_refusals_are_json_naming_the_parameter() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let r = p
        .api(
            "GET",
            &format!("/api/v1/accounts/{}/files?page=abc", p.contoso),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "bad-request");
    let m = e["message"].as_str().unwrap();
    assert!(m.starts_with("query parameter 'page': "), "{m}");
    assert!(!m.contains("Failed to deserialize"), "{m}");
}

postgres_too!(
    the_account_comes_from_the_address,
    certified_customer_story_through_the_api,
    files_asked_for_together_are_each_issued_or_refused_alone,
    names_typed_in_another_case_are_signed_as_recorded,
    an_update_refusal_says_what_was_asked,
    refusals_name_the_apis_fields,
);

/// A refusal names the API's field, never the issuer's command-line flag.
#[tokio::test]
async fn refusals_name_the_apis_fields() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);
    let mut body = production(&host(1), "ic1", &[]);
    body["server_part"] = json!("SW-001-4.0-AL02");
    let r = p.api("POST", &files, Some(&t), Some(body)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.contains("'server_part'") && !m.contains("--"), "{m}");

    let mut body = production(&host(2), "ic2", &[]);
    body["host_id"] = json!("X");
    let r = p.api("POST", &files, Some(&t), Some(body)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.starts_with("host_id: "), "{m}");
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
