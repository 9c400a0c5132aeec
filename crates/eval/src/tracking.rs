//! Multi-object tracking metrics: CLEAR-MOT and ID measures, as py-motmetrics computes them.

use std::collections::{BTreeMap, HashMap, HashSet};

use hallwatch_core::BBox;

use crate::MotRow;
use crate::assignment::min_cost_matching;

/// Tracking scores of tracker output against ground truth (see [`evaluate_tracks`]).
///
/// Field names follow the MOTChallenge tables; the comment of each gives py-motmetrics' name.
/// Ratios are computed as plain floating-point divisions, as motmetrics does: a 0/0 ratio is
/// NaN (e.g. MOTP without any match) and MOTA without ground truth is NaN or -inf.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackScores {
    /// `mota`: `1 - (misses + false_positives + id_switches) / num_objects`.
    pub mota: f64,
    /// `motp`: mean distance `1 - IoU` over matched boxes (lower is better; motmetrics'
    /// convention, not the MOTChallenge table's `1 - motp` percentage).
    pub motp: f64,
    /// `idf1`: `2·idtp / (num_objects + num_predictions)`.
    pub idf1: f64,
    /// `idp`: `idtp / (idtp + idfp)`.
    pub idp: f64,
    /// `idr`: `idtp / (idtp + idfn)`.
    pub idr: f64,
    /// `precision`: `num_detections / (num_detections + false_positives)`.
    pub precision: f64,
    /// `recall`: `num_detections / num_objects`.
    pub recall: f64,
    /// `num_switches`: matches whose hypothesis differs from the one the object was last
    /// matched to (however long ago).
    pub id_switches: usize,
    /// `num_fragmentations`: times an object goes from tracked to missed between its first and
    /// last tracked appearance.
    pub fragmentations: usize,
    /// `num_false_positives`: hypothesis boxes matched to no object.
    pub false_positives: usize,
    /// `num_misses`: ground-truth boxes matched to no hypothesis.
    pub misses: usize,
    /// `num_detections`: ground-truth boxes matched to a hypothesis (matches and switches).
    pub num_detections: usize,
    /// `num_objects`: ground-truth boxes (object appearances), after dropping conf-0 rows.
    pub num_objects: usize,
    /// `num_predictions`: hypothesis boxes.
    pub num_predictions: usize,
    /// `num_unique_objects`: distinct ground-truth ids.
    pub num_unique_objects: usize,
    /// `mostly_tracked`: objects matched in at least 80% of their appearances.
    pub mostly_tracked: usize,
    /// `partially_tracked`: objects matched in at least 20% and less than 80% of their
    /// appearances.
    pub partially_tracked: usize,
    /// `mostly_lost`: objects matched in less than 20% of their appearances.
    pub mostly_lost: usize,
    /// `idtp`: ground-truth boxes whose frame-level match agrees with the global
    /// object-to-track assignment.
    pub idtp: usize,
    /// `idfp`: hypothesis boxes not covered by the global assignment.
    pub idfp: usize,
    /// `idfn`: ground-truth boxes not covered by the global assignment.
    pub idfn: usize,
    /// `num_frames`: frames present in the ground truth or the hypotheses.
    pub num_frames: usize,
}

/// py-motmetrics' `boxiou` on our boxes, in f64.
fn iou(a: &BBox, b: &BBox) -> f64 {
    let (ax1, ay1, ax2, ay2) = (a.x1 as f64, a.y1 as f64, a.x2 as f64, a.y2 as f64);
    let (bx1, by1, bx2, by2) = (b.x1 as f64, b.y1 as f64, b.x2 as f64, b.y2 as f64);
    let iw = (ax2.min(bx2) - ax1.max(bx1)).max(0.0);
    let ih = (ay2.min(by2) - ay1.max(by1)).max(0.0);
    let inter = iw * ih;
    if inter == 0.0 {
        return 0.0;
    }
    let area_a = (ax2 - ax1).max(0.0) * (ay2 - ay1).max(0.0);
    let area_b = (bx2 - bx1).max(0.0) * (by2 - by1).max(0.0);
    inter / (area_a + area_b - inter)
}

/// Evaluates tracker output `hyp` against ground truth `gt` (both MOTChallenge rows; the
/// conf column of `hyp` is not used), reproducing py-motmetrics (checked against motmetrics
/// 1.4.0 on its bundled TUD-Campus and TUD-Stadtmitte sequences) with
/// `compare_to_groundtruth(gt, hyp, 'iou', distth=1 - iou_threshold)`:
///
/// * Ground-truth rows whose conf column is 0 ("don't care" boxes) are dropped first, as
///   `motmetrics.io.loadtxt(..., min_confidence=1)` does for MOTChallenge ground truth
///   (whose conf column is a 0/1 flag).
/// * A ground-truth box and a hypothesis box may be paired only when their IoU is at least
///   `iou_threshold` (motmetrics: distance `1 - IoU` at most `distth`); 0.5 is the usual value.
/// * Frames are taken in increasing order. In each frame, each object first keeps the
///   hypothesis it was last matched to, if that hypothesis is present and may be paired with
///   it. The remaining objects and hypotheses are then assigned by Kuhn-Munkres: the most
///   pairs possible and, among those, the smallest total distance. A match whose hypothesis
///   differs from the object's last matched hypothesis (in any earlier frame) is an ID switch.
///   Unmatched objects are misses, unmatched hypotheses false positives.
/// * ID measures (Ristani et al. 2016): objects and hypothesis tracks are paired one to one to
///   maximise the number of frames in which the paired boxes may be paired (IoU >= threshold),
///   which minimises IDFP + IDFN.
pub fn evaluate_tracks(gt: &[MotRow], hyp: &[MotRow], iou_threshold: f32) -> TrackScores {
    let max_distance = 1.0 - f64::from(iou_threshold);

    // Rows per frame, in file order.
    let mut frames: BTreeMap<u32, (Vec<&MotRow>, Vec<&MotRow>)> = BTreeMap::new();
    for row in gt.iter().filter(|r| !r.is_ignored_gt()) {
        frames.entry(row.frame).or_default().0.push(row);
    }
    for row in hyp {
        frames.entry(row.frame).or_default().1.push(row);
    }

    // Last hypothesis each object was matched to.
    let mut last_match: HashMap<i64, i64> = HashMap::new();
    // Per object, in order: was it matched (true) or missed (false) at each appearance.
    let mut history: HashMap<i64, Vec<bool>> = HashMap::new();
    // For the ID measures: frames each id appears in, and frames each pair may be paired in.
    let mut object_frames: HashMap<i64, usize> = HashMap::new();
    let mut hyp_frames: HashMap<i64, usize> = HashMap::new();
    let mut pair_frames: HashMap<(i64, i64), usize> = HashMap::new();

    let (mut matches, mut switches, mut misses, mut false_positives) = (0usize, 0, 0, 0);
    let mut distance_sum = 0.0f64;
    let (mut num_objects, mut num_predictions) = (0usize, 0usize);

    for (objects, hyps) in frames.values() {
        let (no, nh) = (objects.len(), hyps.len());
        num_objects += no;
        num_predictions += nh;
        for id in objects.iter().map(|r| r.id).collect::<HashSet<_>>() {
            *object_frames.entry(id).or_default() += 1;
        }
        for id in hyps.iter().map(|r| r.id).collect::<HashSet<_>>() {
            *hyp_frames.entry(id).or_default() += 1;
        }

        // Distances of the pairs that may be paired.
        let mut dist: Vec<Option<f64>> = Vec::with_capacity(no * nh);
        for o in objects {
            for h in hyps {
                let d = 1.0 - iou(&o.bbox, &h.bbox);
                if d > max_distance {
                    dist.push(None);
                } else {
                    dist.push(Some(d));
                    *pair_frames.entry((o.id, h.id)).or_default() += 1;
                }
            }
        }

        let mut object_done = vec![false; no];
        let mut hyp_done = vec![false; nh];
        let mut matched: Vec<(usize, usize)> = Vec::new();

        // 1. Keep earlier correspondences that are still valid.
        for (i, o) in objects.iter().enumerate() {
            let Some(&previous) = last_match.get(&o.id) else {
                continue;
            };
            let Some(j) = (0..nh).find(|&j| !hyp_done[j] && hyps[j].id == previous) else {
                continue;
            };
            if let Some(d) = dist[i * nh + j] {
                object_done[i] = true;
                hyp_done[j] = true;
                matches += 1;
                distance_sum += d;
                matched.push((i, j));
            }
        }

        // 2. Assign the rest with minimum total distance.
        let free_objects: Vec<usize> = (0..no).filter(|&i| !object_done[i]).collect();
        let free_hyps: Vec<usize> = (0..nh).filter(|&j| !hyp_done[j]).collect();
        let pairs = min_cost_matching(free_objects.len(), free_hyps.len(), |r, c| {
            dist[free_objects[r] * nh + free_hyps[c]]
        });
        for (r, c) in pairs {
            let (i, j) = (free_objects[r], free_hyps[c]);
            let Some(d) = dist[i * nh + j] else {
                continue;
            };
            let (o, h) = (objects[i].id, hyps[j].id);
            if last_match.get(&o).is_some_and(|&previous| previous != h) {
                switches += 1;
            } else {
                matches += 1;
            }
            distance_sum += d;
            last_match.insert(o, h);
            object_done[i] = true;
            hyp_done[j] = true;
            matched.push((i, j));
        }

        // 3./4. Misses and false positives; per-object history in motmetrics' event order
        // (matches first, then misses).
        for &(i, _) in &matched {
            history.entry(objects[i].id).or_default().push(true);
        }
        for (i, o) in objects.iter().enumerate() {
            if !object_done[i] {
                misses += 1;
                history.entry(o.id).or_default().push(false);
            }
        }
        false_positives += hyp_done.iter().filter(|&&done| !done).count();
    }

    let num_detections = matches + switches;

    let (mut mostly_tracked, mut partially_tracked, mut mostly_lost) = (0usize, 0, 0);
    let mut fragmentations = 0usize;
    for flags in history.values() {
        let tracked = flags.iter().filter(|&&t| t).count();
        let ratio = tracked as f64 / flags.len() as f64;
        if ratio >= 0.8 {
            mostly_tracked += 1;
        } else if ratio >= 0.2 {
            partially_tracked += 1;
        } else {
            mostly_lost += 1;
        }
        if let (Some(first), Some(last)) = (
            flags.iter().position(|&t| t),
            flags.iter().rposition(|&t| t),
        ) {
            fragmentations += flags[first..=last]
                .windows(2)
                .filter(|w| w[0] && !w[1])
                .count();
        }
    }

    // Global ID assignment: maximise the frames in which paired ids may be paired.
    let mut object_ids: Vec<i64> = object_frames.keys().copied().collect();
    let mut hyp_ids: Vec<i64> = hyp_frames.keys().copied().collect();
    object_ids.sort_unstable();
    hyp_ids.sort_unstable();
    let shared = |r: usize, c: usize| {
        pair_frames
            .get(&(object_ids[r], hyp_ids[c]))
            .copied()
            .unwrap_or(0)
    };
    let id_pairs = min_cost_matching(object_ids.len(), hyp_ids.len(), |r, c| {
        Some(-(shared(r, c) as f64))
    });
    let id_matched: usize = id_pairs.iter().map(|&(r, c)| shared(r, c)).sum();
    let object_frame_total: usize = object_frames.values().sum();
    let hyp_frame_total: usize = hyp_frames.values().sum();
    // As motmetrics: IDFN and IDFP from per-id frame counts, IDTP = num_objects - IDFN (the
    // same as the assigned frames unless an id appears twice in one frame).
    let idfn = object_frame_total.saturating_sub(id_matched);
    let idfp = hyp_frame_total.saturating_sub(id_matched);
    let idtp = num_objects.saturating_sub(idfn);

    let div = |a: f64, b: f64| a / b;
    TrackScores {
        mota: 1.0
            - div(
                (misses + switches + false_positives) as f64,
                num_objects as f64,
            ),
        motp: div(distance_sum, num_detections as f64),
        idf1: div(2.0 * idtp as f64, (num_objects + num_predictions) as f64),
        idp: div(idtp as f64, (idtp + idfp) as f64),
        idr: div(idtp as f64, (idtp + idfn) as f64),
        precision: div(
            num_detections as f64,
            (num_detections + false_positives) as f64,
        ),
        recall: div(num_detections as f64, num_objects as f64),
        id_switches: switches,
        fragmentations,
        false_positives,
        misses,
        num_detections,
        num_objects,
        num_predictions,
        num_unique_objects: history.len(),
        mostly_tracked,
        partially_tracked,
        mostly_lost,
        idtp,
        idfp,
        idfn,
        num_frames: frames.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(frame: u32, id: i64, x: f32) -> MotRow {
        MotRow::new(frame, id, BBox::from_xywh(x, 0.0, 10.0, 10.0))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn perfect_tracking() {
        let gt: Vec<MotRow> = (1..=3)
            .flat_map(|f| [row(f, 1, 0.0), row(f, 2, 100.0)])
            .collect();
        let hyp: Vec<MotRow> = (1..=3)
            .flat_map(|f| [row(f, 7, 100.0), row(f, 9, 0.0)])
            .collect();
        let s = evaluate_tracks(&gt, &hyp, 0.5);
        assert_eq!((s.id_switches, s.false_positives, s.misses), (0, 0, 0));
        assert_eq!(
            (s.num_objects, s.num_predictions, s.num_detections),
            (6, 6, 6)
        );
        assert_eq!(
            (s.mostly_tracked, s.partially_tracked, s.mostly_lost),
            (2, 0, 0)
        );
        assert_eq!(
            (s.num_unique_objects, s.num_frames, s.fragmentations),
            (2, 3, 0)
        );
        assert!(close(s.mota, 1.0) && close(s.motp, 0.0));
        assert!(close(s.idf1, 1.0) && close(s.idp, 1.0) && close(s.idr, 1.0));
        assert_eq!((s.idtp, s.idfp, s.idfn), (6, 0, 0));
    }

    #[test]
    fn switch_fragmentation_and_id_measures() {
        // Object 1 in frames 1..=5: hypothesis 10 follows it in frames 1-2, nothing in
        // frame 3, hypothesis 20 in frames 4-5.
        let gt: Vec<MotRow> = (1..=5).map(|f| row(f, 1, 0.0)).collect();
        let hyp = [
            row(1, 10, 0.0),
            row(2, 10, 0.0),
            row(4, 20, 0.0),
            row(5, 20, 0.0),
        ];
        let s = evaluate_tracks(&gt, &hyp, 0.5);
        // The switch is counted in frame 4 although the object was missed in frame 3.
        assert_eq!((s.id_switches, s.misses, s.false_positives), (1, 1, 0));
        assert_eq!(s.num_detections, 4);
        assert_eq!(s.fragmentations, 1);
        // MOTA = 1 - (1 + 0 + 1) / 5.
        assert!(close(s.mota, 0.6));
        assert!(close(s.recall, 0.8) && close(s.precision, 1.0));
        // Global assignment: object 1 -> 10 (or 20), 2 shared frames: IDTP 2, IDFN 3, IDFP 2.
        assert_eq!((s.idtp, s.idfn, s.idfp), (2, 3, 2));
        assert!(close(s.idf1, 4.0 / 9.0));
        assert!(close(s.idp, 0.5) && close(s.idr, 0.4));
        assert_eq!(
            (s.mostly_tracked, s.partially_tracked, s.mostly_lost),
            (1, 0, 0)
        );
    }

    #[test]
    fn earlier_correspondence_wins_over_better_overlap() {
        // Frame 1: hypothesis 10 sits exactly on object 1. Frame 2: hypothesis 10, shifted by 2,
        // still overlaps enough (IoU 80/120 = 0.67) while 20 fits perfectly: 10 is kept, 20 is
        // a false positive, no switch.
        let gt = [row(1, 1, 0.0), row(2, 1, 0.0)];
        let hyp = [row(1, 10, 0.0), row(2, 10, 2.0), row(2, 20, 0.0)];
        let s = evaluate_tracks(&gt, &hyp, 0.5);
        assert_eq!((s.id_switches, s.false_positives, s.misses), (0, 1, 0));
        // MOTP: mean of 0 and 1 - 80/120.
        assert!(close(s.motp, (1.0 - 80.0 / 120.0) / 2.0), "{}", s.motp);
        // Once 10 no longer overlaps enough (x shifted by 4: 60/140 = 0.43), 20 takes over: a
        // switch.
        let hyp = [row(1, 10, 0.0), row(2, 10, 4.0), row(2, 20, 0.0)];
        let s = evaluate_tracks(&gt, &hyp, 0.5);
        assert_eq!((s.id_switches, s.false_positives, s.misses), (1, 1, 0));
        assert!(close(s.mota, 0.0));
    }

    #[test]
    fn assignment_minimises_total_distance() {
        // Objects at x = 0 and x = 4; hypotheses at x = 3 and x = 0. Pairing 1-b (IoU 1) and
        // 2-a (IoU 90/110) beats 1-a (70/130) with 2-b (60/140, not allowed).
        let gt = [row(1, 1, 0.0), row(1, 2, 4.0)];
        let hyp = [row(1, 10, 3.0), row(1, 20, 0.0)];
        let s = evaluate_tracks(&gt, &hyp, 0.5);
        assert_eq!((s.num_detections, s.false_positives, s.misses), (2, 0, 0));
        assert!(close(s.motp, (1.0 - 90.0 / 110.0) / 2.0));
    }

    #[test]
    fn ignored_ground_truth_is_dropped_and_ratios_classify() {
        let mut gt: Vec<MotRow> = (1..=10).map(|f| row(f, 1, 0.0)).collect();
        gt.extend((1..=10).map(|f| row(f, 2, 100.0)));
        gt.extend((1..=10).map(|f| row(f, 3, 200.0)));
        // A "don't care" box in frame 1: dropped, so the hypothesis on it is an FP.
        gt.push(MotRow {
            conf: 0.0,
            ..row(1, 4, 300.0)
        });
        let mut hyp: Vec<MotRow> = (1..=8).map(|f| row(f, 10, 0.0)).collect(); // 80%: MT
        hyp.extend((1..=7).map(|f| row(f, 20, 100.0))); // 70%: PT
        hyp.extend((1..=1).map(|f| row(f, 30, 200.0))); // 10%: ML
        hyp.push(row(1, 40, 300.0));
        let s = evaluate_tracks(&gt, &hyp, 0.5);
        assert_eq!((s.num_objects, s.num_unique_objects), (30, 3));
        assert_eq!(
            (s.mostly_tracked, s.partially_tracked, s.mostly_lost),
            (1, 1, 1)
        );
        assert_eq!((s.false_positives, s.misses, s.id_switches), (1, 14, 0));
        assert_eq!(s.fragmentations, 0);
    }

    #[test]
    fn empty_inputs_give_nan_ratios() {
        let s = evaluate_tracks(&[], &[], 0.5);
        assert_eq!((s.num_objects, s.num_frames), (0, 0));
        assert!(s.mota.is_nan() && s.motp.is_nan() && s.idf1.is_nan());
        let s = evaluate_tracks(&[], &[row(1, 1, 0.0)], 0.5);
        assert_eq!(s.false_positives, 1);
        assert_eq!(s.mota, f64::NEG_INFINITY);
    }
}
