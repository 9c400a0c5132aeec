//! Fusion of what the ticket machine knows with what the cameras see: ticket-measured waits
//! (issued -> called) beside camera-measured waits (finished visits of waiting zones), and the
//! difference. A hall without a ticket system simply has no ticket side.

use crate::stats::DurationStats;
use crate::times::local_day;
use chrono_tz::Tz;
use hallwatch_config::ZoneRole;
use hallwatch_store::{SessionQuery, Store, StoreError, Ticket};
use std::collections::BTreeMap;

/// Waits of one range measured both ways.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct WaitComparison {
    /// Ticket waits (issued -> called) of tickets issued in the range; None without tickets.
    pub ticket: Option<DurationStats>,
    /// Camera waits of waiting visits begun in the range (finished, not truncated).
    pub camera: Option<DurationStats>,
    /// Ticket mean minus camera mean, seconds (positive: tickets measure longer waits).
    pub mean_diff_s: Option<f64>,
    /// Ticket median minus camera median, seconds.
    pub p50_diff_s: Option<f64>,
}

impl WaitComparison {
    /// The comparison of two sets of waits against `target_s`.
    pub fn of(ticket_waits: &[f64], camera_waits: &[f64], target_s: f64) -> Self {
        let ticket = DurationStats::of(ticket_waits, target_s);
        let camera = DurationStats::of(camera_waits, target_s);
        let diff = |f: fn(&DurationStats) -> f64| match (&ticket, &camera) {
            (Some(t), Some(c)) => Some(f(t) - f(c)),
            _ => None,
        };
        Self {
            mean_diff_s: diff(|s| s.mean_s),
            p50_diff_s: diff(|s| s.p50_s),
            ticket,
            camera,
        }
    }
}

/// Ticket waits and service times, seconds, of some tickets (those without the times left out).
pub fn ticket_durations(tickets: &[Ticket]) -> (Vec<f64>, Vec<f64>) {
    (
        tickets.iter().filter_map(Ticket::wait_s).collect(),
        tickets.iter().filter_map(Ticket::service_s).collect(),
    )
}

/// Camera waits of `site`: (start, seconds) of finished, not truncated waiting visits begun in
/// `[from, to)`.
pub fn camera_waits(
    store: &Store,
    site: &str,
    from: f64,
    to: f64,
) -> Result<Vec<(f64, f64)>, StoreError> {
    Ok(store
        .sessions(&SessionQuery::new(site, from, to).role(ZoneRole::Waiting))?
        .into_iter()
        .filter(|s| !s.truncated)
        .filter_map(|s| s.exit.map(|x| (s.enter, (x - s.enter).max(0.0))))
        .collect())
}

/// Ticket and camera waits of `site` over `[from, to)`.
pub fn compare_waits(
    store: &Store,
    site: &str,
    from: f64,
    to: f64,
    target_s: f64,
) -> Result<WaitComparison, StoreError> {
    let tickets = store.tickets(site, from, to)?;
    let camera: Vec<f64> = camera_waits(store, site, from, to)?
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    Ok(WaitComparison::of(
        &ticket_durations(&tickets).0,
        &camera,
        target_s,
    ))
}

/// [`compare_waits`] per local day (`YYYY-MM-DD` in `tz`) of `[from, to)`, for the days with a
/// wait of either kind, in order.
pub fn compare_waits_by_day(
    store: &Store,
    site: &str,
    tz: Tz,
    from: f64,
    to: f64,
    target_s: f64,
) -> Result<Vec<(String, WaitComparison)>, StoreError> {
    let mut days: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for t in store.tickets(site, from, to)? {
        if let Some(w) = t.wait_s() {
            days.entry(local_day(tz, t.issued)).or_default().0.push(w);
        }
    }
    for (enter, w) in camera_waits(store, site, from, to)? {
        days.entry(local_day(tz, enter)).or_default().1.push(w);
    }
    Ok(days
        .into_iter()
        .map(|(d, (t, c))| (d, WaitComparison::of(&t, &c, target_s)))
        .collect())
}
