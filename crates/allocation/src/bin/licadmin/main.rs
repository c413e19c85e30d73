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

mod admin_cmd;
mod import_cmd;
mod release_cmd;
mod serve;
mod store_cmd;
mod usage_cmd;
mod views;
mod workgroup_cmd;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use allocation::{AllocError, Allocator, InUse, Method, Place, StationKind, Target, UserFilter};
use clap::{Args, Parser, Subcommand, ValueEnum};
use format::{PublicKey, SecretKey};
use hostid::HostId;
use verify::{HostSource, ProductCheck, TrustStore, Verifier, VerifyError};

/// License administration of a licensed server: load its activation file, manage users,
/// stations and organizations, allocate licenses, log users on and off, report, check
/// compliance.
#[derive(Debug, Parser)]
#[command(name = "licadmin", about, long_about = None, disable_version_flag = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// The allocation store: an SQLite file, or a postgres:// URL (a database a switchover
    /// pair or several servers share). Default: $I3LIC_STORE, else
    /// $XDG_DATA_HOME/i3lic/allocation.db, else ~/.local/share/i3lic/allocation.db.
    #[arg(long, value_name = "PATH|URL", global = true)]
    store: Option<PathBuf>,
    /// A trusted vendor public key (.pub); repeat for several. Default: $I3LIC_TRUST
    /// (colon-separated paths).
    #[arg(long = "trust", value_name = "PUB", global = true)]
    trust: Vec<PathBuf>,
    /// Check files as the machine with this host-ID code (default: this machine).
    #[arg(long = "host-id", value_name = "CODE", global = true)]
    host_id: Option<String>,
    /// The product the file must license (with --version; default: any, and the same as the
    /// loaded file's).
    #[arg(long, value_name = "P", global = true, requires = "version")]
    product: Option<String>,
    /// The server version the file must license (with --product).
    #[arg(long, value_name = "V", global = true, requires = "product")]
    version: Option<String>,
    /// JSON output (errors as {"error": {"kind", "message", "exit_code"}} on stdout).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Examples:\n  licadmin completions bash > /etc/bash_completion.d/licadmin"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from these same definitions.
    #[command(after_help = "Examples:\n  licadmin man | man -l -")]
    Man,
    /// Verify an activation file and make it the server's license (the old one stays on failure).
    #[command(
        after_help = "Examples:\n  licadmin load ic1.i3lic\n  licadmin --trust keys/vendor.pub --store /var/lib/i3lic/store.db load ic1.i3lic"
    )]
    Load {
        /// The activation file (.i3lic).
        file: PathBuf,
    },
    /// Show which keys a file would leave out of compliance, and by how much, without loading it.
    #[command(
        after_help = "Examples:\n  licadmin preview next.i3lic\n  licadmin preview next.i3lic --json"
    )]
    Preview {
        /// The activation file (.i3lic).
        file: PathBuf,
    },
    /// The loaded license: file, type, product and version, sold to, site, expiry and grace,
    /// both hosts of a pair (which one this server is), restrictions, features, and every
    /// key with its counts, in words.
    #[command(
        after_help = "Examples:\n  licadmin license\n  licadmin --host-id CODE license --json"
    )]
    License,
    /// Live sessions: user, station or remote number, licenses held, lease expiry.
    #[command(subcommand)]
    Session(SessionCmd),
    /// Print this machine's request code: its strong host-ID code and the store's install key
    /// in one pasteable line, for the vendor (a file issued for it can be released with a
    /// receipt). With --check, tell whether a pasted request code is intact.
    #[command(
        after_help = "Examples:\n  licadmin request\n  licadmin request --json\n  licadmin request --check 3Q2H4-74BA6-..."
    )]
    Request {
        /// Check this pasted request code instead (exit 0 intact, 3 naming the problem).
        #[arg(long, value_name = "CODE")]
        check: Option<String>,
    },
    /// Stop using the loaded file for good and print a release receipt for the vendor: the
    /// store refuses the file's lineage from then on (exit 16), and every session and
    /// allocation is freed.
    #[command(
        after_help = "Examples:\n  licadmin release > ic1.receipt\n  licadmin release --json"
    )]
    Release,
    /// Users.
    #[command(subcommand)]
    User(UserCmd),
    /// Stations.
    #[command(subcommand)]
    Station(StationCmd),
    /// Organizations (tenants).
    #[command(subcommand)]
    Org(OrgCmd),
    /// ACD workgroups: the media types each routes, and its members.
    #[command(subcommand)]
    Workgroup(workgroup_cmd::WorkgroupCmd),
    /// Add a whole site's users or stations from a CSV file, in one transaction: all or
    /// nothing; an error names the line and the column.
    #[command(after_help = import_cmd::HELP)]
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        kind: import_cmd::ImportKindArg,
        /// The CSV file (RFC 4180; a header row names the columns).
        file: PathBuf,
    },
    /// Allocate license keys to a user or a station (all or nothing).
    #[command(
        after_help = "Examples:\n  licadmin allocate --station desk-1 I3_LICENSE_BASIC_STATION I3_ACCESS_CLIENT\n  licadmin allocate --user alice I3_ACCESS_CLIENT"
    )]
    Allocate {
        #[command(flatten)]
        holder: HolderArgs,
        /// The keys (I3_ACCESS_CLIENT ...).
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
    /// Remove license keys from a user or a station (all or nothing). Refused (exit 21) while
    /// a user is logged on at the station, or the assignable user is logged on, unless --force.
    #[command(
        after_help = "Examples:\n  licadmin deallocate --user alice I3_ACCESS_CLIENT\n  licadmin deallocate --station desk-1 --force I3_LICENSE_BASIC_STATION"
    )]
    Deallocate {
        #[command(flatten)]
        holder: HolderArgs,
        /// End the session that uses the holder's licenses first (the station's, or the
        /// assignable user's) instead of refusing; the ended session is printed.
        #[arg(long)]
        force: bool,
        /// The keys.
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
    /// Log a user on; prints the session id.
    #[command(
        after_help = "Examples:\n  SESSION=$(licadmin login --user alice --station desk-1)\n  licadmin login --user bob --remote-number +13175550100 --lease 600"
    )]
    Login {
        /// The user.
        #[arg(long, value_name = "U")]
        user: String,
        /// At this station.
        #[arg(long, value_name = "S", conflicts_with = "remote_number")]
        station: Option<String>,
        /// As a dynamic remote station at this phone number.
        #[arg(long = "remote-number", value_name = "NUMBER")]
        remote_number: Option<String>,
        /// The lease in seconds (default 600).
        #[arg(long, value_name = "SECONDS")]
        lease: Option<u32>,
    },
    /// Renew a session's lease.
    #[command(after_help = "Examples:\n  licadmin heartbeat \"$SESSION\"")]
    Heartbeat {
        /// The session id.
        session: String,
    },
    /// End a session.
    #[command(after_help = "Examples:\n  licadmin logout \"$SESSION\"")]
    Logout {
        /// The session id.
        session: String,
    },
    /// The loaded file (id, type, expiry), then per license key, in words: assignable allowed
    /// and configured, concurrent allowed, configured and in use, notes.
    #[command(after_help = "Examples:\n  licadmin report\n  licadmin report --json")]
    Report,
    /// One event per exceeded license; exit 23 when any.
    #[command(
        after_help = "Examples:\n  licadmin compliance || echo \"out of compliance (exit 23)\"\n  licadmin compliance --json"
    )]
    Compliance,
    /// Check every invariant of the store.
    #[command(after_help = "Examples:\n  licadmin check")]
    Check,
    /// The store's identity: the hosts it serves, the keys it trusts, its history.
    #[command(subcommand)]
    Store(StoreCmd),
    /// The license server's bearer tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Per license key and period: the count licensed, the peak in use and the denials by
    /// reason (assignable/concurrent), from the store's usage history (kept 400 days).
    #[command(
        after_help = "Examples:\n  licadmin usage\n  licadmin usage --from 2026-01-01 --to 2026-12-31 --by month --svg usage.svg\n  licadmin usage --by hour --from 2026-12-07 --to 2026-12-07 --json"
    )]
    Usage(usage_cmd::UsageArgs),
    /// The recorded events, newest last: time, kind (acquire, release, deny, load, change),
    /// who or what, key, detail.
    #[command(after_help = "Examples:\n  licadmin log\n  licadmin log --last 200 --json")]
    Log(usage_cmd::LogArgs),
    /// Run the license server: JSON routes under /v1/ for applications (bearer tokens from
    /// `licadmin token create`), /healthz and /metrics (Prometheus). Lapsed leases are
    /// released by the server. Prints `listening on ADDR`; stops on SIGINT or SIGTERM.
    #[command(
        after_help = "Examples:\n  licadmin --trust keys/vendor.pub serve --listen 0.0.0.0:7443\n  licadmin serve --listen 0.0.0.0:7443 --tls-cert server.pem --tls-key server.key\n  curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:7443/v1/report"
    )]
    Serve {
        /// The address and port to listen on (port 0: any free port, printed).
        #[arg(long, value_name = "ADDR")]
        listen: String,
        /// Serve HTTPS with this PEM certificate chain (the server's certificate first;
        /// with --tls-key).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert (readable by its owner only: chmod 600).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    /// Make a bearer token and print it (the only time it is shown: the store keeps its digest).
    #[command(after_help = "Examples:\n  TOKEN=$(licadmin token create softphones)")]
    Create {
        /// A name for it (who or what uses it).
        name: String,
    },
    /// List the tokens: name, when made, when revoked.
    #[command(after_help = "Examples:\n  licadmin token list --json")]
    List,
    /// Revoke a token: refused from the next request on.
    #[command(after_help = "Examples:\n  licadmin token revoke softphones")]
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum StoreCmd {
    /// Show the hosts the store serves, the keys it trusts, the latest time it saw, the newest
    /// generation per lineage, and the log of identity changes.
    #[command(after_help = "Examples:\n  licadmin store show\n  licadmin store show --json")]
    Show,
    /// Re-target the store: the hosts it serves and the keys it trusts from now on (logged).
    /// Files that do not name every one of those hosts (exit 12) or are signed by another key
    /// (exit 11) are refused until then. Allocations and the rollback history stay.
    #[command(
        after_help = "Examples:\n  licadmin store retarget --host 1Q2H4-74KMZ-KWXDV-8K000-00KZQ --key keys/vendor-2026.pub\n  licadmin store retarget --host CODE1 --host CODE2 --key old.pub --key new.pub"
    )]
    Retarget {
        /// A host-ID code the store serves: one, or the two hosts of a switchover pair.
        #[arg(long = "host", value_name = "CODE", required = true)]
        hosts: Vec<String>,
        /// A public key (.pub) the store trusts; repeat for several.
        #[arg(long = "key", value_name = "PUB", required = true)]
        keys: Vec<PathBuf>,
    },
    /// Copy the whole store into an empty one, of either engine (an SQLite file or a
    /// postgres:// URL), in one transaction; a target that is not empty is refused (exit 24)
    /// and left as it was.
    #[command(
        after_help = "Examples:\n  licadmin --store /var/lib/i3lic/allocation.db store copy postgres://i3lic@db.example/alloc\n  licadmin --store postgres://i3lic@db.example/alloc store copy backup.db"
    )]
    Copy {
        /// The target store: a file path or a postgres:// URL.
        #[arg(value_name = "DST")]
        target: PathBuf,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct HolderArgs {
    /// A user.
    #[arg(long, value_name = "U")]
    user: Option<String>,
    /// A station.
    #[arg(long, value_name = "S")]
    station: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MethodArg {
    Assignable,
    Concurrent,
}

impl MethodArg {
    fn method(self) -> Method {
        match self {
            MethodArg::Assignable => Method::Assignable,
            MethodArg::Concurrent => Method::Concurrent,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    Workstation,
    Remote,
    Phone,
    Fax,
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Add a user.
    #[command(
        after_help = "Examples:\n  licadmin user add alice --license I3_ACCESS_CLIENT\n  licadmin user add bob --method concurrent --org tenant-a"
    )]
    Add {
        /// The user's name.
        name: String,
        /// How its licenses are allocated.
        #[arg(long, value_enum, default_value = "assignable")]
        method: MethodArg,
        /// The user's organization.
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
        /// Allocate these keys too, in the same transaction (a refused key adds no user).
        #[arg(long = "license", value_name = "KEY", num_args = 1..)]
        licenses: Vec<String>,
    },
    /// Change a user's method, licensing (Enable Licenses) or dynamic remote logon right.
    #[command(after_help = admin_cmd::USER_EDIT_HELP)]
    Edit {
        /// The user's name.
        name: String,
        /// The allocation method (refused, exit 22, while the user holds licenses).
        #[arg(long, value_enum)]
        method: Option<MethodArg>,
        /// off: release the user's licenses and keep them as settings (its session ends);
        /// on: restore those still available.
        #[arg(long, value_enum)]
        licensing: Option<admin_cmd::OnOff>,
        /// The right "User-defined Telephone Number on Remote Login" (allowed by default).
        #[arg(long = "remote-logon", value_enum)]
        remote_logon: Option<admin_cmd::AllowDeny>,
    },
    /// Remove a user (its licenses are released, its session ends).
    #[command(after_help = "Examples:\n  licadmin user remove alice")]
    Remove {
        /// The user's name.
        name: String,
    },
    /// List users, what they hold, and per key the counts allocated and available.
    #[command(
        after_help = "Examples:\n  licadmin user list\n  licadmin user list --license I3_ACCESS_CLIENT --name ali --json"
    )]
    List {
        /// Only users holding this key.
        #[arg(long, value_name = "KEY")]
        license: Option<String>,
        /// Only users whose name contains this text (case-insensitive).
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum StationCmd {
    /// Add a station.
    #[command(
        after_help = "Examples:\n  licadmin station add desk-1 --license I3_LICENSE_BASIC_STATION I3_ACCESS_CLIENT\n  licadmin station add fax-1 --kind fax\nA station added without a Basic Station license is warned about: all active stations require one."
    )]
    Add {
        /// The station's name.
        name: String,
        /// Its kind.
        #[arg(long, value_enum, default_value = "workstation")]
        kind: KindArg,
        /// Allocate these keys too, in the same transaction (a refused key adds no station).
        #[arg(long = "license", value_name = "KEY", num_args = 1..)]
        licenses: Vec<String>,
    },
    /// Remove a station (its licenses are released, a session at it ends).
    #[command(after_help = "Examples:\n  licadmin station remove desk-1")]
    Remove {
        /// The station's name.
        name: String,
    },
    /// Turn the station's licensing off (licenses released, settings kept, a session at it ends).
    #[command(after_help = "Examples:\n  licadmin station disable desk-1")]
    Disable {
        /// The station's name.
        name: String,
    },
    /// Turn the station's licensing on again.
    #[command(after_help = "Examples:\n  licadmin station enable desk-1")]
    Enable {
        /// The station's name.
        name: String,
    },
    /// List stations: kind, licensing on or off, licenses, who is logged on.
    #[command(
        after_help = "Examples:\n  licadmin station list\n  licadmin station list --license I3_LICENSE_BASIC_STATION --json"
    )]
    List {
        /// Only stations holding this key.
        #[arg(long, value_name = "KEY")]
        license: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum SessionCmd {
    /// List live sessions: user, station or remote number, licenses held, lease expiry.
    #[command(after_help = "Examples:\n  licadmin session list\n  licadmin session list --json")]
    List,
}

#[derive(Debug, Subcommand)]
enum OrgCmd {
    /// Add an organization.
    #[command(after_help = "Examples:\n  licadmin org add tenant-a")]
    Add {
        /// The organization's name.
        name: String,
    },
    /// Remove an organization (its limits go with it). Refused, exit 21 (in use), while
    /// users belong to it: the error names them.
    #[command(after_help = "Examples:\n  licadmin org remove tenant-a")]
    Remove {
        /// The organization's name.
        name: String,
    },
    /// Set an organization's minimum (reserved) and maximum (cap) of a key.
    #[command(
        after_help = "Examples:\n  licadmin org limit tenant-a I3_ACCESS_CLIENT --min 5 --max 20"
    )]
    Limit {
        /// The organization.
        org: String,
        /// The key.
        key: String,
        /// Reserved for the organization.
        #[arg(long, value_name = "N")]
        min: Option<u32>,
        /// At most this many for the organization.
        #[arg(long, value_name = "N")]
        max: Option<u32>,
    },
    /// List organizations: users, and per key the minimum, maximum and what it uses.
    #[command(after_help = "Examples:\n  licadmin org list\n  licadmin org list --json")]
    List,
}

/// What can stop `licadmin`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Alloc(#[from] AllocError),
    #[error("cannot read trusted key {}: {source}", path.display())]
    KeyIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("trusted key {} is not a public key: {reason}", path.display())]
    KeyMalformed { path: PathBuf, reason: String },
    #[error("--host-id: {0}")]
    BadHostId(hostid::CodeError),
    #[error("--host {0:?}: {1}")]
    BadHost(String, hostid::CodeError),
    #[error("no trusted key: give --trust PUB (or I3LIC_TRUST=PUB:PUB...) to use the license")]
    NoTrust,
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Tls(http_server::TlsError),
    /// A refusal worded by the command itself (a session that ended, and why).
    #[error("{message}")]
    Refused {
        kind: &'static str,
        code: i32,
        message: String,
    },
}

impl CliError {
    fn exit_code(&self) -> i32 {
        match self {
            CliError::Alloc(e) => e.exit_code(),
            CliError::KeyIo { .. } => 4,
            CliError::KeyMalformed { .. } | CliError::BadHostId(_) | CliError::BadHost(..) => 3,
            CliError::NoTrust | CliError::Usage(_) => 2,
            CliError::Tls(e) if e.is_io() => 4,
            CliError::Tls(_) => 3,
            CliError::Refused { code, .. } => *code,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            CliError::Alloc(e) => e.kind(),
            CliError::KeyIo { .. } => "trusted-key-io",
            CliError::KeyMalformed { .. } => "trusted-key-malformed",
            CliError::BadHostId(_) | CliError::BadHost(..) => "bad-host-id",
            CliError::NoTrust => "no-trusted-key",
            CliError::Usage(_) => "usage",
            CliError::Tls(e) if e.is_io() => "tls-io",
            CliError::Tls(_) => "tls-malformed",
            CliError::Refused { kind, .. } => kind,
        }
    }
}

fn read_key(path: &Path) -> Result<PublicKey, CliError> {
    let io = |source| CliError::KeyIo {
        path: path.to_owned(),
        source,
    };
    let file = verify::open_regular_file(path, "trusted key").map_err(|e| match e {
        VerifyError::Io { source, .. } => io(source),
        other => CliError::Alloc(other.into()),
    })?;
    let mut buf = Vec::new();
    file.take(64 * 1024 + 1).read_to_end(&mut buf).map_err(io)?;
    let malformed = |reason: String| CliError::KeyMalformed {
        path: path.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(&buf).map_err(|_| malformed("not UTF-8 text".into()))?;
    PublicKey::from_text(text).map_err(|e| malformed(e.to_string()))
}

/// The verifier: the keys given (or, without any, a throwaway key, so that commands that do
/// not need the license still work and those that do say a key is missing).
fn verifier(g: &Global) -> Result<(Verifier, bool), CliError> {
    // A malformed --host-id is reported before any key file is read (docs/FORMAT.md 15.3,
    // as licverify).
    let host = match &g.host_id {
        Some(code) => Some(code.trim().parse::<HostId>().map_err(CliError::BadHostId)?),
        None => None,
    };
    let mut paths = g.trust.clone();
    if paths.is_empty() {
        if let Some(v) = std::env::var_os("I3LIC_TRUST") {
            paths = std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
        }
    }
    let given = !paths.is_empty();
    let keys = if given {
        paths
            .iter()
            .map(|p| read_key(p))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![SecretKey::generate().public_key().clone()]
    };
    let trust = TrustStore::new(keys).map_err(|e| CliError::Alloc(e.into()))?;
    let product = match (&g.product, &g.version) {
        (Some(p), Some(v)) => ProductCheck::Expect {
            product: p.clone(),
            version: v.clone(),
        },
        _ => ProductCheck::Any,
    };
    let mut v = Verifier::new(trust, product);
    if let Some(id) = host {
        v = v.host(HostSource::Code(id));
    }
    Ok((v, given))
}

/// What a command prints: text for people, a JSON value for `--json`.
struct Output {
    text: String,
    json: serde_json::Value,
    code: i32,
    /// Warnings for people, on standard error after the text (the JSON carries them itself).
    notes: Vec<String>,
}

fn out(text: String, json: serde_json::Value) -> Output {
    Output {
        text,
        json,
        code: 0,
        notes: Vec::new(),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn holder(h: &HolderArgs) -> Target<'_> {
    match (&h.user, &h.station) {
        (Some(u), _) => Target::User(u),
        (None, Some(s)) => Target::Station(s),
        // clap's group makes one of them required.
        (None, None) => Target::User(""),
    }
}

fn run(cli: &Cli) -> Result<Output, CliError> {
    let (verifier, trusted) = verifier(&cli.global)?;
    let path = cli
        .global
        .store
        .clone()
        .unwrap_or_else(allocation::default_store_path);
    let location = store_location(&path)?;
    if let Command::Request { check: Some(code) } = &cli.command {
        return release_cmd::check(code);
    }
    if let Command::Store(StoreCmd::Copy { target }) = &cli.command {
        return store_cmd::copy(&location, &store_location(target)?);
    }
    let a = Allocator::open_at(
        &location,
        verifier,
        std::sync::Arc::new(allocation::SystemClock),
    )?;
    let result = match &cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
                _ => None,
            };
            serve::run(a, listen, tls).map(|()| out(String::new(), serde_json::json!({})))
        }
        Command::Request { .. } => release_cmd::request(&a, cli.global.host_id.as_deref()),
        other => exec(&a, other),
    };
    match result {
        Err(CliError::Alloc(AllocError::License(VerifyError::UntrustedKey { .. }))) if !trusted => {
            Err(CliError::NoTrust)
        }
        other => other,
    }
}

/// A `--store` value (or `I3LIC_STORE`): a URL of another scheme than PostgreSQL's is a
/// usage error, and nothing is created.
fn store_location(value: &Path) -> Result<allocation::StoreLocation, CliError> {
    allocation::StoreLocation::parse(value.as_os_str()).map_err(|e| match e {
        AllocError::InvalidInput { reason, .. } => CliError::Usage(format!("--store {reason}")),
        other => CliError::Alloc(other),
    })
}

fn exec(a: &Allocator, cmd: &Command) -> Result<Output, CliError> {
    use std::fmt::Write as _;
    let none = || out(String::new(), serde_json::json!({ "ok": true }));
    Ok(match cmd {
        Command::Load { file } => views::load(a, file)?,
        Command::License => views::license(a)?,
        Command::Session(SessionCmd::List) => views::sessions(a)?,
        Command::Station(StationCmd::List { license }) => views::stations(a, license.as_deref())?,
        Command::Org(OrgCmd::List) => views::orgs(a)?,
        // `request` runs from `run`, which has the global --host-id.
        Command::Request { .. } => return Err(CliError::Usage("request".into())),
        Command::Release => release_cmd::release(a)?,
        Command::Preview { file } => {
            let p = a.preview_file(file)?;
            let mut t = String::new();
            if p.out_of_compliance.is_empty() {
                let _ = writeln!(t, "{}: nothing would be out of compliance", p.file_id);
            }
            for e in &p.out_of_compliance {
                let _ = writeln!(
                    t,
                    "{} {}: {} licensed, {} in use: out of compliance by {}",
                    e.key,
                    e.count,
                    e.licensed,
                    e.in_use,
                    e.excess()
                );
            }
            out(t, to_json(&p))
        }
        Command::User(UserCmd::Add {
            name,
            method,
            org,
            licenses,
        }) => admin_cmd::user_add(a, name, method.method(), org.as_deref(), licenses)?,
        Command::User(UserCmd::Edit {
            name,
            method,
            licensing,
            remote_logon,
        }) => admin_cmd::user_edit(
            a,
            name,
            allocation::UserEdit {
                method: method.map(MethodArg::method),
                licensing: licensing.map(|l| l == admin_cmd::OnOff::On),
                remote_logon: remote_logon.map(|r| r == admin_cmd::AllowDeny::Allow),
            },
        )?,
        Command::User(UserCmd::Remove { name }) => {
            a.remove_user(name)?;
            none()
        }
        Command::User(UserCmd::List { license, name }) => views::users(
            a,
            &UserFilter {
                license: license.clone(),
                name: name.clone(),
            },
        )?,
        Command::Station(StationCmd::Add {
            name,
            kind,
            licenses,
        }) => {
            let k = match kind {
                KindArg::Workstation => StationKind::Workstation,
                KindArg::Remote => StationKind::Remote,
                KindArg::Phone => StationKind::Phone,
                KindArg::Fax => StationKind::Fax,
            };
            admin_cmd::station_add(a, name, k, licenses)?
        }
        Command::Station(StationCmd::Remove { name }) => {
            a.remove_station(name)?;
            none()
        }
        Command::Station(StationCmd::Disable { name }) => {
            a.disable_station(name)?;
            none()
        }
        Command::Station(StationCmd::Enable { name }) => admin_cmd::station_enable(a, name)?,
        Command::Org(OrgCmd::Add { name }) => {
            a.add_organization(name)?;
            none()
        }
        Command::Org(OrgCmd::Remove { name }) => {
            a.remove_organization(name)?;
            none()
        }
        Command::Workgroup(w) => workgroup_cmd::run(a, w)?,
        Command::Import { kind, file } => import_cmd::run(a, *kind, file)?,
        Command::Org(OrgCmd::Limit { org, key, min, max }) => {
            a.set_organization_limit(org, key, *min, *max)?;
            none()
        }
        Command::Allocate { holder: h, keys } => admin_cmd::allocate(a, holder(h), keys)?,
        Command::Deallocate {
            holder: h,
            force,
            keys,
        } => {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let in_use = if *force {
                InUse::EndSession
            } else {
                InUse::Refuse
            };
            let d = a.deallocate_with(holder(h), &keys, in_use)?;
            let mut t = lines(&d.removed);
            for s in &d.ended {
                let _ = writeln!(t, "ended session {} of user '{}'", s.id, s.user);
            }
            out(
                t,
                serde_json::json!({ "deallocated": d.removed, "ended_sessions": d.ended }),
            )
        }
        Command::Login {
            user,
            station,
            remote_number,
            lease,
        } => {
            let place = match (station, remote_number) {
                (Some(s), _) => Place::Station(s.clone()),
                (None, Some(n)) => Place::Remote(n.clone()),
                (None, None) => Place::Nowhere,
            };
            admin_cmd::login(a, user, place, *lease)?
        }
        Command::Heartbeat { session } => admin_cmd::heartbeat(a, session)?,
        Command::Logout { session } => {
            a.logout(session)?;
            none()
        }
        Command::Report => views::report(a)?,
        Command::Compliance => {
            let events = a.check_compliance()?;
            let mut t = String::new();
            for e in &events {
                let _ = writeln!(t, "{e}");
            }
            let compliant = events.is_empty();
            let mut o = out(
                t,
                serde_json::json!({ "compliant": compliant, "events": events }),
            );
            if !compliant {
                o.code = 23;
            }
            o
        }
        // Handled in main: they need no store.
        Command::Completions { .. } | Command::Man => out(String::new(), serde_json::json!({})),
        Command::Store(StoreCmd::Show) => store_cmd::show(a)?,
        Command::Store(StoreCmd::Retarget { hosts, keys }) => store_cmd::retarget(a, hosts, keys)?,
        // Handled in run: it opens two stores.
        Command::Store(StoreCmd::Copy { .. }) => out(String::new(), serde_json::json!({})),
        Command::Token(TokenCmd::Create { name }) => {
            let t = a.create_token(name)?;
            out(
                format!("{t}\n"),
                serde_json::json!({ "name": name, "token": t }),
            )
        }
        Command::Token(TokenCmd::List) => {
            let list = a.tokens()?;
            let mut t = String::new();
            for k in &list {
                let _ = writeln!(
                    t,
                    "{}\tcreated {}\t{}",
                    k.name,
                    time_text(k.created_at),
                    match k.revoked_at {
                        Some(r) => format!("revoked {}", time_text(r)),
                        None => "active".into(),
                    }
                );
            }
            out(t, serde_json::json!({ "tokens": list }))
        }
        Command::Token(TokenCmd::Revoke { name }) => {
            a.revoke_token(name)?;
            none()
        }
        // Handled in run: it keeps the allocator.
        Command::Serve { .. } => out(String::new(), serde_json::json!({})),
        Command::Usage(args) => usage_cmd::usage(a, args)?,
        Command::Log(args) => usage_cmd::log(a, args)?,
        Command::Check => {
            let problems = a.check()?;
            let mut t = String::new();
            if problems.is_empty() {
                t.push_str("consistent\n");
            }
            for p in &problems {
                let _ = writeln!(t, "{p}");
            }
            let consistent = problems.is_empty();
            let mut o = out(
                t,
                serde_json::json!({ "consistent": consistent, "problems": problems }),
            );
            if !consistent {
                o.code = 1;
            }
            o
        }
    })
}

/// Unix seconds as RFC 3339.
fn time_text(secs: i64) -> String {
    format::Timestamp::from_unix(secs).map_or_else(|| secs.to_string(), |t| t.to_string())
}

fn lines(v: &[String]) -> String {
    v.iter().map(|k| format!("{k}\n")).collect()
}

/// `text` with every refused character ([`format::text::is_refused_char`]: controls,
/// bidirectional overrides, zero-width characters, line separators ...) except the line break
/// and tab escaped (`\u{1b}`, `\u{202e}`): a name quoted in an error, or stored before such
/// names were refused, cannot act on the terminal or reorder the line.
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    format::text::escape_refused(text, &['\n', '\t'])
}

/// Everything on standard output goes through here. A reader that went away (a closed
/// pipe) ends the output quietly; any other failure is returned.
fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o
        .write_all(escape_controls(text).as_bytes())
        .and_then(|()| o.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn print_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", escape_controls(line));
}

/// What `completions SHELL` and `man` print, generated from the clap definitions.
fn generated(c: &Command) -> Option<Vec<u8>> {
    use clap::CommandFactory;
    let mut v = Vec::new();
    match c {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "licadmin", &mut v)
        }
        Command::Man => clap_mangen::Man::new(Cli::command()).render(&mut v).ok()?,
        _ => return None,
    }
    Some(v)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            // A usage error is JSON too when --json was among the arguments.
            if std::env::args_os()
                .skip(1)
                .take_while(|a| a != "--")
                .any(|a| a == "--json")
            {
                let msg = e.render().to_string();
                let first = msg
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("usage error")
                    .trim_start_matches("error: ");
                let v = serde_json::json!({
                    "error": { "kind": "usage", "message": first, "exit_code": 2 }
                });
                let _ = print_stdout(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                ));
            }
            return ExitCode::from(2);
        }
    };
    if let Some(generated) = generated(&cli.command) {
        use std::io::Write;
        let mut o = std::io::stdout().lock();
        return match o.write_all(&generated).and_then(|()| o.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                print_stderr(&format!("licadmin: cannot write the output: {e}"));
                ExitCode::from(4)
            }
        };
    }
    let result = run(&cli);
    let (code, printed) = match &result {
        Ok(o) => {
            let text = if cli.global.json {
                serde_json::to_string_pretty(&o.json)
                    .map(|s| s + "\n")
                    .unwrap_or_default()
            } else {
                for n in &o.notes {
                    print_stderr(&format!("licadmin: warning: {n}"));
                }
                o.text.clone()
            };
            (o.code, print_stdout(&text))
        }
        Err(e) => {
            print_stderr(&format!("licadmin: {e}"));
            let printed = if cli.global.json {
                let v = serde_json::json!({
                    "error": { "kind": e.kind(), "message": e.to_string(), "exit_code": e.exit_code() }
                });
                print_stdout(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                ))
            } else {
                Ok(())
            };
            (e.exit_code(), printed)
        }
    };
    if let Err(e) = printed {
        print_stderr(&format!("licadmin: cannot write the output: {e}"));
        return ExitCode::from(4);
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
