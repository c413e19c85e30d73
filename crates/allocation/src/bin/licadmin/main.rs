//! `licadmin`: a licensed server's license administration over its allocation store.
//!
//! ```text
//! licadmin [--store PATH|URL] [--trust PUB]... [--host-id CODE] [--product P --version V] COMMAND
//! ```
//! The global options are accepted before or after the command. Exit codes follow DESIGN.md
//! (see the `allocation` crate documentation): 0 ok, 2 usage, 3 malformed input, 4 I/O,
//! 10-16 the activation file refused, 20 unknown user / station / organization / session,
//! 21 no license available (or in use by a session), 22 a license rule, 23 out of compliance,
//! 24 a `store copy` target that is not empty.

mod commands;
mod context;
mod error;
mod output;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use commands::*;
pub(crate) use error::CliError;
use output::Output;

/// License administration of a licensed server: load its activation file, manage users,
/// stations and organizations, allocate licenses, log users on and off, report, check
/// compliance.
#[derive(Debug, Parser)]
#[command(name = "licadmin", about, long_about = None, disable_version_flag = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The allocation store: an SQLite file, or a postgres:// URL (a database a switchover
    /// pair or several servers share). Default: $I3LIC_STORE, else
    /// $XDG_DATA_HOME/i3lic/allocation.db, else ~/.local/share/i3lic/allocation.db.
    #[arg(long, value_name = "PATH|URL", global = true)]
    pub(crate) store: Option<PathBuf>,
    /// A trusted vendor public key (.pub); repeat for several. Default: $I3LIC_TRUST
    /// (colon-separated paths).
    #[arg(long = "trust", value_name = "PUB", global = true)]
    pub(crate) trust: Vec<PathBuf>,
    /// Check files as the machine with this host-ID code (default: this machine).
    #[arg(long = "host-id", value_name = "CODE", global = true)]
    pub(crate) host_id: Option<String>,
    /// The product the file must license (with --version; default: any, and the same as the
    /// loaded file's).
    #[arg(long, value_name = "P", global = true, requires = "version")]
    pub(crate) product: Option<String>,
    /// The server version the file must license (with --product).
    #[arg(long, value_name = "V", global = true, requires = "product")]
    pub(crate) version: Option<String>,
    /// JSON output (errors as {"error": {"kind", "message", "exit_code"}} on stdout).
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// The commands; each runs in its module under `commands/`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), generated from these same definitions.
    #[command(after_help = completions::MAN_HELP)]
    Man,
    /// Verify an activation file and make it the server's license (the old one stays on failure).
    Load(load::LoadArgs),
    /// Show which keys a file would leave out of compliance, and by how much, without loading it.
    Preview(preview::PreviewArgs),
    /// The loaded license: file, type, product and version, sold to, site, expiry and grace,
    /// both hosts of a pair (which one this server is), restrictions, features, and every
    /// key with its counts, in words.
    #[command(after_help = license::HELP)]
    License,
    /// Live sessions: user, station or remote number, licenses held, lease expiry.
    #[command(subcommand)]
    Session(session::SessionCmd),
    /// Print this machine's request code: its strong host-ID code and the store's install key
    /// in one pasteable line, for the vendor (a file issued for it can be released with a
    /// receipt). With --check, tell whether a pasted request code is intact.
    Request(request::RequestArgs),
    /// Stop using the loaded file for good and print a release receipt for the vendor: the
    /// store refuses the file's lineage from then on (exit 16), and every session and
    /// allocation is freed.
    #[command(after_help = release::HELP)]
    Release,
    /// Users.
    #[command(subcommand)]
    User(user::UserCmd),
    /// Stations.
    #[command(subcommand)]
    Station(station::StationCmd),
    /// Organizations (tenants).
    #[command(subcommand)]
    Org(org::OrgCmd),
    /// ACD workgroups: the media types each routes, and its members.
    #[command(subcommand)]
    Workgroup(workgroup::WorkgroupCmd),
    /// Add a whole site's users or stations from a CSV file, in one transaction: all or
    /// nothing; an error names the line and the column.
    Import(import::ImportArgs),
    /// Allocate license keys to a user or a station (all or nothing).
    Allocate(allocate::AllocateArgs),
    /// Remove license keys from a user or a station (all or nothing). Refused (exit 21) while
    /// a user is logged on at the station, or the assignable user is logged on, unless --force.
    Deallocate(allocate::DeallocateArgs),
    /// Log a user on; prints the session id.
    Login(session::LoginArgs),
    /// Renew a session's lease.
    #[command(after_help = session::HEARTBEAT_HELP)]
    Heartbeat(session::SessionArg),
    /// End a session.
    #[command(after_help = session::LOGOUT_HELP)]
    Logout(session::SessionArg),
    /// The loaded file (id, type, expiry), then per license key, in words: assignable allowed
    /// and configured, concurrent allowed, configured and in use, notes.
    #[command(after_help = report::HELP)]
    Report,
    /// One event per exceeded license; exit 23 when any.
    #[command(after_help = compliance::HELP)]
    Compliance,
    /// Check every invariant of the store.
    #[command(after_help = check::HELP)]
    Check,
    /// The store's identity: the hosts it serves, the keys it trusts, its history.
    #[command(subcommand)]
    Store(store::StoreCmd),
    /// The license server's bearer tokens.
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Per license key and period: the count licensed, the peak in use and the denials by
    /// reason (assignable/concurrent), from the store's usage history (kept 400 days).
    Usage(usage::UsageArgs),
    /// The recorded events, newest last: time, kind (acquire, release, deny, load, change),
    /// who or what, key, detail.
    Log(log::LogArgs),
    /// Run the license server: JSON routes under /v1/ for applications (bearer tokens from
    /// `licadmin token create`), /healthz and /metrics (Prometheus). Lapsed leases are
    /// released by the server. Prints `listening on ADDR`; stops on SIGINT or SIGTERM.
    Serve(commands::serve::ServeArgs),
}

/// Run the command: the global options first (a bad key or store is reported before
/// anything else), then the commands that open no store of their own, then the rest on the
/// store.
fn run(cli: &Cli) -> Result<Output, CliError> {
    let ctx = context::Context::new(&cli.global)?;
    match &cli.command {
        Command::Request(request::RequestArgs { check: Some(code) }) => {
            return request::check(code)
        }
        Command::Store(store::StoreCmd::Copy { target }) => {
            return store::copy(&ctx.location, &context::store_location(target)?)
        }
        _ => {}
    }
    ctx.with_store(|a| match &cli.command {
        Command::Serve(args) => commands::serve::run(a, args),
        Command::Request(_) => request::request(&a, cli.global.host_id.as_deref()),
        other => dispatch(&a, other),
    })
}

/// The command's module, with the open store.
fn dispatch(a: &allocation::Allocator, cmd: &Command) -> Result<Output, CliError> {
    match cmd {
        Command::Load(args) => load::run(a, args),
        Command::Preview(args) => preview::run(a, args),
        Command::License => license::run(a),
        Command::Session(c) => session::run(a, c),
        Command::Release => release::run(a),
        Command::User(c) => user::run(a, c),
        Command::Station(c) => station::run(a, c),
        Command::Org(c) => org::run(a, c),
        Command::Workgroup(c) => workgroup::run(a, c),
        Command::Import(args) => import::run(a, args),
        Command::Allocate(args) => allocate::allocate(a, args),
        Command::Deallocate(args) => allocate::deallocate(a, args),
        Command::Login(args) => session::login(a, args),
        Command::Heartbeat(args) => session::heartbeat(a, args),
        Command::Logout(args) => session::logout(a, args),
        Command::Report => report::run(a),
        Command::Compliance => compliance::run(a),
        Command::Check => check::run(a),
        Command::Store(c) => store::run(a, c),
        Command::Token(c) => token::run(a, c),
        Command::Usage(args) => usage::run(a, args),
        Command::Log(args) => log::run(a, args),
        // `request` runs from `run`, which has the global --host-id.
        Command::Request(_) => Err(CliError::Usage("request".into())),
        // Handled in main (they need no store) and in run (it keeps the allocator).
        Command::Completions(_) | Command::Man | Command::Serve(_) => {
            Ok(output::out(String::new(), serde_json::json!({})))
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            return output::usage_error(&e);
        }
    };
    if let Some(generated) = completions::generated(&cli.command) {
        return output::raw(&generated);
    }
    output::finish(cli.global.json, &run(&cli))
}
