//! `hallwatch ingest` and the demo: every camera of a config through ingest and detection, with
//! a live status line per camera.

use crate::live_state::StateBuilder;
use anyhow::{Context, Result};
use hallwatch_config::{Config, SourceKind};
use hallwatch_core::HallState;
use hallwatch_core::{CameraHealth, CameraState, Decimator, RateSignal};
use hallwatch_detect::{CameraInput, Detected, DetectorPool, Manifest, PoolOptions};
use hallwatch_ingest::Ingest;
use hallwatch_predict::{PredictConfig, Prediction, WaitPredictor};
use hallwatch_store::unix_seconds;
use hallwatch_store::{
    Abandonment, DowntimeInterval, Record, Retention, Store, WriterOptions, ZoneSample,
};
use hallwatch_track::Tracker;
use hallwatch_zones::{CounterState, HallMetrics, HallSnapshot, ZoneEngine, ZoneEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What detection reported for one camera so far.
#[derive(Clone, Default)]
struct CameraFigures {
    frames: u64,
    inferred: u64,
    people_now: usize,
    people_max: usize,
    infer_ms_total: f64,
}

fn status_line(h: &CameraHealth, f: &CameraFigures) -> String {
    let state = match &h.state {
        CameraState::Starting => "starting".to_string(),
        CameraState::Running => "running".to_string(),
        CameraState::Reconnecting {
            attempt,
            retry_in_s,
        } => {
            format!("reconnecting (attempt {attempt} in {retry_in_s:.0} s)")
        }
        CameraState::Finished => "finished".to_string(),
        CameraState::Failed => "failed".to_string(),
        CameraState::Stopped => "stopped".to_string(),
    };
    let infer = if f.inferred > 0 {
        f.infer_ms_total / f.inferred as f64
    } else {
        0.0
    };
    let mut s = format!(
        "{state:<12} people {:>2} (max {:>2})  in {:>5.1} fps  analysed {:>4.1} fps  frames {:>5}  inference {:>4.0} ms  dropped {}  reconnects {}",
        f.people_now,
        f.people_max,
        h.input_fps,
        h.analysed_fps,
        f.frames,
        infer,
        h.frames_dropped,
        h.reconnects
    );
    if let Some(e) = &h.last_error
        && !matches!(h.state, CameraState::Running | CameraState::Finished)
    {
        s.push_str(&format!("  last error: {e}"));
    }
    s
}

/// The hall in one line, with the official words.
fn hall_line(s: &HallSnapshot, p: &Prediction) -> String {
    let expected = match (p.expected_wait_s, p.low_s, p.high_s) {
        (Some(w), Some(lo), Some(hi)) => {
            format!("{:.0} phút ({:.0}-{:.0})", w / 60.0, lo / 60.0, hi / 60.0)
        }
        _ => "-".to_string(),
    };
    let mut line = format!(
        "Số người đang chờ {} (trung bình {:.1})  Dự kiến chờ {expected}  Lượt phục vụ {}  Thời gian chờ TB {}  lượt vào/giờ {}  bỏ về {}",
        s.waiting_now,
        s.waiting_smoothed,
        s.counters.iter().map(|c| c.served).sum::<u64>(),
        s.mean_wait_s
            .map_or("-".to_string(), |w| format!("{:.0} s", w)),
        s.arrivals_last_hour,
        s.abandoned
    );
    for c in &s.counters {
        let state = match c.state {
            CounterState::Serving => {
                format!("đang phục vụ {:.0} s", c.serving_for_s.unwrap_or(0.0))
            }
            CounterState::Idle => "trống".to_string(),
            CounterState::StaffAbsent => "vắng cán bộ".to_string(),
        };
        line.push_str(&format!("  Quầy {}: {state}", c.counter));
    }
    line
}

/// A camera down for longer than this without a frame has its counts expired.
const STALE_AFTER: Duration = Duration::from_secs(2);

/// Stores each camera outage when it opens (end unknown) and again when it closes, so history
/// and the monthly review see it while the server runs and a crash loses none.
fn write_outages(
    health: &[CameraHealth],
    written: &mut HashMap<(String, u64), Option<u64>>,
    store: &hallwatch_store::StoreWriter,
) {
    for h in health {
        for d in &h.downtime {
            let row = DowntimeInterval::from_downtime(h.camera.clone(), d);
            let key = (h.camera.to_string(), row.start.to_bits());
            let end = row.end.map(f64::to_bits);
            if written.get(&key) == Some(&end) {
                continue;
            }
            match store.send(Record::CameraDowntime(row)) {
                Ok(()) => {
                    written.insert(key, end);
                }
                Err(e) => {
                    tracing::error!(camera = %h.camera, error = %e, "could not store a camera outage")
                }
            }
        }
    }
}

/// The writer's counters as the live state carries them.
fn storage_health(s: &hallwatch_store::WriterStats) -> hallwatch_core::StorageHealth {
    hallwatch_core::StorageHealth {
        failing: !s.healthy(),
        failing_since: s.failing_since,
        pending: s.pending,
        dropped: s.dropped,
        failed: s.failed,
        commit_failures: s.commit_failures,
        records: s.records,
        batches: s.batches,
    }
}

fn empty_snapshot(t: f64) -> HallSnapshot {
    HallSnapshot {
        t,
        zones: Vec::new(),
        waiting_smoothed: 0.0,
        waiting_now: 0,
        counters: Vec::new(),
        arrivals_last_hour: 0,
        arrivals_total: 0,
        waits: 0,
        mean_wait_s: None,
        within_target: None,
        abandoned: 0,
    }
}

fn is_done(h: &CameraHealth) -> bool {
    matches!(
        h.state,
        CameraState::Finished | CameraState::Failed | CameraState::Stopped
    )
}

/// The model manifest named by the config, resolved against the working directory, then the
/// source tree's models/ folder.
pub fn model_path(cfg: &Config) -> PathBuf {
    crate::detect_cmd::resolve_model(&cfg.detector.model)
}

/// Receives every published hall state (the web layer's live hub, the alert engine).
pub type Publisher = Arc<dyn Fn(&HallState) + Send + Sync>;

/// Receives each inference's duration: (camera, seconds).
pub type InferenceHook = Arc<dyn Fn(&str, f64) + Send + Sync>;

/// How [`run`] runs.
#[derive(Default)]
pub struct RunOptions {
    /// Stop after this many seconds.
    pub seconds: Option<f64>,
    /// Called with each changed hall state (and a heartbeat every few seconds).
    pub publish: Option<Publisher>,
    /// Set to stop the run. Without it the run installs a Ctrl-C/SIGTERM handler; with it
    /// the caller sets it on those signals.
    pub stop: Option<Arc<AtomicBool>>,
    /// Keeps each camera's latest frame and tracks in memory for the live picture.
    pub latest: Option<Arc<crate::live_snapshot::LatestFrames>>,
    /// Called with each inference's duration (camera, seconds), for the metrics.
    pub on_inference: Option<InferenceHook>,
    /// The store was already opened and checked by this process (`quick_check` reads the
    /// whole file: once per start is enough).
    pub store_checked: bool,
}

/// Runs the config's cameras through detection until Ctrl-C, `seconds`, or every camera has
/// ended.
pub fn run(cfg: &Config, seconds: Option<f64>) -> Result<ExitCode> {
    run_with(
        cfg,
        RunOptions {
            seconds,
            ..RunOptions::default()
        },
    )
}

/// [`run`] with a publisher for the live hall state and an external stop flag.
pub fn run_with(cfg: &Config, options: RunOptions) -> Result<ExitCode> {
    let seconds = options.seconds;
    let publish = options.publish.clone();
    let interrupted = options
        .stop
        .clone()
        .unwrap_or_else(|| Arc::new(AtomicBool::new(false)));
    if options.stop.is_none() {
        let flag = Arc::clone(&interrupted);
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let model_file = model_path(cfg);
    let model = Manifest::load(&model_file)?;
    let ingest = Ingest::start(&cfg.cameras).context("starting cameras")?;
    if ingest.cameras().is_empty() {
        anyhow::bail!("the config has no enabled camera");
    }
    // The adaptive analysis rate: the detector pool skips frames in front of the detector by
    // each camera's decimator; the consumer raises its signal (for the camera's hold) while
    // people move near its zones.
    let (inputs, rate_signals): (Vec<CameraInput>, HashMap<String, (RateSignal, f64)>) = ingest
        .cameras()
        .iter()
        .filter_map(|c| {
            let conf = cfg.cameras.iter().find(|k| k.id == c.id().as_str())?;
            let signal = RateSignal::new();
            let input = CameraInput {
                camera: c.id().clone(),
                frames: c.frames().clone(),
                config: conf.detect.clone(),
                rate: Decimator::new(conf.analysis.fps, conf.analysis.active_fps, signal.clone()),
            };
            Some((
                input,
                (c.id().to_string(), (signal, conf.analysis.active_hold_s)),
            ))
        })
        .unzip();
    let (tx, rx) = crossbeam_channel::bounded::<Detected>(64);
    let pool = DetectorPool::start(
        &model,
        inputs,
        &PoolOptions {
            workers: cfg.detector.workers,
            intra_threads: cfg.detector.intra_threads,
        },
        tx,
    )
    .with_context(|| format!("starting the detector ({})", model_file.display()))?;

    // The event store: every finished visit and a zone sample every 10 s of stream time,
    // batched on the store's own writer thread and committed durably.
    let db_path = PathBuf::from(&cfg.storage.data_dir).join("hallwatch.db");
    std::fs::create_dir_all(&cfg.storage.data_dir)
        .with_context(|| format!("creating the data folder {}", cfg.storage.data_dir))?;
    let writer_options = WriterOptions {
        retention: Some(Retention {
            sessions_days: cfg.storage.sessions_days,
            aggregates_days: cfg.storage.aggregates_days,
        }),
        ..WriterOptions::default()
    };
    let mut store = if options.store_checked {
        Store::open_again(&db_path)?
    } else {
        Store::open(&db_path)?
    };
    let recovered = store
        .close_open_sessions(&cfg.site.id)
        .context("closing the visits a previous run left open")?;
    if recovered > 0 {
        tracing::warn!(
            visits = recovered,
            "the previous run ended without closing its visits (killed or power lost); they are stored as truncated"
        );
    }
    let (store_writer, store_handle) = store
        .writer(cfg.site.id.clone(), writer_options)
        .with_context(|| format!("starting the store writer for {}", db_path.display()))?;
    let figures: Arc<Mutex<HashMap<String, CameraFigures>>> = Arc::default();
    let hall: Arc<Mutex<Option<(HallSnapshot, Prediction)>>> = Arc::default();
    // The published state: built on every analysed frame by the consumer and on every tick of
    // the status loop below (camera health changes even when no frame arrives).
    let builder = Arc::new(Mutex::new(StateBuilder::new(cfg)));
    let health_now: Arc<Mutex<Vec<CameraHealth>>> = Arc::new(Mutex::new(ingest.health()));
    // Tracking and zones: one tracker and one zone engine per camera, on this one thread, fed
    // in stream time; hall figures across cameras.
    let analysis_restarts = Arc::new(AtomicU64::new(0));
    let consumer = {
        let analysis_restarts = Arc::clone(&analysis_restarts);
        let figures = Arc::clone(&figures);
        let hall = Arc::clone(&hall);
        let zones_cfg = cfg.zones.clone();
        let hall_cfg = cfg.hall.clone();
        let threshold = model.manifest.output.score_threshold;
        let store = store_writer.clone();
        let builder = Arc::clone(&builder);
        let health_now = Arc::clone(&health_now);
        let publish = publish.clone();
        let latest = options.latest.clone();
        let on_inference = options.on_inference.clone();
        let rate_signals = rate_signals.clone();
        let calendar = cfg.calendar().ok();
        // The expected wait for someone arriving now, from the queue, the open counters and
        // recent service times.
        let mut predictor = WaitPredictor::new(PredictConfig::default(), 0.0)
            .map_err(|e| anyhow::anyhow!("wait predictor: {e}"))?;
        std::thread::spawn(move || {
            let mut next_sample = f64::NEG_INFINITY;
            let mut started = false;
            let persist = |camera: &hallwatch_core::CameraId, events: &[ZoneEvent]| {
                for e in events {
                    let record = match e {
                        // A visit is stored open as it begins, so a crash cannot forget the
                        // people waiting: the next start closes it as truncated
                        // (Store::close_open_sessions). Closing it updates the same row.
                        ZoneEvent::Opened(s) => Record::Session(s.clone()),
                        ZoneEvent::Discarded(s) => Record::DiscardOpen(s.clone()),
                        ZoneEvent::Closed(s) => Record::Session(s.clone()),
                        other => match Abandonment::from_event(camera, other) {
                            Some(a) => Record::Abandonment(a),
                            None => continue,
                        },
                    };
                    if let Err(err) = store.send(record) {
                        tracing::error!(error = %err, "could not store a visit");
                    }
                }
            };
            let mut trackers: HashMap<String, (Tracker, ZoneEngine, f64)> = HashMap::new();
            // Today's figures restart at local midnight (the site's time zone); so does the
            // wait predictor's day.
            let mut metrics = match &calendar {
                Some(c) => HallMetrics::new(&hall_cfg).with_calendar(c.clone()),
                None => HallMetrics::new(&hall_cfg),
            };
            let mut last_t: f64 = 0.0;
            // When each camera's last frame arrived (wall clock).
            let mut last_frame_at: HashMap<String, Instant> = HashMap::new();
            loop {
                let d = match rx.recv_timeout(Duration::from_millis(500)) {
                    Ok(d) => Some(d),
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                };
                // A camera that went down: what it counted is stale (the people it saw may
                // have left unseen), so its open visits end, truncated at its last frame, and
                // its zones leave the hall figures until frames flow again.
                let down: Vec<String> = health_now
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .filter(|h| {
                        h.is_down()
                            || matches!(
                                h.state,
                                CameraState::Reconnecting { .. } | CameraState::Failed
                            )
                    })
                    .map(|h| h.camera.to_string())
                    .filter(|id| {
                        trackers.contains_key(id)
                            && last_frame_at
                                .get(id)
                                .is_none_or(|at| at.elapsed() > STALE_AFTER)
                    })
                    .collect();
                for cam in down {
                    if let Some((_, mut zones, t)) = trackers.remove(&cam) {
                        let events = zones.close_all(t);
                        metrics.observe(&zones.counts(), &events, last_t.max(t));
                        persist(&hallwatch_core::CameraId::new(cam.as_str()), &events);
                        tracing::warn!(camera = %cam, "camera down: its open visits are closed as truncated and its counts leave the hall figures");
                        let mut h = hall.lock().unwrap_or_else(|p| p.into_inner());
                        if let Some((snapshot, _)) = h.as_mut() {
                            *snapshot = metrics.snapshot(last_t);
                        }
                    }
                }
                let Some(d) = d else {
                    continue;
                };
                let cam = d.frame.camera.to_string();
                last_frame_at.insert(cam.clone(), Instant::now());
                // A panic on one frame (a bug meeting odd input) must not end the analysis of
                // every camera: that camera's open visits are closed as truncated, its tracker
                // and zones start afresh, the others carry on, and it is logged and counted.
                let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let cam = d.frame.camera.to_string();
                    let t = d.frame.time.seconds();
                    let (tracker, zones, cam_t) =
                        trackers.entry(cam.clone()).or_insert_with(|| {
                            (
                                Tracker::new(crate::replay::tracker_config(threshold)),
                                ZoneEngine::new(d.frame.camera.clone(), &zones_cfg, &hall_cfg),
                                t,
                            )
                        });
                    *cam_t = t;
                    let update = tracker.update(&d.detections, t);
                    let tracks = tracker.tracks();
                    if let Some(latest) = &latest {
                        latest.update(&d.frame, &tracks);
                    }
                    let events =
                        zones.update(&tracks, &update.removed, d.frame.width, d.frame.height, t);
                    if zones.moving_near_zones()
                        && let Some((signal, hold)) = rate_signals.get(&cam)
                    {
                        signal.active_until(t + hold);
                    }
                    let day_before = metrics.day();
                    metrics.observe(&zones.counts(), &events, t);
                    persist(&d.frame.camera, &events);
                    last_t = t;
                    let snapshot = metrics.snapshot(last_t);
                    let p = &mut predictor;
                    if !started || (day_before.is_some() && metrics.day() != day_before) {
                        p.start_day(t);
                        started = true;
                    }
                    for e in &events {
                        if let ZoneEvent::Closed(s) = e
                            && s.role == hallwatch_config::ZoneRole::Counter
                            && !s.truncated
                        {
                            p.service_finished(s.exit.unwrap_or(t), s.counter, s.duration(t));
                        }
                    }
                    for c in &snapshot.counters {
                        match c.state {
                            CounterState::StaffAbsent => p.counter_open(t, c.counter, false),
                            state => {
                                p.counter_serving(t, c.counter, state == CounterState::Serving)
                            }
                        }
                    }
                    p.queue_length(t, snapshot.waiting_smoothed);
                    let prediction = p.predict(t);
                    if t >= next_sample || t < next_sample - 20.0 {
                        next_sample = t + 10.0;
                        for z in ZoneSample::from_snapshot(&snapshot, &zones_cfg) {
                            if let Err(err) = store.send(Record::ZoneSample(z)) {
                                tracing::error!(error = %err, "could not store a zone sample");
                            }
                        }
                    }
                    if let Some(publish) = &publish {
                        let mut b = builder.lock().unwrap_or_else(|p| p.into_inner());
                        b.observe(&events, t);
                        let cams = health_now.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        if let Some(state) = b.build(&snapshot, Some(&prediction), cams) {
                            drop(b);
                            publish(&state);
                        }
                    }
                    *hall.lock().unwrap_or_else(|p| p.into_inner()) = Some((snapshot, prediction));
                    let mut all = figures.lock().unwrap_or_else(|p| p.into_inner());
                    let f = all.entry(cam.clone()).or_default();
                    f.frames += 1;
                    if d.decision.run() {
                        f.inferred += 1;
                        f.infer_ms_total += d.timings.infer_ms;
                        if let Some(observe) = &on_inference {
                            observe(&cam, d.timings.infer_ms / 1000.0);
                        }
                    }
                    f.people_now = tracks
                        .iter()
                        .filter(|t| t.status == hallwatch_core::TrackStatus::Tracked)
                        .count();
                    f.people_max = f.people_max.max(f.people_now);
                }));
                if let Err(panic) = step {
                    if let Some((_, mut zones, t)) = trackers.remove(&cam) {
                        // Close what it had open, if the engine is still able to.
                        if let Ok(events) =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                zones.close_all(t)
                            }))
                        {
                            persist(&hallwatch_core::CameraId::new(cam.as_str()), &events);
                        }
                    }
                    let n = analysis_restarts.fetch_add(1, Ordering::Relaxed) + 1;
                    let what = hallwatch_core::panic_message(panic.as_ref());
                    tracing::error!(
                        camera = %cam, restarts = n, panic = %what,
                        "tracking and zones panicked on a frame; this camera's analysis starts afresh"
                    );
                }
            }
            // Cameras stopped: what is still open is truncated.
            for (cam, (_, zones, t)) in trackers.iter_mut() {
                let events = zones.close_all(*t);
                metrics.observe(&zones.counts(), &events, *t);
                persist(&hallwatch_core::CameraId::new(cam.as_str()), &events);
            }
            if started {
                let snapshot = metrics.snapshot(last_t);
                for c in &snapshot.counters {
                    if c.state == CounterState::StaffAbsent {
                        predictor.counter_open(last_t, c.counter, false);
                    }
                }
                let prediction = predictor.predict(last_t);
                *hall.lock().unwrap_or_else(|p| p.into_inner()) = Some((snapshot, prediction));
            }
        })
    };

    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let hall_bar = multi.add(ProgressBar::new_spinner());
    hall_bar.set_style(style.clone());
    hall_bar.set_prefix("hall");
    let bars: Vec<ProgressBar> = ingest
        .cameras()
        .iter()
        .map(|c| {
            let pb = multi.add(ProgressBar::new_spinner());
            pb.set_style(style.clone());
            pb.set_prefix(c.id().to_string());
            pb
        })
        .collect();
    let snapshot = |figures: &Mutex<HashMap<String, CameraFigures>>, id: &str| {
        figures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
            .unwrap_or_default()
    };
    let started = Instant::now();
    // Live cameras stamp frames with the wall clock: when every camera has stopped delivering,
    // the hall's time must still move on (a camera down for 5 minutes is only "down for 5
    // minutes" if the alert engine sees 5 minutes pass). Replays of files keep their media time.
    let wall_clock = cfg
        .cameras
        .iter()
        .filter(|c| c.enabled)
        .any(|c| c.source.kind != SourceKind::File || c.source.looping);
    // Outages already in the store, by (camera, start): the end last written.
    let mut outages_written: HashMap<(String, u64), Option<u64>> = HashMap::new();
    let mut analysis_died = false;
    loop {
        let mut health = ingest.health();
        let costs = pool.costs();
        for h in &mut health {
            if let Some((_, c)) = costs.iter().find(|(id, _)| *id == h.camera) {
                h.analysis = c.clone();
            }
        }
        write_outages(&health, &mut outages_written, &store_writer);
        *health_now.lock().unwrap_or_else(|p| p.into_inner()) = health.clone();
        // The writer logs when the database refuses writes and when it takes them again.
        let storage = storage_health(&store_writer.stats());
        let detector = pool.stats();
        {
            let mut b = builder.lock().unwrap_or_else(|p| p.into_inner());
            b.set_storage(storage);
            b.set_pipeline(hallwatch_core::PipelineHealth {
                detector_errors: detector.errors,
                detector_panics: detector.panics,
                analysis_restarts: analysis_restarts.load(Ordering::Relaxed),
            });
        }
        // The analysis thread ended although cameras still run (it cannot, short of a bug
        // outside the per-frame guard): stop with an error, so the service manager restarts
        // the server rather than leaving it up with nothing counted.
        if consumer.is_finished() && !health.iter().all(is_done) {
            tracing::error!(
                "the analysis thread ended unexpectedly; stopping so that the server is restarted"
            );
            analysis_died = true;
            break;
        }
        if let Some(publish) = &publish {
            let latest = hall.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let now = unix_seconds(std::time::SystemTime::now());
            let (snapshot, prediction) = match latest {
                Some((mut s, p)) => {
                    if wall_clock && now > s.t {
                        s.t = now;
                    }
                    (s, Some(p))
                }
                None => (empty_snapshot(now), None),
            };
            let built = builder.lock().unwrap_or_else(|p| p.into_inner()).build(
                &snapshot,
                prediction.as_ref(),
                health.clone(),
            );
            if let Some(state) = built {
                publish(&state);
            }
        }
        for (pb, h) in bars.iter().zip(&health) {
            pb.set_message(status_line(h, &snapshot(&figures, h.camera.as_str())));
            pb.tick();
        }
        if let Some((s, p)) = hall.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            hall_bar.set_message(hall_line(s, p));
            hall_bar.tick();
        }
        let timed_out = seconds.is_some_and(|s| started.elapsed().as_secs_f64() >= s);
        let drained =
            health.iter().all(is_done) && ingest.cameras().iter().all(|c| c.frames().is_empty());
        if interrupted.load(Ordering::SeqCst) || timed_out || drained {
            break;
        }
        std::thread::sleep(Duration::from_millis(if publish.is_some() {
            100
        } else {
            200
        }));
    }
    let health = ingest.health();
    ingest.stop();
    pool.join();
    let _ = consumer.join();
    // The last word on camera outages, then everything queued, durably.
    write_outages(&health, &mut outages_written, &store_writer);
    drop(store_writer);
    let store = store_handle.close().context("flushing the event store")?;
    let counts = store.counts(&cfg.site.id)?;
    for (pb, h) in bars.iter().zip(&health) {
        pb.finish_with_message(status_line(h, &snapshot(&figures, h.camera.as_str())));
    }
    if let Some((s, p)) = hall.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        hall_bar.finish_with_message(hall_line(s, p));
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("summary after {elapsed:.1} s:");
    if let Some((s, p)) = hall.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        println!("  hall: {}", hall_line(s, p));
    }
    println!(
        "  stored in {}: {} visits, {} zone samples, {} outages",
        db_path.display(),
        counts.sessions,
        counts.zone_samples,
        counts.downtime
    );
    for h in &health {
        let f = snapshot(&figures, h.camera.as_str());
        println!(
            "  {}: {} frames analysed ({} with inference, {} decoded, {} dropped), at most {} people at once, codec {}, source {}, reconnects {}{}",
            h.camera,
            f.frames,
            f.inferred,
            h.frames_decoded,
            h.frames_dropped,
            f.people_max,
            h.codec.as_deref().unwrap_or("?"),
            h.source_size
                .map(|(w, hh)| format!("{w}x{hh}"))
                .unwrap_or_else(|| "?".into()),
            h.reconnects,
            h.last_error
                .as_ref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default()
        );
    }
    if analysis_died {
        anyhow::bail!("the analysis thread ended unexpectedly (see the log)");
    }
    let failed = health.iter().any(|h| h.state == CameraState::Failed);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
