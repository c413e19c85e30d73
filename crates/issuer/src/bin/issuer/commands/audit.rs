//! `issuer audit verify [--head SEQ:HASH] [--json]`, `issuer audit head`.

use std::io::Write;

use issuer::ledger::AuditReport;

use crate::cli::{AuditCommand, Cli};
use crate::context::read_ledger;
use crate::error::CliError;
use crate::output::{self, emit, print_table, Render};
use issuer::AuditRow;

/// The result of checking the chain (JSON: the library's [`AuditReport`]).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Report(AuditReport);

impl Render for Report {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let r = &self.0;
        if r.intact() {
            writeln!(
                out,
                "audit log intact: {} rows, head {}:{}",
                r.rows, r.head_seq, r.head_hash
            )?;
        } else {
            for p in &r.problems {
                writeln!(out, "{p}")?;
            }
        }
        Ok(())
    }
}

/// Audit rows (JSON: a list of the library's [`AuditRow`], `before` and `after` as JSON).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Log(Vec<AuditRow>);

impl Render for Log {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let rows: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|r| {
                vec![
                    r.seq.to_string(),
                    r.at.to_string(),
                    r.actor.clone(),
                    r.action.clone(),
                    r.subject.clone(),
                ]
            })
            .collect();
        print_table(
            out,
            &["Seq", "At", "Actor", "Action", "Subject"],
            &rows,
            &[0],
        )?;
        writeln!(out, "Number of rows: {}", self.0.len())
    }
}

/// Run an `audit` command.
pub fn run(cli: &Cli, command: &AuditCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        AuditCommand::Log { subject, last } => {
            let rows = read_ledger(cli, |l| l.audit_log(subject.as_deref(), *last))?;
            emit(out, &Log(rows), cli.json)?;
        }
        AuditCommand::Head => {
            let (seq, hash) = read_ledger(cli, |l| l.audit_head())?;
            let head = issuer::ledger::format_head(seq, &hash);
            if cli.json {
                let hash = head.split_once(':').map_or("", |(_, h)| h);
                let v = serde_json::json!({ "seq": seq, "hash": hash, "head": head });
                output::print_json(out, &v)?;
            } else {
                writeln!(out, "{head}")?;
            }
        }
        AuditCommand::Verify { head } => {
            let head = head.as_deref().map(parse_head).transpose()?;
            let report = Report(read_ledger(cli, |l| l.verify_audit(head))?);
            if report.0.intact() || !cli.json {
                emit(out, &report, cli.json)?;
            }
            if !report.0.intact() {
                let e = CliError::AuditBroken(report.0.problems.len());
                if cli.json {
                    // One document: the report with the error beside its problems.
                    let mut v = serde_json::to_value(&report.0).map_err(std::io::Error::from)?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("error".into(), e.to_json()["error"].clone());
                    }
                    output::print_json(out, &v)?;
                }
                out.flush()?;
                return Err(e);
            }
        }
    }
    Ok(())
}

fn parse_head(s: &str) -> Result<(i64, [u8; 32]), CliError> {
    issuer::ledger::parse_head(s).ok_or_else(|| {
        CliError::Usage(format!(
            "--head '{s}': expected SEQ:HASH (from `issuer audit head`)"
        ))
    })
}
