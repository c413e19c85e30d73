//! A licensed server in miniature: refuses to start on a bad activation file, reloads its file
//! on SIGHUP (as `lmreread` does for FlexNet) and keeps the old license if the new file fails.
//!
//! ```sh
//! cargo run -p i3lic-verify --example server -- FILE [--state STATE] [--host-id CODE] [--run-for SECS]
//! kill -HUP <pid>      # after replacing FILE
//! ```
//! The trusted keys are compiled in (here the public demo key); a real server lists its
//! vendor's keys the same way.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use format::Timestamp;
use verify::{HostSource, License, LicenseHandle, StateFile, TrustStore, Verifier, VerifyError};

/// The vendor keys this server trusts, compiled in. Several allow key rotation.
const TRUSTED_KEYS: &[&str] = &[verify::DEMO_PUBLIC_KEY];
/// What this build is.
const PRODUCT: &str = "CIC";
const VERSION: &str = "4.0";

struct Args {
    file: PathBuf,
    state: Option<PathBuf>,
    host_id: Option<String>,
    run_for: Option<u64>,
}

const HELP: &str = "\
A licensed server in miniature: loads FILE at startup (refusing to start on a bad file),
reloads it on SIGHUP keeping the old license if the new file fails, and re-checks it while
running.

Usage: server FILE [--state STATE] [--host-id CODE] [--run-for SECS]

Options:
  --state STATE    the server's state file (clock and rollback guard)
  --host-id CODE   check as the machine with this host-ID code instead of this machine
  --run-for SECS   stop after SECS seconds (default: run until interrupted)
  -h, --help       print this help

Examples:
  server /etc/cic/license.i3lic --state /var/lib/cic/license-state.json
  kill -HUP <pid>      # after replacing the file
";

/// `Ok(None)` when help was asked for.
fn parse_args() -> Result<Option<Args>, String> {
    let mut it = std::env::args().skip(1);
    let mut file = None;
    let mut args = Args {
        file: PathBuf::new(),
        state: None,
        host_id: None,
        run_for: None,
    };
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--state" => args.state = Some(value("--state")?.into()),
            "--host-id" => args.host_id = Some(value("--host-id")?),
            "--run-for" => {
                args.run_for = Some(
                    value("--run-for")?
                        .parse()
                        .map_err(|_| "--run-for takes whole seconds".to_string())?,
                )
            }
            s if s.starts_with("--") => return Err(format!("unknown flag {s}")),
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => return Err("one activation file only".into()),
        }
    }
    args.file = file.ok_or(
        "usage: server FILE [--state STATE] [--host-id CODE] [--run-for SECS] (--help for more)",
    )?;
    Ok(Some(args))
}

fn describe(l: &License) {
    println!(
        "licensed: {} {} {} for {} at {}, {} host {}, expires {}{}",
        l.product(),
        l.product_version(),
        l.license_type().label(),
        l.sold_to(),
        l.install_site(),
        l.role(),
        l.matched_host().machine,
        if l.is_perpetual() {
            "never".to_string()
        } else {
            l.expires_at().to_string()
        },
        if l.hourly_disconnect() {
            " (development: interactions disconnect hourly)"
        } else {
            ""
        }
    );
    println!("  features: {}", l.features().join(", "));
    for c in l.licenses().iter().take(5) {
        println!("  {}: {} assigned, {} pooled", c.name, c.assigned, c.pooled);
    }
    if l.licenses().len() > 5 {
        println!("  ... {} license keys in all", l.licenses().len());
    }
    for w in l.warnings() {
        println!("  warning: {w}");
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("server: {e}");
            return ExitCode::from(2);
        }
    };
    let trust = match TrustStore::from_texts(TRUSTED_KEYS) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("server: the compiled-in trust store is broken: {e}");
            return ExitCode::from(1);
        }
    };
    let mut verifier = Verifier::for_product(trust, PRODUCT, VERSION);
    if let Some(code) = &args.host_id {
        match code.parse() {
            Ok(id) => verifier = verifier.host(HostSource::Code(id)),
            Err(e) => {
                eprintln!("server: --host-id: {e}");
                return ExitCode::from(3);
            }
        }
    }
    if let Some(state) = &args.state {
        verifier = verifier.state_file(StateFile::new(state));
    }

    // Refuse to start on a bad file, saying why.
    let handle = match LicenseHandle::open(verifier, &args.file) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("server: refusing to start: {e}");
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1));
        }
    };
    println!("server: started (pid {})", std::process::id());
    describe(&handle.current());

    let reload = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGHUP, reload.clone()) {
        eprintln!("server: cannot watch SIGHUP: {e}");
        return ExitCode::from(1);
    }

    let started = Instant::now();
    let mut last_check = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if reload.swap(false, Ordering::SeqCst) {
            println!("server: SIGHUP: reloading {}", args.file.display());
            match handle.reload_file(&args.file) {
                Ok(l) => {
                    println!("server: new license in use");
                    describe(&l);
                }
                Err(e) => println!(
                    "server: reload refused, keeping the current license ({}): {e}",
                    handle.current().file_id()
                ),
            }
        }
        // A running server re-checks the window and records the time it has seen.
        if last_check.elapsed() >= Duration::from_secs(60) {
            last_check = Instant::now();
            let now = Timestamp::now();
            if !handle.current().usable_at(now) {
                eprintln!("server: the license is no longer valid (expired past its grace period); stopping");
                return ExitCode::from(13);
            }
            match handle.verifier().record_time() {
                Ok(()) => {}
                // Another process (an administrator's licverify) held the state lock too
                // long: nothing was recorded; try again at the next check.
                Err(e @ VerifyError::StateLocked { .. }) => {
                    eprintln!("server: {e}; will retry in a minute");
                }
                Err(e) => {
                    eprintln!("server: {e}; stopping");
                    return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1));
                }
            }
        }
        if args
            .run_for
            .is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
        {
            println!("server: stopping");
            return ExitCode::SUCCESS;
        }
    }
}
