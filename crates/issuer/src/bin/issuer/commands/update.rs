//! `issuer update ID`: a new file that supersedes an active one, with changes.

use std::io::Write;

use format::Timestamp;
use issuer::keys;
use issuer::UpdateRequest;

use super::{canonical_part, parse_pairs};
use crate::cli::{Cli, UpdateArgs};
use crate::context::{generated_by, key_path, load_catalog, open_ledger};
use crate::error::CliError;
use crate::output::{self, emit, Out, Render};

use super::issue::NewFile;

/// The new file and the one it supersedes (JSON: [`NewFile`]'s fields and `supersedes`).
#[derive(serde::Serialize)]
struct Update {
    #[serde(flatten)]
    file: NewFile,
    supersedes: String,
}

impl Render for Update {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        self.file.text(out)
    }
}

/// Issue the update; prints the new file's id (with `--out -`, the new file itself, and the
/// id on standard error).
pub fn run<W: Write>(cli: &Cli, args: &UpdateArgs, out: &mut Out<W>) -> Result<(), CliError> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let key_file = key_path(args.key.as_deref())?;
    let mut u = update_request(args)?;
    for p in u.add.iter_mut().chain(u.set.iter_mut()) {
        p.part = canonical_part(&catalog, &p.part);
    }
    if let Some(p) = &u.switchover_part {
        u.switchover_part = Some(canonical_part(&catalog, p));
    }
    let mut ledger = open_ledger(cli)?;
    // Everything that can be checked without the key is checked before asking for
    // a passphrase.
    let id = ledger.resolve_file_id(&args.id)?;
    let req = ledger.check_update(&catalog, &id, &u)?;
    let key = keys::load_secret_key(&key_file, &mut || {
        keys::passphrase_from_env_or_prompt(false)
    })?;
    let to_stdout = args.out.as_os_str() == "-";
    let issued = ledger.update(
        &catalog,
        &id,
        &u,
        &key,
        (!to_stdout).then_some(args.out.as_path()),
        Timestamp::now(),
    )?;
    drop(key);
    if to_stdout {
        out.write_raw(&issued.bytes)?;
        output::eprint_line(&format!(
            "issuer: issued {} ({} file, expires {}), written to standard output; it \
             supersedes {}, which is now inactive",
            issued.file_id,
            req.license_type.label(),
            issued.expires_at,
            id.clone()
        ));
        return Ok(());
    }
    let v = Update {
        file: NewFile {
            id: issued.file_id.to_string(),
            path: args.out.clone(),
            license_type: req.license_type,
            expires_at: issued.expires_at,
        },
        supersedes: id.clone(),
    };
    emit(out, &v, cli.json)?;
    output::eprint_line(&format!(
        "issuer: wrote {} ({} file, expires {}); it supersedes {}, which is now inactive",
        args.out.display(),
        req.license_type.label(),
        issued.expires_at,
        id.clone()
    ));
    Ok(())
}

fn update_request(a: &UpdateArgs) -> Result<UpdateRequest, CliError> {
    Ok(UpdateRequest {
        host_id: a.host_id.clone(),
        machine: a.machine.clone(),
        switchover_host_id: a.switchover_host_id.clone(),
        switchover_machine: a.switchover_machine.clone(),
        switchover_part: a.switchover_part.clone(),
        remove_switchover: a.remove_switchover,
        add: parse_pairs("--add", &a.add, 1)?,
        set: parse_pairs("--set", &a.set, 0)?,
        system_type: a.system_type.clone(),
        mail_connector: a.mail_connector.clone(),
        generated_by: match a.generated_by.clone() {
            Some(g) => Some(g),
            None => generated_by()?,
        }
        .ok_or_else(|| CliError::Usage("missing --generated-by (and $USER is not set)".into()))?,
    })
}
