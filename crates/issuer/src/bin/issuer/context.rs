//! What every command shares: which ledger and catalog it uses, and who is running it.

use std::path::{Path, PathBuf};

use issuer::location::LedgerLocation;
use issuer::{IssuerError, Ledger};

use crate::cli::Cli;
use crate::config;
use crate::error::CliError;
use crate::output;

/// The ledger the command uses: `--db`, else `$I3LIC_DB`, else the config file's `ledger`,
/// else [`issuer::default_ledger_path`]: a path (SQLite) or a `postgres://` URL
/// (PostgreSQL). A value that looks like a URL of another scheme is a usage error, never a
/// file name: nothing is created for it.
pub fn ledger_location(cli: &Cli) -> Result<LedgerLocation, CliError> {
    let given = cli.db.clone().or_else(|| {
        std::env::var_os("I3LIC_DB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let given = match given {
        Some(p) => p,
        None => config::get()?
            .ledger
            .clone()
            .unwrap_or_else(issuer::default_ledger_path),
    };
    LedgerLocation::parse(given.as_os_str()).map_err(|e| CliError::Usage(e.to_string()))
}

/// The secret key to sign with: `--key`, else `$I3LIC_KEY`, else the config file's `key`;
/// none of them is a usage error (exit 2).
pub fn key_path(flag: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(p) = flag.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("I3LIC_KEY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }) {
        return Ok(p);
    }
    config::get()?.key.clone().ok_or_else(|| {
        CliError::Usage(format!(
            "missing --key FILE (or $I3LIC_KEY, or key = \"FILE\" in {})",
            config::path().map_or_else(|| "the config file".into(), |p| p.display().to_string())
        ))
    })
}

/// Who generates a file when `--generated-by` (or the request file) does not say: the
/// config file's `generated_by`, else [`user_name`].
pub fn generated_by() -> Result<Option<String>, CliError> {
    Ok(config::get()?.generated_by.clone().or_else(user_name))
}

/// Open the ledger the command names. An existing ledger that group or others may open is
/// used, with a warning on standard error (printed once per command, however often the
/// ledger is opened): it holds customer data, but a vendor may share it with a group on
/// purpose, so it is not refused.
pub fn open_ledger(cli: &Cli) -> Result<Ledger, CliError> {
    Ok(warn_if_loose(Ledger::open_at(&ledger_location(cli)?)?)?)
}

/// Read from the ledger the command names, opened for reading only
/// ([`Ledger::open_read_only`]): commands that only read work for a user who may only read
/// the ledger, and never create one. Where the ledger had to be read without SQLite's locks
/// and changed meanwhile ([`Ledger::check_unchanged`]), the read is made again (at most three
/// times in all).
pub fn read_ledger<T>(
    cli: &Cli,
    read: impl Fn(&Ledger) -> Result<T, IssuerError>,
) -> Result<T, CliError> {
    let location = ledger_location(cli)?;
    let mut attempt = 1;
    loop {
        let ledger = warn_if_loose(Ledger::open_read_only_at(&location)?)?;
        let result = read(&ledger);
        match ledger.check_unchanged() {
            Ok(()) => return Ok(result?),
            Err(e) if attempt >= 3 => return Err(e.into()),
            Err(_) => attempt += 1,
        }
    }
}

fn warn_if_loose(ledger: Ledger) -> Result<Ledger, IssuerError> {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Some(loose) = ledger.loose_permissions() {
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            output::eprint_line(&format!("issuer: warning: {loose}"));
        }
    }
    Ok(ledger)
}

/// The catalog: `--catalog FILE`, else the built-in one.
pub use issuer::catalog::load as load_catalog;

/// Who is running the command: `$USER` / `$LOGNAME`, else the account name of this process's
/// user id in /etc/passwd (Unix), else `uid N`. A variable whose value the ledger would
/// refuse ([`issuer::ledger::check_text`]: a control character such as a terminal escape,
/// blanks at its ends, more than 512 bytes, not UTF-8) is skipped with one warning naming the
/// name recorded instead. Decided once per command.
pub fn user_name() -> Option<String> {
    static NAME: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let mut skipped = Vec::new();
        let mut found = None;
        for var in ["USER", "LOGNAME"] {
            let Some(v) = std::env::var_os(var) else {
                continue;
            };
            if v.to_string_lossy().trim().is_empty() {
                continue;
            }
            match v.into_string() {
                Ok(v) if issuer::ledger::check_text("$USER", &v).is_ok() => {
                    found = Some(v);
                    break;
                }
                _ => skipped.push(var),
            }
        }
        let name = found.or_else(account_of_uid);
        for var in skipped {
            output::eprint_line(&format!(
                "issuer: warning: ${var} is not a usable name (it holds a control character, \
                 blanks at its ends, more than {} bytes or is not UTF-8): recording {} instead",
                format::MAX_TEXT_LEN,
                name.as_deref()
                    .map_or_else(|| "'unknown'".to_string(), |n| format!("'{n}'"))
            ));
        }
        name
    })
    .clone()
}

/// The account name of this process's user id in /etc/passwd (only one the ledger accepts),
/// else `uid N`.
fn account_of_uid() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let name = passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            (f.nth(1)? == uid.to_string()).then(|| name.to_string())
        });
        Some(
            name.filter(|n| !n.is_empty() && issuer::ledger::check_text("name", n).is_ok())
                .unwrap_or_else(|| format!("uid {uid}")),
        )
    }
    #[cfg(not(unix))]
    None
}

/// The name recorded as who made a change (audit rows): [`user_name`], else `unknown`.
pub fn actor() -> String {
    user_name().unwrap_or_else(|| "unknown".into())
}
