//! Builds the published [`HallState`] from the zone figures, the wait prediction and camera
//! health, counts today's arrivals per local hour, and decides when the state has changed
//! enough to publish (so SSE clients see every change of a count, state or prediction within a
//! tick, and are not flooded by frame-rate noise).

use chrono::{TimeZone, Timelike};
use chrono_tz::Tz;
use hallwatch_config::{Config, ZoneConfig, ZoneRole};
use hallwatch_core::{
    CameraHealth, CounterActivity, CounterState as LiveCounter, HallState, PipelineHealth,
    StorageHealth, TodayFigures, WaitPrediction, ZoneState,
};
use hallwatch_predict::{Method, Prediction};
use hallwatch_zones::{CounterState, HallSnapshot, ZoneEvent};

/// Keeps what the published state needs between frames.
pub struct StateBuilder {
    site: String,
    site_name: String,
    tz: Tz,
    zones: Vec<ZoneConfig>,
    day: String,
    arrivals_by_hour: [u64; 24],
    arrivals: u64,
    seq: u64,
    last_signature: String,
    last_publish_t: f64,
    storage: StorageHealth,
    uplink: hallwatch_core::UplinkHealth,
    pipeline: PipelineHealth,
    /// Publish at least this often even without a change (seconds of stream time), so clients
    /// see the clock and camera rates move.
    pub heartbeat_s: f64,
}

impl StateBuilder {
    /// For `config`'s site, zones and time zone.
    pub fn new(config: &Config) -> Self {
        Self {
            site: config.site.id.clone(),
            site_name: config.site.name.clone(),
            tz: config
                .site
                .timezone
                .parse()
                .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh),
            zones: config.zones.clone(),
            day: String::new(),
            arrivals_by_hour: [0; 24],
            arrivals: 0,
            seq: 0,
            last_signature: String::new(),
            last_publish_t: f64::NEG_INFINITY,
            storage: StorageHealth::default(),
            uplink: hallwatch_core::UplinkHealth::default(),
            pipeline: PipelineHealth::default(),
            heartbeat_s: 5.0,
        }
    }

    fn local(&self, t: f64) -> Option<chrono::DateTime<Tz>> {
        self.tz.timestamp_opt(t.floor() as i64, 0).single()
    }

    fn roll_day(&mut self, t: f64) {
        let day = self
            .local(t)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        if day != self.day {
            self.day = day;
            self.arrivals_by_hour = [0; 24];
            self.arrivals = 0;
        }
    }

    /// Counts the waiting visits that began (arrivals), by local hour of `t`.
    pub fn observe(&mut self, events: &[ZoneEvent], t: f64) {
        self.roll_day(t);
        for e in events {
            if let ZoneEvent::Opened(s) = e
                && s.role == ZoneRole::Waiting
            {
                let hour = self.local(s.enter).map_or(0, |d| d.hour() as usize);
                self.arrivals_by_hour[hour.min(23)] += 1;
                self.arrivals += 1;
            }
        }
    }

    /// The uplink's health, for the states built from now on.
    pub fn set_uplink(&mut self, uplink: hallwatch_core::UplinkHealth) {
        self.uplink = uplink;
    }

    /// Sets the event store's health, shown from the next state on.
    pub fn set_storage(&mut self, storage: StorageHealth) {
        self.storage = storage;
    }

    /// The pipeline's fault counters, for the states built from now on.
    pub fn set_pipeline(&mut self, pipeline: PipelineHealth) {
        self.pipeline = pipeline;
    }

    fn zone(&self, id: &str) -> Option<&ZoneConfig> {
        self.zones.iter().find(|z| z.id == id)
    }

    /// The state now; `None` when nothing significant changed since the last published state
    /// and the heartbeat is not due.
    pub fn build(
        &mut self,
        snapshot: &HallSnapshot,
        prediction: Option<&Prediction>,
        cameras: Vec<CameraHealth>,
    ) -> Option<HallState> {
        let t = snapshot.t;
        self.roll_day(t);
        let zones: Vec<ZoneState> = snapshot
            .zones
            .iter()
            .map(|z| {
                let cfg = self.zone(&z.zone);
                ZoneState {
                    id: z.zone.clone(),
                    name: cfg
                        .map(|c| c.name.clone())
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| z.zone.clone()),
                    camera: cfg.map(|c| c.camera.clone()).unwrap_or_default(),
                    role: match z.role {
                        ZoneRole::Waiting => "waiting",
                        ZoneRole::Counter => "counter",
                        ZoneRole::Entrance => "entrance",
                        ZoneRole::Ignore => "ignore",
                    }
                    .into(),
                    people_now: u32::try_from(z.people_now).unwrap_or(u32::MAX),
                    people_smoothed: z.people_smoothed,
                }
            })
            .collect();
        let counters: Vec<LiveCounter> = snapshot
            .counters
            .iter()
            .map(|c| LiveCounter {
                zone: c.zone.clone(),
                name: self
                    .zone(&c.zone)
                    .map(|z| z.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("Quầy {}", c.counter)),
                counter: c.counter,
                activity: match c.state {
                    CounterState::Serving => CounterActivity::Serving,
                    CounterState::Idle => CounterActivity::Idle,
                    CounterState::StaffAbsent => CounterActivity::StaffAbsent,
                },
                serving_for_s: c.serving_for_s,
                served_today: c.served,
                mean_service_s: c.mean_service_s,
            })
            .collect();
        let prediction = prediction.and_then(|p| {
            Some(WaitPrediction {
                expected_s: p.expected_wait_s?,
                low_s: p.low_s.unwrap_or(0.0),
                high_s: p.high_s.unwrap_or(0.0),
                method: match p.method {
                    Method::Recent => "recent",
                    Method::Prior => "prior",
                    Method::NoOpenCounter => "no_open_counter",
                }
                .into(),
            })
        });
        let today = TodayFigures {
            date: self.day.clone(),
            arrivals: self.arrivals,
            served: counters.iter().map(|c| c.served_today).sum(),
            abandoned: snapshot.abandoned,
            mean_wait_s: snapshot.mean_wait_s,
            within_target: snapshot.within_target,
            arrivals_by_hour: self.arrivals_by_hour.to_vec(),
        };
        let state = HallState {
            site: self.site.clone(),
            site_name: self.site_name.clone(),
            t,
            seq: self.seq,
            waiting_now: u32::try_from(snapshot.waiting_now).unwrap_or(u32::MAX),
            waiting_smoothed: snapshot.waiting_smoothed,
            zones,
            counters,
            prediction,
            cameras,
            today,
            storage: self.storage.clone(),
            pipeline: self.pipeline,
            uplink: self.uplink.clone(),
        };
        let signature = signature(&state);
        if signature == self.last_signature && t - self.last_publish_t < self.heartbeat_s {
            return None;
        }
        self.last_signature = signature;
        self.last_publish_t = t;
        self.seq += 1;
        Some(HallState {
            seq: self.seq,
            ..state
        })
    }
}

/// What counts as a change: counts, smoothed lengths to 0.1, counter states and served, the
/// prediction to 10 s, camera states and errors, today's counters, whether the store takes
/// writes — not clocks or rates.
fn signature(s: &HallState) -> String {
    use std::fmt::Write;
    let mut out = format!("{}|{:.1}|", s.waiting_now, s.waiting_smoothed);
    for z in &s.zones {
        let _ = write!(out, "{}:{}:{:.1};", z.id, z.people_now, z.people_smoothed);
    }
    for c in &s.counters {
        let _ = write!(out, "{}:{:?}:{};", c.counter, c.activity, c.served_today);
    }
    if let Some(p) = &s.prediction {
        let _ = write!(out, "p{:.0}:{}", (p.expected_s / 10.0).round(), p.method);
    }
    for c in &s.cameras {
        let _ = write!(out, "{}:{:?}:{:?};", c.camera, c.state, c.last_error);
    }
    let _ = write!(
        out,
        "{}:{}:{}|{}:{}:{}|{}:{}",
        s.today.arrivals,
        s.today.served,
        s.today.abandoned,
        s.storage.failing,
        s.storage.dropped,
        s.storage.failed,
        s.uplink.connected,
        s.uplink.failing()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallwatch_zones::ZoneFigure;

    fn snapshot(t: f64, waiting: usize) -> HallSnapshot {
        HallSnapshot {
            t,
            zones: vec![ZoneFigure {
                zone: "khu-cho".into(),
                role: ZoneRole::Waiting,
                people_now: waiting,
                people_smoothed: waiting as f64,
            }],
            waiting_smoothed: waiting as f64,
            waiting_now: waiting,
            counters: vec![],
            arrivals_last_hour: 0,
            arrivals_total: 0,
            waits: 0,
            mean_wait_s: None,
            within_target: None,
            abandoned: 0,
        }
    }

    #[test]
    fn publishes_changes_and_heartbeats_only() {
        let cfg = Config::from_toml_str(
            r#"
            [site]
            id = "an-phu"
            [[cameras]]
            id = "c1"
            source = { kind = "test" }
            [[zones]]
            id = "khu-cho"
            name = "Khu chờ"
            camera = "c1"
            role = "waiting"
            polygon = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]
            "#,
        )
        .expect("config");
        let mut b = StateBuilder::new(&cfg);
        let t0 = 1_791_133_200.0 + 8.0 * 3600.0; // Monday 8:00 local
        let first = b.build(&snapshot(t0, 2), None, vec![]).expect("first");
        assert_eq!(first.seq, 1);
        assert_eq!(first.zones[0].name, "Khu chờ");
        assert_eq!(first.today.date, "2026-10-05");
        assert!(
            b.build(&snapshot(t0 + 0.5, 2), None, vec![]).is_none(),
            "no change"
        );
        let changed = b
            .build(&snapshot(t0 + 1.0, 3), None, vec![])
            .expect("change");
        assert_eq!((changed.seq, changed.waiting_now), (2, 3));
        assert!(
            b.build(&snapshot(t0 + 7.0, 3), None, vec![]).is_some(),
            "heartbeat"
        );
    }
}
