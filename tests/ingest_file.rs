//! Ingest of real footage from files: exact frame counts and timestamps, analysis rate,
//! scaling, and bad files that fail clearly while other cameras carry on.

use hallwatch_core::CameraState;
use hallwatch_ingest::CameraHandle;
use hallwatch_tests::{camera, drain, toml_str, vtest, wait_until};
use std::time::Duration;

fn file_source(path: &std::path::Path) -> String {
    format!(
        "{{ kind = \"file\", path = {} }}",
        toml_str(&path.display().to_string())
    )
}

#[test]
fn vtest_decodes_every_frame_at_native_size() {
    let cfg = camera(
        "vtest",
        &file_source(&vtest()),
        "analysis = { fps = 0.0, queue = 8 }",
    );
    let cam = CameraHandle::spawn(&cfg).expect("spawn");
    let frames = drain(&cam, Duration::from_secs(120));
    let h = cam.health();
    assert_eq!(h.state, CameraState::Finished, "health: {h:?}");
    assert_eq!(frames.len(), 795, "vtest.avi has 795 frames");
    assert!(frames.iter().all(|f| f.width == 768 && f.height == 576));
    assert!(frames.iter().all(|f| f.data.len() == 768 * 576 * 3));
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.seq, i as u64);
        assert_eq!(
            f.source_index, i as u64,
            "decoded frames are numbered in order"
        );
        assert!(f.time.wall.is_none(), "file frames carry media time only");
    }
    let fps = h.source_fps.expect("vtest.avi states its frame rate");
    // Media time of frame i is i / fps: the stream's clock, not the processing clock.
    for f in &frames {
        let expected = f.source_index as f64 / fps;
        assert!(
            (f.time.media.as_secs_f64() - expected).abs() < 1e-3,
            "{f:?}"
        );
    }
    assert_eq!(h.frames_decoded, 795);
    assert_eq!(h.frames_analysed, 795);
    assert_eq!(h.source_size, Some((768, 576)));
    assert!(h.codec.is_some());
    // Not a blank picture: the footage has texture.
    let mid = &frames[400];
    let distinct: std::collections::HashSet<[u8; 3]> = (0..768)
        .step_by(7)
        .filter_map(|x| mid.pixel(x, 300))
        .collect();
    assert!(distinct.len() > 20, "frame 400 looks blank");
}

#[test]
fn analysis_rate_keeps_media_time_cadence() {
    let cfg = camera(
        "vtest2fps",
        &file_source(&vtest()),
        "analysis = { fps = 2.0, active_fps = 2.0, width = 384 }",
    );
    let cam = CameraHandle::spawn(&cfg).expect("spawn");
    let frames = drain(&cam, Duration::from_secs(120));
    let h = cam.health();
    assert_eq!(h.state, CameraState::Finished, "health: {h:?}");
    let fps = h.source_fps.expect("frame rate");
    // 795 frames at the source rate last 794/fps seconds from the first stamp; at 2 fps the kept
    // stamps are 0, 0.5, 1.0, ... up to that.
    let last = 794.0 / fps;
    let expected = (last / 0.5).floor() as usize + 1;
    assert_eq!(frames.len(), expected, "source fps {fps}");
    for (k, f) in frames.iter().enumerate() {
        let t = f.time.media.as_secs_f64();
        assert!(
            (t - k as f64 * 0.5).abs() < 0.5 / fps + 1e-3,
            "frame {k} at {t}"
        );
        assert!((t - f.source_index as f64 / fps).abs() < 1e-3);
        assert_eq!((f.width, f.height), (384, 288), "scaled, aspect kept");
    }
    // Every decoded frame was seen by the gate; only the kept ones were converted.
    assert_eq!(h.frames_decoded, 795);
    assert_eq!(h.frames_analysed as usize, expected);
}

#[test]
fn bad_files_fail_clearly_and_others_carry_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-file.mp4");
    let garbage = dir.path().join("garbage.avi");
    std::fs::write(
        &garbage,
        (0..200_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .expect("write garbage");
    let truncated = dir.path().join("truncated.avi");
    let bytes = std::fs::read(vtest()).expect("read vtest");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("write truncated");

    let good = CameraHandle::spawn(&camera(
        "good",
        "{ kind = \"test\", width = 320, height = 240, fps = 25 }",
        "analysis = { fps = 5.0 }",
    ))
    .expect("spawn good");
    let missing_cam =
        CameraHandle::spawn(&camera("missing", &file_source(&missing), "")).expect("spawn");
    let garbage_cam =
        CameraHandle::spawn(&camera("garbage", &file_source(&garbage), "")).expect("spawn");
    let truncated_cam = CameraHandle::spawn(&camera(
        "truncated",
        &file_source(&truncated),
        "analysis = { fps = 0.0 }",
    ))
    .expect("spawn");

    assert!(wait_until(Duration::from_secs(20), || missing_cam
        .health()
        .state
        == CameraState::Failed));
    let err = missing_cam.health().last_error.expect("error recorded");
    assert!(
        err.contains("no-such-file.mp4") && err.contains("not found"),
        "{err}"
    );

    assert!(wait_until(Duration::from_secs(20), || garbage_cam
        .health()
        .state
        == CameraState::Failed));
    let err = garbage_cam.health().last_error.expect("error recorded");
    assert!(
        err.to_lowercase().contains("type")
            || err.to_lowercase().contains("decode")
            || err.to_lowercase().contains("demux"),
        "garbage file error should say the format is not understood: {err}"
    );

    let got = drain(&truncated_cam, Duration::from_secs(60));
    let th = truncated_cam.health();
    assert!(
        matches!(th.state, CameraState::Finished | CameraState::Failed),
        "{th:?}"
    );
    assert!(
        !got.is_empty() && got.len() < 795,
        "truncated file gave {} frames",
        got.len()
    );

    // The good camera kept delivering all along.
    let before = good.health().frames_analysed;
    let mut received = 0;
    assert!(wait_until(Duration::from_secs(10), || {
        while good.frames().try_recv().is_ok() {
            received += 1;
        }
        received >= 5
    }));
    // A live source at 5 fps: a second of frames later its count has moved on.
    let after = good.health().frames_analysed;
    assert!(after > before, "frames analysed {before} -> {after}");
    assert_eq!(good.health().state, CameraState::Running);
}

#[test]
fn test_source_frames_carry_wall_clock_time() {
    let cam = CameraHandle::spawn(&camera(
        "pattern",
        "{ kind = \"test\", width = 320, height = 240, fps = 25 }",
        "analysis = { fps = 0.0, queue = 2 }",
    ))
    .expect("spawn");
    let mut frames = Vec::new();
    assert!(wait_until(Duration::from_secs(10), || {
        while let Ok(f) = cam.frames().try_recv() {
            frames.push(f);
        }
        frames.len() >= 10
    }));
    let now = std::time::SystemTime::now();
    for w in frames.windows(2) {
        let (a, b) = (w[0].time.wall.expect("live"), w[1].time.wall.expect("live"));
        assert!(b > a, "wall stamps increase");
    }
    let last = frames.last().and_then(|f| f.time.wall).expect("wall");
    let age = now.duration_since(last).unwrap_or_default();
    assert!(
        age < Duration::from_secs(5),
        "stamp is the capture time, {age:?} ago"
    );
}
