//! `hallwatch ingest` and the demo: every camera of a config through ingest and detection, with
//! a live status line per camera.

use crate::live_state::StateBuilder;
use anyhow::{Context, Result};
use hallwatch_config::ZoneConfig;
use hallwatch_config::{Config, SourceKind};
use hallwatch_core::{CameraHealth, CameraId, CameraState, HallState, TrackStatus};
use hallwatch_detect::{Manifest, PoolOptions};
use hallwatch_pipeline::{FrameStep, Pacing, Pipeline, RecordFiles, Sink, Sinks};
use hallwatch_predict::Prediction;
use hallwatch_store::unix_seconds;
use hallwatch_store::{
    Abandonment, DowntimeInterval, Record, Retention, Store, StoreWriter, WriterOptions, ZoneSample,
};
use hallwatch_zones::{CounterState, HallSnapshot, ZoneEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Stores the visits as they open, end or are discarded, the abandonments, and a zone sample
/// every 10 s of stream time.
pub(crate) struct StoreSink {
    store: StoreWriter,
    zones: Vec<ZoneConfig>,
    next_sample: f64,
}

impl StoreSink {
    /// A sink storing through `store` the visits and samples of `zones`.
    pub(crate) fn new(store: StoreWriter, zones: Vec<ZoneConfig>) -> Self {
        Self {
            store,
            zones,
            next_sample: f64::NEG_INFINITY,
        }
    }

    fn persist(&self, camera: &CameraId, events: &[ZoneEvent]) {
        for e in events {
            let record = match e {
                // A visit is stored open as it begins, so a crash cannot forget the people
                // waiting: the next start closes it as truncated
                // (Store::close_open_sessions). Closing it updates the same row.
                ZoneEvent::Opened(s) => Record::Session(s.clone()),
                ZoneEvent::Discarded(s) => Record::DiscardOpen(s.clone()),
                ZoneEvent::Closed(s) => Record::Session(s.clone()),
                other => match Abandonment::from_event(camera, other) {
                    Some(a) => Record::Abandonment(a),
                    None => continue,
                },
            };
            if let Err(err) = self.store.send(record) {
                tracing::error!(error = %err, "could not store a visit");
            }
        }
    }
}

impl Sink for StoreSink {
    fn frame(&mut self, step: &FrameStep<'_>) -> std::io::Result<()> {
        self.persist(&step.detected.frame.camera, step.events);
        let t = step.detected.frame.time.seconds();
        if t >= self.next_sample || t < self.next_sample - 20.0 {
            self.next_sample = t + 10.0;
            for z in ZoneSample::from_snapshot(step.snapshot, &self.zones) {
                if let Err(err) = self.store.send(Record::ZoneSample(z)) {
                    tracing::error!(error = %err, "could not store a zone sample");
                }
            }
        }
        Ok(())
    }

    fn closed(
        &mut self,
        camera: &CameraId,
        events: &[ZoneEvent],
        _snapshot: &HallSnapshot,
    ) -> std::io::Result<()> {
        self.persist(camera, events);
        Ok(())
    }
}

/// The live side: the camera's latest picture and tracks, the published hall state, the
/// status lines' figures and the inference metrics.
struct LiveSink {
    figures: Arc<Mutex<HashMap<String, CameraFigures>>>,
    hall: Arc<Mutex<Option<(HallSnapshot, Prediction)>>>,
    builder: Arc<Mutex<StateBuilder>>,
    health_now: Arc<Mutex<Vec<CameraHealth>>>,
    publish: Option<Publisher>,
    latest: Option<Arc<crate::live_snapshot::LatestFrames>>,
    on_inference: Option<DurationHook>,
    on_live_latency: Option<DurationHook>,
}

impl Sink for LiveSink {
    fn frame(&mut self, step: &FrameStep<'_>) -> std::io::Result<()> {
        let d = step.detected;
        let t = d.frame.time.seconds();
        if let Some(latest) = &self.latest {
            latest.update(&d.frame, step.tracks);
        }
        if let Some(publish) = &self.publish {
            let mut b = self.builder.lock().unwrap_or_else(|p| p.into_inner());
            b.observe(step.events, t);
            let cams = self
                .health_now
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(state) = b.build(step.snapshot, Some(step.prediction), cams) {
                drop(b);
                publish(&state);
            }
        }
        *self.hall.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((step.snapshot.clone(), step.prediction.clone()));
        let cam = d.frame.camera.to_string();
        let mut all = self.figures.lock().unwrap_or_else(|p| p.into_inner());
        let f = all.entry(cam.clone()).or_default();
        f.frames += 1;
        if d.decision.run() {
            f.inferred += 1;
            f.infer_ms_total += d.timings.infer_ms;
            if let Some(observe) = &self.on_inference {
                observe(&cam, d.timings.infer_ms / 1000.0);
            }
        }
        f.people_now = step
            .tracks
            .iter()
            .filter(|t| t.status == TrackStatus::Tracked)
            .count();
        f.people_max = f.people_max.max(f.people_now);
        drop(all);
        if let (Some(observe), Some(wall)) = (&self.on_live_latency, d.frame.time.wall) {
            // Live frames carry their capture time; files have none.
            if let Ok(late) = std::time::SystemTime::now().duration_since(wall) {
                observe(&cam, late.as_secs_f64());
            }
        }
        Ok(())
    }

    fn closed(
        &mut self,
        _camera: &CameraId,
        _events: &[ZoneEvent],
        snapshot: &HallSnapshot,
    ) -> std::io::Result<()> {
        let mut h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, _)) = h.as_mut() {
            *s = snapshot.clone();
        }
        Ok(())
    }
}

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

/// Receives a duration per camera: (camera, seconds).
pub type DurationHook = Arc<dyn Fn(&str, f64) + Send + Sync>;

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
    pub on_inference: Option<DurationHook>,
    /// Called with the delay from each live frame's capture to the live state it updated
    /// (camera, seconds), for the metrics.
    pub on_live_latency: Option<DurationHook>,
    /// The store was already opened and checked by this process (`quick_check` reads the
    /// whole file: once per start is enough).
    pub store_checked: bool,
    /// Also writes each camera's tracks, per-frame zone counts and visits into
    /// `<folder>/<camera>/`, as `replay` does (for `eval-zones` on a live run).
    pub record: Option<PathBuf>,
    /// Reads the uplink's health for the live state (`run` with an `[uplink]`).
    pub uplink_health: Option<Arc<dyn Fn() -> hallwatch_core::UplinkHealth + Send + Sync>>,
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
    // Cameras -> detector pool (adaptive rate, motion gate) -> per-camera tracker and zones ->
    // hall figures: the one composition shared with `replay` (hallwatch-pipeline).
    let Pipeline {
        ingest,
        pool,
        detected,
        mut analysis,
    } = Pipeline::start(
        cfg,
        &model,
        &PoolOptions {
            workers: cfg.detector.workers,
            intra_threads: cfg.detector.intra_threads,
            spin: false,
        },
        Pacing::Live,
    )
    .with_context(|| format!("starting the pipeline ({})", model_file.display()))?;

    // The event store: every visit (stored open as it begins, so a crash cannot forget the
    // people waiting) and a zone sample every 10 s of stream time, batched on the store's own
    // writer thread and committed durably.
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
    // The published state: built on every analysed frame by the analysis thread and on every
    // tick of the status loop below (camera health changes even when no frame arrives).
    let builder = Arc::new(Mutex::new(StateBuilder::new(cfg)));
    let health_now: Arc<Mutex<Vec<CameraHealth>>> = Arc::new(Mutex::new(ingest.health()));
    let analysis_restarts = analysis.restarts();
    let mut sinks = Sinks::default();
    sinks.push(StoreSink::new(store_writer.clone(), cfg.zones.clone()));
    sinks.push(LiveSink {
        figures: Arc::clone(&figures),
        hall: Arc::clone(&hall),
        builder: Arc::clone(&builder),
        health_now: Arc::clone(&health_now),
        publish: publish.clone(),
        latest: options.latest.clone(),
        on_inference: options.on_inference.clone(),
        on_live_latency: options.on_live_latency.clone(),
    });
    if let Some(dir) = &options.record {
        let health_now = Arc::clone(&health_now);
        sinks.push(RecordFiles::per_camera(
            dir,
            &cfg.zones,
            Box::new(move |camera| {
                health_now
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .find(|h| &h.camera == camera)
                    .and_then(|h| h.source_size)
            }),
        ));
    }
    // Tracking and zones for every camera on this one thread, in stream time.
    let consumer = {
        let health_now = Arc::clone(&health_now);
        let hall = Arc::clone(&hall);
        std::thread::spawn(move || {
            let down = || -> Vec<hallwatch_core::CameraId> {
                health_now
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
                    .map(|h| h.camera.clone())
                    .collect()
            };
            if let Err(e) = analysis.drive(&detected, &mut sinks, &down) {
                tracing::error!(error = %e, "the analysis could not write its output");
            }
            // Cameras stopped: what is still open is truncated.
            match analysis.finish(&mut sinks) {
                Ok(Some(last)) => *hall.lock().unwrap_or_else(|p| p.into_inner()) = Some(last),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "the analysis could not write its output"),
            }
            sinks
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
            if let Some(f) = &options.uplink_health {
                b.set_uplink(f());
            }
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
    if let Ok(mut sinks) = consumer.join() {
        sinks.flush().context("writing the recorded files")?;
    }
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
