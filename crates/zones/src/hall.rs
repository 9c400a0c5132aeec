//! Live hall figures across cameras: smoothed queue lengths, counter states and service times,
//! arrivals per hour, abandonment.

use crate::engine::{ZoneCount, ZoneEvent};
use hallwatch_config::{Calendar, HallConfig, ZoneRole};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// What a counter (quầy) is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterState {
    /// A citizen is at the counter.
    Serving,
    /// Nobody at the counter (staff there, or no staff area configured).
    Idle,
    /// The staff area behind the counter is empty.
    StaffAbsent,
}

/// One waiting or counter zone now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneFigure {
    /// Zone id.
    pub zone: String,
    /// Role.
    pub role: ZoneRole,
    /// People in it now.
    pub people_now: usize,
    /// Mean over the smoothing window (waiting zones: Số người đang chờ).
    pub people_smoothed: f64,
}

/// One counter now and today.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CounterFigure {
    /// Zone id.
    pub zone: String,
    /// Counter number.
    pub counter: u32,
    /// State.
    pub state: CounterState,
    /// Seconds the current citizen has been served.
    pub serving_for_s: Option<f64>,
    /// Finished services (Lượt phục vụ).
    pub served: u64,
    /// Mean service time of finished services, seconds (Thời gian phục vụ).
    pub mean_service_s: Option<f64>,
}

/// The hall at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HallSnapshot {
    /// Stream time of the snapshot.
    pub t: f64,
    /// Waiting and counter zones.
    pub zones: Vec<ZoneFigure>,
    /// Sum of the waiting zones' smoothed lengths.
    pub waiting_smoothed: f64,
    /// People in waiting zones now.
    pub waiting_now: usize,
    /// Counters.
    pub counters: Vec<CounterFigure>,
    /// Entrance crossings inward in the last hour.
    pub arrivals_last_hour: usize,
    /// Entrance crossings inward so far.
    pub arrivals_total: u64,
    /// Finished waiting visits.
    pub waits: u64,
    /// Mean of finished waits, seconds (Thời gian chờ).
    pub mean_wait_s: Option<f64>,
    /// Share of finished waits within the target.
    pub within_target: Option<f64>,
    /// People who left after waiting without a counter visit.
    pub abandoned: u64,
}

#[derive(Default)]
struct CounterRt {
    counter: u32,
    people: usize,
    staff_present: Option<bool>,
    serving_since: Option<f64>,
    served: u64,
    service_total_s: f64,
}

/// Accumulates zone counts and events from every camera into hall figures.
pub struct HallMetrics {
    cfg: HallConfig,
    samples: BTreeMap<String, (ZoneRole, VecDeque<(f64, usize)>)>,
    counters: BTreeMap<String, CounterRt>,
    arrivals: VecDeque<f64>,
    arrivals_total: u64,
    waits: u64,
    wait_total_s: f64,
    waits_within: u64,
    abandoned: u64,
    /// The site's calendar: today's totals start again at local midnight.
    calendar: Option<Calendar>,
    /// The local day the totals belong to.
    day: Option<chrono::NaiveDate>,
}

impl HallMetrics {
    /// Empty figures.
    pub fn new(cfg: &HallConfig) -> Self {
        Self {
            cfg: cfg.clone(),
            samples: BTreeMap::new(),
            counters: BTreeMap::new(),
            arrivals: VecDeque::new(),
            arrivals_total: 0,
            waits: 0,
            wait_total_s: 0.0,
            waits_within: 0,
            abandoned: 0,
            calendar: None,
            day: None,
        }
    }

    /// Today's totals (arrivals, waits, within target, abandoned, served and service time per
    /// counter) start again when stream time passes local midnight in `calendar`'s time zone.
    /// Without a calendar they run for the life of the value (a replay).
    pub fn with_calendar(mut self, calendar: Calendar) -> Self {
        self.calendar = Some(calendar);
        self
    }

    /// The local day today's totals belong to (with a calendar, once a frame was observed).
    pub fn day(&self) -> Option<chrono::NaiveDate> {
        self.day
    }

    fn roll_day(&mut self, t: f64) {
        let Some(cal) = &self.calendar else {
            return;
        };
        let day = cal.local_date(t);
        if self.day.is_some_and(|d| d != day) {
            self.arrivals_total = 0;
            self.waits = 0;
            self.wait_total_s = 0.0;
            self.waits_within = 0;
            self.abandoned = 0;
            for c in self.counters.values_mut() {
                c.served = 0;
                c.service_total_s = 0.0;
            }
        }
        self.day = Some(day);
    }

    /// Takes one camera's current counts and the events of its latest update, at stream time t.
    pub fn observe(&mut self, counts: &[ZoneCount], events: &[ZoneEvent], t: f64) {
        self.roll_day(t);
        for c in counts {
            let (_, q) = self
                .samples
                .entry(c.zone.clone())
                .or_insert_with(|| (c.role, VecDeque::new()));
            q.push_back((t, c.people));
            while q
                .front()
                .is_some_and(|(s, _)| t - s > self.cfg.queue_smoothing_s || *s > t)
            {
                q.pop_front();
            }
            if c.role == ZoneRole::Counter {
                let rt = self.counters.entry(c.zone.clone()).or_default();
                rt.counter = c.counter;
                rt.people = c.people;
                rt.staff_present = c.staff_present;
                rt.serving_since = c.serving_since;
            }
        }
        for e in events {
            match e {
                ZoneEvent::Closed(s) if !s.truncated => match s.role {
                    ZoneRole::Waiting => {
                        let d = s.duration(t);
                        self.waits += 1;
                        self.wait_total_s += d;
                        if d <= self.cfg.wait_target_min * 60.0 {
                            self.waits_within += 1;
                        }
                    }
                    ZoneRole::Counter => {
                        let rt = self.counters.entry(s.zone.clone()).or_default();
                        rt.counter = s.counter;
                        rt.served += 1;
                        rt.service_total_s += s.duration(t);
                    }
                    _ => {}
                },
                ZoneEvent::Crossed {
                    inward: true,
                    t: at,
                    ..
                } => {
                    self.arrivals.push_back(*at);
                    self.arrivals_total += 1;
                }
                ZoneEvent::Abandoned { .. } => self.abandoned += 1,
                _ => {}
            }
        }
        while self.arrivals.front().is_some_and(|a| t - a > 3600.0) {
            self.arrivals.pop_front();
        }
    }

    /// The figures at stream time `t`.
    pub fn snapshot(&self, t: f64) -> HallSnapshot {
        let zones: Vec<ZoneFigure> = self
            .samples
            .iter()
            .map(|(zone, (role, q))| {
                let now = q.back().map_or(0, |(_, n)| *n);
                let smoothed = if q.is_empty() {
                    0.0
                } else {
                    q.iter().map(|(_, n)| *n as f64).sum::<f64>() / q.len() as f64
                };
                ZoneFigure {
                    zone: zone.clone(),
                    role: *role,
                    people_now: now,
                    people_smoothed: smoothed,
                }
            })
            .collect();
        let waiting: Vec<&ZoneFigure> = zones
            .iter()
            .filter(|z| z.role == ZoneRole::Waiting)
            .collect();
        let counters = self
            .counters
            .iter()
            .map(|(zone, c)| CounterFigure {
                zone: zone.clone(),
                counter: c.counter,
                state: if c.people > 0 {
                    CounterState::Serving
                } else if c.staff_present == Some(false) {
                    CounterState::StaffAbsent
                } else {
                    CounterState::Idle
                },
                serving_for_s: c
                    .serving_since
                    .filter(|_| c.people > 0)
                    .map(|s| (t - s).max(0.0)),
                served: c.served,
                mean_service_s: (c.served > 0).then(|| c.service_total_s / c.served as f64),
            })
            .collect();
        HallSnapshot {
            t,
            waiting_smoothed: waiting.iter().map(|z| z.people_smoothed).sum(),
            waiting_now: waiting.iter().map(|z| z.people_now).sum(),
            zones,
            counters,
            arrivals_last_hour: self.arrivals.iter().filter(|a| t - **a <= 3600.0).count(),
            arrivals_total: self.arrivals_total,
            waits: self.waits,
            mean_wait_s: (self.waits > 0).then(|| self.wait_total_s / self.waits as f64),
            within_target: (self.waits > 0).then(|| self.waits_within as f64 / self.waits as f64),
            abandoned: self.abandoned,
        }
    }
}
