//! `issuer download ID --out FILE`: the recorded bytes again, `-` for standard output.

use std::path::Path;

use crate::cli::Cli;
use crate::context::read_ledger;
use crate::error::CliError;
use crate::output::{self, Out};

/// Write the file's recorded bytes to `path` (`-`: standard output, unchanged).
pub fn run<W: std::io::Write>(
    cli: &Cli,
    id: &str,
    path: &Path,
    out: &mut Out<W>,
) -> Result<(), CliError> {
    let (id, bytes) = read_ledger(cli, |l| {
        let id = l.resolve_file_id(id)?;
        let bytes = l.file_bytes(&id)?;
        Ok((id, bytes))
    })?;
    if path.as_os_str() == "-" {
        out.write_raw(&bytes)?;
    } else {
        issuer::fsio::write_out(path, &bytes, 0o644)?;
        if cli.json {
            output::print_json(out, &serde_json::json!({ "id": id, "path": path }))?;
        }
        output::eprint_line(&format!(
            "issuer: wrote {} (activation file {id}, as recorded)",
            path.display(),
        ));
    }
    Ok(())
}
