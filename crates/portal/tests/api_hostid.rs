//! The API's live host-ID check, and the pages' use of it.

mod common;

use common::*;

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

postgres_too!(the_host_id_check_explains_typos,);
