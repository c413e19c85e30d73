//! The usage report (`licadmin usage`): per license key and period, the peak in use of each
//! count, the denials by reason and the count licensed, read from the per-period counters
//! the history keeps ([`crate::history`]), never from the events.

use std::collections::{BTreeMap, BTreeSet};

use store::{OptionalExt, Tx, TxExt, Value};

use crate::allocator::Allocator;
use crate::error::AllocError;

type Result<T> = std::result::Result<T, AllocError>;

/// The most periods one report covers (a year and more by the hour).
pub const MAX_PERIODS: usize = 12_000;

const DAY: i64 = 86_400;

/// How long a report's periods are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Period {
    /// Hours (UTC).
    Hour,
    /// Days (UTC).
    Day,
    /// Calendar months (UTC).
    Month,
}

impl Period {
    /// `hour`, `day`, `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Month => "month",
        }
    }

    /// The period of that name.
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "hour" => Some(Period::Hour),
            "day" => Some(Period::Day),
            "month" => Some(Period::Month),
            _ => None,
        }
    }
}

/// A figure of each count of a key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PoolCounts {
    /// Assignable (allocated to assignable users and stations, dynamic remote logons).
    pub assignable: u32,
    /// Concurrent (held by live sessions).
    pub concurrent: u32,
}

/// One key in one period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsageRow {
    /// The period: `2026-12-07` (day), `2026-12-07T13:00Z` (hour), `2026-12` (month).
    pub period: String,
    /// When it starts (Unix seconds; the report's start for a month it starts within).
    pub start: i64,
    /// The license key.
    pub key: String,
    /// The counts licensed at the period's end (the file loaded then).
    pub licensed: PoolCounts,
    /// The most in use at any moment of the period (the level at its start when nothing
    /// changed in it).
    pub peak: PoolCounts,
    /// Allocations and logons refused, by reason (`no-license-available`, `organization-cap`,
    /// `rule-requires`, ...).
    pub denials: BTreeMap<String, u64>,
}

/// What [`Allocator::usage`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsageReport {
    /// The first day covered (`YYYY-MM-DD`, UTC).
    pub from: String,
    /// The last day covered (`YYYY-MM-DD`, UTC).
    pub to: String,
    /// The periods' length.
    pub by: Period,
    /// Per period, then per key: every key licensed, in use or refused in the range.
    pub rows: Vec<UsageRow>,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The start (Unix seconds, 00:00 UTC) of a `YYYY-MM-DD` date, years 1970 to 9999.
pub fn parse_date(s: &str) -> Result<i64> {
    let bad = |why: &str| AllocError::InvalidInput {
        what: "date",
        reason: format!("{:?}: {why}", s.chars().take(40).collect::<String>()),
    };
    let b = s.as_bytes();
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return Err(bad("a date is YYYY-MM-DD"));
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap_or(0);
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    if y < 1970 || !(1..=12).contains(&m) || d < 1 {
        return Err(bad("no such date (years 1970 to 9999)"));
    }
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return Err(bad("no such date"));
    }
    Ok(days * DAY)
}

/// `YYYY-MM-DD` of the day holding `t`.
pub fn date_text(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The periods of `[from, to)`: start, end, label.
fn periods(from: i64, to: i64, by: Period) -> Vec<(i64, i64, String)> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to && out.len() <= MAX_PERIODS {
        let (end, label) = match by {
            Period::Hour => {
                let end = t - t.rem_euclid(3600) + 3600;
                (
                    end,
                    format!("{}T{:02}:00Z", date_text(t), t.rem_euclid(DAY) / 3600),
                )
            }
            Period::Day => (t - t.rem_euclid(DAY) + DAY, date_text(t)),
            Period::Month => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY));
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                (days_from_civil(ny, nm, 1) * DAY, format!("{y:04}-{m:02}"))
            }
        };
        out.push((t, end.min(to), label));
        t = end;
    }
    out
}

/// One counter row: its period's start, the peak in it, the level it left.
type Bucket = (i64, i64, i64);

/// One load's counts.
type Snapshot = BTreeMap<String, PoolCounts>;

fn u32_of(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

impl Allocator {
    /// The usage report of the days `from` to `to` (Unix seconds of their starts, both
    /// included, as [`parse_date`] gives them) in periods of `by`: per period and key, the
    /// counts licensed, the peak in use of each count, and the denials by reason. Periods
    /// after now are left out. It reads the per-hour or per-day counters of the range
    /// (months are folded from days) and one row per key and count before it, never the
    /// events.
    pub fn usage(&self, from: i64, to: i64, by: Period) -> Result<UsageReport> {
        let (from, last) = (from - from.rem_euclid(DAY), to - to.rem_euclid(DAY));
        if last < from {
            return Err(AllocError::InvalidInput {
                what: "usage range",
                reason: format!(
                    "it ends ({}) before it starts ({})",
                    date_text(last),
                    date_text(from)
                ),
            });
        }
        let span = if by == Period::Hour { 3600 } else { DAY };
        self.read(|c, now| {
            let end = (last + DAY).min(now - now.rem_euclid(span) + span).max(from);
            let periods = periods(from, end, by);
            if periods.len() > MAX_PERIODS {
                return Err(AllocError::InvalidInput {
                    what: "usage range",
                    reason: format!(
                        "more than {MAX_PERIODS} periods of a {}; take a shorter range or longer periods",
                        by.as_str()
                    ),
                });
            }
            let rows = self.usage_rows(c, from, end, span, &periods)?;
            Ok(UsageReport {
                from: date_text(from),
                to: date_text(last),
                by,
                rows,
            })
        })
    }

    fn usage_rows(
        &self,
        c: &dyn Tx,
        from: i64,
        end: i64,
        span: i64,
        periods: &[(i64, i64, String)],
    ) -> Result<Vec<UsageRow>> {
        let range = [
            Value::Integer(span),
            Value::Integer(from),
            Value::Integer(end),
        ];
        // The counters of the range, in time order, per key and count.
        let mut peaks: BTreeMap<(String, bool), Vec<Bucket>> = BTreeMap::new();
        for (key, pool, at, peak, level) in c.query_map(
            "SELECT key, pool, at, peak, level FROM usage_peaks WHERE span = ?1 AND at >= ?2 AND at < ?3 ORDER BY at",
            &range[..],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?, r.get::<i64>(3)?, r.get::<i64>(4)?)),
        )? {
            peaks
                .entry((key, pool == "assignable"))
                .or_default()
                .push((at, peak, level));
        }
        let mut denials: BTreeMap<String, Vec<(i64, String, i64)>> = BTreeMap::new();
        for (key, reason, at, n) in c.query_map(
            "SELECT key, reason, at, n FROM usage_denials WHERE span = ?1 AND at >= ?2 AND at < ?3 ORDER BY at",
            &range[..],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?, r.get::<i64>(3)?)),
        )? {
            denials.entry(key).or_default().push((at, reason, n));
        }
        // The loads' counts, oldest first (a handful of rows per load).
        let mut loads: Vec<(i64, Snapshot)> = Vec::new();
        let mut last_load = None;
        for (load, at, key, a, p) in c.query_map(
            "SELECT load_id, at, key, assigned, pooled FROM usage_licensed ORDER BY load_id, key",
            store::params![],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<i64>(1)?,
                    r.get::<String>(2)?,
                    r.get::<i64>(3)?,
                    r.get::<i64>(4)?,
                ))
            },
        )? {
            if last_load != Some(load) {
                loads.push((at, Snapshot::new()));
                last_load = Some(load);
            }
            if let Some((_, s)) = loads.last_mut() {
                s.insert(
                    key,
                    PoolCounts {
                        assignable: u32_of(a),
                        concurrent: u32_of(p),
                    },
                );
            }
        }
        // A store without a recorded load (made before the history): the file it holds.
        if loads.is_empty() {
            if let Ok(l) = self.license_in(c) {
                let s = l
                    .licenses()
                    .iter()
                    .map(|k| {
                        (
                            k.name.clone(),
                            PoolCounts {
                                assignable: l.assigned(&k.name),
                                concurrent: l.pooled(&k.name),
                            },
                        )
                    })
                    .collect();
                loads.push((i64::MIN, s));
            }
        }
        let licensed_at = |t: i64| -> Option<&Snapshot> {
            loads
                .iter()
                .rev()
                .find(|(at, _)| *at < t)
                .or(loads.first())
                .map(|(_, s)| s)
        };
        // Every key licensed, counted or refused in the range, and what each count was at its
        // start (the last level before it).
        let mut keys: BTreeSet<String> = peaks.keys().map(|(k, _)| k.clone()).collect();
        keys.extend(denials.keys().cloned());
        keys.extend(c.query_map(
            "SELECT key FROM usage_counts WHERE n > 0",
            store::params![],
            |r| r.get::<String>(0),
        )?);
        for (_, end, _) in periods {
            if let Some(s) = licensed_at(*end) {
                keys.extend(
                    s.iter()
                        .filter(|(_, n)| **n != PoolCounts::default())
                        .map(|(k, _)| k.clone()),
                );
            }
        }
        let mut carry: BTreeMap<(String, bool), i64> = BTreeMap::new();
        for key in &keys {
            for assignable in [true, false] {
                let pool = if assignable {
                    "assignable"
                } else {
                    "concurrent"
                };
                let level: Option<i64> = c
                    .prepare_cached("SELECT level FROM usage_peaks WHERE span = ?1 AND key = ?2 AND pool = ?3 AND at < ?4 ORDER BY at DESC LIMIT 1")?
                    .query_row(store::params![span, key, pool, from], |r| r.get(0))
                    .optional()?;
                carry.insert((key.clone(), assignable), level.unwrap_or(0));
            }
        }
        // Walk the periods, each key's counters consumed in order.
        let mut next: BTreeMap<(String, bool), usize> = BTreeMap::new();
        let mut next_denial: BTreeMap<String, usize> = BTreeMap::new();
        let mut rows = Vec::with_capacity(periods.len() * keys.len());
        for (start, end, label) in periods {
            let snapshot = licensed_at(*end);
            for key in &keys {
                let mut peak = PoolCounts::default();
                for assignable in [true, false] {
                    let id = (key.clone(), assignable);
                    // The level it starts with is in use at its first moment.
                    let mut top = carry.get(&id).copied().unwrap_or(0);
                    let i = next.entry(id.clone()).or_default();
                    if let Some(list) = peaks.get(&id) {
                        while let Some((_, p, l)) = list.get(*i).filter(|(at, _, _)| at < end) {
                            top = top.max(*p);
                            carry.insert(id.clone(), *l);
                            *i += 1;
                        }
                    }
                    let v = u32_of(top);
                    if assignable {
                        peak.assignable = v;
                    } else {
                        peak.concurrent = v;
                    }
                }
                let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
                if let Some(list) = denials.get(key) {
                    let i = next_denial.entry(key.clone()).or_default();
                    while let Some((_, reason, n)) = list.get(*i).filter(|(at, _, _)| at < end) {
                        *by_reason.entry(reason.clone()).or_default() +=
                            u64::try_from(*n).unwrap_or(0);
                        *i += 1;
                    }
                }
                rows.push(UsageRow {
                    period: label.clone(),
                    start: *start,
                    key: key.clone(),
                    licensed: snapshot
                        .and_then(|s| s.get(key))
                        .copied()
                        .unwrap_or_default(),
                    peak,
                    denials: by_reason,
                });
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(
            parse_date("2027-01-15").unwrap(),
            1_800_000_000 - 1_800_000_000 % DAY
        );
        for d in ["2000-02-29", "2026-12-31", "9999-12-31"] {
            assert_eq!(date_text(parse_date(d).unwrap()), d);
        }
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "1969-12-31",
            "2026-01-32",
            "２０２６-01-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn months_and_hours_cut_at_their_boundaries() {
        let from = parse_date("2026-01-30").unwrap();
        let to = parse_date("2026-03-02").unwrap();
        let p = periods(from, to, Period::Month);
        let labels: Vec<&str> = p.iter().map(|(_, _, l)| l.as_str()).collect();
        assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(p[0].0, from);
        assert_eq!(p[1].0, parse_date("2026-02-01").unwrap());
        assert_eq!(p[2].1, to);
        let h = periods(from, from + DAY, Period::Hour);
        assert_eq!(h.len(), 24);
        assert_eq!(h[13].2, "2026-01-30T13:00Z");
    }
}
