//! The real model on real vtest.avi frames whose people were counted by eye, through real
//! ingest: counts, a known person's box mapped back to source pixels, motion gating and the
//! detection pool.

use crossbeam_channel::bounded;
use hallwatch_core::{BBox, CameraState, Decimator, Frame, RateSignal};
use hallwatch_detect::{
    CameraInput, DetectorOptions, DetectorPool, GateDecision, Manifest, MotionGate, OrtDetector,
    PoolOptions,
};
use hallwatch_ingest::CameraHandle;
use hallwatch_tests::{camera, toml_str, vtest};
use std::path::PathBuf;
use std::time::Duration;

fn model() -> PathBuf {
    hallwatch_tests::manifest_dir().join("../models/centernet_mb3_512.toml")
}

/// The default model on two threads, spinning between frames (they come back to back here).
fn detector() -> OrtDetector {
    OrtDetector::load(
        &model(),
        &DetectorOptions {
            intra_threads: 2,
            spin: true,
        },
    )
    .expect("model")
}

/// Decodes vtest.avi at `width` (0 = native) and returns the frames whose 0-based index is in
/// `wanted`.
fn frames(width: u32, wanted: &[u64]) -> Vec<Frame> {
    let cfg = camera(
        "vtest",
        &format!(
            "{{ kind = \"file\", path = {} }}",
            toml_str(&vtest().display().to_string())
        ),
        &format!("analysis = {{ fps = 0.0, width = {width}, queue = 4 }}"),
    );
    let cam = CameraHandle::spawn(&cfg).expect("spawn");
    let mut got = Vec::new();
    loop {
        match cam.frames().recv_timeout(Duration::from_secs(30)) {
            Ok(f) if wanted.contains(&f.source_index) => got.push(f),
            Ok(f) if f.source_index > *wanted.iter().max().unwrap_or(&0) => break,
            Ok(_) => {}
            Err(_) => panic!("decoding stopped: {:?}", cam.health()),
        }
        if got.len() == wanted.len() {
            break;
        }
    }
    got
}

// People counted by eye on vtest.avi (MOT frame = index + 1): frame 1 has 3 walkers; 101 has
// 7 (one mostly hidden behind the sign post); 401 has 3; 701 has 8 (one half hidden behind
// another walker). Tolerance: at most one person missed or extra per frame, and no more than
// two over the four frames.
const HAND_COUNTS: [(u64, usize); 4] = [(0, 3), (100, 7), (400, 3), (700, 8)];

#[test]
fn person_counts_match_hand_counts() {
    let mut det = detector();
    let wanted: Vec<u64> = HAND_COUNTS.iter().map(|(i, _)| *i).collect();
    let fs = frames(0, &wanted);
    assert_eq!(fs.len(), 4);
    let mut total_error = 0;
    for f in &fs {
        let (dets, t) = det.detect(f, &[], 0.0).expect("detect");
        let expected = HAND_COUNTS
            .iter()
            .find(|(i, _)| *i == f.source_index)
            .map(|(_, n)| *n)
            .expect("hand count");
        let err = dets.len().abs_diff(expected);
        assert!(
            err <= 1,
            "frame {}: {} found, {expected} by eye: {dets:?}",
            f.source_index + 1,
            dets.len()
        );
        total_error += err;
        assert!(t.infer_ms > 0.0);
        for d in &dets {
            assert!(d.score >= 0.45 && d.class == 0);
            assert!(d.bbox.x2 <= 768.0 && d.bbox.y2 <= 576.0);
            // Upright people: taller than wide.
            assert!(d.bbox.height() > d.bbox.width(), "{d:?}");
        }
    }
    assert!(total_error <= 2, "total count error {total_error}");
}

#[test]
fn a_known_person_maps_back_to_source_pixels() {
    // Frame 1: the man in the dark jacket left of the lamp post stands at about
    // x 251..284, y 221..309 in the 768x576 source (checked by eye on the frame).
    let known = BBox::new(251.0, 221.0, 284.0, 309.0);
    let mut det = detector();
    // Analysed at half size: boxes come back in analysis pixels and scale by 2 to the source.
    let f = frames(384, &[0]).remove(0);
    assert_eq!((f.width, f.height), (384, 288));
    let (dets, _) = det.detect(&f, &[], 0.0).expect("detect");
    let best = dets
        .iter()
        .map(|d| d.bbox.scale_shift(2.0, 2.0, 0.0, 0.0))
        .map(|b| (b.iou(&known), b))
        .fold(
            (0.0f32, BBox::default()),
            |a, b| if b.0 > a.0 { b } else { a },
        );
    assert!(
        best.0 > 0.6,
        "best IoU {} with {:?} among {dets:?}",
        best.0,
        best.1
    );

    // The same person through two overlapping regions of interest, the first of which cuts
    // through them (its edge at x = 268 in source pixels, 134 at half size): the fragment from
    // the cut region gives way to the whole person seen in the other one.
    let regions = [
        hallwatch_detect::preprocess::Region {
            x: 0,
            y: 0,
            w: 134,
            h: 288,
        },
        hallwatch_detect::preprocess::Region {
            x: 100,
            y: 0,
            w: 284,
            h: 288,
        },
    ];
    let (dets, _) = det.detect(&f, &regions, 0.0).expect("detect");
    let near: Vec<BBox> = dets
        .iter()
        .map(|d| d.bbox.scale_shift(2.0, 2.0, 0.0, 0.0))
        .filter(|b| b.iou(&known) > 0.1)
        .collect();
    assert_eq!(
        near.len(),
        1,
        "one box for the person across the seam: {near:?}"
    );
    assert!(near[0].iou(&known) > 0.5, "{near:?}");
}

#[test]
fn errors_name_what_is_wrong() {
    // A manifest whose input name is not the model's.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(model())
        .expect("manifest")
        .replace("tower_0/images:0", "images")
        .replace(
            "file = \"centernet_mb3_512.onnx\"",
            &format!(
                "file = {}",
                toml_str(&model().with_extension("onnx").display().to_string())
            ),
        );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, text).expect("write");
    let e = OrtDetector::load(&bad, &DetectorOptions::default())
        .err()
        .expect("mismatch")
        .to_string();
    assert!(
        e.contains("'images'") && e.contains("tower_0/images:0"),
        "{e}"
    );

    let missing = dir.path().join("missing.toml");
    let e = Manifest::load(&missing).expect_err("missing").to_string();
    assert!(
        e.contains("missing.toml") && e.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn motion_gate_skips_still_frames_but_runs_a_periodic_full_pass() {
    let fs = frames(384, &[0, 1, 2]);
    let mut gate = MotionGate::new(0.002, 10.0);
    assert_eq!(gate.decide(&fs[0]).expect("gate"), GateDecision::FullPass);
    // Walkers move between consecutive frames of vtest.avi.
    assert_eq!(gate.decide(&fs[1]).expect("gate"), GateDecision::Motion);
    assert!(gate.last_change > 0.002);
    // The same picture again a second later: nothing moved.
    let mut still = fs[1].clone();
    still.time.media += Duration::from_secs(1);
    assert_eq!(gate.decide(&still).expect("gate"), GateDecision::Still);
    assert_eq!(gate.last_change, 0.0);
    // Ten seconds of stream time after the last run, a full pass runs even without motion.
    let mut later = still.clone();
    later.time.media = fs[1].time.media + Duration::from_secs(11);
    assert_eq!(gate.decide(&later).expect("gate"), GateDecision::FullPass);
}

/// Two workers share two cameras: each camera's frames still come out in order, none lost.
#[test]
fn pool_serves_two_cameras() {
    let model = Manifest::load(&model()).expect("manifest");
    let src = format!(
        "{{ kind = \"file\", path = {} }}",
        toml_str(&vtest().display().to_string())
    );
    let a_cfg = camera("a", &src, "analysis = { fps = 1.0, width = 384 }");
    let b_cfg = camera("b", &src, "analysis = { fps = 0.5, width = 384 }");
    // Frames come at the active rate (5 fps by default); the pool keeps the still rate, as
    // nothing here raises it.
    assert_eq!(a_cfg.analysis.delivered_fps(), 5.0);
    let a = CameraHandle::spawn(&a_cfg).expect("a");
    let b = CameraHandle::spawn(&b_cfg).expect("b");
    let inputs = [(&a, &a_cfg), (&b, &b_cfg)]
        .iter()
        .map(|(c, cfg)| CameraInput {
            camera: c.id().clone(),
            frames: c.frames().clone(),
            config: Default::default(),
            min_score: 0.0,
            rate: Decimator::new(cfg.analysis.fps, cfg.analysis.active_fps, RateSignal::new()),
        })
        .collect();
    let (tx, rx) = bounded(16);
    let pool = DetectorPool::start(
        &model,
        inputs,
        &PoolOptions {
            workers: 2,
            intra_threads: 1,
            spin: false,
        },
        tx,
    )
    .expect("pool");
    let mut per_camera = std::collections::HashMap::<String, Vec<_>>::new();
    while let Ok(d) = rx.recv_timeout(Duration::from_secs(60)) {
        per_camera
            .entry(d.frame.camera.to_string())
            .or_default()
            .push(d);
    }
    // The workers end, closing the results channel, once both files are done.
    assert_eq!(pool.stats(), Default::default(), "no frame failed");
    // What each rule saved: frames come at 5 fps, 1 in 5 (a) and 1 in 10 (b) is analysed;
    // the motion gate is off by default, so every analysed frame is inferred.
    let costs = pool.costs();
    for (camera, n, skipped_at_least) in [("a", 80, 300), ("b", 40, 340)] {
        let (_, c) = costs
            .iter()
            .find(|(id, _)| id.as_str() == camera)
            .expect("a cost per camera");
        assert_eq!(c.inferred + c.skipped_still, n, "{camera}: {c:?}");
        assert!(c.skipped_by_rate >= skipped_at_least, "{camera}: {c:?}");
        assert!(c.inference_s > 0.0, "{camera}: {c:?}");
    }
    pool.join();
    assert_eq!(a.health().state, CameraState::Finished);
    // 79.4 s of footage: 80 frames at 1 fps, 40 at 0.5 fps; every one detected or gated.
    assert_eq!(per_camera.get("a").map(Vec::len), Some(80));
    assert_eq!(per_camera.get("b").map(Vec::len), Some(40));
    let a_frames = &per_camera["a"];
    assert!(
        a_frames
            .iter()
            .any(|d| d.decision.run() && !d.detections.is_empty())
    );
    for frames in per_camera.values() {
        assert!(
            frames.windows(2).all(|w| w[0].frame.seq < w[1].frame.seq),
            "in order per camera: {:?}",
            frames.iter().map(|d| d.frame.seq).collect::<Vec<_>>()
        );
    }
}

/// Overload: one worker, four cameras with a backlog each. The worker serves the camera whose
/// last analysed frame is oldest, so the cameras take turns (round robin) and every camera's
/// rate falls evenly; none is starved, whatever order the frames arrived in.
#[test]
fn an_overloaded_pool_serves_cameras_in_turn() {
    let model = Manifest::load(&model()).expect("manifest");
    let base = frames(256, &[0, 1, 2]);
    let cameras = ["a", "b", "c", "d"];
    let mut senders = Vec::new();
    let mut inputs = Vec::new();
    for id in cameras {
        let (tx, rx) = bounded(8);
        inputs.push(CameraInput {
            camera: hallwatch_core::CameraId::new(id),
            frames: rx,
            config: Default::default(),
            min_score: 0.0,
            rate: Decimator::new(0.0, 0.0, RateSignal::new()),
        });
        senders.push(tx);
    }
    // Camera "a" queues all of its frames first, then the others; a pick in arrival order or
    // at random would run "a" ahead.
    for (k, (id, tx)) in cameras.iter().zip(&senders).enumerate() {
        for i in 0..6u64 {
            let mut f = base[(i % 3) as usize].clone();
            f.camera = hallwatch_core::CameraId::new(id);
            f.seq = i;
            f.time.media = Duration::from_millis(200 * i + k as u64);
            tx.send(f).expect("queue");
        }
    }
    drop(senders);
    let (tx, rx) = bounded(64);
    let pool = DetectorPool::start(
        &model,
        inputs,
        &PoolOptions {
            workers: 1,
            intra_threads: 1,
            spin: false,
        },
        tx,
    )
    .expect("pool");
    let order: Vec<String> = rx.iter().map(|d| d.frame.camera.to_string()).collect();
    pool.join();
    assert_eq!(order.len(), 24, "{order:?}");
    // In every round of four results, each camera once.
    for (r, round) in order.chunks(4).enumerate() {
        let mut got: Vec<&str> = round.iter().map(String::as_str).collect();
        got.sort_unstable();
        assert_eq!(got, cameras, "round {r}: {order:?}");
    }
}

/// A malformed frame (its pixels cut short, as a broken decoder could hand over) costs that
/// frame only: it is counted and logged, and the frames after it are detected as usual.
#[test]
fn a_bad_frame_costs_only_itself() {
    let model = Manifest::load(&model()).expect("manifest");
    let mut fs = frames(384, &[0, 1, 2]);
    let mut bad = fs[1].clone();
    bad.data = bad.data[..bad.data.len() / 3].to_vec().into();
    fs.insert(1, bad);
    for (i, f) in fs.iter_mut().enumerate() {
        f.seq = i as u64;
        f.time.media = Duration::from_secs(i as u64);
    }
    let (frames_tx, frames_rx) = bounded(8);
    let (tx, rx) = bounded(8);
    let pool = DetectorPool::start(
        &model,
        vec![CameraInput {
            camera: fs[0].camera.clone(),
            frames: frames_rx,
            config: Default::default(),
            min_score: 0.0,
            rate: Decimator::new(0.0, 0.0, RateSignal::new()),
        }],
        &PoolOptions {
            workers: 2,
            intra_threads: 1,
            spin: false,
        },
        tx,
    )
    .expect("pool");
    for f in fs {
        frames_tx.send(f).expect("send");
    }
    drop(frames_tx);
    let out: Vec<_> = rx.iter().collect();
    let stats = pool.stats();
    pool.join();
    assert_eq!(
        out.iter().map(|d| d.frame.seq).collect::<Vec<_>>(),
        [0, 2, 3],
        "the bad frame alone is missing"
    );
    assert_eq!(stats.errors + stats.panics, 1, "{stats:?}");
    assert!(out.iter().all(|d| !d.detections.is_empty()));
}

/// `roi = "zones"`: the detector looks only around the zones; on a 1080p frame with
/// `tiles = "auto"` that is 2 tiles instead of 8, each inside the zones' region.
#[test]
fn roi_zones_runs_fewer_tiles_inside_the_zones_region() {
    let model = Manifest::load(&model()).expect("manifest");
    let detector = OrtDetector::from_manifest(
        &model,
        &DetectorOptions {
            intra_threads: 1,
            spin: false,
        },
    )
    .expect("model");
    let mut cfg = hallwatch_config::CameraDetectConfig {
        tiles: hallwatch_config::Tiles::Auto,
        ..Default::default()
    };
    let whole = detector.regions(&cfg, 1920, 1080);
    assert_eq!(whole.len(), 8);
    cfg.roi = hallwatch_config::Roi::Zones;
    cfg.zone_roi = Some([0.5, 0.4, 1.0, 1.0]);
    let roi = detector.regions(&cfg, 1920, 1080);
    assert!(roi.len() < whole.len(), "{roi:?}");
    assert!(!roi.is_empty());
    for r in &roi {
        assert!(
            r.x >= 960 && r.y >= 432 && r.x + r.w <= 1920 && r.y + r.h <= 1080,
            "{r:?}"
        );
    }
    // Without tiles, one crop of the region.
    cfg.tiles = hallwatch_config::Tiles::Off;
    let one = detector.regions(&cfg, 1920, 1080);
    assert_eq!(one.len(), 1);
    assert_eq!(
        (one[0].x, one[0].y, one[0].w, one[0].h),
        (960, 432, 960, 648)
    );
}
