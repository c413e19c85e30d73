//! `issuer`: keys, catalog, ledger and activation files for vendor staff.

mod cli;
mod commands;
mod config;
mod context;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;

use cli::Cli;

/// Whether `--json` was given (looked for in the raw arguments, so that an error clap finds
/// in them is reported as JSON too). Arguments after `--` are values, not flags.
fn json_requested() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// Print the `--json` error object on standard output (a closed standard output is ignored:
/// the exit code still says what happened).
fn print_json_error(v: &serde_json::Value) {
    let mut out = output::Out::stdout();
    let _ = output::print_json(&mut out, v);
    let _ = std::io::Write::flush(&mut out);
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            if code != 0 && json_requested() {
                let msg = e.render().to_string();
                let first = msg
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("usage error")
                    .trim_start_matches("error: ");
                print_json_error(&error::json_error("usage", first, 2));
            }
            return ExitCode::from(code);
        }
    };
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::eprint_line(&format!("issuer: error: {}", e.message()));
            // `audit verify --json` has put the error into its report already.
            if cli.json && !matches!(e, error::CliError::AuditBroken(_)) {
                print_json_error(&e.to_json());
            }
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
