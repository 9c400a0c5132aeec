//! [`AlertEngine`]: the rules applied to successive observations of the live hall.
//!
//! A plain synchronous struct with an injected clock: the caller passes each observation with
//! its time (Unix seconds) and gets back what happened — [`AlertEvent`]s of kind
//! [`EventKind::Triggered`], [`EventKind::Renotify`] or [`EventKind::Resolved`]. Nothing here
//! reads a clock, sleeps or does I/O.
//!
//! Per rule and target (a zone, a counter, a camera, or the whole hall), in order:
//!
//! 1. **Trigger**: the figure must stay at or past the rule's level (`value >= trigger`, or
//!    `share < trigger` for satisfaction) for `for_s` seconds; one observation on the other
//!    side restarts the count. The alert's `since` is when the condition began.
//! 2. **Hysteresis**: an active alert clears only after the figure has stayed on the calm side
//!    of the clear level (`value < clear_below`, `share >= clear_above`) for `clear_for_s`
//!    seconds; between the two levels it stays as it is. A target with no figure (a zone no
//!    longer reported, no prediction, too few ratings) counts as calm.
//! 3. **Cooldown**: after a clear, the same rule and target raise nothing for `cooldown_s`.
//! 4. **Re-notify**: an active alert yields a [`EventKind::Renotify`] every `renotify_s`.
//! 5. **Working hours**: a rule that follows the calendar raises nothing while the hall is
//!    closed (lunch break, evening, weekend, holiday), and the count toward `for_s` starts
//!    again when it opens. An alert still active when the hall closes is resolved at that
//!    moment with [`ResolveReason::Closed`] — nobody is at the hall to act on it, and a
//!    morning alert must not stay open over lunch or the night; the cooldown does not apply
//!    after such a close, so a queue still long after reopening raises a new alert after
//!    `for_s`. Rules with `working_hours = false` (a camera down at night) ignore the calendar.

use crate::AlertsError;
use hallwatch_config::alerts::{AlertKind, AlertRule, Severity};
use hallwatch_config::{Calendar, Config};
use hallwatch_core::CameraState;
use hallwatch_core::live::{CounterActivity, HallState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Satisfaction over a recent window, computed by the caller from the ratings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionFigures {
    /// The window the figures cover, seconds back from the observation time; a `satisfaction`
    /// rule reads the figures whose window equals its `window_s`
    /// ([`AlertEngine::satisfaction_windows`] lists them).
    pub window_s: f64,
    /// Ratings given in the window.
    pub ratings: u32,
    /// Share of them that are satisfied or very satisfied, 0..1.
    pub satisfied_share: f64,
}

/// What the engine looks at, once per evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    /// The live hall: zones (people smoothed), counters (activity), prediction, cameras.
    pub hall: &'a HallState,
    /// Satisfaction figures, one per window the rules need (empty when there are no ratings).
    pub satisfaction: &'a [SatisfactionFigures],
}

/// What an alert is about. Empty strings and `None` where not applicable; all empty for the
/// whole hall.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Target {
    /// Zone id (a waiting zone, or a counter's zone).
    pub zone: String,
    /// Camera id.
    pub camera: String,
    /// Counter number.
    pub counter: Option<u32>,
}

impl Target {
    fn zone(zone: &str) -> Self {
        Self {
            zone: zone.into(),
            ..Self::default()
        }
    }
}

/// Which step of an alert's life an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The alert is raised.
    Triggered,
    /// Still active, `renotify_s` after the last notification.
    Renotify,
    /// The alert is over.
    Resolved,
}

/// Why an alert ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolveReason {
    /// The figure stayed calm for `clear_for_s`.
    Cleared,
    /// The hall closed (lunch break, end of day) while the rule follows working hours.
    Closed,
    /// Hallwatch restarted while the alert was active (set by the notifier; the new run's
    /// engine raises a new alert if the condition still holds).
    Restart,
}

/// One thing that happened to one alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Triggered, re-notify or resolved.
    pub event: EventKind,
    /// Why it ended (resolved events only).
    pub reason: Option<ResolveReason>,
    /// Rule id.
    pub rule: String,
    /// What the rule watches.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// What the alert is about.
    pub target: Target,
    /// Display name of the target: the zone's or camera's name, the site's name for the hall.
    pub target_name: String,
    /// When the condition began (Unix seconds).
    pub since: f64,
    /// When the alert was raised (`since + for_s` or later).
    pub raised: f64,
    /// Time of this event.
    pub t: f64,
    /// The figure now: people, minutes of expected wait, seconds a camera has been down, or
    /// the satisfied share; for a counter, the people waiting.
    pub value: f64,
    /// The worst figure since the alert was raised.
    pub peak: f64,
    /// The rule's trigger level, for kinds that have one.
    pub level: Option<f64>,
    /// counter_unattended: what the counter was doing when the alert was raised.
    pub activity: Option<CounterActivity>,
    /// satisfaction: ratings in the window.
    pub ratings: Option<u32>,
    /// Channel ids the rule notifies (empty: all).
    pub channels: Vec<String>,
}

impl AlertEvent {
    /// The key the alert is known by while active: rule and target.
    pub fn key(&self) -> (String, Target) {
        (self.rule.clone(), self.target.clone())
    }
}

/// An alert active now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveAlert {
    /// Rule id.
    pub rule: String,
    /// What the rule watches.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// What it is about.
    pub target: Target,
    /// Display name of the target.
    pub target_name: String,
    /// When the condition began.
    pub since: f64,
    /// When it was raised.
    pub raised: f64,
    /// The figure at the last evaluation.
    pub value: f64,
    /// The worst figure so far.
    pub peak: f64,
}

/// One rule ready to evaluate.
#[derive(Clone, Debug)]
struct Rule {
    cfg: AlertRule,
    level: Option<f64>,
    clear: Option<f64>,
}

/// A figure of one target at one evaluation.
#[derive(Clone, Debug)]
struct Sample {
    name: String,
    /// The figure; `None` when not available (counts as calm).
    value: Option<f64>,
    /// The alert condition holds.
    on: bool,
    /// Calm enough to count toward clearing.
    calm: bool,
    activity: Option<CounterActivity>,
    ratings: Option<u32>,
}

impl Sample {
    fn missing(name: String) -> Self {
        Self {
            name,
            value: None,
            on: false,
            calm: true,
            activity: None,
            ratings: None,
        }
    }
}

#[derive(Clone, Debug)]
struct Active {
    since: f64,
    raised: f64,
    last_notified: f64,
    value: f64,
    peak: f64,
    calm_since: Option<f64>,
    name: String,
    activity: Option<CounterActivity>,
    ratings: Option<u32>,
}

/// The state of one rule on one target.
#[derive(Clone, Debug)]
struct Track {
    /// When the condition began to hold without interruption (not active).
    pending_since: Option<f64>,
    /// No new alert before this time.
    cooldown_until: f64,
    active: Option<Active>,
    name: String,
}

impl Default for Track {
    fn default() -> Self {
        Self {
            pending_since: None,
            cooldown_until: f64::NEG_INFINITY,
            active: None,
            name: String::new(),
        }
    }
}

/// The alert rules of a hall with their state. Build with [`AlertEngine::new`] or
/// [`AlertEngine::from_config`]; call [`AlertEngine::evaluate`] with each new hall state.
#[derive(Clone, Debug)]
pub struct AlertEngine {
    rules: Vec<Rule>,
    calendar: Calendar,
    camera_names: HashMap<String, String>,
    /// Per rule (index), per target.
    tracks: Vec<BTreeMap<Target, Track>>,
}

impl AlertEngine {
    /// An engine with the enabled `rules` (as checked by the config loader) and the hall's
    /// opening hours.
    pub fn new(rules: &[AlertRule], calendar: Calendar) -> Self {
        let rules: Vec<Rule> = rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| Rule {
                cfg: r.clone(),
                level: r.trigger,
                clear: r.clear_level(),
            })
            .collect();
        Self {
            tracks: vec![BTreeMap::new(); rules.len()],
            rules,
            calendar,
            camera_names: HashMap::new(),
        }
    }

    /// The engine for a loaded config: `[alerts].rules` (none when `[alerts].enabled` is
    /// false), the `[hours]` calendar in `[site].timezone`, and the cameras' display names.
    pub fn from_config(config: &Config) -> Result<Self, AlertsError> {
        let calendar = config.calendar().map_err(AlertsError::config)?;
        let rules: &[AlertRule] = if config.alerts.enabled {
            &config.alerts.rules
        } else {
            &[]
        };
        let mut engine = Self::new(rules, calendar);
        engine.camera_names = config
            .cameras
            .iter()
            .map(|c| {
                let name = if c.name.is_empty() { &c.id } else { &c.name };
                (c.id.clone(), name.clone())
            })
            .collect();
        Ok(engine)
    }

    /// Sets the display names of cameras (id to name) used in events.
    pub fn with_camera_names(mut self, names: HashMap<String, String>) -> Self {
        self.camera_names = names;
        self
    }

    /// True when there is no rule to evaluate.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The windows (seconds) the satisfaction rules read: compute [`SatisfactionFigures`] for
    /// each and pass them in [`Observation::satisfaction`]. Empty when no rule needs ratings.
    pub fn satisfaction_windows(&self) -> Vec<f64> {
        let mut w: Vec<f64> = self
            .rules
            .iter()
            .filter(|r| r.cfg.kind == AlertKind::Satisfaction)
            .map(|r| r.cfg.window_s)
            .collect();
        w.sort_by(f64::total_cmp);
        w.dedup();
        w
    }

    /// The alerts active now, by rule order then target.
    pub fn active(&self) -> Vec<ActiveAlert> {
        let mut out = Vec::new();
        for (rule, tracks) in self.rules.iter().zip(&self.tracks) {
            for (target, track) in tracks {
                if let Some(a) = &track.active {
                    out.push(ActiveAlert {
                        rule: rule.cfg.id.clone(),
                        kind: rule.cfg.kind,
                        severity: rule.cfg.severity,
                        target: target.clone(),
                        target_name: a.name.clone(),
                        since: a.since,
                        raised: a.raised,
                        value: a.value,
                        peak: a.peak,
                    });
                }
            }
        }
        out
    }

    /// Applies every rule to `obs` at time `t` (Unix seconds, increasing from call to call)
    /// and returns what happened, by rule order then target.
    pub fn evaluate(&mut self, obs: &Observation<'_>, t: f64) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        if !t.is_finite() {
            return events;
        }
        let open = self.calendar.is_open(t);
        for (i, rule) in self.rules.iter().enumerate() {
            let mut samples = self.samples(rule, obs);
            let tracks = &mut self.tracks[i];
            // Targets seen before but absent now have no figure.
            for (target, track) in tracks.iter() {
                if !samples.contains_key(target) {
                    samples.insert(target.clone(), Sample::missing(track.name.clone()));
                }
            }
            let open_for_rule = open || !rule.cfg.working_hours;
            for (target, sample) in samples {
                let track = tracks.entry(target.clone()).or_default();
                track.name = sample.name.clone();
                if let Some(ev) = step(rule, &target, track, &sample, t, open_for_rule) {
                    events.push(ev);
                }
            }
            // Forget targets with nothing left to remember.
            tracks.retain(|_, tr| {
                tr.active.is_some() || tr.pending_since.is_some() || tr.cooldown_until > t
            });
        }
        events
    }

    /// The figure of every target the rule covers in this observation.
    fn samples(&self, rule: &Rule, obs: &Observation<'_>) -> BTreeMap<Target, Sample> {
        let hall = obs.hall;
        let cfg = &rule.cfg;
        let mut out = BTreeMap::new();
        let level = |v: Option<f64>, name: String| -> Sample {
            let (Some(level), Some(clear)) = (rule.level, rule.clear) else {
                return Sample::missing(name);
            };
            let Some(v) = v.filter(|v| v.is_finite()) else {
                return Sample::missing(name);
            };
            let (on, calm) = if cfg.kind.alerts_when_low() {
                (v < level, v >= clear)
            } else {
                (v >= level, v < clear)
            };
            Sample {
                name,
                value: Some(v),
                on,
                calm,
                activity: None,
                ratings: None,
            }
        };
        let site_name = if hall.site_name.is_empty() {
            hall.site.clone()
        } else {
            hall.site_name.clone()
        };
        match cfg.kind {
            AlertKind::QueueLength => {
                if cfg.zone.is_empty() {
                    out.insert(
                        Target::default(),
                        level(Some(hall.waiting_smoothed), site_name),
                    );
                } else {
                    let z = hall.zones.iter().find(|z| z.id == cfg.zone);
                    let name = z
                        .map(|z| display(&z.name, &z.id))
                        .unwrap_or_else(|| cfg.zone.clone());
                    out.insert(
                        Target::zone(&cfg.zone),
                        level(z.map(|z| z.people_smoothed), name),
                    );
                }
            }
            AlertKind::PredictedWait => {
                let minutes = hall.prediction.as_ref().map(|p| p.expected_s / 60.0);
                out.insert(Target::default(), level(minutes, site_name));
            }
            AlertKind::Satisfaction => {
                let figures = obs
                    .satisfaction
                    .iter()
                    .find(|f| (f.window_s - cfg.window_s).abs() < 0.5)
                    .filter(|f| f.ratings >= cfg.min_ratings);
                let mut s = level(figures.map(|f| f.satisfied_share), site_name);
                s.ratings = figures.map(|f| f.ratings);
                out.insert(Target::default(), s);
            }
            AlertKind::CounterUnattended => {
                let waiting = hall.waiting_smoothed;
                for c in &hall.counters {
                    if !cfg.zone.is_empty() && c.zone != cfg.zone {
                        continue;
                    }
                    let on = c.activity != CounterActivity::Serving
                        && waiting >= f64::from(cfg.min_waiting);
                    out.insert(
                        Target {
                            zone: c.zone.clone(),
                            camera: String::new(),
                            counter: Some(c.counter),
                        },
                        Sample {
                            name: display(&c.name, &c.zone),
                            value: Some(waiting),
                            on,
                            calm: !on,
                            activity: Some(c.activity),
                            ratings: None,
                        },
                    );
                }
            }
            AlertKind::StoreFailing => {
                let failing = hall.storage.failing;
                out.insert(
                    Target::default(),
                    Sample {
                        name: site_name,
                        value: Some(hall.storage.pending as f64),
                        on: failing,
                        calm: !failing,
                        activity: None,
                        ratings: None,
                    },
                );
            }
            AlertKind::UplinkFailing => {
                let failing = hall.uplink.failing();
                out.insert(
                    Target::default(),
                    Sample {
                        name: site_name,
                        value: Some(hall.uplink.lag_events as f64),
                        on: failing,
                        calm: !failing,
                        activity: None,
                        ratings: None,
                    },
                );
            }
            AlertKind::CameraDown => {
                for cam in &hall.cameras {
                    let id = cam.camera.as_str();
                    if !cfg.camera.is_empty() && id != cfg.camera {
                        continue;
                    }
                    // Down from the moment the outage opened until frames flow again: a
                    // camera retrying its connection passes through "starting" between
                    // attempts, which must not restart the count toward `for_s`.
                    let down = cam.is_down()
                        || matches!(
                            cam.state,
                            CameraState::Reconnecting { .. } | CameraState::Failed
                        );
                    let name = self
                        .camera_names
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| id.to_string());
                    out.insert(
                        Target {
                            camera: id.to_string(),
                            ..Target::default()
                        },
                        Sample {
                            name,
                            // Seconds down, filled in by `step` from the track.
                            value: Some(0.0),
                            on: down,
                            calm: !down,
                            activity: None,
                            ratings: None,
                        },
                    );
                }
            }
        }
        out
    }
}

fn display(name: &str, id: &str) -> String {
    if name.is_empty() {
        id.to_string()
    } else {
        name.to_string()
    }
}

/// The worse of two figures for this rule.
fn worse(kind: AlertKind, a: f64, b: f64) -> f64 {
    if kind.alerts_when_low() {
        a.min(b)
    } else {
        a.max(b)
    }
}

/// Advances one rule on one target to time `t`; returns the event it causes, if any.
fn step(
    rule: &Rule,
    target: &Target,
    track: &mut Track,
    s: &Sample,
    t: f64,
    open: bool,
) -> Option<AlertEvent> {
    let cfg = &rule.cfg;
    let camera = cfg.kind == AlertKind::CameraDown;
    let event = |kind: EventKind, reason: Option<ResolveReason>, a: &Active| AlertEvent {
        event: kind,
        reason,
        rule: cfg.id.clone(),
        kind: cfg.kind,
        severity: cfg.severity,
        target: target.clone(),
        target_name: a.name.clone(),
        since: a.since,
        raised: a.raised,
        t,
        value: a.value,
        peak: a.peak,
        level: rule.level,
        activity: a.activity,
        ratings: a.ratings,
        channels: cfg.channels.clone(),
    };
    if let Some(mut a) = track.active.take() {
        if !open {
            track.pending_since = None;
            return Some(event(EventKind::Resolved, Some(ResolveReason::Closed), &a));
        }
        let value = if camera && s.on {
            Some(t - a.since)
        } else {
            s.value
        };
        if let Some(v) = value {
            a.value = v;
            a.peak = worse(cfg.kind, a.peak, v);
        }
        if s.ratings.is_some() {
            a.ratings = s.ratings;
        }
        a.name = s.name.clone();
        if s.calm {
            let calm_since = *a.calm_since.get_or_insert(t);
            if t - calm_since >= cfg.clear_for_s {
                track.pending_since = None;
                track.cooldown_until = t + cfg.cooldown_s;
                return Some(event(EventKind::Resolved, Some(ResolveReason::Cleared), &a));
            }
            track.active = Some(a);
            return None;
        }
        a.calm_since = None;
        let due = cfg.renotify_s > 0.0 && t - a.last_notified >= cfg.renotify_s;
        if due {
            a.last_notified = t;
        }
        let ev = due.then(|| event(EventKind::Renotify, None, &a));
        track.active = Some(a);
        return ev;
    }
    if !open || !s.on {
        track.pending_since = None;
        return None;
    }
    let since = *track.pending_since.get_or_insert(t);
    if t - since < cfg.for_s || t < track.cooldown_until {
        return None;
    }
    let value = if camera {
        t - since
    } else {
        s.value.unwrap_or(0.0)
    };
    let a = Active {
        since,
        raised: t,
        last_notified: t,
        value,
        peak: value,
        calm_since: None,
        name: s.name.clone(),
        activity: s.activity,
        ratings: s.ratings,
    };
    let ev = event(EventKind::Triggered, None, &a);
    track.active = Some(a);
    Some(ev)
}
