//! `issuer keygen --kid NAME --out DIR [--unencrypted] [--force]`.

use std::io::Write;
use std::path::{Path, PathBuf};

use issuer::keys::{self, KdfParams};

use crate::error::CliError;
use crate::output::{emit, Render};

/// The key pair written (JSON: `{key_id, secret_key, public_key, encrypted}`).
#[derive(serde::Serialize)]
struct Generated {
    key_id: String,
    secret_key: PathBuf,
    public_key: PathBuf,
    encrypted: bool,
}

impl Render for Generated {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "key id {}", self.key_id)?;
        writeln!(
            out,
            "secret key: {} ({})",
            self.secret_key.display(),
            if self.encrypted {
                "passphrase-encrypted"
            } else {
                "UNENCRYPTED"
            }
        )?;
        writeln!(out, "public key: {}", self.public_key.display())
    }
}

/// Generate a key pair into `dir` and say where it went.
pub fn run(
    kid: &str,
    dir: &Path,
    unencrypted: bool,
    force: bool,
    json: bool,
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
    let v = Generated {
        key_id: g.key_id.to_string(),
        secret_key: g.secret_path.clone(),
        public_key: g.public_path.clone(),
        encrypted: !unencrypted,
    };
    emit(out, &v, json)?;
    Ok(())
}
