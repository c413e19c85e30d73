//! Update Activation File on the web: it changes the host, machine name, switchover machine
//! and item, system type and mail connector as well as adding seats, shows the file's current
//! quantities, and a refusal keeps what was typed (422, the error on its field).

mod common;

use common::*;

/// A production file of Contoso on host 40 ("ic1") with 10 AL02; its id.
async fn a_file(p: &Portal) -> String {
    contoso_file(p, 40, 10).await
}

/// The new file's id named on the "updated" page.
fn new_id(t: &str) -> String {
    let at = t.find("/files/").unwrap() + 7;
    t[at..at + t[at..].find('/').unwrap()].to_string()
}

#[tokio::test]
async fn the_page_shows_the_file_as_it_is() {
    let p = Portal::new();
    let id = a_file(&p).await;
    let (c, _) = p.login("cert@contoso.example").await;
    let t = p.get(&format!("/files/{id}/update"), Some(&c)).await.text();
    assert!(t.contains(r#"<th scope="col">In this file</th>"#), "{t}");
    assert!(
        t.contains(r#"<td data-label="Part Number">SW-001-4.0-AL02</td><td data-label="Description">Business Client</td><td class="num" data-label="In this file">10</td><td class="num" data-label="Available">40</td>"#),
        "current quantity and available: {t}"
    );
    assert!(
        t.contains(r#"id="machine" name="machine" value="ic1""#),
        "{t}"
    );
    assert!(
        t.contains(
            r#"<select id="mail_connector" name="mail_connector"><option value="" selected>"#
        ),
        "{t}"
    );
    assert!(t.contains(&host(40)), "the current host ID: {t}");
}

#[tokio::test]
async fn update_changes_the_machine_and_adds_the_switchover_machine() {
    let p = Portal::new();
    let id = a_file(&p).await;
    let (c, csrf) = p.login("cert@contoso.example").await;
    let (h, h2) = (host(41), host(42));
    let r = p
        .post_form(
            &format!("/files/{id}/update"),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("host_id", &h),
                ("machine", "ic1-new"),
                ("system_type", "Standard"),
                ("mail_connector", "IMAP"),
                ("switchover_host_id", &h2),
                ("switchover_machine", "ic2"),
                ("switchover_part", "SW-001-4.0-SS03"),
                ("add_part", "SW-001-4.0-AL02"),
                ("add_quantity", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let nid = new_id(&r.text());
    let d = p.on_ledger(|l| l.show(&issuer::Catalog::built_in().unwrap(), &nid).unwrap());
    let a = &d.activation;
    assert_eq!(a.primary_host.binding_code(), h);
    assert_eq!(a.primary_host.machine, "ic1-new");
    assert_eq!(a.system_type, "Standard");
    assert_eq!(a.mail_connector, "IMAP");
    let sw = a.switchover_host.as_ref().expect("a switchover machine");
    assert_eq!(
        (sw.binding_code(), sw.machine.as_str()),
        (h2.clone(), "ic2")
    );
    assert!(a.ordered_items.iter().any(|i| i.part == "SW-001-4.0-SS03"));

    // Only the switchover machine's name: its host ID stays.
    let r = p
        .post_form(
            &format!("/files/{nid}/update"),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("machine", "ic1-new"),
                ("switchover_machine", "ic2-renamed"),
                ("switchover_part", "SW-001-4.0-SS03"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let nid2 = new_id(&r.text());
    let d = p.on_ledger(|l| {
        l.show(&issuer::Catalog::built_in().unwrap(), &nid2)
            .unwrap()
    });
    let sw = d.activation.switchover_host.as_ref().unwrap();
    assert_eq!(
        (sw.binding_code(), sw.machine.as_str()),
        (h2, "ic2-renamed")
    );
    assert_eq!(d.activation.primary_host.binding_code(), h, "kept");
}

#[tokio::test]
async fn a_refused_update_keeps_what_was_typed() {
    let p = Portal::new();
    let id = a_file(&p).await;
    let (c, csrf) = p.login("cert@contoso.example").await;
    let at = format!("/files/{id}/update");
    let r = p
        .post_form(
            &at,
            Some(&c),
            &[
                ("csrf", &csrf),
                ("machine", "renamed"),
                ("mail_connector", "IMAP"),
                ("add_part", "SW-001-4.0-AL02"),
                ("add_quantity", "999"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains(r#"id="machine" name="machine" value="renamed""#),
        "{t}"
    );
    assert!(t.contains(r#"<option value="IMAP" selected>"#), "{t}");
    assert!(t.contains(r#"value="999" id="u-SW-001-4.0-AL02""#), "{t}");
    assert!(
        t.contains(r##"<a href="#u-SW-001-4.0-AL02">not enough SW-001-4.0-AL02 available"##),
        "{t}"
    );
    // A switchover machine half given: both fields named.
    let r = p
        .post_form(
            &at,
            Some(&c),
            &[("csrf", &csrf), ("switchover_machine", "ic2")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.text().contains(
            r##"<a href="#switchover_host_id">Enter the Host Id of the switchover machine too."##
        ),
        "{}",
        r.text()
    );
    // Nothing changed: said in the page's words.
    let r = p
        .post_form(&at, Some(&c), &[("csrf", &csrf), ("machine", "ic1")])
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.text()
            .contains("Nothing was changed: change a field or add seats, then update."),
        "{}",
        r.text()
    );
    let d = p.on_ledger(|l| l.show(&issuer::Catalog::built_in().unwrap(), &id).unwrap());
    assert!(d.active, "the file is still the one");
}
