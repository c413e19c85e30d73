//! Upgrade Software: the two tabs, per-part checkboxes, and a confirmation listing what will
//! change before anything moves.

mod common;

use common::*;

fn with_3_0(p: &Portal) {
    p.on_ledger(|l| {
        let cat = issuer::Catalog::built_in().unwrap();
        for (part, q) in [("SW-001-3.0-AL01", 30), ("SW-001-3.0-AL02", 35)] {
            l.add_order(&cat, "Contoso", part, q, true, "t").unwrap();
        }
    });
}

#[tokio::test]
async fn the_two_tabs_list_parts_with_and_without_upgrade_options() {
    let p = Portal::new();
    with_3_0(&p);
    let (c, _) = p.login("cert@contoso.example").await;
    let with = p
        .get(&format!("/accounts/{}/upgrade", p.contoso), Some(&c))
        .await
        .text();
    assert!(
        with.contains("name=\"part\" value=\"SW-001-3.0-AL01\""),
        "{with}"
    );
    assert!(!with.contains("SW-001-4.0-SL03"), "{with}");
    let without = p
        .get(
            &format!("/accounts/{}/upgrade?tab=without", p.contoso),
            Some(&c),
        )
        .await
        .text();
    assert!(without.contains("SW-001-4.0-SL03"), "{without}");
    assert!(!without.contains("name=\"part\""), "{without}");
}

#[tokio::test]
async fn only_the_confirmed_parts_move() {
    let p = Portal::new();
    with_3_0(&p);
    let (c, csrf) = p.login("cert@contoso.example").await;
    let base = format!("/accounts/{}/upgrade", p.contoso);
    // Nothing chosen: refused on the form.
    let r = p
        .post_form(&format!("{base}/confirm"), Some(&c), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("id=\"up-parts-error\""), "{}", r.text());
    // One part chosen: the confirmation lists it alone, and nothing moved yet.
    let r = p
        .post_form(
            &format!("{base}/confirm"),
            Some(&c),
            &[("csrf", &csrf), ("part", "SW-001-3.0-AL02")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("What will change"), "{html}");
    assert!(
        html.contains("SW-001-4.0-AL02") && !html.contains("SW-001-3.0-AL01"),
        "{html}"
    );
    let open = |p: &Portal| {
        p.on_ledger(|l| {
            l.orders("Contoso")
                .unwrap()
                .into_iter()
                .filter(|o| o.active && o.part.starts_with("SW-001-3.0"))
                .count()
        })
    };
    assert_eq!(open(&p), 2);
    let r = p
        .post_form(
            &base,
            Some(&c),
            &[("csrf", &csrf), ("part", "SW-001-3.0-AL02")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("1 ordered items moved"), "{}", r.text());
    assert_eq!(open(&p), 1, "the unchecked part stays");
}
