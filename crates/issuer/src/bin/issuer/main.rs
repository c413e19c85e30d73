//! `issuer`: keys, catalog, ledger and activation files for vendor staff.

mod cli;
mod commands;
mod context;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;

use cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = format!("issuer: error: {e}");
            let mut src = std::error::Error::source(&e);
            // thiserror's transparent variants share their inner message; print causes once.
            let mut last = e.to_string();
            while let Some(s) = src {
                let t = s.to_string();
                if !last.contains(&t) {
                    msg.push_str(&format!(": {t}"));
                }
                last = t;
                src = s.source();
            }
            output::eprint_line(&msg);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
