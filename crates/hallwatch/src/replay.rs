//! `hallwatch replay`: one file through ingest, detection, tracking and zones as fast as the
//! machine goes, writing MOTChallenge tracks, zone counts, zone sessions and a summary.

use anyhow::{Context, Result};
use hallwatch_config::{Config, SourceKind, ZoneRole};
use hallwatch_core::{Decimator, Detection, RateSignal, TrackStatus};
use hallwatch_detect::{DetectorOptions, GateDecision, MotionGate, OrtDetector};
use hallwatch_ingest::CameraHandle;
use hallwatch_track::{Tracker, TrackerConfig};
use hallwatch_zones::{HallMetrics, Session, ZoneEngine, ZoneEvent};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Options of `hallwatch replay`.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The video file.
    pub file: PathBuf,
    /// The hall config (zones, analysis and detection settings of the camera).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Which camera of the config the file stands for (default: the first).
    #[arg(long)]
    pub camera: Option<String>,
    /// Model manifest (default: the config's).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// ONNX Runtime intra-op threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Analysed frames per second while the hall is still, instead of the camera's
    /// `analysis.fps` (0 = every frame).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Analysed frames per second while people move in or near a zone, instead of the camera's
    /// `analysis.active_fps` (0 = every frame; the same as --fps for a steady rate).
    #[arg(long)]
    pub active_fps: Option<f64>,
}

/// The tracker settings used with a detector whose own threshold is `threshold`: tracks start
/// and match in the first stage at the detector's confidence, and ByteTrack's second stage
/// recovers boxes down to `low_score`.
pub fn tracker_config(threshold: f32) -> TrackerConfig {
    TrackerConfig {
        high_score: threshold,
        new_track_score: threshold + 0.05,
        low_score: 0.2,
        ..TrackerConfig::default()
    }
}

fn csv_session(s: &Session) -> String {
    let exit = s.exit.unwrap_or(s.enter);
    let tracks: Vec<String> = s.tracks.iter().map(|t| t.0.to_string()).collect();
    format!(
        "{},{},{:.3},{:.3},{:.3},{},{}",
        s.zone,
        s.first_track(),
        s.enter,
        exit,
        exit - s.enter,
        s.truncated,
        tracks.join(";")
    )
}

/// Runs the command.
pub fn run(a: &ReplayArgs) -> Result<()> {
    let cfg = Config::load(&a.config)
        .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", a.config.display()))?;
    let mut cam_cfg = match &a.camera {
        Some(id) => cfg
            .cameras
            .iter()
            .find(|c| &c.id == id)
            .cloned()
            .with_context(|| format!("the config has no camera '{id}'"))?,
        None => cfg
            .cameras
            .first()
            .cloned()
            .context("the config has no camera")?,
    };
    cam_cfg.source.kind = SourceKind::File;
    cam_cfg.source.path = a.file.display().to_string();
    cam_cfg.source.url.clear();
    cam_cfg.source.username.clear();
    cam_cfg.source.password.clear();
    cam_cfg.source.looping = false;
    if let Some(fps) = a.fps {
        anyhow::ensure!(
            fps.is_finite() && fps >= 0.0,
            "--fps {fps}: must be 0 (every frame) or a positive rate"
        );
        cam_cfg.analysis.fps = fps;
    }
    if let Some(fps) = a.active_fps {
        anyhow::ensure!(
            fps.is_finite() && fps >= 0.0,
            "--active-fps {fps}: must be 0 (every frame) or a positive rate"
        );
        cam_cfg.analysis.active_fps = fps;
    }
    let model = a
        .model
        .clone()
        .unwrap_or_else(|| crate::cli_ingest::model_path(&cfg));
    let mut detector = OrtDetector::load(
        &model,
        &DetectorOptions {
            intra_threads: a.threads,
        },
    )
    .with_context(|| format!("loading the model {}", model.display()))?;
    let threshold = detector.threshold(cam_cfg.detect.score_threshold);
    let tcfg = tracker_config(threshold);
    let mut tracker = Tracker::new(tcfg.clone());
    let mut zones = ZoneEngine::new(
        hallwatch_core::CameraId::new(&cam_cfg.id),
        &cfg.zones,
        &cfg.hall,
    );
    let mut metrics = HallMetrics::new(&cfg.hall);
    let mut rate = Decimator::new(
        cam_cfg.analysis.fps,
        cam_cfg.analysis.active_fps,
        RateSignal::new(),
    );
    let mut gate = MotionGate::new(cam_cfg.detect.motion_threshold, cam_cfg.detect.full_pass_s);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let create = |name: &str| -> Result<std::io::BufWriter<std::fs::File>> {
        let p = a.out.join(name);
        Ok(std::io::BufWriter::new(
            std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?,
        ))
    };
    let mut tracks_txt = create("tracks.txt")?;
    let mut counts_csv = create("zone_counts.csv")?;
    let mut sessions_csv = create("zone_sessions.csv")?;
    writeln!(counts_csv, "frame,time_s,zone,count,smoothed")?;
    writeln!(
        sessions_csv,
        "zone,track_id,enter_s,exit_s,duration_s,truncated,tracks"
    )?;

    let cam = CameraHandle::spawn(&cam_cfg).context("opening the video")?;
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {pos} frames analysed {msg} [{elapsed}] {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let started = Instant::now();
    let (mut analysed, mut inferred) = (0u64, 0u64);
    let mut ids = BTreeSet::new();
    let mut last_dets: Vec<Detection> = Vec::new();
    let mut sessions: Vec<Session> = Vec::new();
    let mut queue_samples: BTreeMap<String, (f64, usize, u64)> = BTreeMap::new();
    let mut last_t = 0.0;
    // The source size is set before the first frame is handed over; read the health once.
    let mut source_size: Option<(u32, u32)> = None;
    let record = |events: &[ZoneEvent],
                  sessions: &mut Vec<Session>,
                  out: &mut std::io::BufWriter<std::fs::File>|
     -> Result<()> {
        for e in events {
            if let ZoneEvent::Closed(s) = e {
                writeln!(out, "{}", csv_session(s))?;
                sessions.push(s.clone());
            }
        }
        Ok(())
    };
    loop {
        let Some(frame) = crate::probe::next_file_frame(&cam, &a.file)? else {
            break;
        };
        let t = frame.time.seconds();
        if !rate.admit(t) {
            continue;
        }
        last_t = t;
        analysed += 1;
        let decision = if cam_cfg.detect.motion_gating {
            gate.decide(&frame)?
        } else {
            GateDecision::FullPass
        };
        if decision.run() {
            let regions = detector.regions(&cam_cfg.detect, frame.width, frame.height);
            last_dets = detector.detect(&frame, &regions, tcfg.low_score)?.0;
            inferred += 1;
        }
        let update = tracker.update(&last_dets, t);
        let current = tracker.tracks();
        let events = zones.update(&current, &update.removed, frame.width, frame.height, t);
        metrics.observe(&zones.counts(), &events, t);
        record(&events, &mut sessions, &mut sessions_csv)?;
        if zones.moving_near_zones() {
            rate.signal()
                .active_until(t + cam_cfg.analysis.active_hold_s);
        }

        // Source pixels: the analysis frame may be scaled.
        if source_size.is_none() {
            source_size = cam.health().source_size;
        }
        let (sw, sh) = source_size.unwrap_or((frame.width, frame.height));
        let (sx, sy) = (
            sw as f32 / frame.width as f32,
            sh as f32 / frame.height as f32,
        );
        let mot_frame = frame.source_index + 1;
        for tr in current.iter().filter(|t| t.status == TrackStatus::Tracked) {
            ids.insert(tr.id);
            let b = tr.bbox.scale_shift(sx, sy, 0.0, 0.0);
            writeln!(
                tracks_txt,
                "{mot_frame},{},{:.2},{:.2},{:.2},{:.2},{:.4},-1,-1,-1",
                tr.id,
                b.x1,
                b.y1,
                b.width(),
                b.height(),
                tr.score
            )?;
        }
        let smoothed: BTreeMap<String, f64> = metrics
            .snapshot(t)
            .zones
            .into_iter()
            .map(|z| (z.zone, z.people_smoothed))
            .collect();
        for c in zones.counts() {
            let sm = smoothed.get(&c.zone).copied().unwrap_or(c.people as f64);
            writeln!(
                counts_csv,
                "{mot_frame},{t:.3},{},{},{sm:.3}",
                c.zone, c.people
            )?;
            let q = queue_samples.entry(c.zone.clone()).or_insert((0.0, 0, 0));
            q.0 += c.people as f64;
            q.1 = q.1.max(c.people);
            q.2 += 1;
        }
        pb.inc(1);
        pb.set_message(format!("({inferred} inferred, {} tracks)", ids.len()));
    }
    let events = zones.close_all(last_t);
    metrics.observe(&zones.counts(), &events, last_t);
    record(&events, &mut sessions, &mut sessions_csv)?;
    pb.finish_and_clear();
    tracks_txt.flush()?;
    counts_csv.flush()?;
    sessions_csv.flush()?;

    let health = cam.health();
    let per_zone: BTreeMap<String, serde_json::Value> = queue_samples
        .iter()
        .map(|(zone, (sum, max, n))| {
            let visits: Vec<&Session> = sessions.iter().filter(|s| &s.zone == zone).collect();
            let durations: Vec<f64> = visits.iter().map(|s| s.duration(last_t)).collect();
            let role = cfg.zones.iter().find(|z| &z.id == zone).map(|z| z.role);
            (
                zone.clone(),
                serde_json::json!({
                    "role": role.map(|r| format!("{r:?}").to_lowercase()),
                    "mean_count": sum / (*n).max(1) as f64,
                    "max_count": max,
                    "sessions": visits.len(),
                    "truncated": visits.iter().filter(|s| s.truncated).count(),
                    "mean_duration_s": if durations.is_empty() { None } else { Some(durations.iter().sum::<f64>() / durations.len() as f64) },
                    "max_duration_s": durations.iter().copied().reduce(f64::max),
                }),
            )
        })
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "file": a.file.display().to_string(),
        "camera": cam_cfg.id,
        "model": model.display().to_string(),
        "source_size": health.source_size,
        "source_fps": health.source_fps,
        "frames_decoded": health.frames_decoded,
        "frames_analysed": analysed,
        "frames_analysed_active": rate.admitted_active,
        "frames_skipped_by_rate": rate.skipped,
        "analysis_fps": cam_cfg.analysis.fps,
        "active_fps": cam_cfg.analysis.active_fps,
        "frames_inferred": inferred,
        "media_duration_s": last_t,
        "tracks": ids.len(),
        "zones": per_zone,
        "waiting_zones": cfg.zones.iter().filter(|z| z.role == ZoneRole::Waiting).count(),
        "hall": metrics.snapshot(last_t),
        "elapsed_s": elapsed,
        "analysed_fps": analysed as f64 / elapsed.max(1e-9),
    });
    let summary_path = a.out.join("summary.json");
    std::fs::write(
        &summary_path,
        serde_json::to_string_pretty(&summary)? + "\n",
    )
    .with_context(|| format!("writing {}", summary_path.display()))?;
    println!(
        "{}: {analysed} frames analysed ({inferred} inferred) in {elapsed:.1} s ({:.1} frames/s), {} tracks, {} zone visits -> {}",
        a.file.display(),
        analysed as f64 / elapsed.max(1e-9),
        ids.len(),
        sessions.len(),
        a.out.display()
    );
    Ok(())
}
