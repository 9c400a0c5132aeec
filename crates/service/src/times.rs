//! Times in inputs and files: Unix seconds, RFC 3339, or local times of the site's zone read
//! with configured chrono formats.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A time as an API client sends it: Unix seconds, or text (RFC 3339 with an offset, or a
/// local `YYYY-MM-DD HH:MM[:SS]` in the site's zone).
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum TimeInput {
    /// Unix seconds.
    Unix(f64),
    /// RFC 3339 or local text.
    Text(String),
}

/// Formats an API's text times may take when they carry no offset.
pub(crate) const API_FORMATS: &[&str] = &[
    "rfc3339",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
];

/// Unix seconds of a local date-time in `tz` (the earlier one in a repeated hour).
pub fn local_to_unix(tz: Tz, n: NaiveDateTime) -> Option<f64> {
    tz.from_local_datetime(&n)
        .earliest()
        .map(|d| d.timestamp() as f64 + f64::from(d.timestamp_subsec_millis()) / 1000.0)
}

/// The local date `YYYY-MM-DD` of instant `t` in `tz`.
pub fn local_day(tz: Tz, t: f64) -> String {
    tz.timestamp_opt(t.floor() as i64, 0)
        .single()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The local date of `t`.
pub fn local_date(tz: Tz, t: f64) -> NaiveDate {
    tz.timestamp_opt(t.floor() as i64, 0)
        .single()
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// Reads `text` with the first format of `formats` that fits (`unix`, `rfc3339` or a chrono
/// pattern of a local time, with or without a time of day).
pub fn parse_time<S: AsRef<str>>(tz: Tz, text: &str, formats: &[S]) -> Option<f64> {
    let text = text.trim();
    for f in formats {
        let f = f.as_ref();
        let t = match f {
            "unix" => text.parse::<f64>().ok().filter(|v| v.is_finite()),
            "rfc3339" => DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|d| d.timestamp() as f64 + f64::from(d.timestamp_subsec_millis()) / 1000.0),
            pattern => NaiveDateTime::parse_from_str(text, pattern)
                .ok()
                .or_else(|| {
                    NaiveDate::parse_from_str(text, pattern)
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })
                .and_then(|n| local_to_unix(tz, n)),
        };
        if t.is_some() {
            return t;
        }
    }
    None
}

/// The instant of an API time.
pub(crate) fn from_input(tz: Tz, t: &TimeInput) -> Option<f64> {
    match t {
        TimeInput::Unix(v) => v.is_finite().then_some(*v),
        TimeInput::Text(s) => parse_time(tz, s, API_FORMATS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY_8: f64 = 1_791_133_200.0 + 8.0 * 3600.0;

    #[test]
    fn local_formats_unix_and_rfc3339() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let f = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "rfc3339", "unix"];
        assert_eq!(parse_time(tz, "05/10/2026 08:00:00", &f), Some(MONDAY_8));
        assert_eq!(
            parse_time(tz, "05/10/2026", &f),
            Some(MONDAY_8 - 8.0 * 3600.0)
        );
        assert_eq!(parse_time(tz, "2026-10-05T01:00:00Z", &f), Some(MONDAY_8));
        assert_eq!(parse_time(tz, "1791162000", &f), Some(MONDAY_8));
        assert_eq!(parse_time(tz, "31/02/2026 08:00:00", &f), None);
        assert_eq!(local_day(tz, MONDAY_8 + 16.5 * 3600.0), "2026-10-06");
    }
}
