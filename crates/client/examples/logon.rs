//! Log a user on to a license server, hold the session while its lease is renewed, log off.
//!
//! ```text
//! cargo run -p licclient --example logon -- URL USER [SECONDS] [--station S] [--ca CA.pem]
//! ```
//!
//! The token comes from `I3LIC_TOKEN` (`licadmin token create NAME` prints one); URL and USER
//! may also come from `I3LIC_SERVER` and `I3LIC_USER`. SECONDS is how long to hold (default 10).

use std::process::ExitCode;
use std::time::Duration;

use licclient::{Client, Logon};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logon: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut positional = Vec::new();
    let (mut station, mut ca) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--station" => station = Some(args.next().ok_or("--station needs a name")?),
            "--ca" => ca = Some(args.next().ok_or("--ca needs a PEM file")?),
            _ => positional.push(a),
        }
    }
    let mut positional = positional.into_iter();
    let url = positional
        .next()
        .or_else(|| std::env::var("I3LIC_SERVER").ok())
        .ok_or("give the server URL (or set I3LIC_SERVER)")?;
    let user = positional
        .next()
        .or_else(|| std::env::var("I3LIC_USER").ok())
        .ok_or("give the user (or set I3LIC_USER)")?;
    let hold: u64 = match positional.next() {
        Some(s) => s
            .parse()
            .map_err(|_| format!("{s:?} is not a number of seconds"))?,
        None => 10,
    };
    let token = std::env::var("I3LIC_TOKEN")
        .map_err(|_| "set I3LIC_TOKEN to a token of `licadmin token create NAME`")?;
    let mut builder = Client::builder(&url, &token);
    if let Some(path) = ca {
        let pem = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
        builder = builder.ca_pem(pem);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let mut logon = Logon::user(user)
        .lease_seconds(30)
        .application("licclient example");
    if let Some(s) = station {
        logon = logon.station(s);
    }
    let session = client.logon(logon).map_err(|e| e.to_string())?;
    println!(
        "session {} until {}",
        session.id(),
        session.lease_expires_at()
    );
    println!("licenses: {}", session.licenses().join(", "));
    for w in session.warnings() {
        println!("warning: {w}");
    }
    for _ in 0..hold {
        std::thread::sleep(Duration::from_secs(1));
        if !session.status().is_alive() {
            return Err(format!("the session ended: {:?}", session.status()));
        }
    }
    session.logoff().map_err(|e| e.to_string())?;
    println!("logged off");
    Ok(())
}
