//! `issuer ledger copy DST [--quiet]`: the whole ledger into an empty one.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};

use issuer::ledger::copy::{self, CopyProgress};
use issuer::location::LedgerLocation;

use crate::cli::{Cli, LedgerCommand};
use crate::context::read_ledger;
use crate::error::CliError;
use crate::output::{emit, Render};

/// A finished copy (JSON: `{"target", "files", "records"}`).
#[derive(serde::Serialize)]
struct Copied {
    target: String,
    files: u64,
    records: u64,
}

impl Render for Copied {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "copied {} files ({} records) into {}",
            self.files, self.records, self.target
        )
    }
}

/// Run a `ledger` command.
pub fn run(cli: &Cli, command: &LedgerCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        LedgerCommand::Copy { target, quiet } => {
            let target = LedgerLocation::parse(target.as_os_str())
                .map_err(|e| CliError::Usage(format!("ledger copy: {e}")))?;
            // `read_ledger` reads again when an unlocked source changed meanwhile; the copy
            // then rolled back, and starts over.
            let bar = RefCell::new(Progress::new(*quiet));
            let done = read_ledger(cli, |source| {
                copy::copy(source, &target, &mut |p| {
                    bar.borrow_mut().show(p);
                    Ok(())
                })
            });
            bar.borrow_mut().finish();
            let done = done?;
            emit(
                out,
                &Copied {
                    target: display(&target),
                    files: done.files,
                    records: done.records,
                },
                cli.json,
            )?;
        }
    }
    Ok(())
}

fn display(l: &LedgerLocation) -> String {
    l.to_string()
}

/// Progress on standard error: on a terminal one line redrawn in place, otherwise a plain
/// line at every tenth of the records (so a log gets at most ten lines); none when quiet.
struct Progress {
    quiet: bool,
    terminal: bool,
    /// The last tenth (plain lines) or percent (terminal) shown.
    shown: Option<u64>,
    /// Whether a bar was drawn (and needs its line ended).
    drawn: bool,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        Progress {
            quiet,
            terminal: std::io::stderr().is_terminal(),
            shown: None,
            drawn: false,
        }
    }

    fn show(&mut self, p: &CopyProgress) {
        if self.quiet || p.total.records == 0 {
            return;
        }
        let percent = p.records.min(p.total.records) * 100 / p.total.records;
        let step = if self.terminal { percent } else { percent / 10 };
        if self.shown == Some(step) {
            return;
        }
        self.shown = Some(step);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let filled = usize::try_from(percent / 5).unwrap_or(20);
            let _ = write!(
                err,
                "\r[{}{}] {percent:3}%  {}/{} files",
                "#".repeat(filled),
                " ".repeat(20 - filled.min(20)),
                p.files,
                p.total.files
            );
            let _ = err.flush();
            self.drawn = true;
        } else {
            let _ = writeln!(
                err,
                "issuer: copied {percent}%: {}/{} files, {}/{} records",
                p.files, p.total.files, p.records, p.total.records
            );
        }
    }

    /// End the bar's line, so what follows starts on a line of its own.
    fn finish(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr());
            self.drawn = false;
        }
    }
}
