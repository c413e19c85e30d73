//! UTC timestamps with one text form: `YYYY-MM-DDTHH:MM:SSZ`.

use std::fmt;
use std::str::FromStr;

use crate::error::FormatError;

/// A UTC instant with one-second resolution, between 1970-01-01 and 9999-12-31.
///
/// Its only text form is RFC 3339 in UTC without fractions, `2100-01-01T00:00:00Z`, so that
/// each instant has exactly one spelling inside a signed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Seconds in a day.
pub const DAY: i64 = 86_400;

const MAX_SECS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

impl Timestamp {
    /// The expiry written for perpetual licenses: 2100-01-01T00:00:00Z.
    pub const PERPETUAL: Timestamp = Timestamp(4_102_444_800);

    /// The latest instant there is: 9999-12-31T23:59:59Z.
    pub const LATEST: Timestamp = Timestamp(253_402_300_799);

    /// From seconds since the Unix epoch; `None` outside 1970..=9999.
    pub fn from_unix(secs: i64) -> Option<Timestamp> {
        (0..=MAX_SECS).contains(&secs).then_some(Timestamp(secs))
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// The current time (whole seconds).
    pub fn now() -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs.clamp(0, MAX_SECS))
    }

    /// This instant plus `days` days, saturating at the largest representable instant.
    pub fn plus_days(self, days: i64) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(days.saturating_mul(DAY))
                .clamp(0, MAX_SECS),
        )
    }

    /// This instant plus `secs` seconds (negative to go back), clamped to the valid range.
    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs).clamp(0, MAX_SECS))
    }

    /// Whole days from `self` until `later` (negative if `later` is earlier), rounded down.
    pub fn days_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).div_euclid(DAY)
    }

    /// The calendar date, `YYYY-MM-DD`.
    pub fn date(self) -> String {
        let mut out = String::with_capacity(10);
        self.write_date(&mut out);
        out
    }

    /// Append the calendar date, `YYYY-MM-DD`, to `out` (what [`Timestamp::date`] returns,
    /// without a string of its own: pages write many dates).
    pub fn write_date(self, out: &mut String) {
        let (y, m, d) = civil_from_days(self.0.div_euclid(DAY));
        // Every valid instant is in the years 1970 to 9999 (MAX_SECS): four digits, and
        // divisions by constants of small unsigned numbers (no general division).
        let (y, m, d) = (y.clamp(0, 9999) as u32, m as u32, d as u32);
        let digit = |v: u32| char::from(b'0' + (v % 10) as u8);
        for c in [
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            '-',
            digit(m / 10),
            digit(m),
            '-',
            digit(d / 10),
            digit(d),
        ] {
            out.push(c);
        }
    }
}

// Howard Hinnant's days <-> civil date algorithms (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(DAY);
        let secs = self.0.rem_euclid(DAY);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (secs / 3600, (secs / 60) % 60, secs % 60);
        if !(0..=9999).contains(&y) {
            // Outside the range a timestamp holds; written as ever, without the fast path.
            return write!(f, "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z");
        }
        // Spelled into a buffer and written once (times are written into every file signed).
        let mut buf = *b"0000-00-00T00:00:00Z";
        for (at, value, width) in [
            (0, y, 4),
            (5, m, 2),
            (8, d, 2),
            (11, hh, 2),
            (14, mm, 2),
            (17, ss, 2),
        ] {
            let mut v = value;
            for i in (at..at + width).rev() {
                if let Some(slot) = buf.get_mut(i) {
                    // `v` is in 0..=9999, each field fits its width.
                    *slot = b'0' + (v % 10) as u8;
                }
                v /= 10;
            }
        }
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for Timestamp {
    type Err = FormatError;

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` exactly (also accepts a bare date `YYYY-MM-DD`, meaning
    /// midnight UTC, for command lines).
    fn from_str(s: &str) -> Result<Timestamp, FormatError> {
        let bad = || FormatError::InvalidValue {
            field: "timestamp".into(),
            reason: format!(
                "'{}' is not a UTC time like 2100-01-01T00:00:00Z",
                s.escape_debug()
            ),
        };
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Result<i64, FormatError> {
            let part = b.get(r).ok_or_else(bad)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(part.iter().fold(0i64, |a, &c| a * 10 + i64::from(c - b'0')))
        };
        let (date_only, ok_shape) = match b.len() {
            10 => (true, b[4] == b'-' && b[7] == b'-'),
            20 => (
                false,
                b[4] == b'-'
                    && b[7] == b'-'
                    && b[10] == b'T'
                    && b[13] == b':'
                    && b[16] == b':'
                    && b[19] == b'Z',
            ),
            _ => (false, false),
        };
        if !ok_shape {
            return Err(bad());
        }
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hh, mm, ss) = if date_only {
            (0, 0, 0)
        } else {
            (num(11..13)?, num(14..16)?, num(17..19)?)
        };
        if y < 1970 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return Err(bad());
        }
        if hh > 23 || mm > 59 || ss > 59 {
            return Err(bad());
        }
        Ok(Timestamp(
            days_from_civil(y, m, d) * DAY + hh * 3600 + mm * 60 + ss,
        ))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s.len() != 20 {
            return Err(serde::de::Error::custom(format!(
                "'{}' is not a UTC time like 2100-01-01T00:00:00Z",
                s.escape_debug()
            )));
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perpetual_is_2100() {
        assert_eq!(Timestamp::PERPETUAL.to_string(), "2100-01-01T00:00:00Z");
        assert_eq!(
            "2100-01-01T00:00:00Z".parse::<Timestamp>().unwrap(),
            Timestamp::PERPETUAL
        );
    }

    #[test]
    fn round_trips_every_day_boundary_sample() {
        for secs in (0..MAX_SECS)
            .step_by(7_777_777)
            .chain([0, MAX_SECS, 951_782_400])
        {
            let t = Timestamp(secs);
            assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t, "{t}");
            // The date is the first ten characters of the full form.
            assert_eq!(t.date(), t.to_string()[..10], "{t}");
        }
    }

    #[test]
    fn refuses_impossible_dates() {
        for s in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00+01:00",
            "1969-12-31T23:59:59Z",
            "２０２４-01-01T00:00:00Z",
            "",
        ] {
            assert!(s.parse::<Timestamp>().is_err(), "{s}");
        }
        assert!("2024-02-29T00:00:00Z".parse::<Timestamp>().is_ok());
    }
}
