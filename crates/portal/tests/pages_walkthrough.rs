//! What a new user's walk through every page found: the pages of an account name it in the
//! browser's title, Install Sites says its changes were saved and is one card per site on a
//! phone, Update's fieldsets stack their fields, and the switchover fields refused with
//! "later" stay in sight to be cleared.

mod common;

use common::*;

/// A production file of Contoso; its id.
async fn a_file(p: &Portal) -> String {
    contoso_file(p, 50, 1).await
}

#[tokio::test]
async fn every_page_of_an_account_names_it_in_the_title() {
    let p = Portal::new();
    let f = a_file(&p).await;
    let (c, _) = p.login("cert@contoso.example").await;
    let a = p.contoso;
    for (path, title) in [
        (format!("/accounts/{a}/new"), "New Activation File"),
        (
            format!("/accounts/{a}/new?site=HQ&product=CIC+4.0&type=production"),
            "New Activation File",
        ),
        (format!("/accounts/{a}/upgrade"), "Upgrade Software"),
        (format!("/accounts/{a}/sites"), "Install Sites"),
        (
            format!("/accounts/{a}/sites/HQ/edit"),
            "Install Site Details",
        ),
        (format!("/files/{f}/update"), "Update Activation File"),
        (
            format!("/files/{f}/deactivate"),
            "Deactivate Activation File",
        ),
    ] {
        let r = p.get(&path, Some(&c)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let want = format!("<title>{title} · Contoso · i3lic portal</title>");
        assert!(r.text().contains(&want), "{path}: {}", r.text());
    }
}

/// Follow the redirect as a browser does: Install Sites says the change was saved.
async fn says_saved(p: &Portal, session: &str, r: &Answer) {
    follow_saved(p, session, r).await;
}

#[tokio::test]
async fn adding_editing_and_deactivating_a_site_say_saved() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let sites = format!("/accounts/{}/sites", p.contoso);
    let r = p
        .post_form(
            &sites,
            Some(&c),
            &[("csrf", &csrf), ("name", "Lab"), ("city", "Carmel")],
        )
        .await;
    says_saved(&p, &c, &r).await;
    let r = p
        .post_form(
            &format!("{sites}/Lab/edit"),
            Some(&c),
            &[("csrf", &csrf), ("name", "Lab"), ("city", "Indianapolis")],
        )
        .await;
    says_saved(&p, &c, &r).await;
    let r = p
        .post_form(
            &format!("{sites}/Lab/active"),
            Some(&c),
            &[("csrf", &csrf), ("active", "no")],
        )
        .await;
    says_saved(&p, &c, &r).await;
}

#[tokio::test]
async fn install_sites_are_cards_on_a_phone_with_their_actions_first() {
    let p = Portal::new();
    let (c, _) = p.login("cert@contoso.example").await;
    let t = p
        .get(&format!("/accounts/{}/sites", p.contoso), Some(&c))
        .await
        .text();
    assert!(t.contains("<table class=\"cards\">"), "{t}");
    assert!(t.contains("<td class=\"actions\">"), "{t}");
    assert!(t.contains("<td data-label=\"Name\">HQ</td>"), "{t}");
    assert!(t.contains("<td data-label=\"Active\">Yes</td>"), "{t}");
}

#[tokio::test]
async fn update_stacks_each_fieldset_s_labels_and_fields() {
    let p = Portal::new();
    let f = a_file(&p).await;
    let (c, _) = p.login("cert@contoso.example").await;
    let t = p.get(&format!("/files/{f}/update"), Some(&c)).await.text();
    assert!(
        t.contains("<fieldset class=\"fields\"><legend>Machine Details</legend>"),
        "{t}"
    );
    assert!(
        t.contains("<fieldset class=\"fields\"><legend>Switchover Machine</legend>"),
        "{t}"
    );
    let css = p.get("/static/portal.css", None).await.text();
    // One column no wider than the form: a long option does not widen a phone's page.
    assert!(
        css.contains("fieldset.fields { display: grid; grid-template-columns: minmax(0, 1fr);"),
        "{css}"
    );
}

#[tokio::test]
async fn switchover_fields_refused_with_later_stay_in_sight() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let at = format!("/accounts/{}/new", p.contoso);
    let step2 = p
        .get(
            &format!("{at}?site=HQ&product=CIC+4.0&type=production"),
            Some(&c),
        )
        .await
        .text();
    assert!(
        step2.contains(r#"<div class="switchover-fields" id="switchover-fields">"#),
        "hidden until now is chosen: {step2}"
    );
    let (h1, h2) = (host(51), host(52));
    let r = p
        .post_form(
            &at,
            Some(&c),
            &[
                ("csrf", &csrf),
                ("site", "HQ"),
                ("product", "CIC"),
                ("version", "4.0"),
                ("type", "production"),
                ("host_id", &h1),
                ("machine", "ic1"),
                ("server_part", "SW-001-4.0-SL03"),
                ("switchover", "later"),
                ("switchover_host_id", &h2),
                ("switchover_machine", "ic2"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains(r#"<div class="switchover-fields shown" id="switchover-fields">"#),
        "{t}"
    );
    let css = p.get("/static/portal.css", None).await.text();
    assert!(
        css.contains(".switchover-fields.shown { display: grid;"),
        "{css}"
    );
}

#[tokio::test]
async fn a_refused_receipt_shows_the_form_again_with_the_receipt_kept() {
    let p = Portal::new();
    let f = a_file(&p).await;
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p
        .post_form(
            &format!("/files/{f}/deactivate"),
            Some(&c),
            &[("csrf", &csrf), ("receipt", "not <a> receipt")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(t.contains("<h1>Deactivate Activation File</h1>"), "{t}");
    assert!(t.contains("not &lt;a&gt; receipt</textarea>"), "{t}");
    assert!(t.contains(r##"<a href="#receipt">"##), "{t}");
    assert!(t.contains("id=\"receipt-error\""), "{t}");
    // Nothing was deactivated.
    let view = p.get(&format!("/files/{f}"), Some(&c)).await.text();
    assert!(view.contains("(active)"), "{view}");
}

#[tokio::test]
async fn an_empty_request_list_says_what_to_do_and_requests_are_cards() {
    let p = Portal::new();
    let (c, _) = p.login("cert@contoso.example").await;
    let t = p.get("/requests", Some(&c)).await.text();
    assert!(t.contains("No activation file requests yet."), "{t}");
    assert!(!t.contains("<table"), "{t}");
    let body = serde_json::json!({
        "account_id": p.contoso,
        "request": { "request_type": "Question", "subject": "Seats", "description": "How many?", "date_needed": "2999-01-01" },
    });
    let t = p.token("cert@contoso.example");
    let r = p
        .api("POST", "/api/v1/requests", Some(&t), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let t = p.get("/requests", Some(&c)).await.text();
    assert!(!t.contains("No activation file requests yet."), "{t}");
    assert!(t.contains("<table class=\"cards\">"), "{t}");
    assert!(t.contains("<td data-label=\"Subject\">Seats</td>"), "{t}");
    let css = p.get("/static/portal.css", None).await.text();
    assert!(
        css.contains("table.cards caption { display: block; }"),
        "{css}"
    );
}

#[tokio::test]
async fn new_activation_file_says_what_to_do_without_a_site_or_a_server_item() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let at = format!("/accounts/{}/new", p.contoso);
    let t = p.get(&at, Some(&c)).await.text();
    assert!(!t.contains("no active install site"), "{t}");
    // Trial: the account has no server item for it.
    let t = p
        .get(
            &format!("{at}?site=HQ&product=CIC+4.0&type=trial"),
            Some(&c),
        )
        .await
        .text();
    assert!(
        t.contains("choose another product or license type above"),
        "{t}"
    );
    let r = p
        .post_form(
            &format!("/accounts/{}/sites/HQ/active", p.contoso),
            Some(&c),
            &[("csrf", &csrf), ("active", "no")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = p.get(&at, Some(&c)).await.text();
    assert!(t.contains("The account has no active install site"), "{t}");
    assert!(
        t.contains(&format!(
            "href=\"/accounts/{}/sites\">Add or activate an install site</a>",
            p.contoso
        )),
        "{t}"
    );
}

#[tokio::test]
async fn deactivating_a_replaced_file_says_there_is_nothing_to_do() {
    let p = Portal::new();
    let f = a_file(&p).await;
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p
        .post_form(
            &format!("/files/{f}/update"),
            Some(&c),
            &[("csrf", &csrf), ("machine", "ic9")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = p
        .get(&format!("/files/{f}/deactivate"), Some(&c))
        .await
        .text();
    assert!(t.contains("there is nothing to deactivate"), "{t}");
    assert!(!t.contains("name=\"receipt\""), "{t}");
    // Sent anyway (a second tab): the reason stands alone, not on the receipt.
    let r = p
        .post_form(
            &format!("/files/{f}/deactivate"),
            Some(&c),
            &[("csrf", &csrf), ("receipt", "")],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text());
    let t = r.text();
    assert!(t.contains("is not active"), "{t}");
    assert!(!t.contains("id=\"receipt-error\""), "{t}");
}

#[tokio::test]
async fn item_tables_are_cards_on_a_phone() {
    let p = Portal::new();
    let f = a_file(&p).await;
    let (c, _) = p.login("cert@contoso.example").await;
    let a = p.contoso;
    let step2 = p
        .get(
            &format!("/accounts/{a}/new?site=HQ&product=CIC+4.0&type=production"),
            Some(&c),
        )
        .await
        .text();
    assert!(
        step2.contains(
            r#"<td data-label="Part Number"><label for="sp-0">SW-001-4.0-SL03</label></td>"#
        ),
        "{step2}"
    );
    assert!(
        step2.contains(r#"<td data-label="Quantity"><label class="sr" for="q-SW-001-4.0-AL02">"#),
        "{step2}"
    );
    let update = p.get(&format!("/files/{f}/update"), Some(&c)).await.text();
    assert!(update.contains(r#"<td data-label="Add">"#), "{update}");
    let software = p
        .get(&format!("/accounts/{a}/software"), Some(&c))
        .await
        .text();
    assert!(
        software.contains(r#"<td data-label="Part Number">SW-001-4.0-AL02</td>"#),
        "{software}"
    );
    for t in [&step2, &update, &software] {
        assert!(!t.contains("<table>"), "a table that is not cards: {t}");
    }
}
