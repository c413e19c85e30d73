//! `gethostid`: print this machine's host-ID code, or check a typed one.
//!
//! Exit codes (as for every i3lic binary): 0 success, 1 internal error, 2 usage error,
//! 3 malformed host-ID code, 4 too few stable machine components to make a safe code.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use hostid::machine::{self, Probe};
use hostid::{CodeError, CodeForm, HostId};

const AFTER_HELP: &str = "\
Examples:
  gethostid                      print this server's host ID, e.g. 1Q2H4-74KMZ-KWXDV-8K000-00KZQ
  gethostid --strong             print its strong host ID (60 symbols, starts with 2), e.g.
                                 2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T
  gethostid --json               the code, its form, the component kinds found and the environment
  gethostid --strong --json      the same with the strong code (and its short code)
  gethostid --check 1q2h4-74kmz-kwxdv-8k000-00kzq
                                 check a typed code of either form and say which form it is
                                 (case, dashes and O/I/L look-alikes are forgiven)
  gethostid completions bash      a shell completion script (also zsh, fish, elvish, powershell)
  gethostid man                  the man page (roff)

Type the printed code into the order form. It is made of hashes of this machine's identity,
firmware UUID, network adapters and CPU model; the identifiers themselves are not in it.
Where the order form or portal takes a pasted or uploaded code, give the strong one: the short
code printed in an activation file is enough to build another machine that matches it, the
strong code is not.

With --json an error is {\"error\": {\"kind\", \"message\", \"exit_code\"}} on standard output.

Exit codes: 0 ok, 2 usage error, 3 the checked code is malformed, 4 too few stable machine
components to make a safe code, 1 internal error.";

/// Print this machine's host-ID code, or check a typed one.
#[derive(Debug, Parser)]
#[command(name = "gethostid", version, about, after_help = AFTER_HELP)]
struct Cli {
    /// Print JSON: the code, its form (`short` or `strong`), which component kinds were found
    /// (never their values), the detected environment and warnings.
    #[arg(long)]
    json: bool,

    /// Print the strong code (60 symbols, version 2) instead of the short one.
    #[arg(long, conflicts_with = "check")]
    strong: bool,

    /// Check a typed code of either form instead of reading this machine: exit 0 if it is
    /// well formed (and say which form it is), 3 with what is wrong otherwise.
    #[arg(long, value_name = "CODE")]
    check: Option<String>,

    /// Read the Linux machine files under DIR (a test tree or a mounted system) instead of
    /// this machine. Not needed in normal use.
    #[arg(long, value_name = "DIR", hide = true, conflicts_with = "check")]
    root: Option<PathBuf>,

    #[command(subcommand)]
    extra: Option<Extra>,
}

/// What gethostid prints about itself.
#[derive(Debug, clap::Subcommand)]
enum Extra {
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Examples:\n  gethostid completions bash > /etc/bash_completion.d/gethostid"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from these same definitions.
    #[command(after_help = "Examples:\n  gethostid man | man -l -")]
    Man,
}

/// Everything that ends the program early; mapped to an exit code in one place.
#[derive(Debug)]
enum Failure {
    /// The code passed to `--check` is malformed.
    BadCode(CodeError),
    /// The code passed to `--check` is a malformed request code.
    BadRequest(hostid::RequestCodeError),
    /// This machine has too few stable components (the kinds it found are listed).
    TooFew(CodeError, Vec<&'static str>),
    /// Writing the output failed (other than the reader going away).
    Output(io::Error),
    /// Serialising JSON failed.
    Internal(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Internal(_) => 1,
            Failure::BadCode(_) | Failure::BadRequest(_) => 3,
            Failure::TooFew(..) | Failure::Output(_) => 4,
        }
    }

    /// A stable name for scripts (`--json`'s error object).
    fn kind(&self) -> &'static str {
        match self {
            Failure::BadCode(_) => "invalid_host_id",
            Failure::BadRequest(_) => "invalid_request_code",
            Failure::TooFew(..) => "too_few_components",
            Failure::Output(_) => "output",
            Failure::Internal(_) => "internal",
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::BadCode(e) => format!("invalid host ID: {e}"),
            Failure::BadRequest(e) => format!("invalid request code: {e}"),
            Failure::TooFew(e, kinds) => {
                let found = if kinds.is_empty() {
                    "nothing".to_owned()
                } else {
                    kinds.join(", ")
                };
                format!(
                    "cannot make a safe host ID on this machine: {e} (found: {found}; the CPU \
                     model does not count). No code was printed. Run gethostid as root (the \
                     firmware UUID is root-only), on the host rather than in a container, or \
                     make sure /etc/machine-id exists."
                )
            }
            Failure::Output(e) => format!("cannot write the output: {e}"),
            Failure::Internal(e) => format!("internal error: {e}"),
        }
    }
}

/// `{"error": {"kind", "message", "exit_code"}}` on standard output, as every i3lic binary
/// prints a failure under `--json` (the message is on standard error as well).
fn print_json_error(kind: &str, message: &str, exit_code: u8) {
    let v = serde_json::json!({
        "error": { "kind": kind, "message": message, "exit_code": exit_code }
    });
    if let Ok(text) = serde_json::to_string_pretty(&v) {
        let _ = write_stdout(&text);
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            // A usage error is JSON too when --json was among the arguments.
            if std::env::args_os()
                .skip(1)
                .take_while(|a| a != "--")
                .any(|a| a == "--json")
            {
                let msg = e.render().to_string();
                let first = msg
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("usage error")
                    .trim_start_matches("error: ");
                print_json_error("usage", first, 2);
            }
            return ExitCode::from(2);
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader closed the pipe (`gethostid | head -c0`): nothing left to say.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(f) => {
            let _ = writeln!(io::stderr(), "gethostid: {}", f.message());
            if cli.json {
                print_json_error(f.kind(), &f.message(), f.exit_code());
            }
            ExitCode::from(f.exit_code())
        }
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut generated = Vec::new();
    match &cli.extra {
        Some(Extra::Completions { shell }) => {
            clap_complete::generate(*shell, &mut Cli::command(), "gethostid", &mut generated);
        }
        Some(Extra::Man) => clap_mangen::Man::new(Cli::command())
            .render(&mut generated)
            .map_err(Failure::Output)?,
        None => {}
    }
    if cli.extra.is_some() {
        let mut out = io::stdout().lock();
        return out
            .write_all(&generated)
            .and_then(|()| out.flush())
            .map_err(Failure::Output);
    }
    match &cli.check {
        Some(code) => check(code, cli.json),
        None => print_current(cli.json, cli.strong, cli.root.as_deref()),
    }
}

fn check(code: &str, json: bool) -> Result<(), Failure> {
    if hostid::looks_like_request_code(code) {
        return check_request(code, json);
    }
    let id: HostId = hostid::validate(code).map_err(Failure::BadCode)?;
    let kinds: Vec<&str> = id.kinds().iter().map(|k| k.name()).collect();
    let text = if json {
        let mut v = serde_json::json!({
            "valid": true,
            "code": id.to_string(),
            "form": id.form().as_str(),
            "components": kinds,
        });
        if id.form() == CodeForm::Strong {
            v["short_code"] = id.to_short().to_string().into();
        }
        json_line(&v)?
    } else {
        let short = match id.form() {
            CodeForm::Short => String::new(),
            CodeForm::Strong => format!("; its short code is {}", id.to_short()),
        };
        format!(
            "valid host ID {id} ({} form, version {}, components: {}{short})",
            id.form(),
            id.version(),
            kinds.join(", ")
        )
    };
    write_stdout(&text)
}

/// `--check` of a request code (`licadmin request`): intact or not, and its host ID.
fn check_request(code: &str, json: bool) -> Result<(), Failure> {
    let req: hostid::RequestCode = code.parse().map_err(Failure::BadRequest)?;
    let host = req.host();
    let text = if json {
        json_line(&serde_json::json!({
            "valid": true,
            "code": req.to_string(),
            "form": "request",
            "host_id": host.to_string(),
            "short_code": host.to_short().to_string(),
        }))?
    } else {
        format!(
            "valid request code for host ID {host} (strong form; its short code is {})",
            host.to_short()
        )
    };
    write_stdout(&text)
}

fn print_current(json: bool, strong: bool, root: Option<&Path>) -> Result<(), Failure> {
    let probe: Probe = match root {
        Some(dir) => machine::probe_at(dir),
        None => machine::probe(),
    };
    for w in &probe.warnings {
        let _ = writeln!(io::stderr(), "gethostid: warning: {w}");
    }
    let kinds: Vec<&'static str> = probe.kinds().iter().map(|k| k.name()).collect();
    // One probe, one strong code; the short code is cut from it.
    let strong_id = probe.strong_host_id().map_err(|e| match e {
        e @ CodeError::TooFewComponents { .. } => Failure::TooFew(e, kinds.clone()),
        e => Failure::Internal(e.to_string()),
    })?;
    let id = if strong {
        strong_id
    } else {
        strong_id.to_short()
    };
    let text = if json {
        let warnings: Vec<String> = probe.warnings.iter().map(|w| w.to_string()).collect();
        let mut v = serde_json::json!({
            "code": id.to_string(),
            "form": id.form().as_str(),
            "components": kinds,
            "environment": probe.environment.name(),
            "warnings": warnings,
        });
        if strong {
            v["short_code"] = id.to_short().to_string().into();
        }
        json_line(&v)?
    } else {
        id.to_string()
    };
    write_stdout(&text)
}

fn json_line(v: &serde_json::Value) -> Result<String, Failure> {
    serde_json::to_string_pretty(v).map_err(|e| Failure::Internal(e.to_string()))
}

fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(Failure::Output)
}
