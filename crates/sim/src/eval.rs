//! The real pipeline over a simulated run, measured against its truth.
//!
//! [`evaluate`] reads a run folder ([`output`](crate::output)) and feeds the camera's
//! detections, frame by frame in stream time, through what the live path runs: the tracker
//! ([`hallwatch_track::Tracker`]), the zone engine and hall metrics ([`hallwatch_zones`]) and
//! the wait predictor ([`hallwatch_predict::WaitPredictor`], fed as the binary's live path
//! feeds it, plus entrance crossings as arrivals for the Little's-law baseline). It compares:
//!
//! - **Queue length** (Số người đang chờ): the hall's waiting count, as shown (smoothed) and
//!   instantaneous, against the true number of ticket holders in the hall not yet called, at
//!   every true queue sample while the hall is open.
//! - **Per-person waits** (Thời gian chờ): each finished visit of the waiting zone is matched
//!   to the citizen whose true wait (ticket to call, or to giving up) overlaps it most in time
//!   (one to one, greedily by temporal IoU, at least 0.3). The camera knows no tickets, so
//!   matching by time is the only link, and it is what a hall would do with a ticket export.
//!   Visits left unmatched (a visit split by a lost track, a false positive that sat still) and
//!   waits never matched are counted. MAPE is over waits of at least
//!   [`EvalOptions::mape_min_wait_s`]: a 20 s walk is 100 % of a 20 s wait.
//! - **Per-hour mean wait**: the mean of the zone visits starting in each local (date, hour)
//!   against the mean true wait of the tickets issued in it, over hours with at least three
//!   true waits.
//! - **Predicted wait**: for each served citizen, the predictor's expected wait at the moment
//!   they took their ticket against the wait they then had, and the same for plain Little's
//!   law (`W = L / λ`, the queue over the day's arrival rate so far,
//!   [`hallwatch_predict::little_law`]), over the whole run and during the morning ramp.

use crate::SimError;
use crate::config::parse_hm;
use crate::model::{CitizenTruth, Outcome};
use crate::output::{DetectionReader, RunFiles, read_manifest, read_queue, read_truth};
use chrono::Timelike;
use hallwatch_config::{Config, ZoneRole};
use hallwatch_core::{CameraId, Decimator, RateSignal, TrackStatus};
use hallwatch_predict::{PredictConfig, WaitPredictor};
use hallwatch_track::{Tracker, TrackerConfig};
use hallwatch_zones::{CounterState, HallMetrics, Session, ZoneEngine, ZoneEvent};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;

/// How to evaluate.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Tracker settings. Default: as the binary sets them for a detector whose threshold is
    /// 0.45 (the default model's): tracks start at 0.5, match at 0.45, and low-score boxes
    /// down to 0.2 keep them alive.
    pub tracker: TrackerConfig,
    /// Wait predictor settings.
    pub predict: PredictConfig,
    /// The morning ramp, local `["HH:MM", "HH:MM")` of the ticket time. Default 07:30-09:30.
    pub ramp: (String, String),
    /// Waits shorter than this (seconds) are left out of percentage errors. Default 120.
    pub mape_min_wait_s: f64,
    /// Where to write every zone visit the pipeline closed (`zone,counter,tracks,enter_s,
    /// exit_s,duration_s,truncated`), for a closer look; `None` writes nothing.
    pub sessions_csv: Option<std::path::PathBuf>,
    /// Where to write each served citizen's predicted and realised wait
    /// (`ticket_at,waited_s,predicted_s,low_s,high_s,little_s,queue,open,idle,mean_service_s`);
    /// `None` writes nothing.
    pub predictions_csv: Option<std::path::PathBuf>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            tracker: TrackerConfig {
                high_score: 0.45,
                new_track_score: 0.5,
                confirm_score: 0.6,
                low_score: 0.2,
                ..TrackerConfig::default()
            },
            predict: PredictConfig::default(),
            ramp: ("07:30".into(), "09:30".into()),
            mape_min_wait_s: 120.0,
            sessions_csv: None,
            predictions_csv: None,
        }
    }
}

/// Errors of the hall's queue length against the truth.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueueErrors {
    /// Samples compared (open hours).
    pub samples: u64,
    /// Mean true queue.
    pub mean_truth: f64,
    /// Mean absolute error of the smoothed count (what the dashboard shows), people.
    pub mae_smoothed: f64,
    /// Mean absolute error of the instantaneous count, people.
    pub mae_now: f64,
    /// Mean of (smoothed - truth): negative when people are missed.
    pub bias_smoothed: f64,
}

/// Errors of measured waits against true ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WaitErrors {
    /// True waits (citizens, or hours).
    pub truth: u64,
    /// Measured (zone visits, or hours with visits).
    pub measured: u64,
    /// Pairs compared.
    pub matched: u64,
    /// Mean absolute error, seconds.
    pub mae_s: f64,
    /// Mean absolute percentage error over true waits of at least `mape_min_wait_s`, percent.
    pub mape_pct: f64,
    /// Mean of (measured - truth), seconds.
    pub bias_s: f64,
    /// Mean true wait of the pairs, seconds.
    pub mean_truth_s: f64,
}

/// Predicted-wait errors of the predictor and of plain Little's law on the same arrivals.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PredictionErrors {
    /// Served citizens whose wait was predicted.
    pub n: u64,
    /// Mean realised wait, seconds.
    pub mean_wait_s: f64,
    /// Predictor: mean absolute error, seconds (over the arrivals it gave an estimate for).
    pub predictor_mae_s: f64,
    /// Predictor: mean error (predicted - realised), seconds.
    pub predictor_bias_s: f64,
    /// Predictor: arrivals without an estimate (no open counter).
    pub predictor_missing: u64,
    /// Predictor: share of realised waits inside its 10-90 % band.
    pub predictor_band_coverage: f64,
    /// Little's law: mean absolute error, seconds (over the arrivals it gave an estimate for).
    pub little_mae_s: f64,
    /// Little's law: mean error, seconds.
    pub little_bias_s: f64,
    /// Little's law: arrivals without an estimate (no arrival counted yet that day).
    pub little_missing: u64,
    /// Both gave an estimate: predictor MAE on those.
    pub both_predictor_mae_s: f64,
    /// Both gave an estimate: Little's law MAE on those.
    pub both_little_mae_s: f64,
    /// Arrivals where both gave an estimate.
    pub both_n: u64,
}

/// Counts the pipeline saw against the truth.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CountCheck {
    /// Citizens who came (truth).
    pub arrivals_truth: u64,
    /// Inward crossings of the door.
    pub arrivals_seen: u64,
    /// Served (truth).
    pub served_truth: u64,
    /// Finished counter visits.
    pub services_seen: u64,
    /// Left without service (truth: no-shows and abandonment).
    pub left_unserved_truth: u64,
    /// Abandonments the zone engine reported.
    pub abandoned_seen: u64,
    /// Distinct confirmed tracks.
    pub tracks: u64,
}

/// What [`evaluate`] found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EvalReport {
    /// Seed of the run.
    pub seed: u64,
    /// Working days.
    pub days: u32,
    /// Frames processed (analysed).
    pub frames: u64,
    /// Of those, frames analysed at the active rate (people moving in or near a zone).
    pub frames_active: u64,
    /// Frames of the run the analysis rate skipped (the hall config's camera `analysis.fps`
    /// while the zones are still; none when the run's fps is at or below it).
    pub frames_skipped: u64,
    /// Detections processed.
    pub detections: u64,
    /// Counts.
    pub counts: CountCheck,
    /// Queue length.
    pub queue: QueueErrors,
    /// Per-person waits.
    pub person_waits: WaitErrors,
    /// Per-hour mean waits.
    pub hourly_waits: WaitErrors,
    /// Predicted waits, every served citizen.
    pub prediction: PredictionErrors,
    /// Predicted waits, tickets taken during the morning ramp.
    pub prediction_ramp: PredictionErrors,
    /// The ramp, local time.
    pub ramp: (String, String),
}

#[derive(Clone, Copy, Default)]
struct Pred {
    predictor: Option<(f64, f64, f64)>,
    little: Option<f64>,
}

fn prediction_errors(rows: &[(&CitizenTruth, Pred)]) -> PredictionErrors {
    let mut e = PredictionErrors {
        n: rows.len() as u64,
        ..Default::default()
    };
    let (mut np, mut nl, mut inside) = (0u64, 0u64, 0u64);
    for (c, p) in rows {
        let w = c.waited_s();
        e.mean_wait_s += w;
        match p.predictor {
            Some((x, lo, hi)) => {
                np += 1;
                e.predictor_mae_s += (x - w).abs();
                e.predictor_bias_s += x - w;
                if lo <= w && w <= hi {
                    inside += 1;
                }
            }
            None => e.predictor_missing += 1,
        }
        match p.little {
            Some(x) => {
                nl += 1;
                e.little_mae_s += (x - w).abs();
                e.little_bias_s += x - w;
            }
            None => e.little_missing += 1,
        }
        if let (Some((x, _, _)), Some(y)) = (p.predictor, p.little) {
            e.both_n += 1;
            e.both_predictor_mae_s += (x - w).abs();
            e.both_little_mae_s += (y - w).abs();
        }
    }
    let div = |v: &mut f64, n: u64| *v /= n.max(1) as f64;
    div(&mut e.mean_wait_s, e.n);
    div(&mut e.predictor_mae_s, np);
    div(&mut e.predictor_bias_s, np);
    div(&mut e.little_mae_s, nl);
    div(&mut e.little_bias_s, nl);
    div(&mut e.both_predictor_mae_s, e.both_n);
    div(&mut e.both_little_mae_s, e.both_n);
    e.predictor_band_coverage = inside as f64 / np.max(1) as f64;
    e
}

fn wait_errors(pairs: &[(f64, f64)], min_wait: f64) -> WaitErrors {
    let mut e = WaitErrors {
        matched: pairs.len() as u64,
        ..Default::default()
    };
    let mut n_pct = 0u64;
    for &(measured, truth) in pairs {
        e.mae_s += (measured - truth).abs();
        e.bias_s += measured - truth;
        e.mean_truth_s += truth;
        if truth >= min_wait {
            n_pct += 1;
            e.mape_pct += 100.0 * (measured - truth).abs() / truth;
        }
    }
    let n = pairs.len().max(1) as f64;
    e.mae_s /= n;
    e.bias_s /= n;
    e.mean_truth_s /= n;
    e.mape_pct /= n_pct.max(1) as f64;
    e
}

/// Runs the pipeline over the run in `dir` and measures it.
pub fn evaluate(dir: &Path, opts: &EvalOptions) -> Result<EvalReport, SimError> {
    let manifest = read_manifest(dir)?;
    let files = RunFiles::new(dir);
    let hall_text = std::fs::read_to_string(files.hall()).map_err(|source| SimError::Io {
        path: files.hall().display().to_string(),
        source,
    })?;
    let hall = Config::from_toml_str(&hall_text)
        .map_err(|e| SimError::Config(format!("{}: {e}", files.hall().display())))?;
    let cfg = &manifest.config;
    let calendar = cfg
        .hours
        .build(&cfg.timezone)
        .map_err(|e| SimError::Config(format!("{e:?}")))?;
    let tz = calendar.tz();
    let tod = |t: f64| {
        use chrono::TimeZone;
        tz.timestamp_opt(t.floor() as i64, 0)
            .single()
            .map_or(0.0, |d| f64::from(d.num_seconds_from_midnight()))
    };
    let hour_key = |t: f64| (calendar.local_date(t), (tod(t) / 3600.0).floor() as u32);
    let ramp = (
        parse_hm(&opts.ramp.0).unwrap_or(7.5 * 3600.0),
        parse_hm(&opts.ramp.1).unwrap_or(9.5 * 3600.0),
    );

    let truth = read_truth(dir)?;
    let queue_truth: Vec<_> = read_queue(dir)?
        .into_iter()
        .filter(|q| calendar.is_open(q.t))
        .collect();
    // Prediction queries: served citizens at their ticket time, in time order.
    let mut served: Vec<&CitizenTruth> = truth
        .iter()
        .filter(|c| c.outcome == Outcome::Served)
        .collect();
    served.sort_by(|a, b| a.ticket_at.total_cmp(&b.ticket_at).then(a.id.cmp(&b.id)));
    let mut preds: Vec<Pred> = vec![Pred::default(); served.len()];

    let camera = CameraId::new(&manifest.camera);
    let mut tracker = Tracker::new(opts.tracker.clone());
    let mut zones = ZoneEngine::new(camera.clone(), &hall.zones, &hall.hall);
    let mut metrics = HallMetrics::new(&hall.hall);
    let first_t = queue_truth.first().map_or(0.0, |q| q.t);
    let mut predictor = WaitPredictor::new(opts.predict.clone(), first_t)
        .map_err(|e| SimError::Config(e.to_string()))?;
    let mut reader = DetectionReader::open(dir, &manifest.camera)?;

    let mut report = EvalReport {
        seed: manifest.seed,
        days: manifest.days,
        ramp: opts.ramp.clone(),
        ..Default::default()
    };
    let mut queue_pairs: Vec<(f64, f64, f64)> = Vec::with_capacity(queue_truth.len());
    let (mut qi, mut pi) = (0usize, 0usize);
    let mut waiting_sessions: Vec<Session> = Vec::new();
    let mut track_ids = std::collections::BTreeSet::new();
    let mut day = None;
    let mut last_t = first_t;
    let (w, h) = (manifest.width, manifest.height);

    let mut sessions_out = match &opts.sessions_csv {
        Some(p) => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(p).map_err(|source| {
                SimError::Io {
                    path: p.display().to_string(),
                    source,
                }
            })?);
            let _ = writeln!(f, "zone,counter,tracks,enter_s,exit_s,duration_s,truncated");
            Some(f)
        }
        None => None,
    };
    let mut predictions_out = match &opts.predictions_csv {
        Some(p) => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(p).map_err(|source| {
                SimError::Io {
                    path: p.display().to_string(),
                    source,
                }
            })?);
            let _ = writeln!(
                f,
                "ticket_at,waited_s,predicted_s,low_s,high_s,little_s,queue,open,idle,mean_service_s"
            );
            Some(f)
        }
        None => None,
    };
    let mut observe = |events: &[ZoneEvent],
                       predictor: &mut WaitPredictor,
                       sessions: &mut Vec<Session>,
                       report: &mut EvalReport,
                       t: f64| {
        for e in events {
            if let (ZoneEvent::Closed(s), Some(f)) = (e, sessions_out.as_mut()) {
                let tracks: Vec<String> = s.tracks.iter().map(|t| t.to_string()).collect();
                let exit = s.exit.unwrap_or(s.enter);
                let _ = writeln!(
                    f,
                    "{},{},{},{:.3},{:.3},{:.3},{}",
                    s.zone,
                    s.counter,
                    tracks.join(" "),
                    s.enter,
                    exit,
                    exit - s.enter,
                    s.truncated
                );
            }
            match e {
                ZoneEvent::Closed(s) if !s.truncated => match s.role {
                    ZoneRole::Counter => {
                        report.counts.services_seen += 1;
                        predictor.service_finished(s.exit.unwrap_or(t), s.counter, s.duration(t));
                    }
                    ZoneRole::Waiting => sessions.push(s.clone()),
                    _ => {}
                },
                ZoneEvent::Crossed {
                    inward: true, t, ..
                } => {
                    report.counts.arrivals_seen += 1;
                    predictor.arrival(*t);
                }
                ZoneEvent::Abandoned { .. } => report.counts.abandoned_seen += 1,
                _ => {}
            }
        }
    };

    // The camera's analysis rate, as the live pipeline applies it in front of the detector.
    let analysis = hall
        .cameras
        .iter()
        .find(|c| c.id == manifest.camera)
        .map(|c| c.analysis.clone())
        .unwrap_or_default();
    let mut rate = Decimator::new(analysis.fps, analysis.active_fps, RateSignal::new());
    while let Some((_, t, dets)) = reader.next_frame()? {
        if !rate.admit(t) {
            continue;
        }
        // Answer what was asked before this frame, from the state after the previous one.
        while let Some(q) = queue_truth.get(qi).filter(|q| q.t < t) {
            let s = metrics.snapshot(q.t);
            queue_pairs.push((
                s.waiting_smoothed,
                s.waiting_now as f64,
                f64::from(q.waiting),
            ));
            qi += 1;
        }
        while let Some(c) = served.get(pi).filter(|c| c.ticket_at < t) {
            let p = predictor.predict(c.ticket_at);
            if let Some(f) = predictions_out.as_mut() {
                let o = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_default();
                let _ = writeln!(
                    f,
                    "{:.3},{:.1},{},{},{},{},{:.2},{},{},{:.1}",
                    c.ticket_at,
                    c.waited_s(),
                    o(p.expected_wait_s),
                    o(p.low_s),
                    o(p.high_s),
                    o(predictor.little_law(c.ticket_at)),
                    p.queue,
                    p.open_counters,
                    p.idle_counters,
                    p.mean_service_s
                );
            }
            preds[pi] = Pred {
                predictor: p
                    .expected_wait_s
                    .map(|x| (x, p.low_s.unwrap_or(x), p.high_s.unwrap_or(x))),
                little: predictor.little_law(c.ticket_at),
            };
            pi += 1;
        }
        let date = calendar.local_date(t);
        if day != Some(date) {
            day = Some(date);
            let open = calendar.day_sessions(date).first().map_or(t, |s| s.0);
            predictor.start_day(open);
        }
        report.frames += 1;
        report.detections += dets.len() as u64;
        let update = tracker.update(&dets, t);
        let tracks = tracker.tracks();
        for tr in tracks.iter().filter(|t| t.status == TrackStatus::Tracked) {
            track_ids.insert(tr.id);
        }
        let events = zones.update(&tracks, &update.removed, w, h, t);
        if zones.moving_near_zones() {
            rate.signal().active_until(t + analysis.active_hold_s);
        }
        metrics.observe(&zones.counts(), &events, t);
        observe(
            &events,
            &mut predictor,
            &mut waiting_sessions,
            &mut report,
            t,
        );
        let snapshot = metrics.snapshot(t);
        for c in &snapshot.counters {
            match c.state {
                CounterState::StaffAbsent => predictor.counter_open(t, c.counter, false),
                state => predictor.counter_serving(t, c.counter, state == CounterState::Serving),
            }
        }
        predictor.queue_length(t, snapshot.waiting_smoothed);
        last_t = t;
    }
    let events = zones.close_all(last_t);
    metrics.observe(&zones.counts(), &events, last_t);
    observe(
        &events,
        &mut predictor,
        &mut waiting_sessions,
        &mut report,
        last_t,
    );
    report.counts.tracks = track_ids.len() as u64;
    report.frames_active = rate.admitted_active;
    report.frames_skipped = rate.skipped;

    // Queue length.
    let n = queue_pairs.len().max(1) as f64;
    report.queue = QueueErrors {
        samples: queue_pairs.len() as u64,
        mean_truth: queue_pairs.iter().map(|p| p.2).sum::<f64>() / n,
        mae_smoothed: queue_pairs.iter().map(|p| (p.0 - p.2).abs()).sum::<f64>() / n,
        mae_now: queue_pairs.iter().map(|p| (p.1 - p.2).abs()).sum::<f64>() / n,
        bias_smoothed: queue_pairs.iter().map(|p| p.0 - p.2).sum::<f64>() / n,
    };

    // Per-person waits: greedy one-to-one matching by temporal IoU.
    let mut cands: Vec<(f64, usize, usize)> = Vec::new();
    for (si, s) in waiting_sessions.iter().enumerate() {
        let (a, b) = (s.enter, s.exit.unwrap_or(s.enter));
        for (ci, c) in truth.iter().enumerate() {
            let (x, y) = (c.ticket_at, c.wait_end());
            let inter = (b.min(y) - a.max(x)).max(0.0);
            if inter <= 0.0 {
                continue;
            }
            let union = b.max(y) - a.min(x);
            let iou = inter / union.max(1e-9);
            if iou >= 0.3 {
                cands.push((iou, si, ci));
            }
        }
    }
    cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut s_used = vec![false; waiting_sessions.len()];
    let mut c_used = vec![false; truth.len()];
    let mut pairs = Vec::new();
    for (_, si, ci) in cands {
        if s_used[si] || c_used[ci] {
            continue;
        }
        s_used[si] = true;
        c_used[ci] = true;
        let s = &waiting_sessions[si];
        pairs.push((s.duration(s.enter), truth[ci].waited_s()));
    }
    report.person_waits = WaitErrors {
        truth: truth.len() as u64,
        measured: waiting_sessions.len() as u64,
        ..wait_errors(&pairs, opts.mape_min_wait_s)
    };

    // Per-hour mean waits.
    let mut true_hours: BTreeMap<_, (f64, u64)> = BTreeMap::new();
    for c in &truth {
        let e = true_hours.entry(hour_key(c.ticket_at)).or_default();
        e.0 += c.waited_s();
        e.1 += 1;
    }
    let mut seen_hours: BTreeMap<_, (f64, u64)> = BTreeMap::new();
    for s in &waiting_sessions {
        let e = seen_hours.entry(hour_key(s.enter)).or_default();
        e.0 += s.duration(s.enter);
        e.1 += 1;
    }
    let hour_pairs: Vec<(f64, f64)> = true_hours
        .iter()
        .filter(|(_, v)| v.1 >= 3)
        .filter_map(|(k, v)| {
            seen_hours
                .get(k)
                .map(|m| (m.0 / m.1 as f64, v.0 / v.1 as f64))
        })
        .collect();
    report.hourly_waits = WaitErrors {
        truth: true_hours.values().filter(|v| v.1 >= 3).count() as u64,
        measured: seen_hours.len() as u64,
        ..wait_errors(&hour_pairs, opts.mape_min_wait_s)
    };

    // Predictions.
    let rows: Vec<(&CitizenTruth, Pred)> = served.iter().copied().zip(preds).collect();
    report.prediction = prediction_errors(&rows);
    let ramp_rows: Vec<(&CitizenTruth, Pred)> = rows
        .iter()
        .filter(|(c, _)| {
            let x = tod(c.ticket_at);
            ramp.0 <= x && x < ramp.1
        })
        .copied()
        .collect();
    report.prediction_ramp = prediction_errors(&ramp_rows);

    report.counts.arrivals_truth = truth.len() as u64;
    report.counts.served_truth = served.len() as u64;
    report.counts.left_unserved_truth = (truth.len() - served.len()) as u64;
    Ok(report)
}

fn min(s: f64) -> String {
    format!("{:.2} min", s / 60.0)
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        writeln!(
            f,
            "simulated hall: {} working days, seed {}, {} frames analysed ({} at the active rate, {} skipped), {} detections, {} tracks",
            self.days,
            self.seed,
            self.frames,
            self.frames_active,
            self.frames_skipped,
            self.detections,
            c.tracks
        )?;
        writeln!(
            f,
            "counts (seen / true): arrivals {} / {}, services (Lượt phục vụ) {} / {}, left unserved {} / {}",
            c.arrivals_seen,
            c.arrivals_truth,
            c.services_seen,
            c.served_truth,
            c.abandoned_seen,
            c.left_unserved_truth
        )?;
        let q = &self.queue;
        writeln!(f)?;
        writeln!(
            f,
            "{:<44} {:>12} {:>12} {:>10}",
            "figure", "MAE", "MAPE", "bias"
        )?;
        writeln!(
            f,
            "{:<44} {:>12} {:>12} {:>10}",
            "queue length, shown (Số người đang chờ)",
            format!("{:.2} ppl", q.mae_smoothed),
            "",
            format!("{:+.2}", q.bias_smoothed)
        )?;
        writeln!(
            f,
            "{:<44} {:>12} {:>12} {:>10}",
            "queue length, instantaneous",
            format!("{:.2} ppl", q.mae_now),
            "",
            ""
        )?;
        for (name, e) in [
            ("wait per person (Thời gian chờ)", &self.person_waits),
            ("mean wait per hour", &self.hourly_waits),
        ] {
            writeln!(
                f,
                "{:<44} {:>12} {:>12} {:>10}",
                name,
                min(e.mae_s),
                format!("{:.1} %", e.mape_pct),
                format!("{:+.0} s", e.bias_s)
            )?;
        }
        writeln!(
            f,
            "  queue: {} samples in open hours, mean true queue {:.2}; per person: {} of {} visits matched to {} true waits (mean {}); per hour: {} of {} hours",
            q.samples,
            q.mean_truth,
            self.person_waits.matched,
            self.person_waits.measured,
            self.person_waits.truth,
            min(self.person_waits.mean_truth_s),
            self.hourly_waits.matched,
            self.hourly_waits.truth
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<34} {:>6} {:>12} {:>14} {:>14} {:>10}",
            "predicted wait (Dự kiến chờ)",
            "n",
            "mean wait",
            "predictor MAE",
            "Little MAE",
            "band 10-90"
        )?;
        for (name, p) in [
            ("all served citizens".to_string(), &self.prediction),
            (
                format!("morning ramp {}-{}", self.ramp.0, self.ramp.1),
                &self.prediction_ramp,
            ),
        ] {
            writeln!(
                f,
                "{:<34} {:>6} {:>12} {:>14} {:>14} {:>10}",
                name,
                p.n,
                min(p.mean_wait_s),
                min(p.predictor_mae_s),
                min(p.little_mae_s),
                format!("{:.0} %", 100.0 * p.predictor_band_coverage)
            )?;
        }
        Ok(())
    }
}
