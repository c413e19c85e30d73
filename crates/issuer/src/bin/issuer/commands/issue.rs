//! `issuer issue`: one file (`--out FILE`), or one or a batch of requests into `--out-dir`.

use std::io::Write;
use std::path::{Path, PathBuf};

use format::{LicenseType, Timestamp};
use issuer::keys;
use issuer::{Catalog, IssueRequest, IssuerError, PartQuantity};

use super::parse_pairs;
use crate::cli::{Cli, IssueArgs};
use crate::context::{generated_by, key_path, load_catalog, open_ledger};
use crate::error::CliError;
use crate::output::{self, emit, Out, Render};

/// A file issued (JSON: `{id, path, license_type, expires_at}`; text: its id).
#[derive(serde::Serialize)]
pub struct NewFile {
    /// The new file's id.
    pub id: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Its license type.
    pub license_type: LicenseType,
    /// When it expires.
    pub expires_at: Timestamp,
}

impl Render for NewFile {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.id)
    }
}

/// The files of `--out-dir`, in request order (JSON: a list of [`NewFile`]; text: `ID PATH`
/// per line).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Batch(Vec<NewFile>);

impl Render for Batch {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.0 {
            writeln!(out, "{} {}", f.id, f.path.display())?;
        }
        Ok(())
    }
}

/// Issue the file or files `args` ask for; prints each new file's id.
///
/// `--out -` writes the file itself, unchanged, on standard output; the id then goes to
/// standard error with the rest of the report.
pub fn run<W: Write>(cli: &Cli, args: &IssueArgs, out: &mut Out<W>) -> Result<(), CliError> {
    let key_file = key_path(args.key.as_deref())?;
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let (reqs, batch) = issue_requests(args)?;
    let (out_path, req) = match (&args.out, &args.out_dir, reqs.first()) {
        (Some(p), None, Some(req)) if !batch => (p, req),
        (Some(_), _, _) => {
            return Err(CliError::Usage(
                "a batch writes one file per request: give --out-dir DIR instead of --out".into(),
            ))
        }
        (None, Some(dir), _) => {
            return issue_into(cli, &catalog, &key_file, &reqs, dir, out);
        }
        _ => {
            return Err(CliError::Usage(
                "missing --out FILE or --out-dir DIR".into(),
            ))
        }
    };
    let mut ledger = open_ledger(cli)?;
    // Everything that can be checked without the key is checked before asking for
    // a passphrase.
    ledger.check(&catalog, req)?;
    let key = keys::load_secret_key(&key_file, &mut || {
        keys::passphrase_from_env_or_prompt(false)
    })?;
    let to_stdout = out_path.as_os_str() == "-";
    let path = (!to_stdout).then_some(out_path.as_path());
    let issued = ledger.issue(&catalog, req, &key, path, Timestamp::now())?;
    drop(key);
    // Said once the file exists, so a refusal is not buried under it.
    if let Some(w) = issuer::host_code::short_code_warning(req.license_type, &req.host_id) {
        output::eprint_line(&format!("issuer: warning: {w}"));
    }
    if to_stdout {
        out.write_raw(&issued.bytes)?;
        output::eprint_line(&format!(
            "issuer: issued {} ({} file, expires {}), written to standard output",
            issued.file_id,
            req.license_type.label(),
            issued.expires_at
        ));
        return Ok(());
    }
    let v = NewFile {
        id: issued.file_id.to_string(),
        path: out_path.clone(),
        license_type: req.license_type,
        expires_at: issued.expires_at,
    };
    emit(out, &v, cli.json)?;
    output::eprint_line(&format!(
        "issuer: wrote {} ({} file, expires {})",
        out_path.display(),
        req.license_type.label(),
        issued.expires_at
    ));
    Ok(())
}

/// `issuer issue --out-dir DIR`: every request (a batch, or one) in one transaction, each
/// file written to `DIR/<machine>.i3lic`; prints `ID PATH` per file, in request order.
fn issue_into(
    cli: &Cli,
    catalog: &Catalog,
    key_file: &Path,
    reqs: &[IssueRequest],
    dir: &Path,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut ledger = open_ledger(cli)?;
    // Everything that can be checked without the key is checked before asking for a
    // passphrase.
    ledger.check_batch(catalog, reqs, Some(dir))?;
    let key = keys::load_secret_key(key_file, &mut || keys::passphrase_from_env_or_prompt(false))?;
    let issued = ledger.issue_batch(catalog, reqs, &key, Some(dir), Timestamp::now())?;
    drop(key);
    let mut files = Vec::with_capacity(issued.len());
    for (req, f) in reqs.iter().zip(&issued) {
        if let Some(w) = issuer::host_code::short_code_warning(req.license_type, &req.host_id) {
            output::eprint_line(&format!("issuer: warning: {} ({w})", req.machine));
        }
        files.push(NewFile {
            id: f.file_id.to_string(),
            path: dir.join(issuer::batch_file_name(&req.machine)?),
            license_type: req.license_type,
            expires_at: f.expires_at,
        });
    }
    emit(out, &Batch(files), cli.json)?;
    output::eprint_line(&format!(
        "issuer: wrote {} file(s) into {}, recorded in one transaction",
        issued.len(),
        dir.display()
    ));
    Ok(())
}

fn pick(flag: &Option<String>, file: Option<String>, name: &str) -> Result<String, CliError> {
    flag.clone().or(file).ok_or_else(|| {
        CliError::Usage(format!(
            "missing --{name} (give it on the command line or in --request)"
        ))
    })
}

/// One request as a request file gives it (every value optional: flags may supply it).
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileReq {
    account: Option<String>,
    site: Option<String>,
    product: Option<String>,
    version: Option<String>,
    #[serde(rename = "type")]
    license_type: Option<String>,
    host_id: Option<String>,
    machine: Option<String>,
    switchover_host_id: Option<String>,
    switchover_machine: Option<String>,
    switchover_part: Option<String>,
    server_part: Option<String>,
    #[serde(default)]
    add: Vec<PartQuantity>,
    system_type: Option<String>,
    mail_connector: Option<String>,
    generated_by: Option<String>,
    #[serde(default)]
    partner: bool,
    related: Option<String>,
}

/// A batch request file: values shared by every request, and the requests.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchFile {
    #[serde(default)]
    defaults: serde_json::Map<String, serde_json::Value>,
    requests: Vec<serde_json::Value>,
}

/// The requests of `issuer issue` (one, or a batch from `--request`) with command-line flags
/// taking precedence, and whether they came as a batch.
fn issue_requests(a: &IssueArgs) -> Result<(Vec<IssueRequest>, bool), CliError> {
    let Some(p) = &a.request else {
        return Ok((vec![issue_request(a, FileReq::default())?], false));
    };
    let bytes = issuer::fsio::read_bounded(p, REQUEST_FILE_MAX, "request file")?;
    let malformed = |reason: String| IssuerError::MalformedRequest {
        reason: format!("{}: {reason}", p.display()),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
    let is_batch = value
        .as_object()
        .is_some_and(|o| o.contains_key("requests"));
    // Bounded before anything is copied: a batch's defaults go into every request, so a
    // 4 MiB default would otherwise become gigabytes over 10,000 requests.
    match value.get("requests").and_then(|r| r.as_array()) {
        Some(r) if is_batch => {
            if r.len() > issuer::ledger::MAX_BATCH {
                return Err(malformed(format!(
                    "the batch holds {} requests; at most {} are issued at once",
                    r.len(),
                    issuer::ledger::MAX_BATCH
                ))
                .into());
            }
            if let Some(d) = value.get("defaults") {
                check_value_sizes(d, "defaults").map_err(malformed)?;
            }
            for (i, req) in r.iter().enumerate() {
                check_value_sizes(req, &format!("request {} of {}", i + 1, r.len()))
                    .map_err(malformed)?;
            }
        }
        _ => check_value_sizes(&value, "the request").map_err(malformed)?,
    }
    if !is_batch {
        let f: FileReq = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        return Ok((vec![issue_request(a, f)?], false));
    }
    let b: BatchFile = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
    for (flag, given) in [
        ("--host-id", a.host_id.is_some()),
        ("--machine", a.machine.is_some()),
        ("--switchover-host-id", a.switchover_host_id.is_some()),
        ("--switchover-machine", a.switchover_machine.is_some()),
    ] {
        if given {
            return Err(CliError::Usage(format!(
                "{flag} names one server: give it in each request of the batch {}",
                p.display()
            )));
        }
    }
    let count = b.requests.len();
    let mut reqs = Vec::with_capacity(count);
    for (i, r) in b.requests.into_iter().enumerate() {
        let serde_json::Value::Object(fields) = r else {
            return Err(malformed(format!("request {} of {count} is not an object", i + 1)).into());
        };
        let mut merged = b.defaults.clone();
        merged.extend(fields);
        let machine = merged
            .get("machine")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string();
        let within = |reason: String| {
            format!(
                "request {} of {count} (machine '{machine}'): {reason}",
                i + 1
            )
        };
        let f: FileReq = serde_json::from_value(serde_json::Value::Object(merged))
            .map_err(|e| malformed(within(e.to_string())))?;
        reqs.push(issue_request(a, f).map_err(|e| match e {
            CliError::Usage(m) => CliError::Usage(within(m)),
            other => other,
        })?);
    }
    Ok((reqs, true))
}

/// The largest request file read.
const REQUEST_FILE_MAX: usize = 4 * 1024 * 1024;

/// Refuse a value no request can use: a text longer than any field of an activation file
/// may be, or a list longer than one may hold. `at` names the value in the error.
fn check_value_sizes(v: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.len() > format::MAX_TEXT_LEN => Err(format!(
            "{at}: a text of {} bytes; at most {} are accepted",
            s.len(),
            format::MAX_TEXT_LEN
        )),
        Value::Array(a) if a.len() > format::MAX_LIST_LEN => Err(format!(
            "{at}: a list of {} entries; at most {} are accepted",
            a.len(),
            format::MAX_LIST_LEN
        )),
        Value::Array(a) => a.iter().try_for_each(|x| check_value_sizes(x, at)),
        Value::Object(o) => o
            .iter()
            .try_for_each(|(k, x)| check_value_sizes(x, &format!("{at}, '{k}'"))),
        _ => Ok(()),
    }
}

/// One request from a request file's values, command-line flags taking precedence.
fn issue_request(a: &IssueArgs, f: FileReq) -> Result<IssueRequest, CliError> {
    let t = pick(&a.license_type, f.license_type, "type")?;
    let license_type: LicenseType = t
        .parse()
        .map_err(|e: format::FormatError| CliError::Usage(format!("--type: {e}")))?;
    let add = if a.add.is_empty() {
        f.add
    } else {
        parse_pairs("--add", &a.add, 1)?
    };
    let given = a.generated_by.clone().or(f.generated_by);
    let generated_by = match given {
        Some(g) => Some(g),
        None => generated_by()?,
    }
    .ok_or_else(|| CliError::Usage("missing --generated-by (and $USER is not set)".into()))?;
    Ok(IssueRequest {
        account: pick(&a.account, f.account, "account")?,
        site: pick(&a.site, f.site, "site")?,
        product: pick(&a.product, f.product, "product")?,
        version: pick(&a.version, f.version, "version")?,
        license_type,
        host_id: pick(&a.host_id, f.host_id, "host-id")?,
        machine: pick(&a.machine, f.machine, "machine")?,
        switchover_host_id: a.switchover_host_id.clone().or(f.switchover_host_id),
        switchover_machine: a.switchover_machine.clone().or(f.switchover_machine),
        switchover_part: a.switchover_part.clone().or(f.switchover_part),
        server_part: pick(&a.server_part, f.server_part, "server-part")?,
        add,
        system_type: a.system_type.clone().or(f.system_type),
        mail_connector: a.mail_connector.clone().or(f.mail_connector),
        generated_by,
        partner: a.partner || f.partner,
        related: a.related.clone().or(f.related),
    })
}
