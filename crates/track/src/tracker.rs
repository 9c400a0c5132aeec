//! The per-camera ByteTrack tracker.

use crate::assignment::assign;
use crate::config::TrackerConfig;
use crate::kalman::BoxKalman;
use hallwatch_core::{BBox, Detection, TrackId, TrackState, TrackStatus};
use serde::{Deserialize, Serialize};
use tracing::warn;

/// What one [`Tracker::update`] changed. Each list is sorted by id, and a track appears in
/// at most one of them per update.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackUpdate {
    /// Tracks confirmed in this frame (status `Tracked`); reported here instead of in
    /// `updated`. A track is reported here exactly once in its life.
    pub new: Vec<TrackState>,
    /// Confirmed tracks matched to a detection in this frame, other than the new ones,
    /// including lost tracks found again.
    pub updated: Vec<TrackState>,
    /// Confirmed tracks not matched in this frame and still within the lost buffer: status
    /// `Lost`, box predicted to this frame's time. Repeated in every frame they stay lost.
    pub lost: Vec<TrackState>,
    /// Tracks dropped in this frame: confirmed tracks whose lost buffer ran out (last state,
    /// status `Lost`), and tentative tracks that missed a frame before being confirmed (these
    /// ids never appeared in `new`; a consumer that keeps state per id can ignore ids it does
    /// not know). When the stream time went backwards this holds every track from before the
    /// reset, as it last was.
    pub removed: Vec<TrackState>,
}

impl TrackUpdate {
    /// True when nothing changed (no tracks at all, or a skipped frame).
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.updated.is_empty()
            && self.lost.is_empty()
            && self.removed.is_empty()
    }
}

/// One track's private state.
#[derive(Clone, Debug)]
struct Track {
    id: TrackId,
    kf: BoxKalman,
    /// Stream time the filter's mean refers to.
    t_state: f64,
    /// Last matched detection's box.
    bbox: BBox,
    score: f32,
    lost: bool,
    confirmed: bool,
    /// Frames matched so far (tentative tracks: consecutive, birth frame included).
    hits: u32,
    first_seen: f64,
    last_seen: f64,
}

impl Track {
    fn state(&self) -> TrackState {
        TrackState {
            id: self.id,
            bbox: if self.lost { self.kf.bbox() } else { self.bbox },
            score: self.score,
            status: if self.lost {
                TrackStatus::Lost
            } else {
                TrackStatus::Tracked
            },
            first_seen: self.first_seen,
            last_seen: self.last_seen,
        }
    }

    fn predict_to(&mut self, t: f64, nominal: f64) {
        let dt = t - self.t_state;
        if dt > 0.0 {
            if self.lost {
                self.kf.freeze_height();
            }
            self.kf.predict(dt / nominal);
            self.t_state = t;
        }
    }

    fn hit(&mut self, det: &Detection, t: f64) {
        self.kf.update(&det.bbox);
        self.bbox = det.bbox;
        self.score = det.score;
        self.lost = false;
        self.hits = self.hits.saturating_add(1);
        self.last_seen = t;
    }
}

/// A ByteTrack multi-object tracker for one camera: feed it each analysed frame's detections
/// with the frame's stream time, in order.
///
/// It is a plain synchronous value (no locks, no threads): keep one per camera, owned by
/// whatever processes that camera's frames.
///
/// # Algorithm
///
/// For each frame at stream time `t`:
/// 1. Every track's Kalman filter is predicted to `t` (time-aware: see the crate docs).
/// 2. Stage 1: confirmed tracks, tracked and lost, against high detections (`score >=
///    high_score`), optimal assignment (Hungarian) on the cost `1 - IoU * score` (`1 - IoU`
///    without `fuse_score`) with cost limit `1 - match_iou`. The IoU is taken between the
///    predicted box and the detection, both widened by the track's motion margin
///    ([`TrackerConfig::motion_margin`]; 0 gives ByteTrack's plain IoU).
/// 3. Stage 2: tracks still unmatched that were tracked (not lost) in the previous frame
///    against low detections (`low_score <= score < high_score`), cost `1 - IoU`, limit
///    `1 - second_match_iou`. Tracks still unmatched become lost.
/// 4. Stage 3: tentative tracks against the high detections left from stage 1, fused cost,
///    limit `1 - unconfirmed_match_iou`. A tentative track matched in `confirm_frames`
///    consecutive frames is confirmed; one that goes unmatched is removed.
/// 5. High detections still unmatched with `score >= new_track_score` start tentative tracks
///    (confirmed at once on a stream's first frames, see [`TrackerConfig::confirm_frames`], or
///    when scoring above [`TrackerConfig::confirm_score`]).
/// 6. Lost tracks unmatched in this frame whose `last_seen` is more than `lost_buffer_s`
///    before `t` are removed.
///
/// The detection class is ignored: pass only the class to be tracked (persons).
///
/// # Limits
///
/// - Association is by box overlap only (no appearance features). Two people who cross while
///   both detected keep their ids as long as the motion model tells them apart; a crossing in
///   which one of them is hidden, or people who stop, turn or swap places while hidden, can
///   swap ids or give a new id after the occlusion.
/// - Geometry cannot tell a step from a neighbour: in a tight crowd, a young track (velocity
///   still unknown) or a lost one may take over the detection of an untracked neighbour one
///   body width away, giving that neighbour's track a new id later. The tests bound how often
///   this happens in a dense queue; `motion_margin = 0` avoids it at the cost of losing
///   walkers at 2 fps.
/// - Predictions are constant-velocity: a lost person who changed direction or speed is found
///   again only if the detection still overlaps the prediction enough for stage 1. Long gaps
///   with a moving person push the prediction far from where they stopped.
/// - Removal happens only inside `update`: if frames stop arriving, lost tracks stay until the
///   next frame. After a stream gap longer than `lost_buffer_s`, a track that was still
///   tracked before the gap can be matched once more (a still scene skipped by motion gating
///   keeps its ids); a track that was already lost has outlived its buffer and is removed.
/// - Time going backwards (a looped file, a restarted camera, a wall clock stepped back)
///   resets the tracker: all tracks are reported removed and the frame is handled as the
///   first frame of a new stream. Ids continue from where they were, never reused.
/// - Non-finite times skip the frame; detections with a non-finite or empty box or a
///   non-finite score are ignored.
#[derive(Clone, Debug)]
pub struct Tracker {
    config: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u64,
    /// Frames handled since the start or the last reset.
    frames: u64,
    last_t: Option<f64>,
}

fn usable(d: &Detection) -> bool {
    let b = &d.bbox;
    d.score.is_finite()
        && [b.x1, b.y1, b.x2, b.y2].iter().all(|v| v.is_finite())
        && b.x2 > b.x1
        && b.y2 > b.y1
}

/// The motion margin is at most this many box widths (heights) per side, so that a track lost
/// while walking does not end up claiming detections anywhere in the frame.
const MAX_MARGIN_RATIO: f64 = 2.0;

/// Per-side widening `(x, y)` in pixels of a track's predicted box and of the detections it is
/// compared with: `motion_margin` times the bound `(|v| + std(v)) * elapsed` on how far the
/// centre can have moved since the track's last match (see
/// [`TrackerConfig::motion_margin`]), capped at [`MAX_MARGIN_RATIO`] box sizes.
fn match_margin(track: &Track, motion_margin: f32, nominal: f64) -> (f32, f32) {
    if motion_margin <= 0.0 || motion_margin.is_nan() {
        return (0.0, 0.0);
    }
    let elapsed = ((track.t_state - track.last_seen) / nominal).max(0.0);
    let (bx, by) = track.kf.speed_bound();
    let b = track.kf.bbox();
    let m = f64::from(motion_margin) * elapsed;
    let clamp = |v: f64, size: f32| {
        let cap = MAX_MARGIN_RATIO * f64::from(size);
        if v.is_finite() {
            v.clamp(0.0, cap) as f32
        } else {
            0.0
        }
    };
    (clamp(m * bx, b.width()), clamp(m * by, b.height()))
}

/// Result of one association stage, in indices of the tracker's tracks and of the detections.
struct StageResult {
    matches: Vec<(usize, usize)>,
    unmatched_tracks: Vec<usize>,
    unmatched_dets: Vec<usize>,
}

/// How one association stage compares tracks with detections.
struct StageRule {
    /// Least similarity of a match (the cost limit is `1 - min_similarity`).
    min_similarity: f32,
    /// Multiply the IoU by the detection score.
    fuse_score: bool,
    /// `TrackerConfig::motion_margin`.
    margin: f32,
    /// `TrackerConfig::nominal_frame_interval_s`, made safe.
    nominal: f64,
}

fn associate(
    tracks: &[Track],
    track_idx: &[usize],
    dets: &[Detection],
    det_idx: &[usize],
    rule: &StageRule,
) -> StageResult {
    let rows = track_idx.len();
    let cols = det_idx.len();
    let mut cost = Vec::with_capacity(rows * cols);
    for &ti in track_idx {
        let pred = tracks[ti].kf.bbox();
        let (mx, my) = match_margin(&tracks[ti], rule.margin, rule.nominal);
        let widen = |b: &BBox| BBox {
            x1: b.x1 - mx,
            y1: b.y1 - my,
            x2: b.x2 + mx,
            y2: b.y2 + my,
        };
        let pred = widen(&pred);
        for &di in det_idx {
            let det = &dets[di];
            let mut sim = f64::from(pred.iou(&widen(&det.bbox)));
            if rule.fuse_score {
                sim *= f64::from(det.score);
            }
            cost.push(1.0 - sim);
        }
    }
    let pairs = assign(&cost, rows, cols, 1.0 - f64::from(rule.min_similarity));
    let mut track_used = vec![false; rows];
    let mut det_used = vec![false; cols];
    let mut matches = Vec::with_capacity(pairs.len());
    for (r, c) in pairs {
        track_used[r] = true;
        det_used[c] = true;
        matches.push((track_idx[r], det_idx[c]));
    }
    StageResult {
        matches,
        unmatched_tracks: track_idx
            .iter()
            .zip(&track_used)
            .filter(|(_, u)| !**u)
            .map(|(t, _)| *t)
            .collect(),
        unmatched_dets: det_idx
            .iter()
            .zip(&det_used)
            .filter(|(_, u)| !**u)
            .map(|(d, _)| *d)
            .collect(),
    }
}

impl Tracker {
    /// A tracker with no tracks. The config is used as given; an invalid one (see
    /// [`TrackerConfig::validate`]) is logged as a warning and gives unspecified but never
    /// panicking behaviour. Use [`Tracker::try_new`] to refuse it instead.
    pub fn new(config: TrackerConfig) -> Tracker {
        if let Err(e) = config.validate() {
            warn!(error = %e, "tracker config is invalid; tracking results are unreliable");
        }
        Tracker {
            config,
            tracks: Vec::new(),
            next_id: 1,
            frames: 0,
            last_t: None,
        }
    }

    /// A tracker with no tracks, or the config's validation error.
    pub fn try_new(config: TrackerConfig) -> Result<Tracker, String> {
        config.validate()?;
        Ok(Tracker::new(config))
    }

    /// The settings in use.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Current confirmed tracks, tracked and lost, sorted by id. Lost tracks carry the box
    /// predicted to the last frame's time.
    pub fn tracks(&self) -> Vec<TrackState> {
        let mut out: Vec<TrackState> = self
            .tracks
            .iter()
            .filter(|t| t.confirmed)
            .map(Track::state)
            .collect();
        out.sort_by_key(|s| s.id);
        out
    }

    /// Forgets every track and the stream time, as at creation, except that ids keep counting
    /// up (an id is never reused within one tracker). The next frame is treated as the first
    /// of a stream.
    pub fn reset(&mut self) {
        self.tracks.clear();
        self.frames = 0;
        self.last_t = None;
    }

    /// Feeds one frame's detections at stream time `t` (seconds, non-decreasing; see the type
    /// docs for what happens otherwise) and returns what changed.
    pub fn update(&mut self, detections: &[Detection], t: f64) -> TrackUpdate {
        let mut out = TrackUpdate::default();
        if !t.is_finite() {
            warn!(t, "tracker: frame with a non-finite stream time skipped");
            return out;
        }
        if let Some(prev) = self.last_t
            && t < prev
        {
            warn!(
                t,
                previous = prev,
                "tracker: stream time went backwards; resetting all tracks"
            );
            out.removed = self.tracks.iter().map(Track::state).collect();
            out.removed.sort_by_key(|s| s.id);
            self.reset();
        }
        self.last_t = Some(t);
        self.frames = self.frames.saturating_add(1);

        let cfg = &self.config;
        let nominal = if cfg.nominal_frame_interval_s > 0.0 {
            cfg.nominal_frame_interval_s
        } else {
            TrackerConfig::default().nominal_frame_interval_s
        };
        let mut high = Vec::new();
        let mut low = Vec::new();
        for (i, d) in detections.iter().enumerate() {
            if !usable(d) {
                continue;
            }
            if d.score >= cfg.high_score {
                high.push(i);
            } else if d.score >= cfg.low_score {
                low.push(i);
            }
        }

        for tr in &mut self.tracks {
            tr.predict_to(t, nominal);
        }

        let n = self.tracks.len();
        let mut matched = vec![false; n];
        let mut newly_confirmed = vec![false; n];
        let mut dead = vec![false; n];

        // Stage 1: confirmed tracks (tracked and lost) vs high detections.
        let pool: Vec<usize> = (0..n).filter(|&i| self.tracks[i].confirmed).collect();
        let rule = |min_similarity: f32, fuse_score: bool| StageRule {
            min_similarity,
            fuse_score,
            margin: cfg.motion_margin,
            nominal,
        };
        let s1 = associate(
            &self.tracks,
            &pool,
            detections,
            &high,
            &rule(cfg.match_iou, cfg.fuse_score),
        );
        for &(ti, di) in &s1.matches {
            self.tracks[ti].hit(&detections[di], t);
            matched[ti] = true;
        }

        // Stage 2: the still-tracked leftovers vs low detections.
        let pool2: Vec<usize> = s1
            .unmatched_tracks
            .iter()
            .copied()
            .filter(|&i| !self.tracks[i].lost)
            .collect();
        let s2 = associate(
            &self.tracks,
            &pool2,
            detections,
            &low,
            &rule(cfg.second_match_iou, false),
        );
        for &(ti, di) in &s2.matches {
            self.tracks[ti].hit(&detections[di], t);
            matched[ti] = true;
        }
        for &ti in &s2.unmatched_tracks {
            self.tracks[ti].lost = true;
        }

        // Stage 3: tentative tracks vs the high detections left from stage 1.
        let pool3: Vec<usize> = (0..n).filter(|&i| !self.tracks[i].confirmed).collect();
        let s3 = associate(
            &self.tracks,
            &pool3,
            detections,
            &s1.unmatched_dets,
            &rule(cfg.unconfirmed_match_iou, cfg.fuse_score),
        );
        for &(ti, di) in &s3.matches {
            let tr = &mut self.tracks[ti];
            tr.hit(&detections[di], t);
            matched[ti] = true;
            if tr.hits >= cfg.confirm_frames {
                tr.confirmed = true;
                tr.first_seen = t;
                newly_confirmed[ti] = true;
            }
        }
        for &ti in &s3.unmatched_tracks {
            dead[ti] = true;
            self.tracks[ti].lost = true;
            out.removed.push(self.tracks[ti].state());
        }

        // Lost tracks past their buffer.
        for i in 0..n {
            let tr = &self.tracks[i];
            if tr.confirmed && !matched[i] && t - tr.last_seen > cfg.lost_buffer_s {
                dead[i] = true;
                out.removed.push(tr.state());
            }
        }

        for i in 0..n {
            if dead[i] {
                continue;
            }
            let tr = &self.tracks[i];
            if newly_confirmed[i] {
                out.new.push(tr.state());
            } else if tr.confirmed && matched[i] {
                out.updated.push(tr.state());
            } else if tr.confirmed {
                out.lost.push(tr.state());
            }
        }
        let mut keep = dead.iter().map(|d| !d);
        self.tracks.retain(|_| keep.next().unwrap_or(true));

        // Births from the high detections nobody claimed.
        let confirm_at_birth =
            self.frames < u64::from(cfg.confirm_frames) || cfg.confirm_frames <= 1;
        for &di in &s3.unmatched_dets {
            let det = &detections[di];
            if det.score < cfg.new_track_score {
                continue;
            }
            // A clearly scored person needs no second frame to be believed.
            let confirm_at_birth = confirm_at_birth || det.score > cfg.confirm_score;
            let id = TrackId(self.next_id);
            self.next_id = self.next_id.saturating_add(1);
            let tr = Track {
                id,
                kf: BoxKalman::new(&det.bbox),
                t_state: t,
                bbox: det.bbox,
                score: det.score,
                lost: false,
                confirmed: confirm_at_birth,
                hits: 1,
                first_seen: t,
                last_seen: t,
            };
            if confirm_at_birth {
                out.new.push(tr.state());
            }
            self.tracks.push(tr);
        }

        out.new.sort_by_key(|s| s.id);
        out.updated.sort_by_key(|s| s.id);
        out.lost.sort_by_key(|s| s.id);
        out.removed.sort_by_key(|s| s.id);
        out
    }
}
