//! The Rust client (licclient) against a real `licadmin serve`: the binary started on a free
//! port, on a store set up in process.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use allocation::{Allocator, Method, StationKind, StoreLocation, SystemClock, Target};
use common::*;
use format::{Rules, Timestamp};
use licclient::{Client, Error, Logon, SessionStatus};

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

/// A store, the trusted key beside it, and a server on it.
struct Server {
    dir: tempfile::TempDir,
    loc: StoreLocation,
    child: Child,
    url: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn licadmin(&self, args: &[&str]) -> Command {
        let store = match &self.loc {
            StoreLocation::Sqlite(p) => p.display().to_string(),
            StoreLocation::Postgres(url) => url.clone(),
        };
        let mut c = Command::new(BIN);
        c.env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(store)
            .arg("--trust")
            .arg(self.dir.path().join("vendor.pub"))
            .arg("--host-id")
            .arg(host().to_string())
            .args(args);
        c
    }

    fn client(&self) -> Client {
        Client::new(&self.url, &self.token).unwrap()
    }

    /// Another allocator on the server's store.
    fn alloc(&self) -> Allocator {
        Allocator::open_at(&self.loc, verifier(), Arc::new(SystemClock)).unwrap()
    }
}

/// One concurrent Client Access license and 2 Basic Stations, users `u0` and `u1` holding
/// Client Access, station `desk-1`; a token; a server (over TLS with `tls`: certificate and
/// key files).
fn pool(tls: Option<(&Path, &Path)>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vendor.pub"),
        vendor().public_key().to_text("vendor"),
    )
    .unwrap();
    let loc = location(dir.path());
    {
        let a = Allocator::open_at(&loc, verifier(), Arc::new(SystemClock)).unwrap();
        a.load(file(&[(CLIENT, 0, 1), (BASIC, 2, 0)], Rules::default()).as_bytes())
            .unwrap();
        for u in ["u0", "u1"] {
            a.add_user(u, Method::Concurrent, None).unwrap();
            a.allocate(Target::User(u), &[CLIENT]).unwrap();
        }
        a.add_station("desk-1", StationKind::Workstation).unwrap();
        a.allocate(Target::Station("desk-1"), &[BASIC]).unwrap();
    }
    let mut s = Server {
        dir,
        loc,
        child: Command::new("true").spawn().unwrap(),
        url: String::new(),
        token: String::new(),
    };
    let o = s.licadmin(&["token", "create", "tests"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s.token = String::from_utf8(o.stdout).unwrap().trim().to_string();
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    let files;
    if let Some((cert, key)) = tls {
        files = [cert.display().to_string(), key.display().to_string()];
        args.extend(["--tls-cert", &files[0], "--tls-key", &files[1]]);
    }
    let _ = s.child.wait();
    s.child = s
        .licadmin(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = s.child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("server did not start: {line:?}"));
    let scheme = if tls.is_some() { "https" } else { "http" };
    s.url = format!("{scheme}://{addr}");
    s
}

/// Poll `done` every 50 ms until it holds; fails after a minute.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_guard_keeps_a_short_lease_alive_and_dropping_it_frees_the_license() {
    let s = pool(None);
    let c = s.client();
    let guard = c
        .logon(Logon::user("u0").lease_seconds(3).application("tests"))
        .unwrap();
    assert_eq!(guard.licenses(), [CLIENT]);
    assert!(guard.status().is_alive());
    let first = Timestamp::from_str(&guard.lease_expires_at()).unwrap();
    // Past the first lease's end, the server (which releases lapsed leases before listing)
    // still lists the session: the heartbeats renewed it.
    until("the first lease's end to pass", || {
        let listed = c.sessions().unwrap();
        assert!(
            listed.iter().any(|l| l.session == guard.id()),
            "the session lapsed: {:?}",
            guard.status()
        );
        Timestamp::now().unix() > first.unix() + 1
    });
    assert_eq!(guard.status(), SessionStatus::Alive);
    assert!(
        Timestamp::from_str(&guard.lease_expires_at())
            .unwrap()
            .unix()
            > first.unix()
    );
    // The one license is held: the other user is refused with a typed error.
    let refused = c.open_session(&Logon::user("u1")).unwrap_err();
    let Error::NoLicense(r) = &refused else {
        panic!("not NoLicense: {refused:?}")
    };
    assert_eq!((r.status, r.kind.as_str()), (409, "no-license"));
    assert!(r.message.contains(CLIENT), "{}", r.message);
    assert!(refused
        .to_string()
        .starts_with("no license is available (409 no-license: "));
    let id = guard.id().to_string();
    drop(guard);
    assert_eq!(
        s.alloc().session_end(&id).unwrap().unwrap().reason,
        "logged-off"
    );
    assert!(c.sessions().unwrap().is_empty());
    assert_eq!(c.open_session(&Logon::user("u1")).unwrap().user, "u1");
}

#[test]
fn a_session_ended_by_logging_on_elsewhere_is_told_by_its_guard() {
    let s = pool(None);
    let c = s.client();
    let guard = c
        .logon(Logon::user("u0").station("desk-1").lease_seconds(3))
        .unwrap();
    let other = c.open_session(&Logon::user("u0")).unwrap();
    until("the guard to see its session end", || {
        !guard.status().is_alive()
    });
    assert_eq!(
        guard.status(),
        SessionStatus::Ended {
            reason: Some("logged-on-elsewhere".into()),
            message: guard_message(&guard),
        }
    );
    drop(guard);
    // The session that replaced it is untouched.
    let listed = c.sessions().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].session, other.session);
}

/// The message of an ended guard's status.
fn guard_message(g: &licclient::SessionGuard) -> String {
    match g.status() {
        SessionStatus::Ended { message, .. } => {
            assert!(message.contains("logged on elsewhere"), "{message}");
            message
        }
        s => panic!("not ended: {s:?}"),
    }
}

#[test]
fn a_wrong_token_is_unauthorized() {
    let s = pool(None);
    let c = Client::new(&s.url, "i3lic_ls_wrong").unwrap();
    for e in [
        c.sessions().unwrap_err(),
        c.logon(Logon::user("u0")).unwrap_err(),
    ] {
        let Error::Unauthorized(r) = &e else {
            panic!("not Unauthorized: {e:?}")
        };
        assert_eq!((r.status, r.kind.as_str()), (401, "unauthorized"));
        assert!(e.to_string().contains("refused the token"), "{e}");
    }
    // The routes without a token still answer.
    c.health().unwrap();
    assert!(c.metrics().unwrap().contains("i3lic_sessions 0"));
}

#[test]
fn the_plain_calls_answer_as_the_routes() {
    let s = pool(None);
    let c = s.client();
    let sess = c
        .open_session(&Logon::user("u0").lease_seconds(60))
        .unwrap();
    assert_eq!(sess.lease_seconds, Some(60));
    assert_eq!(sess.acquired, [CLIENT]);
    assert!(c.heartbeat(&sess.session).unwrap().ends_with('Z'));
    assert!(c
        .metrics()
        .unwrap()
        .lines()
        .any(|l| l == "i3lic_sessions 1"));
    c.logoff(&sess.session).unwrap();
    let e = c.heartbeat(&sess.session).unwrap_err();
    let Error::SessionEnded(r) = &e else {
        panic!("not SessionEnded: {e:?}")
    };
    assert_eq!(r.reason.as_deref(), Some("logged-off"));
    assert!(matches!(
        c.logoff(&sess.session),
        Err(Error::SessionEnded(_))
    ));
    // An id reaches the server as it is, inside its path segment.
    let e = c.heartbeat("../../healthz").unwrap_err();
    assert_eq!((e.status(), e.kind()), (Some(400), Some("invalid-input")));
    assert!(e.to_string().contains("../../healthz"), "{e}");
    let e = c.open_session(&Logon::user("nobody")).unwrap_err();
    assert_eq!((e.status(), e.kind()), (Some(404), Some("unknown-user")));
    assert!(matches!(e, Error::Refused(_)));
    // An explicit logoff of a guard frees the license at once.
    let g = c.logon(Logon::user("u0")).unwrap();
    let id = g.id().to_string();
    g.logoff().unwrap();
    assert_eq!(
        s.alloc().session_end(&id).unwrap().unwrap().reason,
        "logged-off"
    );
}

postgres_too!(
    a_guard_keeps_a_short_lease_alive_and_dropping_it_frees_the_license,
    a_session_ended_by_logging_on_elsewhere_is_told_by_its_guard,
);

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the tests need the openssl command");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A server with a certificate of a CA of its own is trusted with that CA, and not without.
#[test]
fn a_server_with_its_own_ca_is_trusted_when_given_the_ca() {
    let pki = tempfile::tempdir().unwrap();
    let d = pki.path();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let args = |s: String| s.split(' ').map(String::from).collect::<Vec<_>>();
    let run = |s: String| openssl(d, &args(s).iter().map(String::as_str).collect::<Vec<_>>());
    run(format!(
        "req -x509 {ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=licclient-test-CA"
    ));
    run(format!(
        "req {ec} -keyout server.key -out server.csr -subj /CN=localhost"
    ));
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf".into());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = pool(Some((&d.join("server.pem"), &d.join("server.key"))));
    let ca = std::fs::read(d.join("ca.pem")).unwrap();
    let c = Client::builder(&s.url, &s.token)
        .ca_pem(ca)
        .build()
        .unwrap();
    c.health().unwrap();
    let g = c.logon(Logon::user("u0")).unwrap();
    assert_eq!(g.licenses(), [CLIENT]);
    g.logoff().unwrap();
    // The public roots do not know the test's CA.
    let e = s.client().health().unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.is_transient());
}
