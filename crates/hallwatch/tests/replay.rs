//! `hallwatch replay` on the sample footage with the example zones: every output is there, well
//! formed, consistent with the others, and identical across two runs.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_hallwatch");

fn vtest() -> PathBuf {
    let p = std::env::var_os("HALLWATCH_VTEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/hallwatch/footage/vtest.avi")
        });
    assert!(
        p.is_file(),
        "{} missing: run scripts/dev setup",
        p.display()
    );
    p
}

fn replay(config: &Path, out: &Path, extra: &[&str]) {
    let o = Command::new(EXE)
        .arg("replay")
        .args(extra)
        .arg(vtest())
        .arg("--config")
        .arg(config)
        .arg("--threads")
        .arg("2")
        .arg("--out")
        .arg(out)
        .output()
        .expect("run replay");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn replay_writes_consistent_outputs_deterministically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = manifest_dir().join("../../examples/vtest.toml");
    let config = dir.path().join("vtest.toml");
    let text = std::fs::read_to_string(&example).expect("example config");
    std::fs::write(
        &config,
        text.replace("analysis = { fps = 5.0 }", "analysis = { fps = 2.0 }"),
    )
    .expect("write");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // The default adaptive rate: 2 fps while still, 5 while people walk near the zones.
    replay(&config, &a, &[]);
    replay(&config, &b, &[]);

    for f in ["tracks.txt", "zone_counts.csv", "zone_sessions.csv"] {
        let x = std::fs::read(a.join(f)).expect(f);
        let y = std::fs::read(b.join(f)).expect(f);
        assert!(x == y, "{f} differs between two runs");
    }

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).expect("summary"))
            .expect("json");
    // 795 frames at 10 fps: 159 at a steady 2 fps, 398 at a steady 5; people walk through
    // vtest's hall most of the time, so most frames are taken at the raised rate.
    let analysed = summary["frames_analysed"]
        .as_u64()
        .expect("frames_analysed") as usize;
    let active = summary["frames_analysed_active"].as_u64().expect("active") as usize;
    assert!(
        analysed > 159 && analysed <= 398,
        "{analysed} frames analysed"
    );
    assert!(
        active > analysed / 2 && active <= analysed,
        "{active} of {analysed} at 5 fps"
    );

    // tracks.txt: MOTChallenge rows, 1-based source frames of the delivered 5 fps cadence
    // (every 2nd decoded frame of the 10 fps clip), boxes inside the 768x576 source.
    let tracks = std::fs::read_to_string(a.join("tracks.txt")).expect("tracks");
    let mut ids = std::collections::BTreeSet::new();
    let mut rows = 0;
    for line in tracks.lines() {
        let v: Vec<f64> = line
            .split(',')
            .map(|x| x.parse().expect("number"))
            .collect();
        assert_eq!(v.len(), 10, "{line}");
        let frame = v[0] as u64;
        assert!(
            (1..=795).contains(&frame) && (frame - 1).is_multiple_of(2),
            "{line}"
        );
        assert!(
            v[2] >= 0.0 && v[3] >= 0.0 && v[2] + v[4] <= 768.5 && v[3] + v[5] <= 576.5,
            "{line}"
        );
        assert!(
            v[4] > 0.0 && v[5] > 0.0 && (0.0..=1.0).contains(&v[6]),
            "{line}"
        );
        assert_eq!(&v[7..], &[-1.0, -1.0, -1.0]);
        ids.insert(v[1] as u64);
        rows += 1;
    }
    assert!(
        rows > 300 && ids.len() >= 5,
        "{rows} rows, {} ids",
        ids.len()
    );

    // zone_counts.csv: one row per analysed frame and waiting/counter zone.
    let counts = std::fs::read_to_string(a.join("zone_counts.csv")).expect("counts");
    let mut lines = counts.lines();
    assert_eq!(lines.next(), Some("frame,time_s,zone,count,smoothed"));
    let body: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(body.len(), analysed * 2, "analysed frames x 2 area zones");
    let mut max_waiting = 0;
    for r in &body {
        assert_eq!(r.len(), 5);
        let frame: u64 = r[0].parse().expect("frame");
        let t: f64 = r[1].parse().expect("time");
        assert!(
            (t - (frame - 1) as f64 / 10.0).abs() < 1e-3,
            "time is media time: {r:?}"
        );
        assert!(r[2] == "khu-cho" || r[2] == "quay-1");
        let n: usize = r[3].parse().expect("count");
        if r[2] == "khu-cho" {
            max_waiting = max_waiting.max(n);
        }
        let smoothed: f64 = r[4].parse().expect("smoothed");
        assert!(smoothed >= 0.0 && smoothed.is_finite(), "{r:?}");
    }
    assert!(max_waiting >= 2, "people walk through the waiting zone");

    // zone_sessions.csv: durations add up, nothing open at the end but truncated visits.
    let sessions = std::fs::read_to_string(a.join("zone_sessions.csv")).expect("sessions");
    let mut lines = sessions.lines();
    assert_eq!(
        lines.next(),
        Some("zone,track_id,enter_s,exit_s,duration_s,truncated,tracks")
    );
    let mut n = 0;
    for l in lines {
        let r: Vec<&str> = l.split(',').collect();
        assert_eq!(r.len(), 7, "{l}");
        let tracks: Vec<&str> = r[6].split(';').collect();
        assert_eq!(tracks[0], r[1], "the first track leads the list: {l}");
        let (enter, exit, d): (f64, f64, f64) = (
            r[2].parse().expect("enter"),
            r[3].parse().expect("exit"),
            r[4].parse().expect("dur"),
        );
        assert!(
            exit >= enter && (exit - enter - d).abs() < 2e-3 && exit <= 79.5,
            "{l}"
        );
        assert!(r[5] == "true" || r[5] == "false");
        n += 1;
    }
    assert!(n >= 3, "{n} visits");

    assert_eq!(summary["frames_decoded"], 795);
    assert_eq!(summary["tracks"].as_u64(), Some(ids.len() as u64));
    assert_eq!(
        summary["zones"]["khu-cho"]["max_count"].as_u64(),
        Some(max_waiting as u64)
    );

    // A steady rate: --active-fps equal to --fps takes every 5th frame, nothing more.
    let c = dir.path().join("c");
    replay(&config, &c, &["--fps", "2", "--active-fps", "2"]);
    let steady: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(steady["frames_analysed"], 159);
    assert_eq!(steady["frames_analysed_active"], 0);
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
