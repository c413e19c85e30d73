//! `licverify`: check an activation file as a server would, and show what it licenses.
//!
//! ```text
//! licverify FILE --trust PUB [--trust PUB ...] [--host-id CODE] [--product P --version V]
//!           [--at TIME] [--state FILE] [--json]
//! ```
//! Exit codes follow DESIGN.md (see the `verify` crate documentation).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use format::{FormatError, PublicKey, Timestamp};
use hostid::{CodeError, HostId};
use verify::{HostSource, License, ProductCheck, StateFile, TrustStore, Verifier, VerifyError};

/// Check an i3lic activation file as a server would: signature, trusted key, product and
/// version, host binding, validity window. Prints what the file licenses when it is valid.
#[derive(Debug, Parser)]
#[command(
    name = "licverify",
    about,
    long_about = None,
    disable_version_flag = true,
    after_help = "Examples:\n  licverify ic1.i3lic --trust keys/vendor.pub\n  I3LIC_TRUST=old.pub:new.pub licverify ic1.i3lic --product CIC --version 4.0\n  licverify ic1.i3lic --trust vendor.pub --host-id 1Q2H4-74KMZ-KWXDV-8K000-00KZQ --json\n  licverify - --trust vendor.pub < ic1.i3lic\n\nAlso: licverify inspect FILE (what a file says, unverified), licverify completions SHELL,\nlicverify man."
)]
struct Cli {
    /// The activation file (.i3lic); `-` reads it from standard input.
    #[arg(required_unless_present = "program_version")]
    file: Option<PathBuf>,
    /// A trusted public key file (.pub); repeat for several keys (rotation). Default:
    /// $I3LIC_TRUST, colon-separated paths.
    #[arg(long = "trust", value_name = "PUB")]
    trust: Vec<PathBuf>,
    /// Print licverify's own version and exit (`--version` is the product version).
    #[arg(short = 'V', action = clap::ArgAction::SetTrue)]
    program_version: bool,
    /// Check as the machine with this host-ID code instead of this machine.
    #[arg(long = "host-id", value_name = "CODE")]
    host_id: Option<String>,
    /// The product the file must license (with --version).
    #[arg(long, value_name = "P", requires = "version")]
    product: Option<String>,
    /// The server version the file must license (with --product).
    #[arg(long, value_name = "V", requires = "product")]
    version: Option<String>,
    /// Check at this UTC time (2001-01-01T00:00:00Z or 2001-01-01) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<Timestamp>,
    /// A server state file: refuse a clock set back or an older / superseded file, and
    /// record the accepted file (nothing is recorded when --at is given). Updates lock
    /// FILE.lock, so a running server sharing the state file loses nothing.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Print one JSON object: {valid, error: {exit_code, code, kind, message}, license}
    /// (`code` is the exit code too, kept for scripts written before `exit_code`).
    #[arg(long)]
    json: bool,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>().map_err(|e| e.to_string())
}

/// Everything that can stop `licverify`, each with one exit code.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("cannot read trusted key {}: {source}", path.display())]
    KeyIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("trusted key {} is not a public key: {source}", path.display())]
    KeyMalformed { path: PathBuf, source: FormatError },
    #[error("--host-id: {0}")]
    BadHostId(CodeError),
    #[error("no trusted key: give --trust PUB (or I3LIC_TRUST=PUB:PUB...)")]
    NoTrust,
}

impl CliError {
    fn exit_code(&self) -> i32 {
        match self {
            CliError::Verify(e) => e.exit_code(),
            CliError::KeyIo { .. } => 4,
            CliError::KeyMalformed { .. } | CliError::BadHostId(_) => 3,
            CliError::NoTrust => 2,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            CliError::Verify(e) => e.kind(),
            CliError::KeyIo { .. } => "trusted-key-io",
            CliError::KeyMalformed { .. } => "trusted-key-malformed",
            CliError::BadHostId(_) => "bad-host-id",
            CliError::NoTrust => "usage",
        }
    }
}

fn read_key(path: &Path) -> Result<PublicKey, CliError> {
    let io = |source| CliError::KeyIo {
        path: path.to_owned(),
        source,
    };
    // Wiped on drop: an administrator may point --trust at a secret key file by mistake.
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    // Only a regular file: a FIFO would block, a device never end.
    let file = verify::open_regular_file(path, "trusted key").map_err(|e| match e {
        VerifyError::Io { source, .. } => io(source),
        other => CliError::Verify(other),
    })?;
    file.take(64 * 1024 + 1).read_to_end(&mut buf).map_err(io)?;
    let text = std::str::from_utf8(&buf).map_err(|_| CliError::KeyMalformed {
        path: path.to_owned(),
        source: FormatError::MalformedKey {
            kind: "public",
            reason: "not UTF-8 text".into(),
        },
    })?;
    PublicKey::from_text(text).map_err(|source| CliError::KeyMalformed {
        path: path.to_owned(),
        source,
    })
}

fn run(cli: &Cli) -> Result<License, CliError> {
    let mut paths = cli.trust.clone();
    if paths.is_empty() {
        if let Some(v) = std::env::var_os("I3LIC_TRUST") {
            paths = std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
        }
    }
    if paths.is_empty() {
        return Err(CliError::NoTrust);
    }
    // A malformed --host-id is reported before any file is read (FORMAT.md 12.3).
    let host = cli
        .host_id
        .as_deref()
        .map(str::parse::<HostId>)
        .transpose()
        .map_err(CliError::BadHostId)?;
    let keys = paths
        .iter()
        .map(|p| read_key(p))
        .collect::<Result<Vec<_>, _>>()?;
    let trust = TrustStore::new(keys)?;
    let product = match (&cli.product, &cli.version) {
        (Some(p), Some(v)) => ProductCheck::Expect {
            product: p.clone(),
            version: v.clone(),
        },
        _ => ProductCheck::Any,
    };
    let mut verifier = Verifier::new(trust, product);
    if let Some(id) = host {
        verifier = verifier.host(HostSource::Code(id));
    }
    if let Some(at) = cli.at {
        verifier = verifier.at(at);
    }
    if let Some(state) = &cli.state {
        verifier = verifier.state_file(StateFile::new(state));
        if cli.at.is_some() {
            verifier = verifier.state_read_only();
        }
    }
    match cli.file.as_deref() {
        // Standard input, read with the same bound as a file (`read_input`).
        Some(p) if p == Path::new("-") => Ok(verifier.load(&read_input(p)?)?),
        Some(p) => Ok(verifier.load_file(p)?),
        None => Err(CliError::Verify(VerifyError::Io {
            path: PathBuf::new(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no file given"),
        })),
    }
}

/// `licverify inspect FILE [--json]`: what a file says, shown without trusting it.
#[derive(Debug, Parser)]
#[command(
    name = "licverify inspect",
    about = "Show what an activation file says WITHOUT checking its signature, key, host or dates \
             (for support staff reading a customer's file). Nothing shown is verified.",
    after_help = "Examples:\n  licverify inspect customer.i3lic\n  licverify inspect - --json < customer.i3lic"
)]
struct InspectCli {
    /// The activation file; `-` reads standard input.
    file: PathBuf,
    /// Print one JSON object: {verified: false, format_version, key_id, activation} or
    /// {error: {exit_code, kind, message}}.
    #[arg(long)]
    json: bool,
}

fn read_input(path: &Path) -> Result<Vec<u8>, VerifyError> {
    if path != Path::new("-") {
        return verify::read_file(path);
    }
    let mut buf = Vec::new();
    std::io::stdin()
        .take(format::MAX_FILE_SIZE as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|source| VerifyError::Io {
            path: PathBuf::from("-"),
            source,
        })?;
    if buf.len() > format::MAX_FILE_SIZE {
        return Err(VerifyError::Malformed(FormatError::TooLarge {
            size: buf.len(),
            max: format::MAX_FILE_SIZE,
        }));
    }
    Ok(buf)
}

fn inspect(cli: &InspectCli) -> ExitCode {
    let result = read_input(&cli.file).and_then(|bytes| {
        let parsed = format::UnverifiedFile::parse(&bytes).map_err(VerifyError::Malformed)?;
        let a = parsed.claims_unverified().map_err(VerifyError::Malformed)?;
        Ok((parsed.version(), parsed.key_id(), a))
    });
    let (text, code) = match (&result, cli.json) {
        (Ok((v, k, a)), true) => (
            serde_json::to_string_pretty(&serde_json::json!({
                "verified": false,
                "format_version": v.number(),
                "key_id": k.to_string(),
                "activation": a,
            }))
            .map(|s| s + "\n")
            .unwrap_or_default(),
            0,
        ),
        (Ok((v, k, a)), false) => {
            use std::fmt::Write as _;
            let mut o = String::new();
            let _ = writeln!(
                o,
                "UNVERIFIED: {} (what the file says; its signature, key, host and dates were NOT checked)",
                cli.file.display()
            );
            let _ = writeln!(o, "  format           {v}");
            let _ = writeln!(o, "  claims key       {k}");
            let _ = writeln!(o, "  file id          {}", a.file_id);
            if let Some(g) = a.generation() {
                let _ = writeln!(
                    o,
                    "  update chain     generation {g} of lineage {}",
                    a.lineage()
                );
            }
            let _ = writeln!(o, "  product          {} {}", a.product, a.product_version);
            let _ = writeln!(o, "  license type     {}", a.license_type);
            let _ = writeln!(o, "  sold to          {}", a.sold_to);
            let _ = writeln!(o, "  install site     {}", a.install_site);
            let _ = writeln!(o, "  issued           {}", a.issued_at);
            let _ = writeln!(o, "  expires          {}", a.expires_at);
            let _ = writeln!(
                o,
                "  primary host     {} ({}, {} code)",
                a.primary_host.machine,
                a.primary_host.host_id,
                a.primary_host.host_id.form()
            );
            if let Some(h) = &a.switchover_host {
                let _ = writeln!(
                    o,
                    "  switchover host  {} ({}, {} code)",
                    h.machine,
                    h.host_id,
                    h.host_id.form()
                );
            }
            let _ = writeln!(o, "  licenses ({})", a.licenses.len());
            for l in &a.licenses {
                let _ = writeln!(
                    o,
                    "    {:<40} {:>8} assigned {:>8} pooled",
                    l.name, l.assigned, l.pooled
                );
            }
            (o, 0)
        }
        (Err(e), true) => (
            serde_json::to_string_pretty(&serde_json::json!({
                "error": { "exit_code": e.exit_code(), "kind": e.kind(), "message": e.to_string() }
            }))
            .map(|s| s + "\n")
            .unwrap_or_default(),
            e.exit_code(),
        ),
        (Err(e), false) => {
            print_stderr(&format!("licverify inspect: {}: {e}", cli.file.display()));
            (String::new(), e.exit_code())
        }
    };
    if let Err(e) = print_stdout(&text) {
        return output_failed(&e);
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// A command line clap refused (or `--help`): printed as clap prints it, and with `--json`
/// among the arguments also as JSON on standard output, exit 2: `{"valid": false, "error":
/// {...}, "license": null}` for a check (`with_valid`), `{"error": {...}}` for `inspect`.
fn usage_error(e: &clap::Error, with_valid: bool) -> ExitCode {
    let _ = e.print();
    if !e.use_stderr() {
        return ExitCode::SUCCESS;
    }
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if json {
        let msg = e.render().to_string();
        let first = msg
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("usage error")
            .trim_start_matches("error: ")
            .to_string();
        let error =
            serde_json::json!({ "exit_code": 2, "code": 2, "kind": "usage", "message": first });
        let v = if with_valid {
            serde_json::json!({ "valid": false, "error": error, "license": null })
        } else {
            serde_json::json!({ "error": error })
        };
        if let Ok(text) = serde_json::to_string_pretty(&v) {
            let _ = print_stdout(&(text + "\n"));
        }
    }
    ExitCode::from(2)
}

/// `licverify completions SHELL` and `licverify man`: a shell completion script or the man
/// page, generated from the same clap definitions the command parses with.
#[derive(Debug, Parser)]
#[command(name = "licverify")]
enum GenerateCli {
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Examples:\n  licverify completions bash > /etc/bash_completion.d/licverify"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Examples:\n  licverify man | man -l -")]
    Man,
}

fn generated(args: impl Iterator<Item = std::ffi::OsString>) -> ExitCode {
    use clap::CommandFactory;
    let g = match GenerateCli::try_parse_from(std::iter::once("licverify".into()).chain(args)) {
        Ok(g) => g,
        Err(e) => return usage_error(&e, false),
    };
    let mut v = Vec::new();
    match g {
        GenerateCli::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "licverify", &mut v)
        }
        GenerateCli::Man => {
            if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut v) {
                return output_failed(&e);
            }
        }
    }
    // Written as generated: a completion script may hold tabs.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(&v).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => output_failed(&e),
    }
}

fn main() -> ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "completions" || a == "man")
    {
        return generated(std::env::args_os().skip(1));
    }
    if std::env::args_os().nth(1).is_some_and(|a| a == "inspect") {
        let args = std::env::args_os().skip(1);
        return match InspectCli::try_parse_from(args) {
            Ok(cli) => inspect(&cli),
            Err(e) => usage_error(&e, false),
        };
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage_error(&e, true),
    };
    if cli.program_version {
        if let Err(e) = print_stdout(&format!("licverify {}\n", env!("CARGO_PKG_VERSION"))) {
            return output_failed(&e);
        }
        return ExitCode::SUCCESS;
    }
    let file = cli.file.clone().unwrap_or_default();
    let result = run(&cli);
    let code = match &result {
        Ok(_) => 0,
        Err(e) => e.exit_code(),
    };
    if cli.json {
        let value = match &result {
            Ok(l) => serde_json::json!({ "valid": true, "error": null, "license": l }),
            Err(e) => serde_json::json!({
                "valid": false,
                "error": {
                    "exit_code": e.exit_code(),
                    "code": e.exit_code(),
                    "kind": e.kind(),
                    "message": e.to_string(),
                },
                "license": null,
            }),
        };
        match serde_json::to_string_pretty(&value) {
            Ok(s) => {
                if let Err(e) = print_stdout(&format!("{s}\n")) {
                    return output_failed(&e);
                }
            }
            Err(e) => {
                print_stderr(&format!("licverify: internal error: {e}"));
                return ExitCode::from(1);
            }
        }
    } else {
        match &result {
            Ok(l) => {
                if let Err(e) = print_stdout(&describe(&file, l)) {
                    return output_failed(&e);
                }
            }
            Err(e) => print_stderr(&format!("licverify: {}: {e}", file.display())),
        }
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `text` with every refused character ([`format::text::is_refused_char`]: controls,
/// bidirectional overrides, zero-width characters, line separators ...) except the line break
/// written as in a Rust string literal (`\u{1b}`, `\u{202e}`): a file name or a value quoted
/// in an error cannot act on the terminal or reorder the line.
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    format::text::escape_refused(text, &['\n'])
}

/// Everything `licverify` prints on standard output goes through here, control characters
/// escaped. A reader that went away (`licverify F --json | head -1`: a closed pipe) is not an
/// error: the output ends quietly and the exit status stays the verdict on the file. Any
/// other failure to write is returned.
fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out
        .write_all(escape_controls(text).as_bytes())
        .and_then(|()| out.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// One line on standard error, control characters escaped; dropped if it cannot be written.
fn print_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", escape_controls(line));
}

/// Standard output could not be written (other than a closed pipe): exit 4 (I/O).
fn output_failed(e: &std::io::Error) -> ExitCode {
    print_stderr(&format!("licverify: cannot write the output: {e}"));
    ExitCode::from(4)
}

/// The human-readable report of a valid file.
fn describe(path: &Path, l: &License) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let a = l.activation();
    let _ = writeln!(o, "VALID: {}", path.display());
    let _ = writeln!(o, "  file id          {}", a.file_id);
    if let Some(s) = a.supersedes {
        let _ = writeln!(o, "  supersedes       {s}");
    }
    let _ = writeln!(o, "  product          {} {}", a.product, a.product_version);
    let _ = writeln!(
        o,
        "  license type     {} ({})",
        a.license_type.label(),
        a.license_type
    );
    if !a.description.is_empty() {
        let _ = writeln!(o, "  description      {}", a.description);
    }
    let _ = writeln!(o, "  sold to          {}", a.sold_to);
    let _ = writeln!(o, "  install site     {}", a.install_site);
    let _ = writeln!(o, "  generated by     {}", a.generated_by);
    let _ = writeln!(o, "  issued           {}", a.issued_at);
    let _ = writeln!(o, "  valid from       {}", a.valid_from);
    let expiry = match l.days_left() {
        None => "never (perpetual)".to_string(),
        Some(d) if d >= 0 => format!("{} ({d} day(s) left)", a.expires_at),
        Some(_) => format!("{} (expired; grace until {})", a.expires_at, l.grace_ends()),
    };
    let _ = writeln!(o, "  expires          {expiry}");
    if a.grace_days > 0 {
        let _ = writeln!(o, "  grace period     {} day(s) after expiry", a.grace_days);
    }
    let _ = writeln!(o, "  signed by        key {}", l.key_id());
    let _ = writeln!(o, "  checked at       {}", l.checked_at());
    for (role, h) in l.hosts() {
        let matched = if role == l.role() { "  <- matched" } else { "" };
        let _ = writeln!(
            o,
            "  {:<16} {} ({}, {} code){matched}",
            format!("{role} host"),
            h.machine,
            h.host_id,
            h.host_id.form()
        );
    }
    let m = l.host_match();
    let parts: Vec<String> = m
        .components
        .iter()
        .map(|(kind, how)| {
            let how = match how {
                hostid::ComponentMatch::Equal => "equal",
                hostid::ComponentMatch::Different => "DIFFERENT",
                hostid::ComponentMatch::NotCompared => "not compared",
            };
            format!("{} {how}", kind.name())
        })
        .collect();
    let verdict = if m.differing == 0 {
        "exact match".to_string()
    } else {
        format!(
            "tolerant match: {} component(s) differ, {} strong equal",
            m.differing, m.strong_equal
        )
    };
    let _ = writeln!(o, "  host match       {verdict} ({})", parts.join(", "));
    if let Some(g) = l.generation() {
        let _ = writeln!(
            o,
            "  update chain     generation {g} of lineage {} (format {})",
            l.lineage(),
            l.format_version()
        );
    }
    let r = l.rules();
    if !r.is_empty() {
        let _ = writeln!(
            o,
            "  rules            {} key rule(s), {} requires, {} implies, {} excludes (--json lists them)",
            r.keys.len(),
            r.requires.len(),
            r.implies.len(),
            r.excludes.len()
        );
    }
    for (label, v) in [
        ("system type", &a.system_type),
        ("mail connector", &a.mail_connector),
        ("bundle", &a.bundle),
    ] {
        if !v.is_empty() {
            let _ = writeln!(o, "  {label:<16} {v}");
        }
    }
    if a.restrictions.is_empty() {
        let _ = writeln!(o, "  restrictions     none");
    } else {
        for (i, r) in a.restrictions.iter().enumerate() {
            let label = if i == 0 { "restrictions" } else { "" };
            let _ = writeln!(o, "  {label:<16} {}", r.describe());
        }
    }
    let _ = writeln!(o, "  features ({})", a.features.len());
    for f in &a.features {
        let _ = writeln!(o, "    {f}");
    }
    let _ = writeln!(o, "  licenses ({})", a.licenses.len());
    let width = a.licenses.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &a.licenses {
        let _ = writeln!(
            o,
            "    {:<width$}  {:>8} assigned  {:>8} pooled",
            c.name, c.assigned, c.pooled
        );
    }
    if !a.ordered_items.is_empty() {
        let _ = writeln!(o, "  ordered items ({})", a.ordered_items.len());
        for i in &a.ordered_items {
            let _ = writeln!(o, "    {}  {} ({})", i.part, i.description, i.quantity);
        }
    }
    for w in l.warnings() {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}
