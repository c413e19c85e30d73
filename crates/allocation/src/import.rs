//! A whole site's users or stations at once from a CSV file (RFC 4180: quoted fields, CRLF
//! or LF line ends, a UTF-8 byte order mark ignored), in one transaction: all or nothing. A
//! header row names the columns (in any order): users `name,method,organization,licenses`,
//! stations `name,kind,licenses`; licenses are keys separated by `;`; an empty method is
//! `assignable`, an empty kind `workstation`, an empty organization none. An error names the
//! line and the column ([`AllocError::AtLine`]).

use std::path::Path;

use serde::Serialize;

use crate::admin::station_warnings_in;
use crate::allocator::{add_station_in, Allocator};
use crate::error::AllocError;
use crate::model::{parse_method, validate_key, validate_name, StationKind, Target};

type Result<T> = std::result::Result<T, AllocError>;

/// The largest file `import` reads (32 MiB: some 300,000 users with a few licenses each).
pub const MAX_IMPORT_BYTES: usize = 32 << 20;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// Users: `name,method,organization,licenses`.
    Users,
    /// Stations: `name,kind,licenses`.
    Stations,
}

impl ImportKind {
    /// The columns a file of this kind has.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::Users => &["name", "method", "organization", "licenses"],
            ImportKind::Stations => &["name", "kind", "licenses"],
        }
    }

    fn what(self) -> &'static str {
        match self {
            ImportKind::Users => "users",
            ImportKind::Stations => "stations",
        }
    }
}

/// What [`Allocator::import`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Users or stations.
    pub kind: ImportKind,
    /// How many were added.
    pub added: usize,
    /// How many licenses were allocated (implied ones included).
    pub allocated: usize,
    /// What the administrator should know (stations without a Basic Station license).
    pub warnings: Vec<String>,
}

/// One data row, its line and its fields by column (in [`ImportKind::columns`] order).
pub(crate) struct Row {
    pub(crate) line: u64,
    pub(crate) fields: Vec<String>,
}

pub(crate) fn at(line: u64, column: Option<&str>, e: AllocError) -> AllocError {
    AllocError::AtLine {
        line,
        column: column.map(String::from),
        source: Box::new(e),
    }
}

fn invalid(what: &'static str, reason: String) -> AllocError {
    AllocError::InvalidInput { what, reason }
}

/// Read the whole file: the header's columns mapped, every row split (nothing applied yet).
fn parse(kind: ImportKind, bytes: &[u8]) -> Result<Vec<Row>> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(invalid(
            "import file",
            format!(
                "{} bytes; an import file is at most {MAX_IMPORT_BYTES} bytes (split it)",
                bytes.len()
            ),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(1, |p| p.line());
        let reason = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} field(s) where the header has {expected_len}"),
            csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
            _ => e.to_string(),
        };
        at(line, None, invalid("CSV", reason))
    };
    let header = r.headers().map_err(csv_error)?.clone();
    let wanted = kind.columns();
    if header.iter().all(str::is_empty) {
        return Err(at(
            1,
            None,
            invalid(
                "CSV",
                format!(
                    "no header row; the first line names the columns: {}",
                    wanted.join(",")
                ),
            ),
        ));
    }
    // Each wanted column's index in the file.
    let mut index: Vec<Option<usize>> = vec![None; wanted.len()];
    for (i, name) in header.iter().enumerate() {
        let lower = name.to_ascii_lowercase();
        let Some(w) = wanted.iter().position(|c| *c == lower) else {
            return Err(at(
                1,
                Some(name),
                invalid(
                    "CSV",
                    format!(
                        "unknown column {name:?}; a {} file has the columns {}",
                        kind.what(),
                        wanted.join(",")
                    ),
                ),
            ));
        };
        if index[w].replace(i).is_some() {
            return Err(at(
                1,
                Some(name),
                invalid("CSV", format!("column {name:?} is named twice")),
            ));
        }
    }
    if let Some(w) = index.iter().position(Option::is_none) {
        return Err(at(
            1,
            Some(wanted[w]),
            invalid(
                "CSV",
                format!(
                    "the header lacks the column {:?}; a {} file has the columns {}",
                    wanted[w],
                    kind.what(),
                    wanted.join(",")
                ),
            ),
        ));
    }
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(csv_error)?;
        let line = rec.position().map_or(0, |p| p.line());
        let fields = index
            .iter()
            .map(|i| i.and_then(|i| rec.get(i)).unwrap_or_default().to_string())
            .collect();
        rows.push(Row { line, fields });
    }
    Ok(rows)
}

/// The keys of a `licenses` field (`;`-separated, blanks around each ignored), checked.
pub(crate) fn keys_of(field: &str) -> Result<Vec<&str>> {
    let keys: Vec<&str> = field
        .split(';')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    for k in &keys {
        validate_key(k)?;
    }
    Ok(keys)
}

impl Allocator {
    /// Add every user or station of a CSV file with its licenses, in one transaction: a
    /// refused line (a bad name, method, kind or key, a duplicate, an unknown organization,
    /// a license refused) leaves nothing imported, and the error names its line and column.
    pub fn import(&self, kind: ImportKind, bytes: &[u8]) -> Result<ImportReport> {
        let rows = parse(kind, bytes)?;
        // Every field checked before the transaction: the store is locked for the writes only.
        for row in &rows {
            let col = |i: usize| kind.columns()[i];
            validate_name(
                match kind {
                    ImportKind::Users => "user name",
                    ImportKind::Stations => "station name",
                },
                &row.fields[0],
            )
            .map_err(|e| at(row.line, Some("name"), e))?;
            match kind {
                ImportKind::Users => {
                    let m = &row.fields[1];
                    if !m.is_empty() && parse_method(m).is_none() {
                        return Err(at(
                            row.line,
                            Some(col(1)),
                            invalid(
                                "method",
                                format!("{m:?}; a method is assignable or concurrent"),
                            ),
                        ));
                    }
                    if !row.fields[2].is_empty() {
                        validate_name("organization name", &row.fields[2])
                            .map_err(|e| at(row.line, Some(col(2)), e))?;
                    }
                    keys_of(&row.fields[3]).map_err(|e| at(row.line, Some(col(3)), e))?;
                }
                ImportKind::Stations => {
                    let k = &row.fields[1];
                    if !k.is_empty() && StationKind::parse(k).is_none() {
                        return Err(at(
                            row.line,
                            Some(col(1)),
                            invalid(
                                "station kind",
                                format!("{k:?}; a kind is workstation, remote, phone or fax"),
                            ),
                        ));
                    }
                    keys_of(&row.fields[2]).map_err(|e| at(row.line, Some(col(2)), e))?;
                }
            }
        }
        self.tx(|c, now| {
            let mut report = ImportReport {
                kind,
                added: 0,
                allocated: 0,
                warnings: Vec::new(),
            };
            if kind == ImportKind::Users {
                report.allocated = self.import_users_in(c, now, &rows)?;
                report.added = rows.len();
                return Ok(report);
            }
            // Stations, one line at a time (each line's warnings read what it configured).
            for row in &rows {
                let f = &row.fields;
                let k = StationKind::parse(&f[1]).unwrap_or(StationKind::Workstation);
                add_station_in(c, now, &f[0], k).map_err(|e| at(row.line, Some("name"), e))?;
                report.added += 1;
                let keys = keys_of(&f[2])?;
                if !keys.is_empty() {
                    report.allocated += self
                        .allocate_in(c, now, Target::Station(&f[0]), &keys)
                        .map_err(|e| at(row.line, Some("licenses"), e))?
                        .len();
                }
                report.warnings.extend(station_warnings_in(c, &f[0])?);
            }
            Ok(report)
        })
    }

    /// [`Allocator::import`] of a file on disk (at most [`MAX_IMPORT_BYTES`] read).
    pub fn import_file(&self, kind: ImportKind, path: impl AsRef<Path>) -> Result<ImportReport> {
        use std::io::Read;
        let path = path.as_ref();
        let io = |source| AllocError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        };
        // A FIFO, a device or a folder is refused before anything is read from it.
        let f = verify::open_regular_file(path, "import file").map_err(|e| match e {
            verify::VerifyError::Io { source, .. } => io(source),
            other => AllocError::License(other),
        })?;
        let mut buf = Vec::new();
        f.take(MAX_IMPORT_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(io)?;
        self.import(kind, &buf)
    }
}
