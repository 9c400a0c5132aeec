//! Tracks, zones and hall figures from detected frames: [`Analysis`].

use crate::sink::{FrameStep, Sink};
use crate::{Pacing, PipelineError, tracker_config};
use hallwatch_config::{Config, HallConfig, ZoneConfig, ZoneRole};
use hallwatch_core::{CameraId, RateSignal};
use hallwatch_detect::Detected;
use hallwatch_predict::{PredictConfig, Prediction, WaitPredictor};
use hallwatch_track::{Tracker, TrackerConfig};
use hallwatch_zones::{CounterState, HallMetrics, HallSnapshot, ZoneEngine, ZoneEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A camera reported down whose last frame is older than this has its visits truncated and
/// its zones taken out of the hall figures (see [`Analysis::drive`]).
pub const STALE_AFTER: Duration = Duration::from_secs(2);

/// What each configured camera's analysis is set up with.
struct CameraSetup {
    tracker: TrackerConfig,
    signal: RateSignal,
    hold_s: f64,
}

/// One camera's running analysis.
struct CameraAnalysis {
    tracker: Tracker,
    zones: ZoneEngine,
    /// Stream time of its latest frame.
    t: f64,
    /// When its latest frame arrived (wall clock).
    arrived: Instant,
}

/// Tracking and zones per camera, and the hall's figures and wait prediction across them.
/// Fed one detected frame at a time; each camera's frames must come in capture order (the
/// detector pool keeps that order).
pub struct Analysis {
    setups: HashMap<String, CameraSetup>,
    default_tracker: TrackerConfig,
    cameras: HashMap<String, CameraAnalysis>,
    zones_cfg: Vec<ZoneConfig>,
    hall_cfg: HallConfig,
    metrics: HallMetrics,
    predictor: WaitPredictor,
    started: bool,
    last_t: f64,
    latest: Option<(HallSnapshot, Prediction)>,
    restarts: Arc<AtomicU64>,
}

impl Analysis {
    /// The analysis of `cfg`'s cameras, for a detector whose own score threshold is
    /// `model_threshold` (a camera's `detect.score_threshold` overrides it), each camera's
    /// rate signal paced by `pacing`.
    pub fn new(cfg: &Config, model_threshold: f32, pacing: Pacing) -> Result<Self, PipelineError> {
        let setups = cfg
            .cameras
            .iter()
            .map(|c| {
                let threshold = if c.detect.score_threshold > 0.0 {
                    c.detect.score_threshold
                } else {
                    model_threshold
                };
                (
                    c.id.clone(),
                    CameraSetup {
                        tracker: tracker_config(threshold),
                        signal: match pacing {
                            Pacing::Live => RateSignal::new(),
                            Pacing::Lockstep => RateSignal::lockstep(),
                        },
                        hold_s: c.analysis.active_hold_s,
                    },
                )
            })
            .collect();
        // Today's figures restart at local midnight (the site's time zone); so does the wait
        // predictor's day.
        let metrics = match cfg.calendar() {
            Ok(c) => HallMetrics::new(&cfg.hall).with_calendar(c),
            Err(_) => HallMetrics::new(&cfg.hall),
        };
        let predictor = WaitPredictor::new(PredictConfig::default(), 0.0)
            .map_err(|e| PipelineError::Predictor(e.to_string()))?;
        Ok(Self {
            setups,
            default_tracker: tracker_config(model_threshold),
            cameras: HashMap::new(),
            zones_cfg: cfg.zones.clone(),
            hall_cfg: cfg.hall.clone(),
            metrics,
            predictor,
            started: false,
            last_t: 0.0,
            latest: None,
            restarts: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The signal that raises `camera`'s analysis rate: give it to the camera's decimator.
    pub fn signal(&self, camera: &str) -> RateSignal {
        self.setups
            .get(camera)
            .map(|s| s.signal.clone())
            .unwrap_or_default()
    }

    /// The lowest detection score `camera`'s tracker uses (its second stage): the detector
    /// must keep boxes down to it.
    pub fn min_score(&self, camera: &str) -> f32 {
        self.setups
            .get(camera)
            .map_or(self.default_tracker.low_score, |s| s.tracker.low_score)
    }

    /// Counts the restarts of a camera's analysis after a panic (shared, readable from
    /// another thread).
    pub fn restarts(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.restarts)
    }

    /// The hall's figures and prediction after the latest frame or change.
    pub fn latest(&self) -> Option<&(HallSnapshot, Prediction)> {
        self.latest.as_ref()
    }

    /// Analyses one detected frame and hands the outcome to `sink`. A panic in tracking or
    /// zones (a bug meeting odd input) does not end the analysis of every camera: that
    /// camera's open visits are closed as truncated, its tracker and zones start afresh, and
    /// it is logged and counted. Errors are the sink's.
    pub fn frame(&mut self, d: &Detected, sink: &mut dyn Sink) -> std::io::Result<()> {
        let cam = d.frame.camera.to_string();
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.step(d, sink)));
        // In lockstep the camera's decimator waits for this before its next decision.
        if let Some(s) = self.setups.get(&cam) {
            s.signal.frame_done();
        }
        match step {
            Ok(r) => r,
            Err(panic) => {
                let n = self.restarts.fetch_add(1, Ordering::Relaxed) + 1;
                let what = hallwatch_core::panic_message(panic.as_ref());
                tracing::error!(
                    camera = %cam, restarts = n, panic = %what,
                    "tracking and zones panicked on a frame; this camera's analysis starts afresh"
                );
                if let Some(mut c) = self.cameras.remove(&cam) {
                    // Close what it had open, if the engine is still able to.
                    if let Ok(events) =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            c.zones.close_all(c.t)
                        }))
                    {
                        let snapshot = self.metrics.snapshot(self.last_t);
                        sink.closed(&d.frame.camera, &events, &snapshot)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn step(&mut self, d: &Detected, sink: &mut dyn Sink) -> std::io::Result<()> {
        let t = d.frame.time.seconds();
        let cam = d.frame.camera.as_str();
        let setup = self.setups.get(cam);
        let c = self.cameras.entry(cam.to_string()).or_insert_with(|| {
            let tracker = setup.map_or(&self.default_tracker, |s| &s.tracker);
            CameraAnalysis {
                tracker: Tracker::new(tracker.clone()),
                zones: ZoneEngine::new(d.frame.camera.clone(), &self.zones_cfg, &self.hall_cfg),
                t,
                arrived: Instant::now(),
            }
        });
        c.t = t;
        c.arrived = Instant::now();
        let update = c.tracker.update(&d.detections, t);
        let tracks = c.tracker.tracks();
        let events = c
            .zones
            .update(&tracks, &update.removed, d.frame.width, d.frame.height, t);
        // The adaptive analysis rate: people moving in or near the zones keep this camera at
        // its active rate for the hold.
        if c.zones.moving_near_zones()
            && let Some(s) = setup
        {
            s.signal.active_until(t + s.hold_s);
        }
        let counts = c.zones.counts();
        let day_before = self.metrics.day();
        self.metrics.observe(&counts, &events, t);
        self.last_t = t;
        let snapshot = self.metrics.snapshot(t);
        let p = &mut self.predictor;
        if !self.started || (day_before.is_some() && self.metrics.day() != day_before) {
            p.start_day(t);
            self.started = true;
        }
        for e in &events {
            if let ZoneEvent::Closed(s) = e
                && s.role == ZoneRole::Counter
                && !s.truncated
            {
                p.service_finished(s.exit.unwrap_or(t), s.counter, s.duration(t));
            }
        }
        for c in &snapshot.counters {
            match c.state {
                CounterState::StaffAbsent => p.counter_open(t, c.counter, false),
                state => p.counter_serving(t, c.counter, state == CounterState::Serving),
            }
        }
        p.queue_length(t, snapshot.waiting_smoothed);
        let prediction = p.predict(t);
        sink.frame(&FrameStep {
            detected: d,
            tracks: &tracks,
            events: &events,
            counts: &counts,
            snapshot: &snapshot,
            prediction: &prediction,
        })?;
        self.latest = Some((snapshot, prediction));
        Ok(())
    }

    /// A camera that went down: what it counted is stale (the people it saw may have left
    /// unseen), so its open visits end, truncated at its last frame, and its zones leave the
    /// hall figures until frames flow again. False when the camera had nothing running.
    pub fn camera_down(&mut self, camera: &str, sink: &mut dyn Sink) -> std::io::Result<bool> {
        let Some(mut c) = self.cameras.remove(camera) else {
            return Ok(false);
        };
        let events = c.zones.close_all(c.t);
        self.metrics
            .observe(&c.zones.counts(), &events, self.last_t.max(c.t));
        let snapshot = self.metrics.snapshot(self.last_t);
        tracing::warn!(camera = %camera, "camera down: its open visits are closed as truncated and its counts leave the hall figures");
        sink.closed(&CameraId::new(camera), &events, &snapshot)?;
        if let Some((s, _)) = self.latest.as_mut() {
            *s = snapshot;
        }
        Ok(true)
    }

    /// Ends the analysis: every open visit is closed as truncated. Returns the hall's last
    /// figures and prediction (None when no frame came).
    pub fn finish(
        &mut self,
        sink: &mut dyn Sink,
    ) -> std::io::Result<Option<(HallSnapshot, Prediction)>> {
        let mut cams: Vec<String> = self.cameras.keys().cloned().collect();
        cams.sort();
        for cam in cams {
            if let Some(mut c) = self.cameras.remove(&cam) {
                let events = c.zones.close_all(c.t);
                self.metrics.observe(&c.zones.counts(), &events, c.t);
                let snapshot = self.metrics.snapshot(self.last_t);
                sink.closed(&CameraId::new(cam.as_str()), &events, &snapshot)?;
            }
        }
        if self.started {
            let snapshot = self.metrics.snapshot(self.last_t);
            for c in &snapshot.counters {
                if c.state == CounterState::StaffAbsent {
                    self.predictor.counter_open(self.last_t, c.counter, false);
                }
            }
            let prediction = self.predictor.predict(self.last_t);
            self.latest = Some((snapshot, prediction));
        }
        Ok(self.latest.clone())
    }

    /// The consumer loop: analyses every frame from `detected` until it is closed (the pool
    /// ended). Every half second at most, `down()` names the cameras whose source is down;
    /// those whose last frame is older than [`STALE_AFTER`] are taken out
    /// ([`Analysis::camera_down`]). The open visits are not closed here: call
    /// [`Analysis::finish`] after.
    pub fn drive(
        &mut self,
        detected: &crossbeam_channel::Receiver<Detected>,
        sink: &mut dyn Sink,
        down: &dyn Fn() -> Vec<CameraId>,
    ) -> std::io::Result<()> {
        let mut checked = Instant::now();
        loop {
            let d = match detected.recv_timeout(Duration::from_millis(500)) {
                Ok(d) => Some(d),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Ok(()),
            };
            if d.is_none() || checked.elapsed() >= Duration::from_millis(500) {
                checked = Instant::now();
                for cam in down() {
                    let stale = self
                        .cameras
                        .get(cam.as_str())
                        .is_some_and(|c| c.arrived.elapsed() > STALE_AFTER);
                    if stale {
                        self.camera_down(cam.as_str(), sink)?;
                    }
                }
            }
            if let Some(d) = d {
                self.frame(&d, sink)?;
            }
        }
    }
}
