//! A load generator for `licadmin serve` (scripts/serve_bench.py drives it): requests from
//! C client threads, each on its own kept-alive connection, timed one by one. Prints one JSON
//! line: requests, ok, seconds, per_second, p50_ms, p99_ms, first_error.
//!
//! ```text
//! shift_load logon URL --users N [--clients C] [--lease S] [--ids FILE]
//!     logs on u0..u{N-1} (no station); writes the session ids to FILE, one a line
//! shift_load heartbeat URL --ids FILE --count M [--clients C]
//!     M heartbeats, going round the sessions of FILE
//! shift_load logoff URL --ids FILE [--clients C]
//!     logs off every session of FILE
//! ```
//!
//! `--latencies FILE` also writes each request's latency in milliseconds, one a line, for
//! figures over several runs. `--trace FILE` writes one line a request, in the order they
//! started: client thread, its request number, start and latency in milliseconds (to see
//! which requests make the tail). `--warm` opens each client's connection (a `GET /healthz`)
//! before the clock starts, as wrk does.
//!
//! The token comes from `I3LIC_TOKEN` (not an argument, which other users could read).

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use licclient::{Client, Logon};

/// One kind of request, by index of the work list.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Logon,
    Heartbeat,
    Logoff,
}

struct Args {
    mode: Mode,
    url: String,
    users: usize,
    clients: usize,
    lease: u32,
    ids: Option<String>,
    count: usize,
    latencies: Option<String>,
    trace: Option<String>,
    warm: bool,
}

fn value<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or(format!("{flag} needs a value"))?;
    v.parse().map_err(|_| format!("{flag} {v:?} is not valid"))
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mode = match it.next().as_deref() {
        Some("logon") => Mode::Logon,
        Some("heartbeat") => Mode::Heartbeat,
        Some("logoff") => Mode::Logoff,
        m => return Err(format!("the mode is logon, heartbeat or logoff, not {m:?}")),
    };
    let url = it.next().ok_or("give the server URL")?;
    let mut a = Args {
        mode,
        url,
        users: 0,
        clients: 64,
        lease: 600,
        ids: None,
        count: 0,
        latencies: None,
        trace: None,
        warm: false,
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--users" => a.users = value(&flag, it.next())?,
            "--clients" => a.clients = value(&flag, it.next())?,
            "--lease" => a.lease = value(&flag, it.next())?,
            "--ids" => a.ids = Some(value(&flag, it.next())?),
            "--count" => a.count = value(&flag, it.next())?,
            "--latencies" => a.latencies = Some(value(&flag, it.next())?),
            "--trace" => a.trace = Some(value(&flag, it.next())?),
            "--warm" => a.warm = true,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if a.clients == 0 {
        return Err("--clients must be at least 1".into());
    }
    Ok(a)
}

/// The p-th quantile of sorted values (as serve_bench.py computed it before).
fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1e3
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shift_load: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let a = parse()?;
    let token = std::env::var("I3LIC_TOKEN").map_err(|_| "set I3LIC_TOKEN")?;
    let ids: Vec<String> = match (a.mode, &a.ids) {
        (Mode::Logon, _) => Vec::new(),
        (_, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| format!("{f}: {e}"))?
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        (_, None) => return Err("give --ids FILE".into()),
    };
    let n = match a.mode {
        Mode::Logon => a.users,
        Mode::Heartbeat if ids.is_empty() => return Err("no session ids to renew".into()),
        Mode::Heartbeat => a.count,
        Mode::Logoff => ids.len(),
    };
    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    // Session ids of the logons, by user index.
    let opened = Arc::new(Mutex::new(vec![String::new(); n]));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let start = Arc::new(Barrier::new(a.clients + 1));
    let threads: Vec<_> = (0..a.clients)
        .map(|_| {
            // A client of its own: one kept-alive connection per thread.
            let client = Client::new(&a.url, &token).map_err(|e| e.to_string());
            let (ids, next, opened, first_error, start) = (
                ids.clone(),
                next.clone(),
                opened.clone(),
                first_error.clone(),
                start.clone(),
            );
            let (mode, lease, warm) = (a.mode, a.lease, a.warm);
            std::thread::spawn(move || {
                if warm {
                    // The connection opened before the clock starts (as wrk does).
                    if let Ok(c) = &client {
                        let _ = c.health();
                    }
                }
                start.wait();
                let mut lat = Vec::new();
                let mut starts = Vec::new();
                let mut ok = 0usize;
                let client = match client {
                    Ok(c) => c,
                    Err(e) => {
                        first_error.lock().unwrap().get_or_insert(e);
                        return (lat, starts, ok);
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return (lat, starts, ok);
                    }
                    let t = Instant::now();
                    starts.push(t);
                    let r = match mode {
                        Mode::Logon => client
                            .open_session(&Logon::user(format!("u{i}")).lease_seconds(lease))
                            .map(|s| opened.lock().unwrap()[i] = s.session),
                        Mode::Heartbeat => client.heartbeat(&ids[i % ids.len()]).map(|_| ()),
                        Mode::Logoff => client.logoff(&ids[i]),
                    };
                    lat.push(t.elapsed());
                    match r {
                        Ok(()) => ok += 1,
                        Err(e) => {
                            first_error
                                .lock()
                                .unwrap()
                                .get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    let mut lat = Vec::with_capacity(n);
    let mut trace = Vec::with_capacity(n);
    let mut ok = 0;
    for (c, t) in threads.into_iter().enumerate() {
        let (l, s, k) = t.join().map_err(|_| "a client thread failed")?;
        for (j, (d, at)) in l.iter().zip(&s).enumerate() {
            let from = at.saturating_duration_since(t0).as_secs_f64() * 1e3;
            trace.push((from, c, j, d.as_secs_f64() * 1e3));
        }
        lat.extend(l);
        ok += k;
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort();
    if let (Mode::Logon, Some(f)) = (a.mode, &a.ids) {
        let mut text = opened.lock().unwrap().join("\n");
        text.push('\n');
        std::fs::write(f, text).map_err(|e| format!("{f}: {e}"))?;
    }
    if let Some(f) = &a.latencies {
        let text: String = lat
            .iter()
            .map(|d| format!("{:.3}\n", d.as_secs_f64() * 1e3))
            .collect();
        std::fs::write(f, text).map_err(|e| format!("{f}: {e}"))?;
    }
    if let Some(f) = &a.trace {
        trace.sort_by(|x, y| x.0.total_cmp(&y.0));
        let text: String = trace
            .iter()
            .map(|(from, c, j, ms)| format!("{c} {j} {from:.3} {ms:.3}\n"))
            .collect();
        std::fs::write(f, text).map_err(|e| format!("{f}: {e}"))?;
    }
    let out = serde_json::json!({
        "requests": n,
        "ok": ok,
        "seconds": secs,
        "per_second": if secs > 0.0 { n as f64 / secs } else { 0.0 },
        "p50_ms": pct(&lat, 0.5),
        "p99_ms": pct(&lat, 0.99),
        "first_error": *first_error.lock().unwrap(),
    });
    println!("{out}");
    Ok(())
}
