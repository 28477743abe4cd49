//! Time as data. The protocol never reads a clock: callers pass `now`.
//!
//! Instants are Unix milliseconds ([`Timestamp`]); calendar days
//! ([`Date`], `YYYY-MM-DD`, UTC) are used for deadlines and expiries. A date
//! means "until the end of that day, UTC": a deadline of 2027-03-31 has passed
//! from 2027-04-01T00:00Z on.

use std::fmt;
use std::str::FromStr;

/// Milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

pub const MS_PER_DAY: u64 = 86_400_000;

impl Timestamp {
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The calendar day (UTC) this instant falls on.
    pub fn date(self) -> Date {
        Date::from_days((self.0 / MS_PER_DAY) as i64)
    }

    pub fn saturating_add_millis(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339, UTC, whole seconds: `2026-11-28T16:03:06Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1000;
        let day = secs % 86_400;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            day / 3600,
            day % 3600 / 60,
            day % 60
        )
    }
}

/// Errors of date parsing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31")]
pub struct DateError(pub String);

/// A calendar day, UTC. Text form `YYYY-MM-DD` (also in CBOR and JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        (day <= days_in_month(year, month)).then_some(Self { year, month, day })
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn from_days(z: i64) -> Self {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// The first instant after this day: when a deadline on this day has passed.
    pub fn end(self) -> Timestamp {
        Timestamp((self.days().max(0) as u64 + 1) * MS_PER_DAY)
    }

    /// Whether the whole day is over at `now`.
    pub fn is_past(self, now: Timestamp) -> bool {
        now >= self.end()
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DateError(s.chars().take(40).collect());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        Date::new(y as i32, m as u8, d as u8).ok_or_else(err)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        let d: Date = "1970-01-01".parse().unwrap();
        assert_eq!(d.days(), 0);
        let d: Date = "2000-03-01".parse().unwrap();
        assert_eq!(d.days(), 11_017);
        assert_eq!(Timestamp(1_795_881_786_000).to_string(), "2026-11-28T16:03:06Z");
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "27-01-01",
            "2027/01/01",
            "2027-01-00",
            "+027-01-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!("2028-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn a_deadline_lasts_the_whole_day() {
        let d: Date = "2027-03-31".parse().unwrap();
        assert!(!d.is_past(Timestamp(d.end().0 - 1)));
        assert!(d.is_past(d.end()));
    }

    proptest! {
        #[test]
        fn days_round_trip(days in 0i64..2_900_000) {
            let d = Date::from_days(days);
            prop_assert_eq!(d.days(), days);
            prop_assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
        }
    }
}
