//! Synthetic scenarios with known identities: boxes of people walking, crossing, hidden and
//! detected at irregular times, fed through the tracker; the ids it reports are checked
//! against the ground truth.

use hallwatch_core::{BBox, Detection, TrackId, TrackStatus};
use hallwatch_track::{TrackUpdate, Tracker, TrackerConfig};
use std::collections::{BTreeMap, BTreeSet};

/// A person's box: centre, 40 x 100 px (a standing person seen from a ceiling camera).
fn person(cx: f32, cy: f32) -> BBox {
    BBox::from_cxcywh(cx, cy, 40.0, 100.0)
}

/// A slightly taller person (44 x 110 px), so that two people's boxes never coincide exactly.
fn tall_person(cx: f32, cy: f32) -> BBox {
    BBox::from_cxcywh(cx, cy, 44.0, 110.0)
}

fn det(bbox: BBox, score: f32) -> Detection {
    Detection {
        bbox,
        score,
        class: 0,
    }
}

/// Tiny deterministic xorshift64* for the randomised scenarios.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Feeds frames of ground-truth-labelled detections and records which track id each
/// ground-truth person got in each frame (matched tracks report the detection's box exactly).
struct Harness {
    tracker: Tracker,
    /// Per person: the ids reported for it, frame by frame (frames where it was matched by a
    /// confirmed track).
    ids: BTreeMap<usize, Vec<TrackId>>,
    /// Every id ever reported as confirmed (new, updated or lost).
    confirmed: BTreeSet<TrackId>,
}

impl Harness {
    fn new(config: TrackerConfig) -> Self {
        Harness {
            tracker: Tracker::try_new(config).unwrap(),
            ids: BTreeMap::new(),
            confirmed: BTreeSet::new(),
        }
    }

    fn step(&mut self, frame: &[(usize, Detection)], t: f64) -> TrackUpdate {
        let dets: Vec<Detection> = frame.iter().map(|(_, d)| *d).collect();
        let up = self.tracker.update(&dets, t);
        let mut seen_ids = BTreeSet::new();
        for s in up.new.iter().chain(&up.updated) {
            assert_eq!(s.status, TrackStatus::Tracked);
            assert!(seen_ids.insert(s.id), "id {} reported twice at t={t}", s.id);
            let owners: Vec<usize> = frame
                .iter()
                .filter(|(_, d)| d.bbox == s.bbox)
                .map(|(g, _)| *g)
                .collect();
            assert_eq!(
                owners.len(),
                1,
                "track {} box matches {owners:?} at t={t}",
                s.id
            );
            self.ids.entry(owners[0]).or_default().push(s.id);
        }
        for s in &up.lost {
            assert_eq!(s.status, TrackStatus::Lost);
            assert!(seen_ids.insert(s.id), "id {} reported twice at t={t}", s.id);
        }
        for s in up.new.iter().chain(&up.updated).chain(&up.lost) {
            self.confirmed.insert(s.id);
        }
        // tracks() agrees with the update.
        let listed: BTreeSet<TrackId> = self.tracker.tracks().iter().map(|s| s.id).collect();
        assert_eq!(
            listed, seen_ids,
            "tracks() disagrees with the update at t={t}"
        );
        up
    }

    /// Times the id of person `g` changed from one reported frame to the next.
    fn switches(&self, g: usize) -> usize {
        self.ids
            .get(&g)
            .map_or(0, |v| v.windows(2).filter(|w| w[0] != w[1]).count())
    }

    /// Run-length summary of the ids person `g` got, for failure messages.
    fn runs(&self, g: usize) -> Vec<(u64, usize)> {
        let mut out: Vec<(u64, usize)> = Vec::new();
        for id in self.ids.get(&g).into_iter().flatten() {
            match out.last_mut() {
                Some((last, n)) if *last == id.0 => *n += 1,
                _ => out.push((id.0, 1)),
            }
        }
        out
    }

    fn distinct_ids(&self, g: usize) -> BTreeSet<TrackId> {
        self.ids
            .get(&g)
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// (a) Two people walk towards each other on nearly the same line and cross. Both detected
/// throughout: the guarantee is no id switch at all. Checked over speeds 30-100 px/s (0.3-1
/// body height per second), vertical offsets 0-30 px and 2 and 5 fps.
#[test]
fn crossing_both_detected_keeps_ids() {
    for fps in [2.0f64, 5.0] {
        for speed in [30.0f32, 60.0, 100.0] {
            for dy in [0.0f32, 10.0, 30.0] {
                let mut h = Harness::new(TrackerConfig::default());
                let mut overlapping = 0;
                // They meet face to face at t = 3 s (a frame time at 2 and 5 fps) and walk on
                // for 3 s more.
                let frames = (6.0 * fps) as usize + 1;
                for i in 0..frames {
                    let t = i as f64 / fps;
                    let a = person(100.0 + speed * t as f32, 300.0);
                    let b = tall_person(100.0 + speed * (6.0 - t as f32), 300.0 + dy);
                    if a.iou(&b) > 0.0 {
                        overlapping += 1;
                    }
                    h.step(&[(0, det(a, 0.9)), (1, det(b, 0.85))], t);
                }
                let ctx = format!("fps {fps} speed {speed} dy {dy}");
                assert!(
                    overlapping >= 2 || fps < 5.0,
                    "{ctx}: boxes overlapped in only {overlapping} frames"
                );
                assert_eq!(h.switches(0), 0, "{ctx}: {:?}", h.runs(0));
                assert_eq!(h.switches(1), 0, "{ctx}: {:?}", h.runs(1));
                assert_eq!(h.distinct_ids(0).len(), 1, "{ctx}");
                assert_eq!(h.distinct_ids(1).len(), 1, "{ctx}");
                assert_ne!(h.distinct_ids(0), h.distinct_ids(1), "{ctx}");
                assert_eq!(h.confirmed.len(), 2, "{ctx}");
            }
        }
    }
}

/// (a) The realistic crossing: the person behind is hidden (not detected) while the boxes
/// overlap with IoU above 0.3, or detected only weakly (score 0.3, stage 2). Guarantee
/// asserted: at most one id switch per crossing over both people, and never more than three
/// ids in total; in these constant-velocity cases the tracker in fact keeps both ids, which is
/// asserted too so that a regression shows.
#[test]
fn crossing_with_occlusion_at_most_one_switch() {
    for (weak_instead_of_hidden, fps) in [(false, 5.0f64), (true, 5.0), (false, 2.0), (true, 2.0)] {
        for speed in [30.0f32, 60.0, 100.0] {
            for dy in [5.0f32, 20.0] {
                let mut h = Harness::new(TrackerConfig::default());
                let mut hidden_frames = 0;
                // They meet at t = 3 s (a frame time at 2 and 5 fps) and walk on for 3 s more.
                let frames = (6.0 * fps) as usize + 1;
                for i in 0..frames {
                    let t = i as f64 / fps;
                    let a = person(100.0 + speed * t as f32, 300.0); // behind
                    let b = tall_person(100.0 + speed * (6.0 - t as f32), 300.0 + dy); // in front
                    let mut frame = vec![(1, det(b, 0.85))];
                    if a.iou(&b) > 0.3 {
                        hidden_frames += 1;
                        if weak_instead_of_hidden {
                            frame.push((0, det(a, 0.3)));
                        }
                    } else {
                        frame.push((0, det(a, 0.9)));
                    }
                    h.step(&frame, t);
                }
                let ctx = format!("weak {weak_instead_of_hidden} fps {fps} speed {speed} dy {dy}");
                assert!(hidden_frames >= 1, "{ctx}: never occluded");
                assert!(
                    h.switches(0) + h.switches(1) <= 1,
                    "{ctx}: {:?} {:?}",
                    h.runs(0),
                    h.runs(1)
                );
                assert!(h.confirmed.len() <= 3, "{ctx}: {:?}", h.confirmed);
                // What the tracker achieves today on these cases.
                assert_eq!(
                    h.switches(0) + h.switches(1),
                    0,
                    "{ctx}: {:?} {:?}",
                    h.runs(0),
                    h.runs(1)
                );
                assert_eq!(h.confirmed.len(), 2, "{ctx}");
            }
        }
    }
}

/// (b) A person not detected for 1.6 s of stream time (last seen at 2.0 s, frames at 5 fps
/// keep arriving without them, seen again at 3.6 s) is found again near the predicted place
/// with the same id, walking at 60 px/s or standing still; meanwhile the track is reported
/// lost in every frame, never removed.
#[test]
fn occlusion_gap_within_buffer_keeps_id() {
    for speed in [0.0f32, 60.0] {
        let mut h = Harness::new(TrackerConfig::default());
        let mut lost_frames = 0;
        for i in 0..40 {
            let t = i as f64 * 0.2;
            let b = person(100.0 + speed * t as f32, 300.0);
            let hidden = (2.0 + 1e-9..3.6 - 1e-9).contains(&t);
            let frame: Vec<(usize, Detection)> = if hidden {
                vec![]
            } else {
                vec![(0, det(b, 0.9))]
            };
            let up = h.step(&frame, t);
            if hidden {
                assert_eq!(up.lost.len(), 1, "speed {speed} t {t}");
                assert_eq!(up.lost[0].last_seen, 2.0);
                assert!(up.removed.is_empty());
                lost_frames += 1;
            } else if i > 0 {
                assert_eq!(up.updated.len(), 1, "speed {speed} t {t}: {up:?}");
            }
        }
        assert_eq!(lost_frames, 7);
        assert_eq!(h.distinct_ids(0).len(), 1, "speed {speed}: {:?}", h.runs(0));
        assert_eq!(h.confirmed.len(), 1);
    }
}

/// (b) A person not detected for longer than `lost_buffer_s` (3 s) gets a new id when seen
/// again, even standing exactly where they were; the old id is removed in the first frame more
/// than 3 s after its last match.
#[test]
fn occlusion_gap_beyond_buffer_gives_new_id() {
    let mut h = Harness::new(TrackerConfig::default());
    let b = person(200.0, 300.0);
    let mut removed_at = None;
    for i in 0..40 {
        let t = i as f64 * 0.2;
        // Seen until t = 1.0, hidden for 3.4 s, seen again from 4.6 s.
        let seen = !(1.0 + 1e-9..4.6 - 1e-9).contains(&t);
        let frame: Vec<(usize, Detection)> = if seen { vec![(0, det(b, 0.9))] } else { vec![] };
        let up = h.step(&frame, t);
        if !up.removed.is_empty() {
            assert_eq!(up.removed.len(), 1);
            assert_eq!(up.removed[0].id, TrackId(1));
            assert_eq!(up.removed[0].last_seen, 1.0);
            assert!(removed_at.is_none());
            removed_at = Some(t);
        }
    }
    let removed_at = removed_at.unwrap();
    assert!(
        removed_at > 4.0 && removed_at < 4.0 + 0.2 + 1e-9,
        "removed at {removed_at}"
    );
    let ids: Vec<TrackId> = h.distinct_ids(0).into_iter().collect();
    assert_eq!(ids, vec![TrackId(1), TrackId(2)]);
    // The old id is never seen after the new one starts.
    let seq = &h.ids[&0];
    let first_new = seq.iter().position(|&i| i == TrackId(2)).unwrap();
    assert!(seq[first_new..].iter().all(|&i| i == TrackId(2)));
}

/// (c) Three people pacing back and forth in their own lanes (smooth turns: up to 95 px/s,
/// about one body height per second), 60 s at 5 fps, each detection missed at random with
/// probability 0.2 (seeded), with +-2 px box jitter and scores 0.6-0.95: every person keeps one
/// id and exactly three ids are ever confirmed. Checked over 20 seeds.
#[test]
fn random_missed_detections_keep_three_ids() {
    for seed in 1..=20u64 {
        let mut rng = Rng::new(seed);
        let mut h = Harness::new(TrackerConfig::default());
        // (centre x, lane y, amplitude px, period s, phase)
        let people = [
            (400.0f32, 150.0f32, 300.0f32, 20.0f32, 0.0f32),
            (400.0, 350.0, 250.0, 17.0, 2.0),
            (400.0, 550.0, 150.0, 12.0, 4.0),
        ];
        let mut missed = 0;
        let mut total = 0;
        for i in 0..300 {
            let t = i as f64 * 0.2;
            let mut frame = Vec::new();
            for (g, &(cx, y, amp, period, phase)) in people.iter().enumerate() {
                let x = cx + amp * (std::f32::consts::TAU * t as f32 / period + phase).sin();
                total += 1;
                if rng.unit() < 0.2 {
                    missed += 1;
                    continue;
                }
                let jx = (rng.unit() - 0.5) * 4.0;
                let jy = (rng.unit() - 0.5) * 4.0;
                let score = 0.6 + rng.unit() * 0.35;
                frame.push((g, det(person(x + jx, y + jy), score)));
            }
            h.step(&frame, t);
        }
        assert!(
            (15..=25).contains(&(missed * 100 / total)),
            "seed {seed}: miss rate"
        );
        for g in 0..3 {
            assert_eq!(
                h.distinct_ids(g).len(),
                1,
                "seed {seed} person {g}: {:?}",
                h.runs(g)
            );
        }
        assert_eq!(h.confirmed.len(), 3, "seed {seed}: {:?}", h.confirmed);
    }
}

/// A queue: six people standing shoulder to shoulder (boxes 2 px apart), jittering +-3 px,
/// each detection missed at random 20% of frames, while a seventh walks along in front of
/// them, back and forth at 60 px/s, and hides whoever it overlaps by IoU > 0.3. 40 s, 10
/// seeds, at 5 and 2 fps.
///
/// This is the hard case for the motion margin: a member missed twice in a row loses its
/// tentative or young track, and a neighbour's young track (velocity still unknown) may take
/// over its detection 42 px away, which geometry alone cannot tell from a step. Asserted:
/// at 5 fps at most 2 of the 60 member-runs ever get a second id (1 does today) and the
/// walker keeps one id; at 2 fps at most 10 of 60 (7 today) and at most 5 extra walker ids
/// over the 10 runs (3 today). For comparison, plain ByteTrack IoU (`motion_margin = 0`, same
/// filter) scores 0 and 0 at 5 fps but 72 and 114 at 2 fps, where it cannot follow the walker
/// nor re-find members it hid; the 2 fps comparison is asserted.
#[test]
fn dense_queue_with_passer_by() {
    fn run(fps: f64, config: &TrackerConfig) -> (usize, usize) {
        let (mut member_extra, mut walker_extra) = (0, 0);
        for seed in 1..=10u64 {
            let mut rng = Rng::new(seed * 7919);
            let mut h = Harness::new(config.clone());
            let frames = (40.0 * fps) as usize;
            for i in 0..frames {
                let t = i as f64 / fps;
                // Walks from x = 0 to 600 and back at 60 px/s, 20 px lower (nearer the camera).
                let raw = (60.0 * t as f32).rem_euclid(1200.0);
                let wx = if raw < 600.0 { raw } else { 1200.0 - raw };
                let walker = tall_person(wx, 320.0);
                let mut frame = vec![(6, det(walker, 0.9))];
                for q in 0..6 {
                    let b = person(
                        100.0 + 42.0 * q as f32 + (rng.unit() - 0.5) * 6.0,
                        300.0 + (rng.unit() - 0.5) * 6.0,
                    );
                    let missed = rng.unit() < 0.2;
                    let score = 0.6 + rng.unit() * 0.35;
                    if !missed && b.iou(&walker) <= 0.3 {
                        frame.push((q, det(b, score)));
                    }
                }
                h.step(&frame, t);
            }
            for q in 0..6 {
                member_extra += h.distinct_ids(q).len().saturating_sub(1);
            }
            walker_extra += h.distinct_ids(6).len().saturating_sub(1);
        }
        (member_extra, walker_extra)
    }
    let default = TrackerConfig::default();
    let plain = TrackerConfig {
        motion_margin: 0.0,
        ..Default::default()
    };

    let (m5, w5) = run(5.0, &default);
    assert!(
        m5 <= 2 && w5 == 0,
        "5 fps: {m5} member, {w5} walker extra ids"
    );
    let (m2, w2) = run(2.0, &default);
    assert!(
        m2 <= 10 && w2 <= 5,
        "2 fps: {m2} member, {w2} walker extra ids"
    );
    let (pm2, pw2) = run(2.0, &plain);
    assert!(
        pm2 + pw2 > 2 * (m2 + w2),
        "2 fps plain IoU: {pm2} member, {pw2} walker extra ids"
    );
}

/// Walkers at 2 fps: 40-100 px/s (0.4-1 body height per second: 0.7-1.7 m/s) move up to
/// 1.25 box widths between frames, so consecutive boxes often do not overlap at all. With the
/// motion margin one id is kept from the second frame on, in any direction; plain ByteTrack
/// IoU (`motion_margin = 0`) cannot even confirm the faster ones, asserted too.
#[test]
fn walkers_at_two_fps_keep_one_id() {
    let plain = TrackerConfig {
        motion_margin: 0.0,
        ..Default::default()
    };
    let mut plain_failures = 0;
    for speed in [40.0f32, 70.0, 100.0] {
        for angle in [0.0f32, 0.5, 1.2, 2.5, 3.0] {
            let frames: Vec<(f64, BBox)> = (0..24)
                .map(|i| {
                    let t = i as f64 * 0.5;
                    let d = speed * t as f32;
                    // Vertical motion is foreshortened by half (a camera looking down the hall).
                    (
                        t,
                        person(400.0 + d * angle.cos(), 300.0 + 0.5 * d * angle.sin()),
                    )
                })
                .collect();
            let mut h = Harness::new(TrackerConfig::default());
            for (t, b) in &frames {
                h.step(&[(0, det(*b, 0.8))], *t);
            }
            let ctx = format!("speed {speed} angle {angle}");
            assert_eq!(h.confirmed.len(), 1, "{ctx}: {:?}", h.runs(0));
            assert_eq!(
                h.ids.get(&0).map_or(0, Vec::len),
                frames.len(),
                "{ctx}: reported every frame"
            );

            let mut p = Harness::new(plain.clone());
            for (t, b) in &frames {
                p.step(&[(0, det(*b, 0.8))], *t);
            }
            if p.confirmed.len() != 1 || p.ids.get(&0).map_or(0, Vec::len) < frames.len() - 1 {
                plain_failures += 1;
            }
        }
    }
    assert!(
        plain_failures >= 5,
        "plain IoU failed only {plain_failures} of 15 walks"
    );
}

/// (d) Irregular frame times: 0.2 s steps, a 1.0 s gap (motion gating), 0.2 s steps again. A
/// person walking at 100 px/s moves 100 px in the gap, more than two box widths: a predictor
/// counting frames instead of seconds would expect 20 px and lose them. The time-aware filter
/// keeps the id and the person stays `Tracked` (matched in stage 1) in the frame after the gap.
/// Also at 2 fps with a 2 s gap.
#[test]
fn irregular_frame_times_keep_id() {
    for (step, gap) in [(0.2f64, 1.0f64), (0.5, 2.0)] {
        let speed = 100.0f32;
        let mut times: Vec<f64> = (0..=10).map(|i| i as f64 * step).collect();
        let resume = times[10] + gap;
        times.extend((0..10).map(|i| resume + i as f64 * step));

        let before = person(100.0 + speed * times[10] as f32, 300.0);
        let after = person(100.0 + speed * resume as f32, 300.0);
        let one_frame_ahead = person(100.0 + speed * (times[10] + step) as f32, 300.0);
        assert_eq!(
            one_frame_ahead.iou(&after),
            0.0,
            "the scenario must defeat frame counting"
        );
        assert_eq!(before.iou(&after), 0.0);

        let mut h = Harness::new(TrackerConfig::default());
        for &t in &times {
            let b = person(100.0 + speed * t as f32, 300.0);
            let up = h.step(&[(0, det(b, 0.9))], t);
            if t == resume {
                assert_eq!(up.updated.len(), 1, "step {step}: {up:?}");
                assert!(
                    up.new.is_empty() && up.lost.is_empty() && up.removed.is_empty(),
                    "{up:?}"
                );
            }
        }
        assert_eq!(h.switches(0), 0, "step {step}: {:?}", h.runs(0));
        assert_eq!(h.confirmed.len(), 1, "step {step}");
    }
}

/// A stream gap longer than the lost buffer (a still hall skipped by motion gating, a stalled
/// camera): a person tracked in the last frame before the gap and still in place after it
/// keeps the id; a track that was already lost before the gap has outlived its buffer and is
/// removed.
#[test]
fn long_stream_gap_keeps_tracked_drops_lost() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let seated = person(100.0, 300.0);
    let left = person(400.0, 300.0);
    tracker.update(&[det(seated, 0.9), det(left, 0.9)], 0.0);
    tracker.update(&[det(seated, 0.9), det(left, 0.9)], 0.2);
    let up = tracker.update(&[det(seated, 0.9)], 0.4);
    assert_eq!(up.lost.len(), 1);
    let up = tracker.update(&[det(seated, 0.9)], 10.4);
    assert_eq!(up.updated.len(), 1);
    assert_eq!(up.updated[0].id, TrackId(1));
    assert_eq!(up.removed.len(), 1);
    assert_eq!(up.removed[0].id, TrackId(2));
}

/// (e) Low-score detections keep a tracked person alive, for longer than the lost buffer, in
/// stage 2 (reported as updated, status `Tracked`, same id) ...
#[test]
fn low_score_detections_keep_track_alive() {
    let mut h = Harness::new(TrackerConfig::default());
    for i in 0..50 {
        let t = i as f64 * 0.2;
        let b = person(100.0 + 30.0 * t as f32, 300.0);
        // Strong for 1 s, weak (0.3: partly hidden) for 5 s, strong again.
        let score = if (1.0..6.0).contains(&t) { 0.3 } else { 0.9 };
        let up = h.step(&[(0, det(b, score))], t);
        assert!(up.lost.is_empty() && up.removed.is_empty(), "t {t}: {up:?}");
        if i > 0 {
            assert_eq!(up.updated.len(), 1, "t {t}: {up:?}");
            assert_eq!(up.updated[0].score, score);
        }
    }
    assert_eq!(h.switches(0), 0);
    assert_eq!(h.confirmed.len(), 1);
}

/// (e) ... but never start one (nor do high detections below `new_track_score`), and do not
/// revive a track that is already lost (stage 2 takes only tracks tracked in the previous
/// frame, as in ByteTrack).
#[test]
fn low_score_detections_never_start_or_revive_tracks() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    for i in 0..50 {
        let t = i as f64 * 0.2;
        let dets = [
            det(person(100.0 + 30.0 * t as f32, 300.0), 0.3),
            det(person(400.0, 300.0), 0.45),
            det(person(600.0, 300.0), 0.55), // high, but below new_track_score 0.6
            det(person(700.0, 300.0), 0.05), // below low_score: ignored
        ];
        let up = tracker.update(&dets, t);
        assert!(up.is_empty(), "t {t}: {up:?}");
        assert!(tracker.tracks().is_empty());
    }

    let mut tracker = Tracker::new(TrackerConfig::default());
    let b = person(200.0, 300.0);
    tracker.update(&[det(b, 0.9)], 0.0);
    tracker.update(&[det(b, 0.9)], 0.2);
    let up = tracker.update(&[], 0.4);
    assert_eq!(up.lost.len(), 1);
    let up = tracker.update(&[det(b, 0.3)], 0.6);
    assert_eq!(up.lost.len(), 1, "{up:?}");
    assert!(up.updated.is_empty() && up.new.is_empty());
    let up = tracker.update(&[det(b, 0.9)], 0.8);
    assert_eq!(up.updated.len(), 1);
    assert_eq!(up.updated[0].id, TrackId(1));
    assert_eq!(up.updated[0].last_seen, 0.8);
}

/// (f) Stream time going backwards (a looped file) resets: every old track is reported
/// removed, the frame is treated as a stream's first (tracks confirmed at once), and ids are
/// not reused. `reset()` does the same without the report.
#[test]
fn time_going_backwards_resets() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let a = person(100.0, 300.0);
    let b = person(400.0, 300.0);
    for i in 0..10 {
        let up = tracker.update(&[det(a, 0.9), det(b, 0.9)], 10.0 + i as f64 * 0.2);
        if i == 0 {
            let ids: Vec<TrackId> = up.new.iter().map(|s| s.id).collect();
            assert_eq!(ids, vec![TrackId(1), TrackId(2)]);
        }
    }
    let up = tracker.update(&[det(a, 0.9), det(b, 0.9)], 0.0);
    let removed: Vec<TrackId> = up.removed.iter().map(|s| s.id).collect();
    assert_eq!(removed, vec![TrackId(1), TrackId(2)]);
    let new: Vec<TrackId> = up.new.iter().map(|s| s.id).collect();
    assert_eq!(new, vec![TrackId(3), TrackId(4)]);
    assert!(up.updated.is_empty() && up.lost.is_empty());
    assert!(
        up.new
            .iter()
            .all(|s| s.first_seen == 0.0 && s.last_seen == 0.0)
    );
    let now: Vec<TrackId> = tracker.tracks().iter().map(|s| s.id).collect();
    assert_eq!(now, vec![TrackId(3), TrackId(4)]);

    // Carries on normally from the new time.
    let up = tracker.update(&[det(a, 0.9), det(b, 0.9)], 0.2);
    assert_eq!(up.updated.len(), 2);

    tracker.reset();
    assert!(tracker.tracks().is_empty());
    let up = tracker.update(&[det(a, 0.9)], 0.1);
    assert_eq!(up.new.len(), 1);
    assert_eq!(up.new[0].id, TrackId(5));
    assert!(up.removed.is_empty());
}

/// Confirmation: after the first frame a new person is reported one frame late, and a
/// detection seen in a single frame never becomes a track (its tentative id shows up only in
/// `removed`). Ids start at 1.
#[test]
fn confirmation_and_single_frame_false_positives() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let a = person(100.0, 300.0);
    let up = tracker.update(&[det(a, 0.9)], 0.0);
    assert_eq!(up.new.len(), 1);
    assert_eq!(up.new[0].id, TrackId(1));
    assert_eq!(up.new[0].first_seen, 0.0);

    let ghost = person(500.0, 300.0);
    let up = tracker.update(&[det(a, 0.9), det(ghost, 0.95)], 0.2);
    assert!(up.new.is_empty());
    assert_eq!(tracker.tracks().len(), 1);
    let up = tracker.update(&[det(a, 0.9)], 0.4);
    assert_eq!(up.removed.len(), 1);
    assert_eq!(up.removed[0].id, TrackId(2));
    assert_eq!(tracker.tracks().len(), 1);

    let c = person(300.0, 300.0);
    let up = tracker.update(&[det(a, 0.9), det(c, 0.9)], 0.6);
    assert!(up.new.is_empty());
    let up = tracker.update(&[det(a, 0.9), det(c, 0.9)], 0.8);
    assert_eq!(up.new.len(), 1);
    assert_eq!(up.new[0].id, TrackId(3));
    assert_eq!(
        up.new[0].first_seen, 0.8,
        "first_seen is the confirmation time"
    );
    assert_eq!(up.updated.len(), 1);

    // confirm_frames = 1: every track is confirmed at birth.
    let mut eager = Tracker::new(TrackerConfig {
        confirm_frames: 1,
        ..Default::default()
    });
    eager.update(&[], 0.0);
    assert_eq!(eager.update(&[det(a, 0.9)], 0.2).new.len(), 1);
}

/// `confirm_score`: a clearly scored newcomer is reported in its first frame; a doubtful one
/// still waits for a second frame, and a doubtful single-frame box never becomes a track.
#[test]
fn a_clear_detection_is_confirmed_at_birth() {
    let mut tracker = Tracker::new(TrackerConfig {
        high_score: 0.45,
        new_track_score: 0.5,
        confirm_score: 0.6,
        ..Default::default()
    });
    let a = person(100.0, 300.0);
    tracker.update(&[det(a, 0.9)], 0.0);
    tracker.update(&[det(a, 0.9)], 0.5);
    let clear = person(300.0, 300.0);
    let doubtful = person(500.0, 300.0);
    let up = tracker.update(&[det(a, 0.9), det(clear, 0.8), det(doubtful, 0.55)], 1.0);
    assert_eq!(up.new.len(), 1, "{up:?}");
    assert_eq!(up.new[0].bbox, clear);
    assert_eq!(up.new[0].first_seen, 1.0);
    let up = tracker.update(&[det(a, 0.9), det(clear, 0.8), det(doubtful, 0.55)], 1.5);
    assert_eq!(up.new.len(), 1, "the doubtful one, one frame late: {up:?}");
    assert_eq!(up.new[0].bbox, doubtful);
    let ghost = person(700.0, 300.0);
    tracker.update(
        &[
            det(a, 0.9),
            det(clear, 0.8),
            det(doubtful, 0.55),
            det(ghost, 0.58),
        ],
        2.0,
    );
    tracker.update(&[det(a, 0.9), det(clear, 0.8), det(doubtful, 0.55)], 2.5);
    assert_eq!(
        tracker.tracks().len(),
        3,
        "the single-frame ghost is no track"
    );
    // Validation: below new_track_score it would make no sense.
    let bad = TrackerConfig {
        confirm_score: 0.3,
        ..Default::default()
    };
    assert!(bad.validate().unwrap_err().contains("confirm_score"));
}

/// Bad input never panics: non-finite times skip the frame, broken boxes are ignored.
#[test]
fn bad_input_is_skipped() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let a = person(100.0, 300.0);
    tracker.update(&[det(a, 0.9)], 0.0);
    assert!(tracker.update(&[det(a, 0.9)], f64::NAN).is_empty());
    let broken = [
        det(
            BBox {
                x1: f32::NAN,
                y1: 0.0,
                x2: 10.0,
                y2: 10.0,
            },
            0.9,
        ),
        det(
            BBox {
                x1: 5.0,
                y1: 5.0,
                x2: 5.0,
                y2: 50.0,
            },
            0.9,
        ),
        det(person(600.0, 300.0), f32::NAN),
    ];
    let up = tracker.update(&broken, 0.2);
    assert_eq!(up.lost.len(), 1);
    assert!(up.new.is_empty() && up.updated.is_empty());
    let up = tracker.update(&[det(a, 0.9)], 0.4);
    assert_eq!(up.updated.len(), 1);
    assert_eq!(up.updated[0].id, TrackId(1));
    // Lost state: the predicted box, finite.
    let up = tracker.update(&[], 100.0);
    assert_eq!(up.removed.len(), 1);
    let b = up.removed[0].bbox;
    assert!([b.x1, b.y1, b.x2, b.y2].iter().all(|v| v.is_finite()));
}
