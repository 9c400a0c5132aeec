//! `hallwatch detect`: run the detector over a video file and write MOTChallenge detections.

use anyhow::{Context, Result};
use hallwatch_detect::{DetectorOptions, OrtDetector, Timings};
use hallwatch_ingest::CameraHandle;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The default model manifest: `models/centernet_mb3_512.toml` under the working directory, or
/// in the source tree this binary was built from.
pub fn default_model() -> PathBuf {
    resolve_model(&hallwatch_config::DetectorConfig::default().model)
}

/// A model manifest path as written in a config: as given when it exists (or is absolute),
/// else under the source tree this binary was built from.
pub fn resolve_model(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_file() || p.is_absolute() {
        return p;
    }
    let in_tree = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    if in_tree.is_file() { in_tree } else { p }
}

/// Options of `hallwatch detect`.
#[derive(clap::Args)]
pub struct DetectArgs {
    /// The video file.
    pub file: PathBuf,
    /// Model manifest (default: models/centernet_mb3_512.toml).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Run on every Nth decoded frame.
    #[arg(long, default_value_t = 1)]
    pub every: u64,
    /// Score threshold (default: the manifest's).
    #[arg(long, default_value_t = 0.0)]
    pub threshold: f32,
    /// ONNX Runtime intra-op threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the command.
pub fn run(a: &DetectArgs) -> Result<()> {
    let model = a.model.clone().unwrap_or_else(default_model);
    let mut detector = OrtDetector::load(
        &model,
        &DetectorOptions {
            intra_threads: a.threads,
            // Frames back to back: spinning between runs is faster.
            spin: true,
        },
    )
    .with_context(|| format!("loading the model {}", model.display()))?;
    let threshold = detector.threshold(a.threshold);
    let cam_cfg = crate::probe::camera_for(&a.file.display().to_string(), "tcp", 20.0)?;
    let cam = CameraHandle::spawn(&cam_cfg).context("opening the video")?;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?,
    );
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {pos} frames decoded, {msg} [{elapsed}] {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let every = a.every.max(1);
    let (mut analysed, mut boxes) = (0u64, 0u64);
    let mut total = Timings::default();
    loop {
        let Some(frame) = crate::probe::next_file_frame(&cam, &a.file)? else {
            break;
        };
        pb.inc(1);
        if frame.source_index % every != 0 {
            continue;
        }
        let (dets, t) = detector.detect(&frame, &[], threshold)?;
        total += t;
        analysed += 1;
        for d in &dets {
            let b = d.bbox;
            writeln!(
                out,
                "{},-1,{:.2},{:.2},{:.2},{:.2},{:.4},-1,-1,-1",
                frame.source_index + 1,
                b.x1,
                b.y1,
                b.width(),
                b.height(),
                d.score
            )?;
        }
        boxes += dets.len() as u64;
        pb.set_message(format!("{analysed} analysed, {boxes} people"));
    }
    out.flush()?;
    pb.finish_and_clear();
    let n = analysed.max(1) as f64;
    println!(
        "{}: {analysed} frames analysed, {boxes} detections at score >= {threshold} -> {}",
        a.file.display(),
        a.out.display()
    );
    println!(
        "per frame: pre {:.1} ms, inference {:.1} ms, post {:.1} ms",
        total.pre_ms / n,
        total.infer_ms / n,
        total.post_ms / n
    );
    Ok(())
}
