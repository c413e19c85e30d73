//! Login and logout: sessions safe from fixation, cookies, where `next` may lead, and the
//! throttling of failed logins per account and per client.

mod common;

use axum::http::StatusCode;
use common::*;
use portal::auth;

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

fn auth_failures() -> u32 {
    portal::auth::MAX_FAILURES
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

postgres_too!(
    sessions_are_fixation_safe_and_end_at_logout,
    login_throttling_counts_failures_per_client_and_account,
);
