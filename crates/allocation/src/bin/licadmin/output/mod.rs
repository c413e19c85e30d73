//! Everything `licadmin` prints goes through here: a command builds an [`Output`] (its text
//! for people and its JSON value) or fails with a [`CliError`], and [`finish`] decides which
//! is printed (`--json` or not), escapes what reaches the terminal, prints warnings and
//! errors, and turns the result into the exit code. [`text`] holds the tables and the
//! escaping of values inside a command's text.

pub(crate) mod text;

use std::process::ExitCode;

use crate::CliError;

/// What a command prints: text for people, a JSON value for `--json`.
pub(crate) struct Output {
    pub(crate) text: String,
    pub(crate) json: serde_json::Value,
    pub(crate) code: i32,
    /// Warnings for people, on standard error after the text (the JSON carries them itself).
    pub(crate) notes: Vec<String>,
}

/// An output with exit code 0 and no warnings.
pub(crate) fn out(text: String, json: serde_json::Value) -> Output {
    Output {
        text,
        json,
        code: 0,
        notes: Vec::new(),
    }
}

/// A value as JSON (`null` if it cannot be).
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// One line per item.
pub(crate) fn lines(v: &[String]) -> String {
    v.iter().map(|k| format!("{k}\n")).collect()
}

/// Unix seconds as RFC 3339.
pub(crate) fn time_text(secs: i64) -> String {
    format::Timestamp::from_unix(secs).map_or_else(|| secs.to_string(), |t| t.to_string())
}

/// `text` with every refused character ([`format::text::is_refused_char`]: controls,
/// bidirectional overrides, zero-width characters, line separators ...) except the line break
/// and tab escaped (`\u{1b}`, `\u{202e}`): a name quoted in an error, or stored before such
/// names were refused, cannot act on the terminal or reorder the line.
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    format::text::escape_refused(text, &['\n', '\t'])
}

/// Everything on standard output goes through here. A reader that went away (a closed
/// pipe) ends the output quietly; any other failure is returned.
pub(crate) fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o
        .write_all(escape_controls(text).as_bytes())
        .and_then(|()| o.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// One line on standard error, escaped as standard output is.
pub(crate) fn print_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", escape_controls(line));
}

/// `v` as pretty JSON on standard output, with a line break.
fn print_json(v: &serde_json::Value) -> std::io::Result<()> {
    print_stdout(&format!(
        "{}\n",
        serde_json::to_string_pretty(v).unwrap_or_default()
    ))
}

/// A usage error clap found (printed by clap already): with `--json` among the arguments,
/// the error object too; exit 2.
pub(crate) fn usage_error(e: &clap::Error) -> ExitCode {
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
        let v = serde_json::json!({
            "error": { "kind": "usage", "message": first, "exit_code": 2 }
        });
        let _ = print_json(&v);
    }
    ExitCode::from(2)
}

/// Bytes written as they are (a completion script, the man page): exit 0, or 4 when they
/// cannot be written.
pub(crate) fn raw(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o.write_all(bytes).and_then(|()| o.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            print_stderr(&format!("licadmin: cannot write the output: {e}"));
            ExitCode::from(4)
        }
    }
}

/// Print what a command ended with, as text or (`json`) JSON, and its exit code: the
/// output's own, the error's, or 4 when standard output cannot be written.
pub(crate) fn finish(json: bool, result: &Result<Output, CliError>) -> ExitCode {
    let (code, printed) = match result {
        Ok(o) => {
            let text = if json {
                serde_json::to_string_pretty(&o.json)
                    .map(|s| s + "\n")
                    .unwrap_or_default()
            } else {
                for n in &o.notes {
                    print_stderr(&format!("licadmin: warning: {n}"));
                }
                o.text.clone()
            };
            (o.code, print_stdout(&text))
        }
        Err(e) => {
            print_stderr(&format!("licadmin: {e}"));
            let printed = if json {
                print_json(&serde_json::json!({
                    "error": { "kind": e.kind(), "message": e.to_string(), "exit_code": e.exit_code() }
                }))
            } else {
                Ok(())
            };
            (e.exit_code(), printed)
        }
    };
    if let Err(e) = printed {
        print_stderr(&format!("licadmin: cannot write the output: {e}"));
        return ExitCode::from(4);
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
