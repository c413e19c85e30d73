//! `licadmin serve`'s options; the license server itself is [`crate::serve`].

use std::path::PathBuf;

use allocation::Allocator;
use clap::Args;

use crate::output::{out, Output};
use crate::CliError;

/// `licadmin serve`'s options.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  licadmin --trust keys/vendor.pub serve --listen 0.0.0.0:7443\n  licadmin serve --listen 0.0.0.0:7443 --tls-cert server.pem --tls-key server.key\n  curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:7443/v1/report"
)]
pub(crate) struct ServeArgs {
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
}

/// Run the server on the store until SIGINT or SIGTERM.
pub(crate) fn run(a: Allocator, args: &ServeArgs) -> Result<Output, CliError> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
        _ => None,
    };
    crate::serve::run(a, &args.listen, tls).map(|()| out(String::new(), serde_json::json!({})))
}
