//! A calendar month of the site's local time.

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use std::fmt;

/// A local calendar month, e.g. `2026-10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Year.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u32,
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year = y.parse().ok()?;
        let month = m.parse().ok()?;
        NaiveDate::from_ymd_opt(year, month, 1)?;
        Some(Month { year, month })
    }

    /// The month before.
    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The month after.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// Number of days.
    pub fn days(self) -> u32 {
        (self.next().first_day() - self.first_day()).num_days() as u32
    }

    /// `[start, end)` as Unix seconds of local midnights in `tz`.
    pub fn bounds(self, tz: Tz) -> (f64, f64) {
        let midnight = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|n| tz.from_local_datetime(&n).earliest())
                .map_or(0.0, |t| t.timestamp() as f64)
        };
        (
            midnight(self.first_day()),
            midnight(self.next().first_day()),
        )
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bounds_and_neighbours() {
        let m = Month::parse("2026-10").unwrap();
        assert_eq!(m.to_string(), "2026-10");
        assert_eq!(m.prev().to_string(), "2026-09");
        assert_eq!(
            Month::parse("2026-01").unwrap().prev().to_string(),
            "2025-12"
        );
        assert_eq!(m.days(), 31);
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        // 2026-10-01 00:00 +07 = 2026-09-30 17:00 UTC.
        assert_eq!(
            m.bounds(tz),
            (1_790_787_600.0, 1_790_787_600.0 + 31.0 * 86_400.0)
        );
        assert!(Month::parse("2026-13").is_none());
        assert!(Month::parse("2026-1").is_none());
    }
}
