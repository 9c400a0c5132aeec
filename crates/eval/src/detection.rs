//! Detection evaluation: precision, recall and VOC all-point average precision.

use std::collections::HashMap;

use hallwatch_core::BBox;

use crate::MotRow;

/// The scores of a set of detections against ground truth (see [`evaluate_detections`]).
///
/// Ratios whose denominator is 0 (precision without counted detections, recall and AP without
/// ground truth) are NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectionScores {
    /// `tp / (tp + fp)`.
    pub precision: f64,
    /// `tp / gt_count`.
    pub recall: f64,
    /// VOC2010+ all-point interpolated average precision: the area under the monotone
    /// (non-increasing) envelope of the precision/recall curve of the score-ranked detections.
    pub ap: f64,
    /// Detections matched to a ground-truth box.
    pub tp: usize,
    /// Detections matched to nothing (including duplicates on an already matched box).
    pub fp: usize,
    /// Ground-truth boxes (not ignored) that no detection matched: `gt_count - tp`.
    pub fn_: usize,
    /// Detections that matched only a "don't care" ground-truth box: neither TP nor FP.
    pub ignored: usize,
    /// Ground-truth rows that count (conf column not 0).
    pub gt_count: usize,
    /// All detections given: `tp + fp + ignored`.
    pub det_count: usize,
}

#[derive(Default)]
struct FrameGt {
    boxes: Vec<BBox>,
    matched: Vec<bool>,
    ignored: Vec<BBox>,
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Tp,
    Fp,
    Ignored,
}

/// Scores detections `det` against ground truth `gt`, both as MOTChallenge rows (ids unused).
///
/// * Ground-truth rows whose conf column is 0 are "don't care" boxes: they do not count in
///   recall, and a detection that overlaps one of them (IoU >= `iou_threshold`) without being
///   matched to a counted box is neither a TP nor an FP (one such box may absorb several
///   detections, like COCO's crowd regions).
/// * In each frame, detections are taken in descending score (conf) order, ties in input order;
///   each is matched to the still unmatched counted box with the highest IoU >= `iou_threshold`
///   (TP); failing that it is ignored if it overlaps a "don't care" box, else it is an FP. A
///   second detection on an already matched person is therefore an FP.
/// * Precision and recall count every detection given: apply the detector's score threshold
///   before calling this.
/// * AP ranks all (not ignored) detections of all frames by score and takes the area under the
///   precision envelope (VOC2010+ all-point interpolation).
pub fn evaluate_detections(gt: &[MotRow], det: &[MotRow], iou_threshold: f32) -> DetectionScores {
    let mut frames: HashMap<u32, FrameGt> = HashMap::new();
    let mut gt_count = 0usize;
    for row in gt {
        let frame = frames.entry(row.frame).or_default();
        if row.is_ignored_gt() {
            frame.ignored.push(row.bbox);
        } else {
            frame.boxes.push(row.bbox);
            frame.matched.push(false);
            gt_count += 1;
        }
    }

    let mut order: Vec<usize> = (0..det.len()).collect();
    // Stable: equal scores keep their input order.
    order.sort_by(|&a, &b| det[b].conf.total_cmp(&det[a].conf));

    let mut ranked = Vec::with_capacity(det.len());
    for &k in &order {
        let d = &det[k];
        let outcome = match frames.get_mut(&d.frame) {
            None => Outcome::Fp,
            Some(frame) => {
                let mut best: Option<(usize, f32)> = None;
                for (g, gt_box) in frame.boxes.iter().enumerate() {
                    if frame.matched[g] {
                        continue;
                    }
                    let iou = d.bbox.iou(gt_box);
                    if iou >= iou_threshold && best.is_none_or(|(_, b)| iou > b) {
                        best = Some((g, iou));
                    }
                }
                if let Some((g, _)) = best {
                    frame.matched[g] = true;
                    Outcome::Tp
                } else if frame.ignored.iter().any(|b| d.bbox.iou(b) >= iou_threshold) {
                    Outcome::Ignored
                } else {
                    Outcome::Fp
                }
            }
        };
        ranked.push(outcome);
    }

    let tp = ranked.iter().filter(|&&o| o == Outcome::Tp).count();
    let fp = ranked.iter().filter(|&&o| o == Outcome::Fp).count();
    let ignored = ranked.len() - tp - fp;
    DetectionScores {
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, gt_count),
        ap: average_precision(&ranked, gt_count),
        tp,
        fp,
        fn_: gt_count - tp,
        ignored,
        gt_count,
        det_count: det.len(),
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        f64::NAN
    } else {
        num as f64 / den as f64
    }
}

/// VOC2010+ all-point AP of detections ranked by descending score.
fn average_precision(ranked: &[Outcome], positives: usize) -> f64 {
    if positives == 0 {
        return f64::NAN;
    }
    // Recall and precision after each counted detection, with sentinels as in VOC's `voc_ap`:
    // mrec = [0, r1..rn, 1], mpre = [0, p1..pn, 0].
    let mut recall = vec![0.0f64];
    let mut precision = vec![0.0f64];
    let (mut tp, mut fp) = (0usize, 0usize);
    for outcome in ranked {
        match outcome {
            Outcome::Tp => tp += 1,
            Outcome::Fp => fp += 1,
            Outcome::Ignored => continue,
        }
        recall.push(tp as f64 / positives as f64);
        precision.push(tp as f64 / (tp + fp) as f64);
    }
    recall.push(1.0);
    precision.push(0.0);
    // Monotone envelope: precision at recall r is the best precision at any recall >= r.
    for i in (0..precision.len() - 1).rev() {
        precision[i] = precision[i].max(precision[i + 1]);
    }
    let mut ap = 0.0;
    for i in 0..recall.len() - 1 {
        if recall[i + 1] != recall[i] {
            ap += (recall[i + 1] - recall[i]) * precision[i + 1];
        }
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(frame: u32, x: f32, y: f32, w: f32, h: f32, conf: f32) -> MotRow {
        MotRow {
            frame,
            id: -1,
            bbox: BBox::from_xywh(x, y, w, h),
            conf,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn hand_computed_precision_recall_and_ap() {
        // Frame 1: people A (0,0)-(10,10) and B (20,0)-(30,10); frame 2: person C (0,0)-(10,10);
        // frame 3: nobody.
        let gt = [
            row(1, 0.0, 0.0, 10.0, 10.0, 1.0),
            row(1, 20.0, 0.0, 10.0, 10.0, 1.0),
            row(2, 0.0, 0.0, 10.0, 10.0, 1.0),
        ];
        let det = [
            // Frame with no ground truth: FP.
            row(3, 0.0, 0.0, 10.0, 10.0, 0.8),
            // On A (IoU 0.81): TP.
            row(1, 1.0, 1.0, 9.0, 9.0, 0.9),
            // A second box on A, lower score: duplicate, FP.
            row(1, 0.0, 0.0, 10.0, 10.0, 0.7),
            // On C: TP.
            row(2, 0.0, 0.0, 10.0, 10.0, 0.6),
            // Half off B: IoU 50/150 = 0.33 < 0.5, FP; B is missed.
            row(1, 25.0, 0.0, 10.0, 10.0, 0.5),
        ];
        let s = evaluate_detections(&gt, &det, 0.5);
        assert_eq!((s.tp, s.fp, s.fn_, s.ignored), (2, 3, 1, 0));
        assert_eq!((s.gt_count, s.det_count), (3, 5));
        assert!(close(s.precision, 2.0 / 5.0));
        assert!(close(s.recall, 2.0 / 3.0));
        // Ranked by score: 0.9 TP, 0.8 FP, 0.7 FP, 0.6 TP, 0.5 FP; 3 positives.
        //   recall    1/3, 1/3, 1/3, 2/3, 2/3
        //   precision 1,   1/2, 1/3, 1/2, 2/5
        // Envelope (max to the right): 1, 1/2, 1/2, 1/2, 2/5, then 0 at recall 1.
        // AP = (1/3 - 0)·1 + (2/3 - 1/3)·1/2 + (1 - 2/3)·0 = 1/3 + 1/6 = 0.5.
        assert!(close(s.ap, 0.5), "ap = {}", s.ap);
    }

    #[test]
    fn ignored_ground_truth_is_neither_tp_nor_fp() {
        let gt = [
            row(1, 0.0, 0.0, 10.0, 10.0, 1.0),
            // A "don't care" box (conf 0), e.g. a person on a poster.
            row(1, 50.0, 0.0, 10.0, 10.0, 0.0),
        ];
        let det = [
            row(1, 50.0, 0.0, 10.0, 10.0, 0.95),
            row(1, 51.0, 0.0, 10.0, 10.0, 0.9),
            row(1, 0.0, 0.0, 10.0, 10.0, 0.8),
        ];
        let s = evaluate_detections(&gt, &det, 0.5);
        assert_eq!((s.tp, s.fp, s.fn_, s.ignored), (1, 0, 0, 2));
        assert_eq!((s.gt_count, s.det_count), (1, 3));
        assert!(close(s.precision, 1.0) && close(s.recall, 1.0) && close(s.ap, 1.0));
    }

    #[test]
    fn greedy_matching_takes_the_best_overlap_in_score_order() {
        // Two people side by side: A (0,0)-(10,10) and B (4,0)-(14,10).
        let gt = [
            row(1, 0.0, 0.0, 10.0, 10.0, 1.0),
            row(1, 4.0, 0.0, 10.0, 10.0, 1.0),
        ];
        let det = [
            // Overlaps both: IoU with A 70/130 = 0.54, with B 90/110 = 0.82, so it takes B.
            // (Taking A, the first box above the threshold, would leave the next one an FP:
            // its IoU with B is 60/140 = 0.43.)
            row(1, 3.0, 0.0, 10.0, 10.0, 0.9),
            row(1, 0.0, 0.0, 10.0, 10.0, 0.8),
        ];
        let s = evaluate_detections(&gt, &det, 0.5);
        assert_eq!((s.tp, s.fp), (2, 0));
        // At 0.9 the first detection matches nobody (FP) and the second still finds A.
        let s = evaluate_detections(&gt, &det, 0.9);
        assert_eq!((s.tp, s.fp, s.fn_), (1, 1, 1));
    }

    #[test]
    fn empty_inputs() {
        let s = evaluate_detections(&[], &[], 0.5);
        assert_eq!(
            (s.tp, s.fp, s.fn_, s.gt_count, s.det_count),
            (0, 0, 0, 0, 0)
        );
        assert!(s.precision.is_nan() && s.recall.is_nan() && s.ap.is_nan());
        let gt = [row(1, 0.0, 0.0, 10.0, 10.0, 1.0)];
        let s = evaluate_detections(&gt, &[], 0.5);
        assert_eq!(s.fn_, 1);
        assert!(s.precision.is_nan());
        assert_eq!((s.recall, s.ap), (0.0, 0.0));
    }
}
