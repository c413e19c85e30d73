//! `portal`: serve the self-service portal, and manage its users and API tokens.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use issuer::location::LedgerLocation;
use issuer::{IssuerError, Ledger, Role};
use portal::service::{AppState, Config};
use zeroize::Zeroizing;

/// The i3lic self-service portal: the Activation File Management Tool on the web.
#[derive(Debug, Parser)]
#[command(name = "portal", version, about, long_about = None, after_help = "\
Examples:
  portal user add staff@vendor.example --role staff
  portal user add ann@contoso.example --role customer --account Contoso --certified
  portal token create ann@contoso.example
  portal serve --key keys/vendor.key --listen 127.0.0.1:8080")]
struct Cli {
    /// Ledger file (default: $I3LIC_DB, else $XDG_DATA_HOME/i3lic/ledger.db, else
    /// ~/.local/share/i3lic/ledger.db): the issuer's ledger, shared with the issuer CLI.
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Product catalog to use instead of the built-in one.
    #[arg(long, global = true, value_name = "FILE")]
    catalog: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the portal and its API. The signing key is loaded once (passphrase from
    /// I3LIC_KEY_PASSPHRASE or asked) and never served.
    #[command(
        after_help = "Examples:\n  portal serve --key keys/vendor.key --listen 127.0.0.1:8080\n  portal serve --key keys/vendor.key --listen 127.0.0.1:8080 --trusted-proxy 127.0.0.1 --secure-cookies"
    )]
    Serve {
        /// The secret key files are signed with.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Address to listen on (port 0 picks a free port; the address is printed).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Mark cookies Secure and send HSTS (when served over TLS, or behind a proxy that
        /// terminates it).
        #[arg(long)]
        secure_cookies: bool,
        /// A reverse proxy in front of the portal (repeatable): for requests whose socket
        /// peer is ADDR, the client address (login throttling) is the last entry of
        /// --proxy-header that is not a trusted proxy, instead of the peer.
        #[arg(long = "trusted-proxy", value_name = "ADDR")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// The header the trusted proxies name the client in: x-forwarded-for or forwarded.
        #[arg(long, value_name = "HEADER", default_value = "x-forwarded-for")]
        proxy_header: portal::client::ProxyHeader,
        /// Seconds a client has to send a request's line and headers (also between requests
        /// of a kept-alive connection); then the connection is closed.
        #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout: u64,
        /// Seconds a client has to send a request's body once its headers arrived; then the
        /// request fails and the connection is closed.
        #[arg(long, value_name = "SECONDS", default_value_t = portal::server::BODY_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
        body_timeout: u64,
        /// Connections served at once; more wait until one ends.
        #[arg(long, value_name = "N", default_value_t = portal::server::MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        max_connections: u64,
    },
    /// Portal users.
    #[command(subcommand)]
    User(UserCmd),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Add a user. The password comes from I3LIC_PORTAL_PASSWORD, or is asked twice.
    #[command(
        after_help = "Examples:\n  portal user add ann@contoso.example --role customer --account Contoso --certified\n  portal user add pat@partner.example --role partner --account Contoso --account Fabrikam --certified"
    )]
    Add {
        /// E-mail address (the login name).
        email: String,
        /// staff (every account), customer or partner.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// An account the user may see (repeat for several; not for staff).
        #[arg(long = "account", value_name = "A")]
        accounts: Vec<String>,
        /// A customer or partner who may generate files (holds a current certification).
        #[arg(long)]
        certified: bool,
    },
    /// List users.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: no login, their API tokens are revoked, and every open session ends
    /// for good (enabling the user again brings back neither).
    Disable {
        /// E-mail address.
        email: String,
    },
    /// Enable a disabled user.
    Enable {
        /// E-mail address.
        email: String,
    },
    /// Set a new password (from I3LIC_PORTAL_PASSWORD, or asked twice); the user's open
    /// sessions end.
    Password {
        /// E-mail address.
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    /// Create an API token for a user and print it on stdout (only its digest is kept).
    #[command(
        after_help = "Example:\n  TOKEN=$(portal token create ann@contoso.example)\n  curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/api/v1/accounts"
    )]
    Create {
        /// E-mail address of the user.
        email: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "api")]
        label: String,
    },
    /// Revoke a token by its id (printed on stderr when it was created).
    Revoke {
        /// Token id.
        id: i64,
    },
}

#[derive(Debug)]
enum Failure {
    Issuer(IssuerError),
    Usage(String),
    Io(String),
}

impl From<IssuerError> for Failure {
    fn from(e: IssuerError) -> Self {
        Failure::Issuer(e)
    }
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Issuer(e) => u8::try_from(e.exit_code()).unwrap_or(1),
            Failure::Usage(_) => 2,
            Failure::Io(_) => 4,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Issuer(e) => write!(f, "{e}"),
            Failure::Usage(m) | Failure::Io(m) => write!(f, "{m}"),
        }
    }
}

fn actor() -> String {
    let n = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "portal-cli".into());
    if issuer::ledger::check_text("actor", &n).is_ok() && !n.is_empty() {
        n
    } else {
        "portal-cli".into()
    }
}

fn password() -> Result<Zeroizing<String>, Failure> {
    if let Ok(p) = std::env::var("I3LIC_PORTAL_PASSWORD") {
        return Ok(Zeroizing::new(p));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| {
                Failure::Usage(format!(
                    "no password: set I3LIC_PORTAL_PASSWORD or run on a terminal ({e})"
                ))
            })
    };
    let a = ask("Password for the portal user: ")?;
    let b = ask("The same password again: ")?;
    if *a != *b {
        return Err(Failure::Usage("the two passwords differ".into()));
    }
    Ok(a)
}

fn hashed_password(email: &str) -> Result<String, Failure> {
    let p = password()?;
    portal::auth::hash_password(email, &p).map_err(Failure::Usage)
}

fn run(cli: Cli) -> Result<(), Failure> {
    let db = cli
        .db
        .clone()
        .or_else(|| {
            std::env::var_os("I3LIC_DB")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(issuer::default_ledger_path);
    // As the issuer: a URL is never a file name (nothing is created for one).
    let db = LedgerLocation::parse(db.as_os_str()).map_err(|e| Failure::Usage(e.to_string()))?;
    match cli.command {
        Command::Serve {
            key,
            listen,
            secure_cookies,
            trusted_proxies,
            proxy_header,
            header_timeout,
            body_timeout,
            max_connections,
        } => {
            let catalog = issuer::catalog::load(cli.catalog.as_deref())?;
            let key = issuer::keys::load_secret_key(&key, &mut || {
                issuer::keys::passphrase_from_env_or_prompt(false)
            })?;
            let config = Config {
                secure_cookies,
                trusted_proxies: portal::client::TrustedProxies {
                    addrs: trusted_proxies,
                    header: proxy_header,
                },
                ..Config::default()
            };
            let state = AppState::open(&db, catalog, key, config)?;
            if let Some(w) = state.loose_permissions() {
                eprintln!("warning: {w}");
            }
            let limits = portal::server::Limits {
                header_read_timeout: std::time::Duration::from_secs(header_timeout),
                body_read_timeout: std::time::Duration::from_secs(body_timeout),
                max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
                ..Default::default()
            };
            serve(Arc::new(state), listen, limits)
        }
        Command::User(u) => {
            let mut l = Ledger::open_at(&db)?;
            match u {
                UserCmd::Add {
                    email,
                    role,
                    accounts,
                    certified,
                } => {
                    let role: Role = role.parse()?;
                    let hash = hashed_password(&email)?;
                    let u =
                        l.add_portal_user(&email, role, certified, &accounts, &hash, &actor())?;
                    eprintln!(
                        "added portal user {} ({}{}){}",
                        u.email,
                        u.role.as_str(),
                        if u.certified { ", certified" } else { "" },
                        if u.accounts.is_empty() {
                            String::new()
                        } else {
                            format!(" for {}", u.accounts.join(", "))
                        }
                    );
                }
                UserCmd::List { json } => {
                    let users = l.portal_users()?;
                    let mut out = std::io::stdout().lock();
                    if json {
                        let _ = writeln!(out, "{}", serde_json::json!({ "users": users }));
                    } else {
                        let _ = writeln!(
                            out,
                            "{:<32} {:<9} {:<9} {:<8} ACCOUNTS",
                            "EMAIL", "ROLE", "CERTIFIED", "ACTIVE"
                        );
                        for u in users {
                            let _ = writeln!(
                                out,
                                "{:<32} {:<9} {:<9} {:<8} {}",
                                u.email.escape_debug().to_string(),
                                u.role.as_str(),
                                if u.certified { "yes" } else { "no" },
                                if u.active { "yes" } else { "no" },
                                if u.role == Role::Staff {
                                    "(all)".to_string()
                                } else {
                                    u.accounts
                                        .iter()
                                        .map(|a| a.escape_debug().to_string())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                }
                            );
                        }
                    }
                }
                UserCmd::Disable { email } => {
                    l.set_portal_user_active(&email, false, &actor())?;
                    eprintln!("disabled portal user {email}");
                }
                UserCmd::Enable { email } => {
                    l.set_portal_user_active(&email, true, &actor())?;
                    eprintln!("enabled portal user {email}");
                }
                UserCmd::Password { email } => {
                    let hash = hashed_password(&email)?;
                    l.set_portal_password(&email, &hash, &actor())?;
                    eprintln!("set a new password for portal user {email}");
                }
            }
            Ok(())
        }
        Command::Token(t) => {
            let mut l = Ledger::open_at(&db)?;
            match t {
                TokenCmd::Create { email, label } => {
                    let (token, digest) = portal::auth::new_token();
                    let id = l.add_portal_token(&email, &digest, &label, &actor())?;
                    println!("{token}");
                    eprintln!("token {id} created for {email} (shown once; revoke with `portal token revoke {id}`)");
                }
                TokenCmd::Revoke { id } => {
                    l.revoke_portal_token(id, &actor())?;
                    eprintln!("token {id} revoked");
                }
            }
            Ok(())
        }
    }
}

fn serve(
    state: Arc<AppState>,
    listen: SocketAddr,
    limits: portal::server::Limits,
) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Io(format!("starting the server: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Failure::Io(format!("listening on {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure::Io(format!("listening on {listen}: {e}")))?;
        tracing::info!(target: "i3lic::portal", key = %state.key_id(), %addr, "serving");
        println!("portal listening on http://{addr}/");
        let _ = std::io::stdout().flush();
        let app = portal::router(state);
        portal::server::serve(listener, app, limits, None, async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                let term = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! { _ = ctrl_c => {}, _ = term => {} }
            }
            #[cfg(not(unix))]
            {
                let _ = ctrl_c.await;
            }
        })
        .await;
        Ok(())
    })
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portal: error: {e}");
            ExitCode::from(e.code())
        }
    }
}
