//! Answers no license server should give, from a stand-in server on a local port: the client
//! maps each to an error (never a panic), and a guard's heartbeats react to each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use licclient::{Client, Error, Logon, SessionStatus};

/// A stand-in server: answers each request with the next of `answers` (raw HTTP), the last
/// one again when they run out. Records the request lines.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

fn fake(answers: Vec<String>) -> Fake {
    gated(answers, None)
}

/// [`fake`], holding answer `k` back until `gate` is signalled.
fn gated(answers: Vec<String>, gate: Option<(usize, std::sync::mpsc::Receiver<()>)>) -> Fake {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        let mut n = 0;
        for conn in l.incoming() {
            let Ok(conn) = conn else { return };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut r = BufReader::new(conn.try_clone().unwrap());
            // One request per connection: answers close it.
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            s.lock().unwrap().push(line.trim().to_string());
            let mut len = 0;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            if let Some((k, g)) = &gate {
                if n == *k {
                    let _ = g.recv();
                }
            }
            let a = &answers[n.min(answers.len() - 1)];
            n += 1;
            let mut conn: TcpStream = conn;
            let _ = conn.write_all(a.as_bytes());
        }
    });
    Fake { url, seen }
}

fn answer(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const LOGON: &str = r#"{"session":"0123456789abcdef0123456789abcdef","user":"u0","lease_seconds":1,"lease_expires_at":"2030-01-01T00:00:00Z","licenses":["K"],"warnings":["w"]}"#;

#[test]
fn odd_answers_are_errors_that_say_what_came() {
    let cases = [
        (
            answer("500 Internal Server Error", "<html>oops</html>"),
            500,
        ),
        (answer("200 OK", "not json"), 200),
        (answer("201 Created", r#"{"session": 7}"#), 201),
        (answer("202 Accepted", LOGON), 202),
        (answer("418 I'm a teapot", r#"{"error": "flat"}"#), 418),
    ];
    for (raw, status) in cases {
        let f = fake(vec![raw]);
        let c = Client::new(&f.url, "t").unwrap();
        let e = c.open_session(&Logon::user("u0")).unwrap_err();
        let Error::UnexpectedAnswer { status: s, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*s, status, "{message}");
        assert!(e
            .to_string()
            .starts_with("unexpected answer from the license server"));
    }
}

#[test]
fn a_connection_closed_without_an_answer_is_a_transport_error() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            drop(c);
        }
    });
    let e = Client::new(&url, "t").unwrap().health().unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
}

#[test]
fn a_silent_server_times_out() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let h = held.clone();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            h.lock().unwrap().push(c);
        }
    });
    let c = Client::builder(&url, "t")
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = c.health().unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert!(e.to_string().contains("timeout"), "{e}");
}

/// Wait (a minute at most) until the guard's status is no longer `Alive`.
fn settled(g: &licclient::SessionGuard) -> SessionStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = g.status();
        if s != SessionStatus::Alive || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn heartbeats_go_on_through_a_5xx_and_stop_at_a_refusal() {
    let err = |status: &str, kind: &str| {
        answer(
            status,
            &format!(r#"{{"error":{{"kind":"{kind}","message":"m"}}}}"#),
        )
    };
    let (open, gate) = std::sync::mpsc::channel();
    let f = gated(
        vec![
            answer("201 Created", LOGON),
            err("503 Service Unavailable", "store"),
            err("401 Unauthorized", "unauthorized"),
        ],
        Some((2, gate)),
    );
    let c = Client::new(&f.url, "t").unwrap();
    let g = c.logon(Logon::user("u0").lease_seconds(1)).unwrap();
    assert_eq!(g.licenses(), ["K"]);
    assert_eq!(g.warnings(), ["w"]);
    let s = settled(&g);
    assert!(matches!(s, SessionStatus::Unreachable { .. }), "{s:?}");
    assert!(s.is_alive());
    open.send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while g.status().is_alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = g.status();
    let SessionStatus::Refused { error } = &s else {
        panic!("{s:?}")
    };
    assert!(error.contains("401 unauthorized"), "{error}");
    // Stopped for good: the drop does not log off a session it cannot renew either way.
    drop(g);
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[1].starts_with("POST /v1/sessions/0123456789abcdef0123456789abcdef/heartbeat"));
}

#[test]
fn a_guard_dropped_while_alive_logs_off() {
    let f = fake(vec![
        answer("201 Created", LOGON),
        answer("204 No Content", ""),
    ]);
    let c = Client::new(&f.url, "t").unwrap();
    let g = c.logon(Logon::user("u0").lease_seconds(600)).unwrap();
    drop(g);
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].starts_with("DELETE /v1/sessions/0123456789abcdef0123456789abcdef "));
}
