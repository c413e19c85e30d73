//! Install Sites on the web: add, refuse a duplicate, deactivate, edit.

mod common;

use axum::http::StatusCode;
use common::*;

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
