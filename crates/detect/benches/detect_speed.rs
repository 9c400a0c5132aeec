//! Per-frame cost of pre-processing, inference and post-processing on vtest.avi frames, and in
//! the same run a Python peer (opencv-python + onnxruntime, same model file, same threads, same
//! frames) with our frames/s over theirs.
//!
//! Run: `cargo bench -p hallwatch-detect --bench detect_speed` (or `scripts/dev bench`). The
//! Python side is installed on first use into `$HALLWATCH_CACHE/bench-venv` (onnxruntime of the
//! same version as the library hallwatch loads, opencv-python-headless, numpy). Goals: pre +
//! post < 15% of bare inference; our frames/s >= theirs.

use hallwatch_config::Config;
use hallwatch_core::{CameraState, Frame};
use hallwatch_detect::{DetectorOptions, OrtDetector, Timings, runtime};
use hallwatch_ingest::CameraHandle;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const FRAMES: usize = 60;
const THREADS: usize = 2;

fn cache() -> PathBuf {
    std::env::var_os("HALLWATCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/hallwatch")
        })
}

fn frames() -> Vec<Frame> {
    let footage = std::env::var_os("HALLWATCH_VTEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("footage/vtest.avi"));
    let text = format!(
        "[site]\nid = \"b\"\n[[cameras]]\nid = \"v\"\nsource = {{ kind = \"file\", path = \"{}\" }}\nanalysis = {{ fps = 0.75, queue = 8 }}\n",
        footage.display()
    );
    let cfg = Config::from_toml_str(&text).expect("config");
    let cam = CameraHandle::spawn(&cfg.cameras[0]).expect("spawn");
    let mut v = Vec::new();
    while v.len() < FRAMES {
        match cam.frames().recv_timeout(Duration::from_secs(30)) {
            Ok(f) => v.push(f),
            Err(_) if cam.health().state == CameraState::Finished => break,
            Err(_) => panic!("decoding stalled: {:?}", cam.health()),
        }
    }
    v
}

fn python(venv: &Path) -> PathBuf {
    let py = venv.join("bin/python");
    if !py.is_file() {
        eprintln!(
            "creating {} (onnxruntime=={}, opencv-python-headless, numpy) ...",
            venv.display(),
            runtime::ORT_VERSION
        );
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(&py)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    &format!("onnxruntime=={}", runtime::ORT_VERSION),
                    "opencv-python-headless",
                    "numpy",
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok,
            "could not set up the Python baseline in {}",
            venv.display()
        );
    }
    py
}

struct Figures {
    pre: f64,
    infer: f64,
    post: f64,
    fps: f64,
    people: usize,
}

fn run_ours(det: &mut OrtDetector, fs: &[Frame]) -> Figures {
    let mut t = Timings::default();
    let mut people = 0;
    let start = Instant::now();
    for f in fs {
        let (d, tt) = det.detect(f, &[], 0.0).expect("detect");
        people += d.len();
        t += tt;
    }
    let n = fs.len() as f64;
    Figures {
        pre: t.pre_ms / n,
        infer: t.infer_ms / n,
        post: t.post_ms / n,
        fps: n / start.elapsed().as_secs_f64(),
        people,
    }
}

fn run_python(py: &Path, model: &Path, dir: &Path, fs: &[Frame]) -> Figures {
    let script = manifest_dir().join("benches/detect_baseline.py");
    let out = Command::new(py)
        .arg(&script)
        .arg(model)
        .arg(dir)
        .arg(fs.len().to_string())
        .arg(fs[0].width.to_string())
        .arg(fs[0].height.to_string())
        .arg(THREADS.to_string())
        .output()
        .expect("run the Python baseline");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |k: &str| -> f64 {
        line.split(&format!("\"{k}\": "))
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    Figures {
        pre: field("pre_ms"),
        infer: field("infer_ms"),
        post: field("post_ms"),
        fps: field("fps"),
        people: field("people") as usize,
    }
}

fn median(mut v: Vec<Figures>) -> Figures {
    v.sort_by(|a, b| a.fps.total_cmp(&b.fps));
    v.swap_remove(v.len() / 2)
}

fn print(label: &str, f: &Figures) {
    println!(
        "{label:<28} pre {:6.2} ms  inference {:7.2} ms  post {:5.2} ms  -> {:5.2} frames/s, {} people",
        f.pre, f.infer, f.post, f.fps, f.people
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let manifest = manifest_dir().join("../../models/centernet_mb3_512.toml");
    // The same model resized like cv2.resize's default (bilinear), for a like-for-like pairing.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let linear = dir.path().join("linear.toml");
    std::fs::write(
        &linear,
        text.replace(
            "resize = \"stretch\"",
            "resize = \"stretch\"\ninterpolation = \"linear\"",
        )
        .replace(
            "file = \"centernet_mb3_512.onnx\"",
            &format!("file = \"{}\"", manifest.with_extension("onnx").display()),
        ),
    )
    .expect("write");
    let opts = DetectorOptions {
        intra_threads: THREADS,
        spin: true,
    };
    let mut area = OrtDetector::load(&manifest, &opts).expect("model");
    let mut bilinear = OrtDetector::load(&linear, &opts).expect("model");
    let fs = frames();
    let n = fs.len();
    for f in fs.iter().take(3) {
        area.detect(f, &[], 0.0).expect("warm-up");
        bilinear.detect(f, &[], 0.0).expect("warm-up");
    }
    // The same frames for the Python peer.
    let frames_dir = dir.path().join("frames");
    std::fs::create_dir_all(&frames_dir).expect("mkdir");
    for (i, f) in fs.iter().enumerate() {
        std::fs::write(frames_dir.join(format!("{i:04}.rgb")), &f.data[..]).expect("write frame");
    }
    let py = python(&cache().join("bench-venv"));
    let model = manifest.with_extension("onnx");
    // Interleaved rounds, medians: both sides see the same machine load.
    let (mut a, mut l, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        a.push(run_ours(&mut area, &fs));
        l.push(run_ours(&mut bilinear, &fs));
        p.push(run_python(&py, &model, &frames_dir, &fs));
    }
    let (a, l, p) = (median(a), median(l), median(p));
    println!(
        "{n} vtest.avi frames (768x576 -> 512x512), {THREADS} intra-op threads, CenterNet MobileNetV3, median of 3 interleaved rounds"
    );
    print("hallwatch (area, default)", &a);
    print("hallwatch (bilinear)", &l);
    print("python (cv2 bilinear + ORT)", &p);
    println!(
        "pre+post over bare inference: {:.1}% area, {:.1}% bilinear (goal < 15%)",
        (a.pre + a.post) / a.infer * 100.0,
        (l.pre + l.post) / l.infer * 100.0
    );
    println!(
        "frames/s ours/theirs: {:.2}x area, {:.2}x bilinear like for like (goal >= 1)",
        a.fps / p.fps,
        l.fps / p.fps
    );
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
