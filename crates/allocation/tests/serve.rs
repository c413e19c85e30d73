//! `licadmin serve` through real HTTP: the binary started on a free port, requests over TCP.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use allocation::{Allocator, Method, StationKind, SystemClock, Target};
use common::server::*;
use common::*;
use format::Rules;
use serde_json::{json, Value};

const CLIENT: &str = "I3_ACCESS_CLIENT";
const STATION: &str = "I3_LICENSE_BASIC_STATION";

/// A file of `pooled` concurrent Client Access licenses and 2 Basic Stations (assignable),
/// with users `u0..u{users}` (concurrent, holding Client Access) and station `desk-1`
/// (Basic Station).
fn pool(pooled: u32, users: u32) -> Server {
    server(
        Some(&file(
            &[(CLIENT, 0, pooled), (STATION, 2, 0)],
            Rules::default(),
        )),
        |a| {
            for i in 0..users {
                let u = format!("u{i}");
                a.add_user(&u, Method::Concurrent, None).unwrap();
                a.allocate(Target::User(&u), &[CLIENT]).unwrap();
            }
            a.add_station("desk-1", StationKind::Workstation).unwrap();
            a.allocate(Target::Station("desk-1"), &[STATION]).unwrap();
            a.add_station("bare", StationKind::Workstation).unwrap();
        },
    )
}

#[test]
fn logon_heartbeat_and_logoff() {
    let s = pool(2, 1);
    let r = s.post(
        "/v1/sessions",
        json!({"user": "u0", "station": "desk-1", "lease_seconds": 60, "application": "softphone"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["user"], "u0");
    assert_eq!(v["licenses"], json!([CLIENT]));
    assert!(v["warnings"].is_array());
    assert!(v["lease_expires_at"].as_str().unwrap().ends_with('Z'));
    let id = v["session"].as_str().unwrap().to_string();

    let h = s.post(&format!("/v1/sessions/{id}/heartbeat"), json!({}));
    assert_eq!(h.status, 200, "{}", h.body);
    assert!(h.json()["lease_expires_at"].is_string());
    let list = s.get("/v1/sessions").json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(list["sessions"][0]["session"], id.as_str());

    let d = s.delete(&format!("/v1/sessions/{id}"));
    assert_eq!(d.status, 204, "{}", d.body);
    let h = s.post(&format!("/v1/sessions/{id}/heartbeat"), json!({}));
    assert_eq!(h.status, 404);
    assert_eq!(h.kind(), "session-ended");
    assert_eq!(h.json()["error"]["reason"], "logged-off");
    assert_eq!(s.delete(&format!("/v1/sessions/{id}")).status, 404);
    let never = s.post(
        "/v1/sessions/0123456789abcdef0123456789abcdef/heartbeat",
        json!({}),
    );
    assert_eq!(
        (never.status, never.kind().as_str()),
        (404, "unknown-session")
    );
    assert!(s.get("/v1/sessions").json()["sessions"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn every_refusal_is_json_with_its_status_and_kind() {
    let s = pool(1, 2);
    // No token, a wrong one: 401 (the unauthenticated routes answer).
    for t in [None, Some("i3lic_ls_wrong"), Some("")] {
        let r = s.request("GET", "/v1/report", t, None);
        assert_eq!((r.status, r.kind().as_str()), (401, "unauthorized"));
    }
    assert_eq!(s.request("GET", "/healthz", None, None).status, 200);
    let body = |r: &Resp| (r.status, r.kind());
    let bad = s.request("POST", "/v1/sessions", Some(&s.token), Some(b"{not json"));
    assert_eq!(body(&bad), (400, "bad-request".into()));
    let extra = s.post("/v1/sessions", json!({"user": "u0", "colour": "red"}));
    assert_eq!(body(&extra), (400, "bad-request".into()));
    let both = s.post(
        "/v1/sessions",
        json!({"user": "u0", "station": "desk-1", "remote_number": "+13175550100"}),
    );
    assert_eq!(body(&both), (400, "bad-request".into()));
    let lease = s.post("/v1/sessions", json!({"user": "u0", "lease_seconds": 0}));
    assert_eq!(body(&lease), (400, "invalid-input".into()));
    let big = vec![b' '; 70 * 1024];
    let r = s.request("POST", "/v1/sessions", Some(&s.token), Some(&big));
    assert_eq!(body(&r), (413, "payload-too-large".into()));
    assert_eq!(
        body(&s.post("/v1/sessions", json!({"user": "nobody"}))),
        (404, "unknown-user".into())
    );
    assert_eq!(
        body(&s.post("/v1/sessions", json!({"user": "u0", "station": "nowhere"}))),
        (404, "unknown-station".into())
    );
    // A station without a Basic Station license: a rule.
    assert_eq!(
        body(&s.post("/v1/sessions", json!({"user": "u0", "station": "bare"}))),
        (422, "rule-station".into())
    );
    // The one Client Access of the pool taken: the next user is refused, naming the key.
    assert_eq!(s.post("/v1/sessions", json!({"user": "u0"})).status, 201);
    let none = s.post("/v1/sessions", json!({"user": "u1"}));
    assert_eq!(body(&none), (409, "no-license".into()));
    assert!(none.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains(CLIENT));
    assert_eq!(body(&s.get("/v1/nothing")), (404, "not-found".into()));
    assert_eq!(
        body(&s.request("PUT", "/v1/report", Some(&s.token), None)),
        (405, "method-not-allowed".into())
    );
}

#[test]
fn a_dynamic_remote_logon_without_a_station_left_is_told_so() {
    // No Basic Station at all in the file.
    let s = server(Some(&file(&[(CLIENT, 0, 2)], Rules::default())), |a| {
        a.add_user("u0", Method::Concurrent, None).unwrap();
        a.allocate(Target::User("u0"), &[CLIENT]).unwrap();
    });
    let r = s.post(
        "/v1/sessions",
        json!({"user": "u0", "remote_number": "+13175550100"}),
    );
    assert_eq!((r.status, r.kind().as_str()), (409, "no-license"));
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.starts_with("no stations are available"), "{m}");
    assert!(m.contains(STATION), "{m}");
}

#[test]
fn without_a_loaded_file_the_pool_answers_no_license_loaded() {
    let s = server(None, |_| {});
    for path in ["/v1/report", "/v1/compliance", "/v1/license"] {
        let r = s.get(path);
        assert_eq!(
            (r.status, r.kind().as_str()),
            (409, "no-license-loaded"),
            "{path}"
        );
    }
    assert_eq!(s.request("GET", "/healthz", None, None).status, 200);
}

#[test]
fn report_compliance_and_license_answer_as_the_commands_json() {
    let s = pool(2, 1);
    assert_eq!(s.post("/v1/sessions", json!({"user": "u0"})).status, 201);
    let report = s.get("/v1/report").json();
    let cli: Value = serde_json::from_slice(&s.licadmin(&["report", "--json"]).stdout).unwrap();
    assert_eq!(report, cli);
    let client = report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == CLIENT)
        .unwrap();
    assert_eq!(client["concurrent_in_use"], 1);
    let c = s.get("/v1/compliance").json();
    assert_eq!(c, json!({"compliant": true, "events": []}));
    let l = s.get("/v1/license").json();
    let cli: Value = serde_json::from_slice(&s.licadmin(&["license", "--json"]).stdout).unwrap();
    assert_eq!(l, cli);
    assert_eq!(l["product"], "CIC");
    assert_eq!(l["sold_to"], "Contoso");
    assert_eq!(l["hosts"][0]["this_server"], true);
    assert_eq!(l["hosts"][0]["host_id"], host().to_string());
}

#[test]
fn a_lapsed_lease_is_released_by_the_server_alone() {
    let s = pool(1, 2);
    let r = s.post("/v1/sessions", json!({"user": "u0", "lease_seconds": 1}));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["session"].as_str().unwrap().to_string();
    // Nobody asks the server anything: the store is watched directly until the reaper has
    // ended the session.
    let a = s.alloc();
    let deadline = Instant::now() + Duration::from_secs(30);
    let end = loop {
        if let Some(end) = a.session_end(&id).unwrap() {
            break end;
        }
        assert!(
            Instant::now() < deadline,
            "the lapsed session was not released"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(end.reason, "lease-lapsed");
    // The seat is back: another user gets it.
    assert_eq!(s.post("/v1/sessions", json!({"user": "u1"})).status, 201);
    let h = s.post(&format!("/v1/sessions/{id}/heartbeat"), json!({}));
    assert_eq!(h.status, 404);
    assert_eq!(h.json()["error"]["reason"], "lease-lapsed");
}

#[test]
fn clients_racing_for_the_last_licenses_never_get_more_than_licensed() {
    const USERS: u32 = 12;
    const LICENSED: u32 = 3;
    let s = Arc::new(pool(LICENSED, USERS));
    let threads: Vec<_> = (0..USERS)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                let r = s.post("/v1/sessions", json!({"user": format!("u{i}")}));
                (
                    r.status,
                    if r.status == 201 {
                        String::new()
                    } else {
                        r.kind()
                    },
                )
            })
        })
        .collect();
    let results: Vec<(u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let won = results.iter().filter(|(st, _)| *st == 201).count();
    assert_eq!(won, LICENSED as usize, "{results:?}");
    assert!(results
        .iter()
        .all(|(st, k)| *st == 201 || (*st == 409 && k == "no-license")));
    let report = s.alloc().report().unwrap();
    let k = report.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(k.concurrent_in_use, LICENSED);
}

#[test]
fn metrics_show_the_pool_without_a_token() {
    let s = pool(1, 2);
    assert_eq!(s.post("/v1/sessions", json!({"user": "u0"})).status, 201);
    assert_eq!(s.post("/v1/sessions", json!({"user": "u1"})).status, 409);
    let m = s.request("GET", "/metrics", None, None);
    assert_eq!(m.status, 200);
    assert!(
        m.head.contains("content-type: text/plain; version=0.0.4"),
        "{}",
        m.head
    );
    for line in [
        "i3lic_license_allowed{key=\"I3_ACCESS_CLIENT\",method=\"concurrent\"} 1",
        "i3lic_license_allowed{key=\"I3_LICENSE_BASIC_STATION\",method=\"assignable\"} 2",
        "i3lic_license_in_use{key=\"I3_ACCESS_CLIENT\",method=\"concurrent\"} 1",
        "i3lic_license_in_use{key=\"I3_LICENSE_BASIC_STATION\",method=\"assignable\"} 1",
        "i3lic_license_denials_total{key=\"I3_ACCESS_CLIENT\",reason=\"no-license-available\"} 1",
        "i3lic_sessions 1",
        "# TYPE i3lic_license_denials_total counter",
    ] {
        assert!(m.body.lines().any(|l| l == line), "{line} in\n{}", m.body);
    }
}

/// Every route the server has is in the OpenAPI document, and every documented one answers.
#[test]
fn the_openapi_document_matches_the_routes() {
    let s = pool(1, 1);
    let doc = s.request("GET", "/v1/openapi.json", None, None).json();
    assert_eq!(doc["openapi"], "3.1.0");
    // Made from the request and response types.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["CheckoutRequest"]["required"], json!(["key"]));
    assert_eq!(schemas["Logon"]["required"], json!(["user"]));
    assert!(schemas["KeyReport"]["properties"]["checkouts_in_use"].is_object());
    assert_eq!(
        doc["paths"]["/v1/checkouts"]["post"]["responses"]["201"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/CheckoutBody"
    );
    let src = include_str!("../src/bin/licadmin/serve/mod.rs");
    let mut routed: Vec<String> = src
        .match_indices(".route(")
        .map(|(i, _)| {
            let rest = src[i + 7..].trim_start().strip_prefix('"').unwrap();
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect();
    routed.sort();
    let mut documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    documented.sort();
    assert_eq!(documented, routed, "document paths vs routes");
    for path in documented {
        let concrete = path.replace("{id}", "0123456789abcdef0123456789abcdef");
        for m in doc["paths"][&path].as_object().unwrap().keys() {
            let body = (m == "post").then_some(&b"{}"[..]);
            let r = s.request(&m.to_uppercase(), &concrete, Some(&s.token), body);
            assert_ne!(r.status, 405, "{m} {path} is routed");
            assert!(
                !(r.status == 404 && r.kind() == "not-found"),
                "{m} {path} is routed"
            );
            assert!(r.status < 500, "{m} {path}: {}", r.body);
        }
    }
}

#[test]
fn tokens_are_made_listed_and_revoked() {
    let s = pool(1, 1);
    let o = s.licadmin(&["token", "create", "phones"]);
    assert!(o.status.success());
    let phones = String::from_utf8(o.stdout).unwrap().trim().to_string();
    assert!(
        phones.starts_with("i3lic_ls_") && phones.len() > 40,
        "{phones}"
    );
    // The token itself is kept nowhere in the store, only its digest.
    let list: Value =
        serde_json::from_slice(&s.licadmin(&["token", "list", "--json"]).stdout).unwrap();
    let names: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["phones", "tests"]);
    assert!(!list.to_string().contains(&phones));
    assert_eq!(
        s.request("GET", "/v1/report", Some(&phones), None).status,
        200
    );
    // A name in use is refused; revoking an unknown token is exit 20.
    assert_eq!(
        s.licadmin(&["token", "create", "phones"]).status.code(),
        Some(3)
    );
    assert_eq!(
        s.licadmin(&["token", "revoke", "nope"]).status.code(),
        Some(20)
    );
    assert!(s.licadmin(&["token", "revoke", "phones"]).status.success());
    // The server trusts the live tokens it read for at most a second (the documented
    // bound): past it, the revoked token is refused.
    std::thread::sleep(Duration::from_millis(1_100));
    let r = s.request("GET", "/v1/report", Some(&phones), None);
    assert_eq!((r.status, r.kind().as_str()), (401, "unauthorized"));
    assert_eq!(
        s.get("/v1/report").status,
        200,
        "the other token still works"
    );
    let list: Value =
        serde_json::from_slice(&s.licadmin(&["token", "list", "--json"]).stdout).unwrap();
    assert!(list["tokens"][0]["revoked_at"].is_i64());
    assert!(list["tokens"][1]["revoked_at"].is_null());
}

fn other_host() -> hostid::HostId {
    hostid::HostId::from_components(&hostid::Components {
        machine_id: Some("ffffffffffffffffffffffffffffffff".into()),
        macs: vec![[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn a_file_the_server_refuses_stops_it_with_the_files_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vendor.pub"),
        vendor().public_key().to_text("vendor"),
    )
    .unwrap();
    let loc = location(dir.path());
    Allocator::open_at(&loc, verifier(), Arc::new(SystemClock))
        .unwrap()
        .load(file(&[(CLIENT, 1, 1)], Rules::default()).as_bytes())
        .unwrap();
    let o = Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .env_remove("I3LIC_STORE")
        .arg("--store")
        .arg(store_arg(&loc))
        .arg("--trust")
        .arg(dir.path().join("vendor.pub"))
        .args(["--host-id", &other_host().to_string()])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(12),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty());
}

/// Another server on the same store (a second license server sharing the pool), with the
/// same token.
fn second(first: &Server) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        first.dir.path().join("vendor.pub"),
        dir.path().join("vendor.pub"),
    )
    .unwrap();
    start(dir, first.store.clone(), first.token.clone())
}

/// Two servers on one store serve one pool: clients racing through both never get more
/// than is licensed, and when one server is killed the other renews and ends the sessions
/// it started.
#[test]
fn two_servers_share_one_pool_and_outlive_each_other() {
    const USERS: u32 = 12;
    const LICENSED: u32 = 3;
    let a = Arc::new(pool(LICENSED, USERS));
    let b = Arc::new(second(&a));
    let threads: Vec<_> = (0..USERS)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                let r = s.post("/v1/sessions", json!({"user": format!("u{i}")}));
                (r.status, r.json())
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let won: Vec<String> = results
        .iter()
        .filter(|(st, _)| *st == 201)
        .map(|(_, v)| v["session"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(won.len(), LICENSED as usize, "{results:?}");
    assert!(results
        .iter()
        .all(|(st, v)| *st == 201 || (*st == 409 && v["error"]["kind"] == "no-license")));
    // One server dies; the other renews every session, whichever server started it, and
    // ends them: the pool is whole again.
    // (Its folder, which holds an SQLite store, stays until the end.)
    let mut a = Arc::into_inner(a).unwrap();
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    for id in &won {
        let h = b.post(&format!("/v1/sessions/{id}/heartbeat"), json!({}));
        assert_eq!(h.status, 200, "{}", h.body);
    }
    assert_eq!(
        b.alloc()
            .report()
            .unwrap()
            .keys
            .iter()
            .find(|k| k.name == CLIENT)
            .unwrap()
            .concurrent_in_use,
        LICENSED
    );
    for id in &won {
        assert_eq!(b.delete(&format!("/v1/sessions/{id}")).status, 204);
    }
    let k = b.alloc().report().unwrap();
    let k = k.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(k.concurrent_in_use, 0);
}

postgres_too!(
    two_servers_share_one_pool_and_outlive_each_other,
    logon_heartbeat_and_logoff,
    every_refusal_is_json_with_its_status_and_kind,
    a_lapsed_lease_is_released_by_the_server_alone,
    clients_racing_for_the_last_licenses_never_get_more_than_licensed,
    tokens_are_made_listed_and_revoked,
);

/// A session says what the user may now use: licenses assigned to the user count as much as
/// those the logon acquired (which `acquired` lists on its own).
#[test]
fn a_session_lists_the_assigned_licenses_too() {
    let s = server(
        Some(&file(&[(CLIENT, 2, 1), (STATION, 2, 0)], Rules::default())),
        |a| {
            a.add_user("ann", Method::Assignable, None).unwrap();
            a.allocate(Target::User("ann"), &[CLIENT]).unwrap();
            a.add_user("cal", Method::Concurrent, None).unwrap();
            a.allocate(Target::User("cal"), &[CLIENT]).unwrap();
        },
    );
    let ann = s.post("/v1/sessions", json!({"user": "ann"}));
    assert_eq!(ann.status, 201, "{}", ann.body);
    assert_eq!(ann.json()["licenses"], json!([CLIENT]));
    assert_eq!(ann.json()["acquired"], json!([]));
    let cal = s.post("/v1/sessions", json!({"user": "cal"}));
    assert_eq!(cal.status, 201, "{}", cal.body);
    assert_eq!(cal.json()["licenses"], json!([CLIENT]));
    assert_eq!(cal.json()["acquired"], json!([CLIENT]));
}

/// A denial reaches the system log (here a socket of the test's own, where a server would
/// find `/dev/log`) as one entry with its priority, naming the user and the key.
#[cfg(unix)]
#[test]
fn a_denial_goes_to_the_system_log() {
    use std::os::unix::net::UnixDatagram;
    let logdir = tempfile::tempdir().unwrap();
    let path = logdir.path().join("log");
    let log = UnixDatagram::bind(&path).unwrap();
    log.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // One concurrent Client Access license and two users holding it: the second logon is
    // denied. (A second server on the store, started with the test's log socket.)
    let first = pool(1, 2);
    let store = first.store.clone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        first.dir.path().join("vendor.pub"),
        dir.path().join("vendor.pub"),
    )
    .unwrap();
    let s = start_with(
        dir,
        store,
        first.token.clone(),
        &[("I3LIC_SYSLOG_SOCKET", path.as_os_str())],
    );
    assert_eq!(s.post("/v1/sessions", json!({"user": "u0"})).status, 201);
    assert_eq!(s.post("/v1/sessions", json!({"user": "u1"})).status, 409);
    let mut buf = [0u8; 2048];
    let mut entries = Vec::new();
    while !entries
        .iter()
        .any(|e: &String| e.contains("denied a logon of u1"))
    {
        let n = log.recv(&mut buf).expect("an entry in the system log");
        entries.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let denial = entries
        .iter()
        .find(|e| e.contains("denied a logon of u1"))
        .unwrap();
    assert!(denial.starts_with("<29>licadmin["), "{denial}");
    assert!(denial.contains(CLIENT), "{denial}");
}

// Seed 001, Notes for ACD Routing of Multimedia: "A warning message appears, stating that the
// system limits the ACD interaction types that the user receives until you resolve the
// licensing problem." A client logging on through the server is told too.
#[test]
fn a_logon_short_of_its_workgroups_media_types_is_warned_in_the_response() {
    let s = server(
        Some(&file(
            &[(CLIENT, 2, 0), ("I3_ACCESS_ACD_MEDIA_1", 2, 0)],
            Rules::default(),
        )),
        |a| {
            a.add_user("ann", Method::Assignable, None).unwrap();
            a.allocate(Target::User("ann"), &[CLIENT, "I3_ACCESS_ACD_MEDIA_1"])
                .unwrap();
            a.add_workgroup("support", &["call", "chat"]).unwrap();
            a.add_workgroup_member("support", "ann").unwrap();
        },
    );
    let r = s.post("/v1/sessions", json!({"user": "ann"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let warnings = r.json()["warnings"].clone();
    let w = warnings[0].as_str().unwrap_or_else(|| panic!("{}", r.body));
    assert!(w.contains("until you resolve the licensing problem"), "{w}");
    assert!(w.ends_with("it will not receive chat"), "{w}");
}
