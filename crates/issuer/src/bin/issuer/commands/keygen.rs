//! `issuer keygen --kid NAME --out DIR [--unencrypted] [--force]`.

use std::io::Write;
use std::path::Path;

use issuer::keys::{self, KdfParams};

use crate::error::CliError;

/// Generate a key pair into `dir` and say where it went.
pub fn run(
    kid: &str,
    dir: &Path,
    unencrypted: bool,
    force: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if !keys::valid_kid(kid) {
        return Err(CliError::Usage(format!(
            "--kid '{kid}': use 1 to 64 of A-Z a-z 0-9 . _ - (not starting with '.')"
        )));
    }
    let pass = if unencrypted {
        None
    } else {
        Some(keys::passphrase_from_env_or_prompt(true)?)
    };
    let g = keys::keygen(
        dir,
        kid,
        pass.as_deref().map(|s| s.as_str()),
        KdfParams::DEFAULT,
        force,
    )?;
    writeln!(out, "key id {}", g.key_id)?;
    writeln!(
        out,
        "secret key: {} ({})",
        g.secret_path.display(),
        if unencrypted {
            "UNENCRYPTED"
        } else {
            "passphrase-encrypted"
        }
    )?;
    writeln!(out, "public key: {}", g.public_path.display())?;
    Ok(())
}
