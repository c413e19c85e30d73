//! A portal over a fresh ledger with two accounts and a user of every role, called in
//! process (no socket).

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use format::SecretKey;
use hostid::{Components, HostId};
use issuer::location::LedgerLocation;
use issuer::{Catalog, Ledger, Role, SiteDetails};
use portal::service::{AppState, Config};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

/// Users: (email, role, certified, accounts).
pub const USERS: &[(&str, Role, bool, &[&str])] = &[
    ("staff@vendor.example", Role::Staff, false, &[]),
    ("cert@contoso.example", Role::Customer, true, &["Contoso"]),
    ("plain@contoso.example", Role::Customer, false, &["Contoso"]),
    ("pat@partner.example", Role::Partner, true, &["Contoso"]),
    ("una@partner.example", Role::Partner, false, &["Contoso"]),
    ("fab@fabrikam.example", Role::Customer, true, &["Fabrikam"]),
];

thread_local! {
    /// The PostgreSQL ledger of the running test ([`on_postgres`]); `None`: an SQLite file.
    static POSTGRES: std::cell::RefCell<Option<LedgerLocation>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` on a thread of its own: PostgreSQL's client blocks on a runtime of its own, which
/// it may not do on a thread that drives the test's async runtime.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Run a test with its portal's ledger on a fresh PostgreSQL database (dropped afterwards);
/// without a server (`I3LIC_TEST_POSTGRES` unset, outside CI) skipped with one line, in CI a
/// failure.
pub fn on_postgres(test: impl FnOnce()) {
    let Some(db) = store_postgres::testing::fresh_database() else {
        return;
    };
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            POSTGRES.with(|p| *p.borrow_mut() = None);
        }
    }
    let at = LedgerLocation::parse(std::ffi::OsStr::new(&db.url)).expect("a postgres URL");
    POSTGRES.with(|p| *p.borrow_mut() = Some(at));
    let _reset = Reset;
    test();
    drop(db);
}

/// The same route tests again with the ledger on PostgreSQL: `postgres_too!(name, ...)` makes
/// a module `postgres` with a test of each name running the SQLite test on a fresh database
/// ([`on_postgres`]). Their bodies reach the ledger through [`Portal::on_ledger`].
#[macro_export]
macro_rules! postgres_too {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::common::on_postgres(super::$name);
                }
            )*
        }
    };
}

pub struct Portal {
    pub app: axum::Router,
    pub state: Arc<AppState>,
    pub dir: tempfile::TempDir,
    pub key: SecretKey,
    /// Where the ledger is: `dir/ledger.db`, or a PostgreSQL database ([`on_postgres`]).
    pub location: LedgerLocation,
    /// Account ids.
    pub contoso: i64,
    pub fabrikam: i64,
}

pub fn host(n: u8) -> String {
    HostId::from_components(&Components {
        machine_id: Some(format!("{n:02x}").repeat(16)),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .unwrap()
    .to_string()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, k: &str) -> Option<String> {
        self.headers
            .get(k)
            .map(|v| v.to_str().unwrap_or("").to_string())
    }
}

impl Portal {
    pub fn new() -> Portal {
        Portal::with_config(Config::default())
    }

    /// A portal whose default configuration `f` changes.
    pub fn new_with(f: impl FnOnce(&mut Config)) -> Portal {
        let mut c = Config::default();
        f(&mut c);
        Portal::with_config(c)
    }

    /// A portal started with this configuration.
    pub fn with_config(config: Config) -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let path = POSTGRES
            .with(|p| p.borrow().clone())
            .unwrap_or_else(|| LedgerLocation::Sqlite(dir.path().join("ledger.db")));
        off_runtime(|| Portal::set_up(dir, path, config))
    }

    fn set_up(dir: tempfile::TempDir, path: LedgerLocation, config: Config) -> Portal {
        let catalog = Catalog::built_in().unwrap();
        {
            let mut l = Ledger::open_at(&path).unwrap();
            for (a, site) in [("Contoso", "HQ"), ("Fabrikam", "Main")] {
                l.add_account(a, "t").unwrap();
                l.add_site(a, site, &SiteDetails::default(), "t").unwrap();
            }
            for (part, q) in [
                ("SW-001-4.0-SL03", 2),
                ("SW-001-4.0-SS03", 1),
                ("SW-001-4.0-AL02", 50),
                ("SW-001-4.0-AL06", 20),
                ("SW-001-4.0-AL07", 5),
            ] {
                l.add_order(&catalog, "Contoso", part, q, true, "t")
                    .unwrap();
            }
            l.add_order(&catalog, "Fabrikam", "SW-001-4.0-SL03", 1, true, "t")
                .unwrap();
            // One hash for all: argon2id is slow on purpose.
            let hash = portal::auth::hash_password(USERS[0].0, PASSWORD).unwrap();
            for (email, role, cert, accounts) in USERS {
                let accounts: Vec<String> = accounts.iter().map(|s| s.to_string()).collect();
                l.add_portal_user(email, *role, *cert, &accounts, &hash, "t")
                    .unwrap();
            }
        }
        let key = SecretKey::generate();
        let key2 = SecretKey::from_seed(&key.seed());
        let state = Arc::new(AppState::open(&path, catalog, key2, config).unwrap());
        let (contoso, fabrikam) = {
            let l = Ledger::open_at(&path).unwrap();
            let refs = l.account_refs().unwrap();
            let id = |n: &str| refs.iter().find(|a| a.name == n).unwrap().id;
            (id("Contoso"), id("Fabrikam"))
        };
        Portal {
            app: portal::router(state.clone()),
            state,
            dir,
            key,
            location: path,
            contoso,
            fabrikam,
        }
    }

    /// The portal's ledger, opened again (SQLite; on PostgreSQL use [`Portal::on_ledger`]).
    pub fn ledger(&self) -> Ledger {
        Ledger::open_at(&self.location).unwrap()
    }

    /// Run `f` on the portal's ledger, opened again on a thread of its own ([`off_runtime`]):
    /// what a test does to the ledger beside the portal, on either engine.
    pub fn on_ledger<T: Send>(&self, f: impl FnOnce(&mut Ledger) -> T + Send) -> T {
        off_runtime(|| f(&mut self.ledger()))
    }

    pub async fn call(&self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut r = Request::get(path);
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, format!("i3lic_session={c}"));
        }
        self.call(r.body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Answer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut r =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, format!("i3lic_session={c}"));
        }
        self.call(r.body(Body::from(body)).unwrap()).await
    }

    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let mut r = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let b = match body {
            Some(v) => {
                r = r.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.call(r.body(b).unwrap()).await
    }

    /// An API token for a user.
    pub fn token(&self, email: &str) -> String {
        let (t, d) = portal::auth::new_token();
        self.on_ledger(|l| l.add_portal_token(email, &d, "test", "t").unwrap());
        t
    }

    /// Log in through the form; returns the session cookie and its anti-forgery token.
    pub async fn login(&self, email: &str) -> (String, String) {
        let r = self.try_login(email, PASSWORD, None).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "login of {email}: {}",
            r.text()
        );
        let c = cookie_of(&r).expect("login sets a session cookie");
        let page = self.get("/accounts", Some(&c)).await;
        assert_eq!(page.status, StatusCode::OK);
        (c, csrf_of(&page.text()))
    }
}

impl Portal {
    /// The login form, then its post with the form's cookie (and a session cookie, if any).
    pub async fn try_login(&self, email: &str, password: &str, session: Option<&str>) -> Answer {
        self.try_login_from(email, password, session, None, None)
            .await
    }

    /// [`Portal::try_login`] over a connection from `peer`, with an `X-Forwarded-For` header.
    pub async fn try_login_from(
        &self,
        email: &str,
        password: &str,
        session: Option<&str>,
        peer: Option<&str>,
        forwarded_for: Option<&str>,
    ) -> Answer {
        let form = self.get("/login", None).await;
        let token = login_cookie_of(&form).expect("the login page sets its token cookie");
        assert_eq!(csrf_of(&form.text()), token);
        let body = [
            ("csrf", token.as_str()),
            ("email", email),
            ("password", password),
        ]
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
        let mut cookies = format!("i3lic_login={token}");
        if let Some(s) = session {
            cookies.push_str(&format!("; i3lic_session={s}"));
        }
        let mut req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookies);
        if let Some(f) = forwarded_for {
            req = req.header("x-forwarded-for", f);
        }
        let mut req = req.body(Body::from(body)).unwrap();
        if let Some(p) = peer {
            let ip: std::net::IpAddr = p.parse().unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                    ip, 40000,
                )));
        }
        self.call(req).await
    }
}

pub fn login_cookie_of(a: &Answer) -> Option<String> {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("i3lic_login="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty())
}

pub fn enc(s: &str) -> String {
    portal_url_encode(s)
}

fn portal_url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn cookie_of(a: &Answer) -> Option<String> {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("i3lic_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty())
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + 19..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The issuer's request JSON for a production file of Contoso.
pub fn production(host_id: &str, machine: &str, add: &[(&str, u32)]) -> serde_json::Value {
    serde_json::json!({
        "account": "Contoso", "site": "HQ", "product": "CIC", "version": "4.0",
        "type": "production", "host_id": host_id, "machine": machine,
        "server_part": "SW-001-4.0-SL03",
        "add": add.iter().map(|(p, q)| serde_json::json!({"part": p, "quantity": q})).collect::<Vec<_>>(),
    })
}

/// The account's summary, read from the portal's ledger on either engine.
pub fn summary_of(p: &Portal, account: &str) -> issuer::Summary {
    p.on_ledger(|l| {
        l.summary(&issuer::Catalog::built_in().unwrap(), account, None)
            .unwrap()
    })
}

/// A downloaded file verified as the product would: signed by the portal's key, for `host_id`.
pub fn verify_download(p: &Portal, bytes: &[u8], host_id: &str) -> verify::License {
    let trust = verify::TrustStore::new([p.key.public_key().clone()]).unwrap();
    verify::Verifier::for_product(trust, "CIC", "4.0")
        .host(verify::HostSource::Code(host_id.parse().unwrap()))
        .load(bytes)
        .unwrap()
}

/// Run the futures together on this task and wait for all of them.
pub async fn futures_join<F: std::future::Future>(v: Vec<F>) -> Vec<F::Output> {
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

/// The message a page shows after a change was saved.
pub const SAVED: &str = "<p class=\"ok\" role=\"status\">Your changes were saved.</p>";

/// The message cookie a redirect leaves (`i3lic_flash=...`), if any.
pub fn flash_of(r: &Answer) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("i3lic_flash=") && !v.starts_with("i3lic_flash=;"))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

/// Follow a 303 as a browser does (session and message cookies) and check the page there
/// says the change was saved; gives that page's address.
pub async fn follow_saved(p: &Portal, session: &str, r: &Answer) -> String {
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.header("location").expect("a redirect");
    let flash = flash_of(r).expect("the redirect leaves a message");
    let shown = p
        .call(
            Request::get(to.as_str())
                .header("cookie", format!("i3lic_session={session}; {flash}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert!(shown.text().contains(SAVED), "{}", shown.text());
    to
}

/// A production file for Contoso through the API as its certified customer, for host
/// `host(n)` with `seats` of SW-001-4.0-AL02: its id.
pub async fn contoso_file(p: &Portal, n: u8, seats: u32) -> String {
    let t = p.token("cert@contoso.example");
    let r = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            Some(production(&host(n), "ic1", &[("SW-001-4.0-AL02", seats)])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// The id of the portal user with `email`.
pub fn user_id(p: &Portal, email: &'static str) -> i64 {
    p.on_ledger(move |l| {
        l.portal_users()
            .unwrap()
            .into_iter()
            .find(|u| u.email == email)
            .unwrap()
            .id
    })
}

/// The same answer to a page's change: status, redirect and message.
pub fn same_answer(a: &Answer, b: &Answer) {
    assert_eq!(a.status, b.status, "{} / {}", a.text(), b.text());
    assert_eq!(a.header("location"), b.header("location"));
    assert_eq!(flash_of(a), flash_of(b));
}
