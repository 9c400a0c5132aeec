//! `hallwatch replay` frames/s on vtest.avi against a Python peer pipeline run in the same
//! invocation: opencv-python decoding, onnxruntime with the same model and threads, and
//! supervision's ByteTrack and PolygonZone, both at a 2 fps analysis rate of the 10 fps clip.
//! Prints source frames/s of each and the ratio (goal: >= 3x). A second peer runs the model on
//! every decoded frame, as supervision's examples do; the ratio against it shows what dropping
//! frames before conversion at the analysis rate buys.
//!
//! Run: `cargo bench -p hallwatch --bench replay_speed`. The Python side is installed on first
//! use into `$HALLWATCH_CACHE/bench-venv-replay`.

use std::path::PathBuf;
use std::process::Command;

const THREADS: &str = "2";

fn cache() -> PathBuf {
    std::env::var_os("HALLWATCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/hallwatch")
        })
}

fn python() -> PathBuf {
    let venv = cache().join("bench-venv-replay");
    let py = venv.join("bin/python");
    if !py.is_file() {
        eprintln!(
            "creating {} (onnxruntime 1.31.1, opencv-python-headless, supervision 0.26.1: the last with ByteTrack) ...",
            venv.display()
        );
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(&py)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "onnxruntime==1.31.1",
                    "opencv-python-headless",
                    "supervision==0.26.1",
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not set up {}", venv.display());
    }
    py
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let root = manifest_dir().join("../..");
    let footage = std::env::var_os("HALLWATCH_VTEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("footage/vtest.avi"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("vtest.toml");
    let text = std::fs::read_to_string(root.join("examples/vtest.toml")).expect("example config");
    // Same work as the peer: 2 fps, every analysed frame inferred (no motion gating).
    std::fs::write(
        &config,
        text.replace(
            "analysis = { fps = 5.0 }",
            "analysis = { fps = 2.0 }\ndetect = { motion_gating = false }",
        ),
    )
    .expect("write");
    let py = python();
    let script = manifest_dir().join("benches/replay_peer.py");
    let model = root.join("models/centernet_mb3_512.onnx");
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut naive = Vec::new();
    for round in 0..3 {
        let out_dir = dir.path().join(format!("out{round}"));
        let o = Command::new(env!("CARGO_BIN_EXE_hallwatch"))
            .arg("replay")
            .arg(&footage)
            .arg("--config")
            .arg(&config)
            .args(["--threads", THREADS, "--out"])
            .arg(&out_dir)
            .output()
            .expect("replay");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // Timed like the peer: from opening the video (model already loaded) to the end.
        let summary = std::fs::read_to_string(out_dir.join("summary.json")).expect("summary");
        let elapsed: f64 = summary
            .split("\"elapsed_s\": ")
            .nth(1)
            .and_then(|r| r.split([',', '\n']).next())
            .and_then(|v| v.trim().parse().ok())
            .expect("elapsed_s in summary.json");
        ours.push(795.0 / elapsed);
        let peer = |every: &str| -> (f64, String) {
            let o = Command::new(&py)
                .arg(&script)
                .arg(&footage)
                .arg(&model)
                .arg(THREADS)
                .arg(every)
                .output()
                .expect("peer");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let line = String::from_utf8_lossy(&o.stdout).trim().to_string();
            let fps: f64 = line
                .split("\"source_fps\": ")
                .nth(1)
                .and_then(|r| r.split(['}', ',']).next())
                .and_then(|v| v.trim().parse().ok())
                .expect("peer fps");
            (fps, line)
        };
        let (fps, line) = peer("5");
        theirs.push(fps);
        let (all, all_line) = peer("1");
        naive.push(all);
        eprintln!(
            "round {round}: ours {:.1} source frames/s; peer at 2 fps {fps:.1} ({line}); peer on every frame {all:.1} ({all_line})",
            ours[round]
        );
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (o, p, n) = (med(ours), med(theirs), med(naive));
    println!(
        "vtest.avi 795 frames (10 fps), {THREADS} intra-op threads, timed from opening the video (model loaded) to the last frame, median of 3 interleaved rounds"
    );
    println!("hallwatch replay, 2 fps analysis:            {o:6.1} source frames/s");
    println!("python peer (cv2+ORT+sv), 2 fps analysis:    {p:6.1} source frames/s");
    println!("python peer (cv2+ORT+sv), every frame:       {n:6.1} source frames/s");
    println!(
        "ratio ours/peer: {:.2}x like for like, {:.2}x against the every-frame peer (goal >= 3x)",
        o / p,
        o / n
    );
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
