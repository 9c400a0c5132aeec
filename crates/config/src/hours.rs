//! `[hours]`: when the hall is open — working weekdays, daily sessions (morning and afternoon
//! around the lunch break) and holidays — and the [`Calendar`] that answers "is it open at `t`"
//! and "how many open seconds between `a` and `b`" in the hall's local time.
//!
//! ```
//! use hallwatch_config::HoursConfig;
//! let cal = HoursConfig::default().build("Asia/Ho_Chi_Minh").expect("valid hours");
//! // Monday 2026-10-05 09:00 +07 is inside the morning session; 12:00 is the lunch break.
//! assert!(cal.is_open(1_791_133_200.0 + 9.0 * 3600.0));
//! assert!(!cal.is_open(1_791_133_200.0 + 12.0 * 3600.0));
//! // One working day has 4 h + 3.5 h open.
//! assert_eq!(cal.open_seconds(1_791_133_200.0, 1_791_133_200.0 + 86_400.0), 7.5 * 3600.0);
//! ```

use crate::ConfigError;
use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Opening hours in local time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    /// Working weekdays, as `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    #[serde(default = "default_weekdays")]
    pub weekdays: Vec<String>,
    /// Daily sessions as `["HH:MM", "HH:MM"]` pairs, start before end, in order, not
    /// overlapping; the gap between two sessions is the lunch break.
    #[serde(default = "default_sessions")]
    pub sessions: Vec<[String; 2]>,
    /// Closed days (public holidays, Tết), as `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn default_weekdays() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"]
        .map(String::from)
        .to_vec()
}

fn default_sessions() -> Vec<[String; 2]> {
    vec![
        ["07:30".into(), "11:30".into()],
        ["13:30".into(), "17:00".into()],
    ]
}

impl Default for HoursConfig {
    fn default() -> Self {
        Self {
            weekdays: default_weekdays(),
            sessions: default_sessions(),
            holidays: Vec::new(),
        }
    }
}

/// Opening hours ready to answer questions about instants (Unix seconds).
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: Tz,
    weekdays: [bool; 7],
    /// Sessions as seconds after local midnight.
    sessions: Vec<(u32, u32)>,
    holidays: Vec<NaiveDate>,
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().as_str() {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_hm(s: &str) -> Option<u32> {
    let t = NaiveTime::parse_from_str(s, "%H:%M").ok()?;
    Some(chrono::Timelike::num_seconds_from_midnight(&t))
}

impl HoursConfig {
    /// The calendar in time zone `tz` (an IANA name such as `Asia/Ho_Chi_Minh`), or every
    /// problem found, each with its path under `hours`.
    pub fn build(&self, tz: &str) -> Result<Calendar, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let tz = match tz.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                errors.push(ConfigError::new(
                    "site.timezone",
                    format!("'{tz}' is not an IANA time zone such as Asia/Ho_Chi_Minh"),
                ));
                None
            }
        };
        let mut weekdays = [false; 7];
        for (i, d) in self.weekdays.iter().enumerate() {
            match parse_weekday(d) {
                Some(w) => weekdays[w.num_days_from_monday() as usize] = true,
                None => errors.push(ConfigError::new(
                    format!("hours.weekdays[{i}]"),
                    format!("'{d}' is not one of mon, tue, wed, thu, fri, sat, sun"),
                )),
            }
        }
        let mut sessions = Vec::new();
        let mut prev_end = 0;
        for (i, [a, b]) in self.sessions.iter().enumerate() {
            let (Some(s), Some(e)) = (parse_hm(a), parse_hm(b)) else {
                errors.push(ConfigError::new(
                    format!("hours.sessions[{i}]"),
                    format!("[\"{a}\", \"{b}\"] must be two times as \"HH:MM\""),
                ));
                continue;
            };
            if e <= s {
                errors.push(ConfigError::new(
                    format!("hours.sessions[{i}]"),
                    format!("ends ({b}) before it starts ({a})"),
                ));
            } else if s < prev_end {
                errors.push(ConfigError::new(
                    format!("hours.sessions[{i}]"),
                    format!("starts ({a}) before the previous session ends"),
                ));
            } else {
                sessions.push((s, e));
                prev_end = e;
            }
        }
        let mut holidays = Vec::new();
        for (i, h) in self.holidays.iter().enumerate() {
            match NaiveDate::parse_from_str(h, "%Y-%m-%d") {
                Ok(d) => holidays.push(d),
                Err(_) => errors.push(ConfigError::new(
                    format!("hours.holidays[{i}]"),
                    format!("'{h}' is not a date as YYYY-MM-DD"),
                )),
            }
        }
        match tz {
            Some(tz) if errors.is_empty() => Ok(Calendar {
                tz,
                weekdays,
                sessions,
                holidays,
            }),
            _ => Err(errors),
        }
    }

    /// Adds this section's errors to `errors` (the time zone is checked with `[site]`).
    pub(crate) fn check(&self, errors: &mut Vec<ConfigError>) {
        if let Err(e) = self.build("UTC") {
            errors.extend(e);
        }
    }
}

impl Calendar {
    /// The time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The local date of instant `t`.
    pub fn local_date(&self, t: f64) -> NaiveDate {
        self.tz
            .timestamp_opt(t.floor() as i64, 0)
            .single()
            .map(|d| d.date_naive())
            .unwrap_or_default()
    }

    /// True when `date` is a working day (a working weekday, not a holiday).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.weekdays[date.weekday().num_days_from_monday() as usize]
            && !self.holidays.contains(&date)
    }

    /// Open intervals `[start, end)` (Unix seconds) of the local day `date`; empty when closed.
    pub fn day_sessions(&self, date: NaiveDate) -> Vec<(f64, f64)> {
        if !self.is_working_day(date) {
            return Vec::new();
        }
        let Some(midnight) = date
            .and_hms_opt(0, 0, 0)
            .and_then(|m| self.tz.from_local_datetime(&m).earliest())
        else {
            return Vec::new();
        };
        let m = midnight.timestamp() as f64;
        self.sessions
            .iter()
            .map(|&(s, e)| (m + f64::from(s), m + f64::from(e)))
            .collect()
    }

    /// Open intervals overlapping `[from, to)`, clipped to it, in order.
    pub fn open_intervals(&self, from: f64, to: f64) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        if from >= to || !from.is_finite() || !to.is_finite() {
            return out;
        }
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last {
            for (s, e) in self.day_sessions(date) {
                let (s, e) = (s.max(from), e.min(to));
                if s < e {
                    out.push((s, e));
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        out
    }

    /// Seconds the hall is open within `[from, to)`.
    pub fn open_seconds(&self, from: f64, to: f64) -> f64 {
        self.open_intervals(from, to)
            .iter()
            .map(|(s, e)| e - s)
            .sum()
    }

    /// True when the hall is open at instant `t`.
    pub fn is_open(&self, t: f64) -> bool {
        self.day_sessions(self.local_date(t))
            .iter()
            .any(|&(s, e)| s <= t && t < e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY: f64 = 1_791_133_200.0; // 2026-10-05 00:00 +07

    #[test]
    fn weekends_holidays_and_lunch_are_closed() {
        let cfg = HoursConfig {
            holidays: vec!["2026-10-07".into()],
            ..HoursConfig::default()
        };
        let cal = cfg.build("Asia/Ho_Chi_Minh").unwrap();
        let h = 3600.0;
        assert!(!cal.is_open(MONDAY + 7.0 * h));
        assert!(cal.is_open(MONDAY + 7.5 * h));
        assert!(!cal.is_open(MONDAY + 11.5 * h));
        assert!(cal.is_open(MONDAY + 13.5 * h));
        assert!(!cal.is_open(MONDAY + 2.0 * 86_400.0 + 9.0 * h), "holiday");
        assert!(!cal.is_open(MONDAY + 5.0 * 86_400.0 + 9.0 * h), "Saturday");
        // A week: 4 working days (one holiday) x 7.5 h.
        assert_eq!(
            cal.open_seconds(MONDAY, MONDAY + 7.0 * 86_400.0),
            4.0 * 7.5 * h
        );
        // Clipped: 10:00 to 14:00 Monday = 1.5 h + 0.5 h.
        assert_eq!(
            cal.open_seconds(MONDAY + 10.0 * h, MONDAY + 14.0 * h),
            2.0 * h
        );
    }

    #[test]
    fn every_bad_value_is_named() {
        let cfg = HoursConfig {
            weekdays: vec!["mon".into(), "funday".into()],
            sessions: vec![
                ["08:00".into(), "07:00".into()],
                ["25:00".into(), "26:00".into()],
            ],
            holidays: vec!["2026-13-01".into()],
        };
        let errs = cfg.build("Mars/Olympus").unwrap_err();
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "site.timezone",
                "hours.weekdays[1]",
                "hours.sessions[0]",
                "hours.sessions[1]",
                "hours.holidays[0]"
            ]
        );
    }
}
