//! What is written to the store and what reads return.

use crate::StoreError;
use hallwatch_config::{ZoneConfig, ZoneRole};
use hallwatch_core::{CameraId, Downtime};
use hallwatch_zones::{HallSnapshot, Session, ZoneEvent};
use std::time::{SystemTime, UNIX_EPOCH};

/// One thing to store. Each kind is an upsert keyed on its natural key, so sending the same
/// record twice stores it once (see the variants).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Record {
    /// A zone visit, keyed on (site, camera, session id, enter). Sending an open visit and later
    /// the closed one updates the row; a closed row is never reopened by a stale open copy.
    Session(Session),
    /// A periodic sample of one zone's figures, keyed on (site, zone, t, camera); a repeat
    /// replaces the figures.
    ZoneSample(ZoneSample),
    /// A camera outage, keyed on (site, camera, start); sending it open and later closed
    /// updates the end and reason; a closed row is never reopened.
    CameraDowntime(DowntimeInterval),
    /// A person who left a waiting zone without reaching a counter, keyed on (site, camera,
    /// track, enter).
    Abandonment(Abandonment),
    /// A visit stored open that turned out not to be one (a staff member's,
    /// [`hallwatch_zones::ZoneEvent::Discarded`]): its open row is deleted; a closed row with
    /// the same key is kept.
    DiscardOpen(Session),
}

impl Record {
    /// Checks that every time is a finite number and every id fits SQLite's integers.
    pub fn validate(&self) -> Result<(), StoreError> {
        match self {
            Record::DiscardOpen(s) => {
                finite("session", "enter", s.enter)?;
                if i64::try_from(s.id).is_err() {
                    return Err(invalid("session", format!("id {} exceeds i64", s.id)));
                }
                Ok(())
            }
            Record::Session(s) => {
                finite("session", "enter", s.enter)?;
                if let Some(x) = s.exit {
                    finite("session", "exit", x)?;
                }
                if i64::try_from(s.id).is_err() {
                    return Err(invalid("session", format!("id {} exceeds i64", s.id)));
                }
                if let Some(t) = s.tracks.iter().find(|t| i64::try_from(t.0).is_err()) {
                    return Err(invalid("session", format!("track id {t} exceeds i64")));
                }
                Ok(())
            }
            Record::ZoneSample(z) => {
                finite("zone sample", "t", z.t)?;
                finite("zone sample", "people_smoothed", z.people_smoothed)?;
                if i64::try_from(z.people_now).is_err() {
                    return Err(invalid("zone sample", "people_now exceeds i64".into()));
                }
                Ok(())
            }
            Record::CameraDowntime(d) => {
                finite("camera downtime", "start", d.start)?;
                if let Some(e) = d.end {
                    finite("camera downtime", "end", e)?;
                }
                Ok(())
            }
            Record::Abandonment(a) => {
                finite("abandonment", "enter", a.enter)?;
                finite("abandonment", "t", a.t)?;
                if i64::try_from(a.track).is_err() {
                    return Err(invalid(
                        "abandonment",
                        format!("track {} exceeds i64", a.track),
                    ));
                }
                Ok(())
            }
        }
    }
}

fn invalid(what: &'static str, detail: String) -> StoreError {
    StoreError::InvalidRecord { what, detail }
}

fn finite(what: &'static str, field: &str, v: f64) -> Result<(), StoreError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(what, format!("{field} = {v} is not a finite time")))
    }
}

/// A person who left a waiting zone without a counter visit (a row of `abandonments`).
#[derive(Clone, Debug, PartialEq)]
pub struct Abandonment {
    /// Camera that saw them.
    pub camera: CameraId,
    /// The waiting zone they left.
    pub zone: String,
    /// Their (last) track id, unique within one engine run.
    pub track: u64,
    /// When their wait began.
    pub enter: f64,
    /// When they were last seen.
    pub t: f64,
}

impl Abandonment {
    /// The record of a zone engine's [`ZoneEvent::Abandoned`] event on `camera`; `None` for
    /// other events.
    pub fn from_event(camera: &CameraId, event: &ZoneEvent) -> Option<Self> {
        match event {
            ZoneEvent::Abandoned {
                zone,
                track,
                waited_s,
                t,
            } => Some(Abandonment {
                camera: camera.clone(),
                zone: zone.clone(),
                track: track.0,
                enter: t - waited_s,
                t: *t,
            }),
            _ => None,
        }
    }

    /// Seconds waited before leaving.
    pub fn waited_s(&self) -> f64 {
        (self.t - self.enter).max(0.0)
    }
}

/// One zone's figures at one moment (a row of `zone_samples`).
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneSample {
    /// The camera the zone is drawn on.
    pub camera: CameraId,
    /// Zone id.
    pub zone: String,
    /// Stream time of the sample, seconds.
    pub t: f64,
    /// People in the zone at `t`.
    pub people_now: u64,
    /// Mean over the smoothing window (Số người đang chờ for waiting zones).
    pub people_smoothed: f64,
}

impl ZoneSample {
    /// One sample per zone of a hall snapshot, at the snapshot's time. The camera of each zone
    /// comes from the config's zones (zone ids are unique across cameras); a zone missing from
    /// `zones` is skipped.
    pub fn from_snapshot(snapshot: &HallSnapshot, zones: &[ZoneConfig]) -> Vec<ZoneSample> {
        snapshot
            .zones
            .iter()
            .filter_map(|f| {
                let cfg = zones.iter().find(|z| z.id == f.zone)?;
                Some(ZoneSample {
                    camera: CameraId::new(&cfg.camera),
                    zone: f.zone.clone(),
                    t: snapshot.t,
                    people_now: f.people_now as u64,
                    people_smoothed: f.people_smoothed,
                })
            })
            .collect()
    }
}

/// A camera outage in seconds (a row of `camera_health`).
#[derive(Clone, Debug, PartialEq)]
pub struct DowntimeInterval {
    /// The camera.
    pub camera: CameraId,
    /// When the outage began, Unix seconds.
    pub start: f64,
    /// When frames flowed again; None while still down.
    pub end: Option<f64>,
    /// Why it went down (credentials already removed by the ingest layer).
    pub reason: String,
}

impl DowntimeInterval {
    /// The interval for one of a camera's [`Downtime`]s (from its `CameraHealth`).
    pub fn from_downtime(camera: CameraId, d: &Downtime) -> Self {
        Self {
            camera,
            start: unix_seconds(d.start),
            end: d.end.map(unix_seconds),
            reason: d.reason.clone(),
        }
    }
}

/// A wall-clock time as Unix seconds (negative before 1970).
pub fn unix_seconds(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Which sessions to read: those of `site` whose `enter` lies in `[from, to)`, optionally
/// narrowed to one camera, zone or role, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionQuery {
    /// Site id.
    pub site: String,
    /// Earliest `enter`, included.
    pub from: f64,
    /// Latest `enter`, excluded.
    pub to: f64,
    /// Only this camera.
    pub camera: Option<CameraId>,
    /// Only this zone.
    pub zone: Option<String>,
    /// Only this role.
    pub role: Option<ZoneRole>,
    /// At most this many rows (the oldest ones).
    pub limit: Option<u64>,
}

impl SessionQuery {
    /// All sessions of `site` entered in `[from, to)`.
    pub fn new(site: impl Into<String>, from: f64, to: f64) -> Self {
        Self {
            site: site.into(),
            from,
            to,
            camera: None,
            zone: None,
            role: None,
            limit: None,
        }
    }

    /// Only sessions on `camera`.
    pub fn camera(mut self, camera: impl Into<CameraId>) -> Self {
        self.camera = Some(camera.into());
        self
    }

    /// Only sessions in `zone`.
    pub fn zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    /// Only sessions in zones of `role`.
    pub fn role(mut self, role: ZoneRole) -> Self {
        self.role = Some(role);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
}

/// Rows deleted by [`crate::Store::apply_retention`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Sessions deleted.
    pub sessions: u64,
    /// Zone samples deleted.
    pub zone_samples: u64,
    /// Camera downtime intervals deleted.
    pub downtime: u64,
    /// Abandonments deleted (per-person, with the sessions' window).
    pub abandonments: u64,
    /// Tickets, ratings, dossiers and alerts deleted (with the aggregates' window).
    pub service: u64,
    /// Outbox facts never acknowledged by the centre within the sessions' window, dropped.
    pub outbox_dropped: u64,
}

/// How long history is kept; applied by [`crate::Store::apply_retention`], daily by the writer
/// when [`crate::WriterOptions::retention`] is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Per-person rows (zone visits, abandonments), days.
    pub sessions_days: u32,
    /// Everything else (zone samples, outages, tickets, ratings, dossiers, alerts), days.
    pub aggregates_days: u32,
}

/// Row counts of one site.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows in `sessions`.
    pub sessions: u64,
    /// Rows in `zone_samples`.
    pub zone_samples: u64,
    /// Rows in `camera_health`.
    pub downtime: u64,
    /// Rows in `abandonments`.
    pub abandonments: u64,
}

pub(crate) fn role_str(role: ZoneRole) -> &'static str {
    match role {
        ZoneRole::Waiting => "waiting",
        ZoneRole::Counter => "counter",
        ZoneRole::Entrance => "entrance",
        ZoneRole::Ignore => "ignore",
    }
}

pub(crate) fn parse_role(s: &str) -> Option<ZoneRole> {
    match s {
        "waiting" => Some(ZoneRole::Waiting),
        "counter" => Some(ZoneRole::Counter),
        "entrance" => Some(ZoneRole::Entrance),
        "ignore" => Some(ZoneRole::Ignore),
        _ => None,
    }
}
