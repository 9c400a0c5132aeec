//! Our tracking metrics against py-motmetrics' own figures on the two sequences it ships as test
//! data. The files come from the motmetrics 1.4.0 wheel on PyPI, unpacked by `scripts/dev setup`
//! into `$HALLWATCH_MOTDATA` (ground truth is never committed here); tests/data/README.md says
//! how the reference figures were computed.

use std::path::PathBuf;

use hallwatch_eval::{TrackScores, evaluate_tracks, read_mot};

/// The figures motmetrics 1.4.0 computed (full precision, as printed by Python).
struct Reference {
    mota: f64,
    motp: f64,
    idf1: f64,
    idp: f64,
    idr: f64,
    recall: f64,
    precision: f64,
    id_switches: usize,
    fragmentations: usize,
    false_positives: usize,
    misses: usize,
    mostly_tracked: usize,
    partially_tracked: usize,
    mostly_lost: usize,
    num_unique_objects: usize,
    num_objects: usize,
    num_predictions: usize,
    num_detections: usize,
    idtp: usize,
    idfp: usize,
    idfn: usize,
    num_frames: usize,
}

fn evaluate(sequence: &str) -> TrackScores {
    let root = std::env::var_os("HALLWATCH_MOTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/hallwatch/motmetrics-1.4.0")
        });
    let dir = root.join(sequence);
    assert!(
        dir.join("gt.txt").is_file(),
        "{} is missing: run `scripts/dev setup` (it unpacks motmetrics' test data)",
        dir.display()
    );
    let gt = read_mot(dir.join("gt.txt")).expect("ground truth parses");
    let hyp = read_mot(dir.join("test.txt")).expect("tracker output parses");
    evaluate_tracks(&gt, &hyp, 0.5)
}

fn check(sequence: &str, want: &Reference) {
    let got = evaluate(sequence);
    let ratios = [
        ("mota", got.mota, want.mota),
        ("motp", got.motp, want.motp),
        ("idf1", got.idf1, want.idf1),
        ("idp", got.idp, want.idp),
        ("idr", got.idr, want.idr),
        ("recall", got.recall, want.recall),
        ("precision", got.precision, want.precision),
    ];
    for (name, ours, theirs) in ratios {
        assert!(
            (ours - theirs).abs() < 0.001,
            "{sequence} {name}: ours {ours}, motmetrics {theirs}\n{got:#?}"
        );
    }
    let counts = [
        ("num_switches", got.id_switches, want.id_switches),
        (
            "num_fragmentations",
            got.fragmentations,
            want.fragmentations,
        ),
        (
            "num_false_positives",
            got.false_positives,
            want.false_positives,
        ),
        ("num_misses", got.misses, want.misses),
        ("mostly_tracked", got.mostly_tracked, want.mostly_tracked),
        (
            "partially_tracked",
            got.partially_tracked,
            want.partially_tracked,
        ),
        ("mostly_lost", got.mostly_lost, want.mostly_lost),
        (
            "num_unique_objects",
            got.num_unique_objects,
            want.num_unique_objects,
        ),
        ("num_objects", got.num_objects, want.num_objects),
        ("num_predictions", got.num_predictions, want.num_predictions),
        ("num_detections", got.num_detections, want.num_detections),
        ("idtp", got.idtp, want.idtp),
        ("idfp", got.idfp, want.idfp),
        ("idfn", got.idfn, want.idfn),
        ("num_frames", got.num_frames, want.num_frames),
    ];
    for (name, ours, theirs) in counts {
        assert_eq!(ours, theirs, "{sequence} {name}\n{got:#?}");
    }
}

#[test]
fn tud_campus_matches_motmetrics() {
    check(
        "TUD-Campus",
        &Reference {
            mota: 0.5264623955431755,
            motp: 0.2772010846394618,
            idf1: 0.5576592082616179,
            idp: 0.7297297297297297,
            idr: 0.45125348189415043,
            recall: 0.5821727019498607,
            precision: 0.9414414414414415,
            id_switches: 7,
            fragmentations: 7,
            false_positives: 13,
            misses: 150,
            mostly_tracked: 1,
            partially_tracked: 6,
            mostly_lost: 1,
            num_unique_objects: 8,
            num_objects: 359,
            num_predictions: 222,
            num_detections: 209,
            idtp: 162,
            idfp: 60,
            idfn: 197,
            num_frames: 71,
        },
    );
}

#[test]
fn tud_stadtmitte_matches_motmetrics() {
    check(
        "TUD-Stadtmitte",
        &Reference {
            mota: 0.5640138408304498,
            motp: 0.34590429554400914,
            idf1: 0.6446194225721785,
            idp: 0.8197596795727636,
            idr: 0.5311418685121108,
            recall: 0.6089965397923875,
            precision: 0.9399198931909212,
            id_switches: 7,
            fragmentations: 6,
            false_positives: 45,
            misses: 452,
            mostly_tracked: 5,
            partially_tracked: 4,
            mostly_lost: 1,
            num_unique_objects: 10,
            num_objects: 1156,
            num_predictions: 749,
            num_detections: 704,
            idtp: 614,
            idfp: 135,
            idfn: 542,
            num_frames: 179,
        },
    );
}
