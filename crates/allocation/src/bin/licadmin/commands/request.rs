//! `licadmin request`: this machine's request code (its strong host-ID code and the store's
//! install key, for the vendor), or whether a pasted one is intact.

use allocation::{AllocError, Allocator};
use clap::Args;
use hostid::{HostId, RequestCode};

use crate::output::{out, Output};
use crate::CliError;

/// `licadmin request`'s options.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  licadmin request\n  licadmin request --json\n  licadmin request --check 3Q2H4-74BA6-..."
)]
pub(crate) struct RequestArgs {
    /// Check this pasted request code instead (exit 0 intact, 3 naming the problem).
    #[arg(long, value_name = "CODE")]
    pub(crate) check: Option<String>,
}

/// The request code of this store on this machine, or on the machine `--host-id` names
/// (which must be a strong code).
pub(crate) fn request(a: &Allocator, host_id: Option<&str>) -> Result<Output, CliError> {
    let host = match host_id {
        Some(code) => code.trim().parse::<HostId>().map_err(CliError::BadHostId)?,
        None => hostid::current_strong().map_err(|e| {
            CliError::Alloc(AllocError::InvalidInput {
                what: "host ID",
                reason: format!("this machine's strong host-ID code cannot be made: {e}"),
            })
        })?,
    };
    let code = a.request_code(host)?;
    let key = format::install_key::to_hex(&a.install_key()?);
    Ok(out(
        format!("{code}\n"),
        serde_json::json!({
            "request_code": code.to_string(),
            "host_id": host.to_string(),
            "short_code": host.to_short().to_string(),
            "install_key": key,
        }),
    ))
}

/// Whether a pasted request code is intact: exit 0 naming its host, or exit 3 naming the
/// problem. Needs no store.
pub(crate) fn check(code: &str) -> Result<Output, CliError> {
    let req: RequestCode = code.parse().map_err(|e: hostid::RequestCodeError| {
        CliError::Alloc(AllocError::InvalidInput {
            what: "request code",
            reason: e.to_string(),
        })
    })?;
    if let Err(e) = format::PublicKey::from_bytes(&req.install_key()) {
        return Err(CliError::Alloc(AllocError::InvalidInput {
            what: "request code",
            reason: format!("its install key is not a valid key: {e}"),
        }));
    }
    let host = req.host();
    Ok(out(
        format!(
            "valid request code for host ID {host} (its short code is {})\n",
            host.to_short()
        ),
        serde_json::json!({
            "valid": true,
            "request_code": req.to_string(),
            "host_id": host.to_string(),
            "short_code": host.to_short().to_string(),
            "install_key": format::install_key::to_hex(
                &format::PublicKey::from_bytes(&req.install_key())
                    .map_err(|e| CliError::Alloc(AllocError::Internal(e.to_string())))?
            ),
        }),
    ))
}
