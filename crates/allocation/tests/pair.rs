//! A switchover pair on one PostgreSQL store: two `licadmin serve` processes, each verifying
//! the loaded file as its own host (`--host-id`), share one pool; either survives the other's
//! death; a `licadmin load` on either host reaches both servers (a server the new file does
//! not name keeps the old one and says why); a host neither of the file's hosts names is
//! refused at start. And a server whose database connection is lost answers 503
//! `unavailable` until it has connected again, without a restart.
//!
//! Every test runs on a fresh PostgreSQL database (`I3LIC_TEST_POSTGRES`; skipped without
//! one outside CI, as every PostgreSQL test).

#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use allocation::{Allocator, Method, StoreLocation, SystemClock, Target};
use common::*;
use format::{sign, Chain, FileId, Host, Rules};
use hostid::{Components, HostId};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

/// The switchover host of the pair (the primary is `common::host()`).
fn host_b() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("ffffffffffffffffffffffffffffffff".into()),
        macs: vec![[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        ..Default::default()
    })
    .unwrap()
}

/// A machine the pair's files never name.
fn host_c() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("0123456789abcdef0123456789abcdef".into()),
        macs: vec![[0x02, 0x99, 0x88, 0x77, 0x66, 0x55]],
        ..Default::default()
    })
    .unwrap()
}

/// The files of one update chain, each for the hosts given.
#[derive(Default)]
struct Files {
    /// Lineage, generation and id of the last file.
    last: Option<(FileId, u32, FileId)>,
}

impl Files {
    /// The next file: `pooled` concurrent Client Access licenses, for `primary` and
    /// `switchover`; the text and its file id.
    fn next(
        &mut self,
        primary: HostId,
        switchover: Option<HostId>,
        pooled: u32,
    ) -> (String, String) {
        let mut a = activation(&[(CLIENT, 0, pooled)], Rules::default());
        a.primary_host.host_id = primary;
        a.switchover_host = switchover.map(|h| Host::new(h, "ic2"));
        let (lineage, generation) = match self.last {
            None => (a.file_id, 1),
            Some((lineage, g, previous)) => {
                a.chain = Some(Chain {
                    lineage,
                    generation: g + 1,
                });
                a.supersedes = Some(previous);
                (lineage, g + 1)
            }
        };
        self.last = Some((lineage, generation, a.file_id));
        (sign(&a, &vendor()).unwrap(), a.file_id.to_string())
    }
}

/// A PostgreSQL store holding the pair's first file, users `u0..u{users}` (concurrent,
/// holding Client Access), the trusted key in a folder beside, and a token.
struct Bench {
    dir: tempfile::TempDir,
    store: String,
    token: String,
    files: Files,
    first: String,
}

impl Bench {
    fn new(pooled: u32, users: u32) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("vendor.pub"),
            vendor().public_key().to_text("vendor"),
        )
        .unwrap();
        let loc = location(dir.path());
        let StoreLocation::Postgres(store) = &loc else {
            panic!("the pair's tests run on PostgreSQL");
        };
        let mut files = Files::default();
        let (file, first) = files.next(host(), Some(host_b()), pooled);
        let a = Allocator::open_at(&loc, verifier(), Arc::new(SystemClock)).unwrap();
        a.load(file.as_bytes()).unwrap();
        for i in 0..users {
            let u = format!("u{i}");
            a.add_user(&u, Method::Concurrent, None).unwrap();
            a.allocate(Target::User(&u), &[CLIENT]).unwrap();
        }
        let token = a.create_token("tests").unwrap();
        Bench {
            store: store.clone(),
            dir,
            token,
            files,
            first,
        }
    }

    /// `licadmin --store S --trust vendor.pub --host-id HOST ARGS`.
    fn licadmin(&self, host: &HostId) -> Command {
        let mut c = Command::new(BIN);
        c.env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(&self.store)
            .arg("--trust")
            .arg(self.dir.path().join("vendor.pub"))
            .args(["--host-id", &host.to_string()]);
        c
    }

    /// Write `file` beside the store and `licadmin load` it as `host`.
    fn load(&self, host: &HostId, file: &str) -> std::process::Output {
        let path = self.dir.path().join("new.i3lic");
        std::fs::write(&path, file).unwrap();
        self.licadmin(host).arg("load").arg(&path).output().unwrap()
    }

    /// `licadmin serve` as `host`, once it listens.
    fn serve(&self, host: &HostId) -> Server {
        let mut child = self
            .licadmin(host)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the server did not start: {line:?} {}", log.lock().unwrap()))
            .to_string();
        Server {
            child,
            addr,
            token: self.token.clone(),
            log,
        }
    }
}

/// A running server and what it wrote to standard error.
struct Server {
    child: Child,
    addr: String,
    token: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status and JSON body.
#[derive(Debug)]
struct Resp {
    status: u16,
    body: Value,
}

impl Resp {
    fn kind(&self) -> &str {
        self.body["error"]["kind"].as_str().unwrap_or_default()
    }
}

impl Server {
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.token,
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no response: {text:?}"));
        Resp {
            status: head[9..12].parse().unwrap(),
            body: serde_json::from_str(body).unwrap_or(Value::Null),
        }
    }

    fn get(&self, path: &str) -> Resp {
        self.request("GET", path, None)
    }

    fn post(&self, path: &str, body: Value) -> Resp {
        self.request("POST", path, Some(body))
    }

    fn logon(&self, user: &str) -> Resp {
        self.post("/v1/sessions", json!({ "user": user }))
    }

    /// The id of the file the server uses.
    fn file_id(&self) -> String {
        let r = self.get("/v1/license");
        assert_eq!(r.status, 200, "{r:?}");
        r.body["file_id"].as_str().unwrap().to_string()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// Wait (up to a minute) until `done` holds; `what` names it when it never does.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn session_id(r: &Resp) -> String {
    assert_eq!(r.status, 201, "{r:?}");
    r.body["session"].as_str().unwrap().to_string()
}

/// Two servers, one as each host of the pair, serve one pool: clients racing through both
/// never get more than is licensed, and each server says which host of the file it is.
#[test]
fn the_two_hosts_of_a_pair_serve_one_pool() {
    on_postgres(|| {
        const USERS: u32 = 12;
        const LICENSED: u32 = 3;
        let bench = Bench::new(LICENSED, USERS);
        let a = Arc::new(bench.serve(&host()));
        let b = Arc::new(bench.serve(&host_b()));
        for (s, role) in [(&a, "primary"), (&b, "switchover")] {
            let l = s.get("/v1/license");
            let me: Vec<&Value> = l.body["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h["this_server"] == true)
                .collect();
            assert_eq!(me.len(), 1, "{l:?}");
            assert_eq!(me[0]["role"], role, "{l:?}");
        }
        let threads: Vec<_> = (0..USERS)
            .map(|i| {
                let s = if i % 2 == 0 { a.clone() } else { b.clone() };
                std::thread::spawn(move || s.logon(&format!("u{i}")))
            })
            .collect();
        let results: Vec<Resp> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let won = results.iter().filter(|r| r.status == 201).count();
        assert_eq!(won, LICENSED as usize, "{results:?}");
        assert!(
            results
                .iter()
                .all(|r| r.status == 201 || (r.status == 409 && r.kind() == "no-license")),
            "{results:?}"
        );
        for s in [&a, &b] {
            let report = s.get("/v1/report").body;
            let client = report["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["name"] == CLIENT)
                .unwrap()
                .clone();
            assert_eq!(client["concurrent_in_use"], LICENSED, "{report}");
        }
    });
}

/// One server of the pair is killed: the other renews the sessions opened through it,
/// releases the lapsed one by itself, and gives its seat to a new logon.
#[test]
fn when_one_server_dies_the_other_renews_its_sessions_and_reaps_its_leases() {
    on_postgres(|| {
        let bench = Bench::new(3, 6);
        let mut a = bench.serve(&host());
        let b = bench.serve(&host_b());
        let kept: Vec<String> = ["u0", "u1"]
            .iter()
            .map(|u| session_id(&a.logon(u)))
            .collect();
        // A lease of three seconds: it lapses after the server that made it is dead.
        let lapsing =
            session_id(&a.post("/v1/sessions", json!({ "user": "u2", "lease_seconds": 3 })));
        a.child.kill().unwrap();
        a.child.wait().unwrap();
        // Nobody asks the survivor anything: its reaper ends the lapsed session.
        let watcher = Allocator::open_at(
            &StoreLocation::Postgres(bench.store.clone()),
            verifier(),
            Arc::new(SystemClock),
        )
        .unwrap();
        until(
            "the survivor released the dead server's lapsed lease",
            || watcher.session_end(&lapsing).unwrap().is_some(),
        );
        assert_eq!(
            watcher.session_end(&lapsing).unwrap().unwrap().reason,
            "lease-lapsed"
        );
        for id in &kept {
            let h = b.post(&format!("/v1/sessions/{id}/heartbeat"), json!({}));
            assert_eq!(h.status, 200, "{h:?}");
        }
        // The lapsed seat is back, and only that one.
        session_id(&b.logon("u3"));
        let full = b.logon("u4");
        assert_eq!((full.status, full.kind()), (409, "no-license"), "{full:?}");
    });
}

/// `licadmin load` on either host makes the new file the pool's license for both servers.
/// A file naming only one host, once the store is retargeted to it, is used by that host's
/// server; the other keeps the file it had, says why, and goes on serving.
#[test]
fn a_load_on_either_host_reaches_both_servers() {
    on_postgres(|| {
        let mut bench = Bench::new(3, 6);
        let a = bench.serve(&host());
        let b = bench.serve(&host_b());
        assert_eq!(
            (a.file_id(), b.file_id()),
            (bench.first.clone(), bench.first.clone())
        );
        let mut last = String::new();
        for (loader, pooled) in [(host_b(), 5), (host(), 7)] {
            let (file, id) = bench.files.next(host(), Some(host_b()), pooled);
            let o = bench.load(&loader, &file);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            for s in [&a, &b] {
                until("both servers use the new file", || s.file_id() == id);
                let report = s.get("/v1/report").body;
                let client = report["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|k| k["name"] == CLIENT)
                    .unwrap()
                    .clone();
                assert_eq!(client["concurrent_allowed"], pooled, "{report}");
                until("the server says it reloaded", || {
                    s.log()
                        .contains(&format!("reloaded the license: file {id} is in use"))
                });
            }
            last = id;
        }
        // A file for the primary host alone: host B cannot load it; after the store is
        // retargeted to the primary, host A can.
        let (alone, alone_id) = bench.files.next(host(), None, 9);
        let o = bench.load(&host_b(), &alone);
        assert_eq!(
            o.status.code(),
            Some(12),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = bench
            .licadmin(&host())
            .args(["store", "retarget", "--host", &host().to_string(), "--key"])
            .arg(bench.dir.path().join("vendor.pub"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = bench.load(&host(), &alone);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        until("the primary uses the new file", || a.file_id() == alone_id);
        until("the switchover server says why it keeps its file", || {
            b.log().contains("not used on this host")
        });
        let log = b.log();
        let why = log
            .lines()
            .find(|l| l.contains("not used on this host"))
            .unwrap();
        assert!(why.contains(&last), "{why}");
        assert!(why.contains(&host_b().to_string()), "{why}");
        assert!(why.contains("exit 12"), "{why}");
        assert_eq!(b.file_id(), last);
        session_id(&b.logon("u0"));
        let h = b.get("/healthz");
        assert_eq!(h.status, 200, "{h:?}");
    });
}

/// A host the file does not name (neither of the pair) is refused at start: exit 12, and
/// the message names both of the file's hosts and the one checked.
#[test]
fn a_host_neither_of_the_pair_is_refused_at_start() {
    on_postgres(|| {
        let bench = Bench::new(3, 0);
        let o = bench
            .licadmin(&host_c())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(12), "{err}");
        assert!(o.stdout.is_empty(), "it never listened");
        for h in [host(), host_b(), host_c()] {
            assert!(err.contains(&h.to_string()), "{err}");
        }
        assert!(err.contains("switchover host"), "{err}");
    });
}

/// The name of the database at a PostgreSQL URL.
fn database(url: &str) -> String {
    let path = url.rsplit('/').next().unwrap_or_default();
    path.split('?').next().unwrap_or_default().to_owned()
}

/// The store's database refuses connections and every connection to it is ended (as a
/// restart or a failover does), or it takes them again.
fn refuse_connections(store: &str, refuse: bool) {
    let server = store_postgres::testing::test_server().expect("a test server");
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("admin");
    let name = database(store);
    let mut sql = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {}", !refuse);
    if refuse {
        sql.push_str(&format!(
            "; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ));
    }
    admin.batch_execute(&sql).expect("alter the database");
}

/// The server's database connection is lost: requests and /healthz answer 503
/// `unavailable` (never 500, never a crash) while the database refuses connections, and
/// the server connects again by itself: the session opened before is renewed and new
/// logons work, in the same process.
#[test]
fn a_lost_database_connection_answers_503_until_the_server_reconnects() {
    on_postgres(|| {
        let bench = Bench::new(3, 3);
        let mut s = bench.serve(&host());
        let before = session_id(&s.logon("u0"));
        refuse_connections(&bench.store, true);
        let heartbeat = format!("/v1/sessions/{before}/heartbeat");
        for r in [
            s.get("/healthz"),
            s.logon("u1"),
            s.post(&heartbeat, json!({})),
            s.get("/v1/report"),
            s.get("/healthz"),
        ] {
            assert_eq!((r.status, r.kind()), (503, "unavailable"), "{r:?}");
            assert!(
                r.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("connection"),
                "{r:?}"
            );
        }
        refuse_connections(&bench.store, false);
        until("the server answers again", || {
            let r = s.get("/healthz");
            assert!(r.status == 200 || r.status == 503, "{r:?}");
            r.status == 200
        });
        let h = s.post(&heartbeat, json!({}));
        assert_eq!(h.status, 200, "{h:?}");
        session_id(&s.logon("u1"));
        assert!(
            s.child.try_wait().unwrap().is_none(),
            "the server still runs"
        );
        assert!(!s.log().contains("panicked"), "{}", s.log());
    });
}
