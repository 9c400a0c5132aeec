//! Local-time buckets (minute, hour, local day, local month) and interval arithmetic for the
//! time-weighted figures (utilisation, uptime) that polars' group-by cannot do on its own: an
//! interval counts in every bucket it overlaps, for the overlapping seconds only, and only
//! inside opening hours.

use crate::Period;
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// Start (Unix seconds) of the local bucket of `period` holding instant `t`, and the start of
/// the next one.
pub(crate) fn bucket(tz: Tz, period: Period, t: f64) -> (f64, f64) {
    let secs = t.floor() as i64;
    let Some(local) = tz.timestamp_opt(secs, 0).single().map(|d| d.naive_local()) else {
        return (t, t + 60.0);
    };
    let start: NaiveDateTime = match period {
        Period::Minute => local.with_second(0).unwrap_or(local),
        Period::Hour => local
            .with_second(0)
            .and_then(|l| l.with_minute(0))
            .unwrap_or(local),
        Period::Day => local.date().and_hms_opt(0, 0, 0).unwrap_or(local),
        Period::Month => NaiveDate::from_ymd_opt(local.year(), local.month(), 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or(local),
    };
    let next: NaiveDateTime = match period {
        Period::Minute => start + chrono::Duration::minutes(1),
        Period::Hour => start + chrono::Duration::hours(1),
        Period::Day => start + chrono::Duration::days(1),
        Period::Month => {
            let (y, m) = if start.month() == 12 {
                (start.year() + 1, 1)
            } else {
                (start.year(), start.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or(start)
        }
    };
    let to_unix = |n: NaiveDateTime| {
        tz.from_local_datetime(&n)
            .earliest()
            .map_or(t, |d| d.timestamp() as f64)
    };
    (to_unix(start), to_unix(next))
}

/// Splits `[a, b)` at the bucket boundaries: `(bucket start, overlap seconds)` per bucket.
pub(crate) fn split(tz: Tz, period: Period, a: f64, b: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut t = a;
    while t < b {
        let (start, next) = bucket(tz, period, t);
        if next <= t {
            break; // cannot happen with a valid zone; never loop forever
        }
        let end = next.min(b);
        out.push((start, end - t));
        t = end;
    }
    out
}

/// The overlap of `[a, b)` with a sorted list of disjoint intervals.
pub(crate) fn clip(a: f64, b: f64, intervals: &[(f64, f64)]) -> Vec<(f64, f64)> {
    intervals
        .iter()
        .filter_map(|&(s, e)| {
            let (s, e) = (s.max(a), e.min(b));
            (s < e).then_some((s, e))
        })
        .collect()
}
