//! `licadmin usage`: per key and period, licensed, peak in use and denials; `--svg` draws it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use allocation::{AllocError, Allocator, Period, UsageReport};
use clap::{Args, ValueEnum};

use crate::output::{out, to_json, Output};
use crate::CliError;

/// The days a report covers without `--from`: the last 30, today included.
const DEFAULT_DAYS: i64 = 30;
const DAY: i64 = 86_400;

/// `licadmin usage`'s options.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  licadmin usage\n  licadmin usage --from 2026-01-01 --to 2026-12-31 --by month --svg usage.svg\n  licadmin usage --by hour --from 2026-12-07 --to 2026-12-07 --json"
)]
pub(crate) struct UsageArgs {
    /// The first day (YYYY-MM-DD, UTC). Default: 29 days before --to.
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// The last day, included (YYYY-MM-DD, UTC). Default: today.
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// The periods' length.
    #[arg(long, value_enum, default_value = "day")]
    by: PeriodArg,
    /// Also draw the report as an SVG chart (peak in use against licensed, per key and
    /// count) into FILE, replaced atomically; a FILE that is not a regular file is refused.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PeriodArg {
    Hour,
    Day,
    Month,
}

fn date(flag: &str, value: &str) -> Result<i64, CliError> {
    allocation::parse_date(value).map_err(|e| match e {
        AllocError::InvalidInput { reason, .. } => CliError::Usage(format!("--{flag} {reason}")),
        other => CliError::Alloc(other),
    })
}

/// The report, its table, and the chart when asked.
pub(crate) fn run(a: &Allocator, args: &UsageArgs) -> Result<Output, CliError> {
    let now = a.now();
    let to = match &args.to {
        Some(d) => date("to", d)?,
        None => now - now.rem_euclid(DAY),
    };
    let from = match &args.from {
        Some(d) => date("from", d)?,
        None => to - (DEFAULT_DAYS - 1) * DAY,
    };
    if to < from {
        return Err(CliError::Usage(format!(
            "--to {} is before --from {}",
            allocation::date_text(to),
            allocation::date_text(from)
        )));
    }
    let by = match args.by {
        PeriodArg::Hour => Period::Hour,
        PeriodArg::Day => Period::Day,
        PeriodArg::Month => Period::Month,
    };
    let r = a.usage(from, to, by).map_err(|e| match e {
        AllocError::InvalidInput { reason, .. } => CliError::Usage(reason),
        other => CliError::Alloc(other),
    })?;
    let mut text = table(&r);
    let mut json = to_json(&r);
    if let Some(path) = &args.svg {
        write_atomic(path, chart(&r).as_bytes())?;
        let _ = writeln!(text, "chart written to {}", path.display());
        json["svg"] = serde_json::Value::String(path.display().to_string());
    }
    Ok(out(text, json))
}

/// One line per period and key: licensed and peak in use (assignable/concurrent), denials.
fn table(r: &UsageReport) -> String {
    let mut t = format!(
        "usage {} to {}, by {} (assignable/concurrent)\n{:<17} {:<44} {:>11} {:>11}  Denials\n",
        r.from,
        r.to,
        r.by.as_str(),
        "Period",
        "Key",
        "Licensed",
        "Peak in use"
    );
    for row in &r.rows {
        let denials: Vec<String> = row
            .denials
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        let _ = writeln!(
            t,
            "{:<17} {:<44} {:>11} {:>11}  {}",
            row.period,
            row.key,
            format!("{}/{}", row.licensed.assignable, row.licensed.concurrent),
            format!("{}/{}", row.peak.assignable, row.peak.concurrent),
            if denials.is_empty() {
                "-".to_string()
            } else {
                denials.join(", ")
            }
        );
    }
    if r.rows.is_empty() {
        t.push_str("(nothing licensed, used or refused in this range)\n");
    }
    t
}

/// Series colours that stay apart on white (Tableau 10).
const PALETTE: [(u8, u8, u8); 10] = [
    (0x4e, 0x79, 0xa7),
    (0xf2, 0x8e, 0x2b),
    (0xe1, 0x57, 0x59),
    (0x76, 0xb7, 0xb2),
    (0x59, 0xa1, 0x4f),
    (0xed, 0xc9, 0x48),
    (0xb0, 0x7a, 0xa1),
    (0xff, 0x9d, 0xa7),
    (0x9c, 0x75, 0x5f),
    (0xba, 0xb0, 0xac),
];

/// One series per key and count that was licensed or used in the range.
struct Series {
    name: String,
    peak: Vec<u32>,
    licensed: Vec<u32>,
}

fn series(r: &UsageReport) -> (Vec<String>, Vec<Series>) {
    let mut periods: Vec<String> = Vec::new();
    let mut by_key: std::collections::BTreeMap<(String, bool), Series> = Default::default();
    for row in &r.rows {
        if periods.last() != Some(&row.period) {
            periods.push(row.period.clone());
        }
        let i = periods.len() - 1;
        for (assignable, peak, licensed) in [
            (true, row.peak.assignable, row.licensed.assignable),
            (false, row.peak.concurrent, row.licensed.concurrent),
        ] {
            let s = by_key
                .entry((row.key.clone(), assignable))
                .or_insert_with(|| Series {
                    name: format!(
                        "{} {}",
                        row.key,
                        if assignable {
                            "assignable"
                        } else {
                            "concurrent"
                        }
                    ),
                    peak: Vec::new(),
                    licensed: Vec::new(),
                });
            s.peak.resize(i, 0);
            s.licensed.resize(i, 0);
            s.peak.push(peak);
            s.licensed.push(licensed);
        }
    }
    let n = periods.len();
    let list = by_key
        .into_values()
        .filter(|s| s.peak.iter().chain(&s.licensed).any(|v| *v > 0))
        .map(|mut s| {
            s.peak.resize(n, 0);
            s.licensed.resize(n, 0);
            s
        })
        .collect();
    (periods, list)
}

/// The chart: per key and count, peak in use (solid) and licensed (dashed) as steps over the
/// periods, a legend beside it. SVG text is left to the viewer's fonts.
pub(crate) fn chart(r: &UsageReport) -> String {
    use plotters::prelude::*;
    let (periods, list) = series(r);
    let n = periods.len().max(1);
    let top = list
        .iter()
        .flat_map(|s| s.peak.iter().chain(&s.licensed))
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let height = (60 + 20 * list.len() as u32).max(480);
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (1200, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (left, right) = root.split_horizontally(860);
        let mut c = ChartBuilder::on(&left)
            .caption(
                format!(
                    "licenses {} to {}, by {}: peak in use (solid), licensed (dashed)",
                    r.from,
                    r.to,
                    r.by.as_str()
                ),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..n as f64, 0u32..top + top.div_ceil(10))?;
        c.configure_mesh()
            .x_labels((n + 1).min(12))
            .light_line_style(WHITE)
            // A label at each period's start only.
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 && *x >= 0.0 {
                    periods.get(*x as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_labels(top.min(10) as usize + 1)
            .y_desc("licenses")
            .draw()?;
        // Each period's figure holds from its start to the next one's.
        let steps = |v: &[u32]| -> Vec<(f64, u32)> {
            v.iter()
                .enumerate()
                .flat_map(|(i, y)| [(i as f64, *y), ((i + 1) as f64, *y)])
                .collect()
        };
        for (i, s) in list.iter().enumerate() {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            let color = RGBColor(r, g, b).to_rgba();
            c.draw_series(LineSeries::new(steps(&s.peak), color.stroke_width(2)))?;
            c.draw_series(DashedLineSeries::new(
                steps(&s.licensed),
                6,
                4,
                color.stroke_width(1),
            ))?;
            let y = 40 + 20 * i as i32;
            right.draw(&PathElement::new(
                vec![(8, y), (40, y)],
                color.stroke_width(2),
            ))?;
            right.draw(&Text::new(
                s.name.clone(),
                (48, y - 7),
                ("sans-serif", 13).into_font(),
            ))?;
        }
        if list.is_empty() {
            right.draw(&Text::new(
                "nothing licensed or in use",
                (8, 33),
                ("sans-serif", 13).into_font(),
            ))?;
        }
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() {
        // Drawing into a string cannot fail for I/O; an empty chart is still valid SVG.
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1200\" height=\"480\"/>\n"
            .into();
    }
    svg
}

/// Write `bytes` to `path` through a new temporary file beside it, renamed over it (a
/// reader sees the old file or the new one, never half of one). A `path` that exists and is
/// not a regular file (a folder, a link, a device, a FIFO) is refused and left alone.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let io = |action: &'static str, source: std::io::Error| {
        CliError::Alloc(AllocError::Io {
            action,
            path: path.to_owned(),
            source,
        })
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(io(
                "write the chart to",
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "it is {}, not a regular file",
                        verify::describe_file_type(&m)
                    ),
                ),
            ))
        }
        _ => {}
    }
    let name = path
        .file_name()
        .ok_or_else(|| {
            io(
                "write the chart to",
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "it names no file"),
            )
        })?
        .to_string_lossy()
        .into_owned();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tag = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut tag);
    let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let temp = dir.join(format!(".{name}.{tag}.tmp"));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io("write the chart to", e));
    }
    Ok(())
}
