//! `hallwatch eval-detections` and `hallwatch eval-tracks`: accuracy against MOTChallenge
//! ground truth.

use anyhow::Result;
use hallwatch_eval::{evaluate_detections, evaluate_tracks, read_mot};
use std::path::Path;

/// Prints precision, recall and AP at IoU 0.5 (ground-truth rows with confidence 0 ignored).
pub fn detections(gt: &Path, det: &Path) -> Result<()> {
    let g = read_mot(gt)?;
    let d = read_mot(det)?;
    let s = evaluate_detections(&g, &d, 0.5);
    println!(
        "ground truth: {} boxes ({} ignored rows skipped), detections: {}",
        s.gt_count,
        g.len() - s.gt_count,
        s.det_count
    );
    println!(
        "TP {}  FP {}  FN {}  (ignored detections {})",
        s.tp, s.fp, s.fn_, s.ignored
    );
    println!("precision {:.4}", s.precision);
    println!("recall    {:.4}", s.recall);
    println!("AP@0.5    {:.4}", s.ap);
    Ok(())
}

/// Prints MOTA, IDF1, ID switches, precision and recall at IoU 0.5.
pub fn tracks(gt: &Path, hyp: &Path) -> Result<()> {
    let g = read_mot(gt)?;
    let h = read_mot(hyp)?;
    let s = evaluate_tracks(&g, &h, 0.5);
    println!(
        "frames {}  objects {}  unique objects {}  predictions {}",
        s.num_frames, s.num_objects, s.num_unique_objects, s.num_predictions
    );
    println!("MOTA      {:.4}", s.mota);
    println!("MOTP      {:.4}  (mean 1 - IoU of matches)", s.motp);
    println!(
        "IDF1      {:.4}  (IDP {:.4}, IDR {:.4})",
        s.idf1, s.idp, s.idr
    );
    println!(
        "ID switches {}  fragmentations {}",
        s.id_switches, s.fragmentations
    );
    println!("FP {}  FN {}", s.false_positives, s.misses);
    println!("precision {:.4}", s.precision);
    println!("recall    {:.4}", s.recall);
    println!(
        "mostly tracked {}  partially tracked {}  mostly lost {}",
        s.mostly_tracked, s.partially_tracked, s.mostly_lost
    );
    Ok(())
}
