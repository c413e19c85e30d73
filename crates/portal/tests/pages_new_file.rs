//! New Activation File: a refused form comes back with every value kept, the error on its
//! field and a summary at the top (422); the switchover machine is given now or later, never
//! both, and a pair with no switchover item available is refused with that reason. The story
//! of a certified customer through the pages.

mod common;

use common::*;

/// A production form of Contoso that the portal would accept, as `(name, value)` pairs.
fn form<'a>(csrf: &'a str, h1: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("site", "HQ"),
        ("product", "CIC"),
        ("version", "4.0"),
        ("type", "production"),
        ("host_id", h1),
        ("machine", "ic1"),
        ("system_type", "Media Server Based (4.0+ only)"),
        ("mail_connector", "IMAP"),
        ("server_part", "SW-001-4.0-SL03"),
        ("switchover", "later"),
        ("add_part", "SW-001-4.0-AL02"),
        ("add_quantity", "7"),
        ("add_part", "SW-001-4.0-AL06"),
        ("add_quantity", "2"),
    ]
}

fn with<'a>(
    mut f: Vec<(&'a str, &'a str)>,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    for (k, v) in changes {
        match f.iter_mut().find(|(n, _)| n == k) {
            Some(x) => x.1 = v,
            None => f.push((k, v)),
        }
    }
    f
}

/// The error summary of a page.
fn summary(t: &str) -> &str {
    let at = t.find("error-summary").expect("an error summary");
    &t[at..at + t[at..].find("</div>").unwrap()]
}

fn files_of(p: &Portal, account: &'static str) -> usize {
    p.on_ledger(|l| {
        l.activity(&issuer::ActivityFilter {
            account: Some(account.into()),
            ..Default::default()
        })
        .unwrap()
        .len()
    })
}

#[tokio::test]
async fn a_refused_form_keeps_every_value_and_names_the_field() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let h1 = host(30);
    let at = format!("/accounts/{}/new", p.contoso);
    // More seats than the account has: refused on the seat row, everything else kept.
    let f = with(form(&csrf, &h1), &[("add_quantity", "999")]);
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    for kept in [
        format!(r#"value="{h1}""#),
        r#"id="machine" name="machine" value="ic1""#.to_string(),
        r#"<option value="Media Server Based (4.0+ only)" selected>"#.to_string(),
        r#"<option value="IMAP" selected>"#.to_string(),
        r#"value="SW-001-4.0-SL03" required checked"#.to_string(),
        r#"value="999" id="q-SW-001-4.0-AL02""#.to_string(),
        r#"value="2" id="q-SW-001-4.0-AL06""#.to_string(),
        r#"id="switchover_later" name="switchover" value="later" checked"#.to_string(),
    ] {
        assert!(t.contains(&kept), "{kept} is kept: {t}");
    }
    assert!(
        t.contains(r##"<a href="#q-SW-001-4.0-AL02">not enough SW-001-4.0-AL02 available"##),
        "{t}"
    );
    assert!(
        t.contains(r#"aria-invalid="true" aria-describedby="q-SW-001-4.0-AL02-error""#),
        "{t}"
    );
    assert!(
        t.contains(r#"<p class="field-error" id="q-SW-001-4.0-AL02-error">"#),
        "{t}"
    );
    assert_eq!(files_of(&p, "Contoso"), 0);

    // What the page finds wrong itself: every field at once, in the page's words.
    let f = with(
        form(&csrf, &h1),
        &[("host_id", " "), ("machine", ""), ("add_quantity", "many")],
    );
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    for (id, words) in [
        ("host_id", "Enter the Host Id of the server."),
        ("machine", "Enter the Machine Name of the server."),
        (
            "q-SW-001-4.0-AL02",
            "The quantity of SW-001-4.0-AL02 must be a whole number",
        ),
    ] {
        assert!(
            t.contains(&format!(r##"<a href="#{id}">{words}"##)),
            "{id}: {t}"
        );
    }
    assert!(t.contains(r#"value="many""#), "{t}");
    assert!(!summary(&t).contains("--"), "no flag: {t}");

    // A host ID with a wrong check character: on the Host Id, as the page names it.
    let bad = {
        let mut b = h1.clone().into_bytes();
        let last = b.len() - 1;
        b[last] = if b[last] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let f = with(form(&csrf, &bad), &[]);
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(t.contains(r##"<a href="#host_id">Host ID: "##), "{t}");
    assert!(t.contains(&format!(r#"value="{bad}""#)), "{t}");
    assert_eq!(files_of(&p, "Contoso"), 0);

    // A malformed body (a row without its quantity) is not this form: 400.
    let mut f = form(&csrf, &h1);
    f.push(("add_part", "SW-001-4.0-AL07"));
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 400, "{}", r.text());
}

#[tokio::test]
async fn switchover_is_now_or_later_never_both() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let (h1, h2) = (host(31), host(32));
    let at = format!("/accounts/{}/new", p.contoso);
    let step2 = p
        .get(
            &format!("{at}?site=HQ&product=CIC+4.0&type=production"),
            Some(&c),
        )
        .await
        .text();
    assert!(
        step2.contains(r#"id="switchover_later" name="switchover" value="later" checked"#)
            && step2.contains(r#"id="switchover_now" name="switchover" value="now">"#),
        "later is the default: {step2}"
    );
    // "Later" with switchover values: refused naming the conflict, values kept.
    let f = with(
        form(&csrf, &h1),
        &[
            ("switchover_host_id", &h2),
            ("switchover_machine", "ic2"),
            ("switchover_part", "SW-001-4.0-SS03"),
        ],
    );
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains(r##"<a href="#switchover_later">You chose to provide switchover information at another time, but filled in the switchover machine"##),
        "{t}"
    );
    assert!(
        t.contains(&format!(r#"value="{h2}""#)) && t.contains(r#"value="ic2""#),
        "{t}"
    );
    assert!(
        t.contains(r#"<option value="SW-001-4.0-SS03" selected>"#),
        "{t}"
    );
    assert_eq!(files_of(&p, "Contoso"), 0);

    // "Now" without its fields: each named.
    let f = with(form(&csrf, &h1), &[("switchover", "now")]);
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains(
            r##"<a href="#switchover_host_id">Enter the Host Id of the switchover machine"##
        ),
        "{t}"
    );
    assert!(
        t.contains(r#"id="switchover_now" name="switchover" value="now" checked"#),
        "{t}"
    );

    // "Now" with them: a pair.
    let f = with(
        form(&csrf, &h1),
        &[
            ("switchover", "now"),
            ("switchover_host_id", &h2),
            ("switchover_machine", "ic2"),
            ("switchover_part", "SW-001-4.0-SS03"),
        ],
    );
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(files_of(&p, "Contoso"), 1);
}

#[tokio::test]
async fn a_pair_without_a_switchover_item_available_says_so() {
    let p = Portal::new();
    let (c, csrf) = p.login("fab@fabrikam.example").await;
    let (h1, h2) = (host(33), host(34));
    let at = format!("/accounts/{}/new", p.fabrikam);
    let step2 = p
        .get(
            &format!("{at}?site=Main&product=CIC+4.0&type=production"),
            Some(&c),
        )
        .await
        .text();
    assert!(
        step2.contains("There are no switchover parts available."),
        "{step2}"
    );
    let f = vec![
        ("csrf", csrf.as_str()),
        ("site", "Main"),
        ("product", "CIC"),
        ("version", "4.0"),
        ("type", "production"),
        ("host_id", &h1),
        ("machine", "fab1"),
        ("server_part", "SW-001-4.0-SL03"),
        ("switchover", "now"),
        ("switchover_host_id", &h2),
        ("switchover_machine", "fab2"),
    ];
    let r = p.post_form(&at, Some(&c), &f).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains(r##"<a href="#switchover_part">Account &#39;Fabrikam&#39; has no switchover server item of CIC 4.0 available, and a switchover pair needs one"##)
            || t.contains(r##"<a href="#switchover_part">Account 'Fabrikam' has no switchover server item of CIC 4.0 available, and a switchover pair needs one"##),
        "{t}"
    );
    assert!(!summary(&t).contains("--"), "no flag: {t}");
    assert!(t.contains(r#"value="fab2""#), "{t}");
    assert_eq!(files_of(&p, "Fabrikam"), 0);
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
