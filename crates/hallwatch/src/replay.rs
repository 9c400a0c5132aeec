//! `hallwatch replay`: one file through ingest, detection, tracking and zones as fast as the
//! machine goes, writing MOTChallenge tracks, zone counts, zone sessions and a summary.

use anyhow::{Context, Result};
use hallwatch_config::{Config, SourceKind, ZoneRole};
use hallwatch_core::CameraState;
use hallwatch_detect::{Manifest, PoolOptions};
use hallwatch_pipeline::{FrameStep, Pacing, Pipeline, RecordFiles, Sink};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

/// Options of `hallwatch replay`.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The video file.
    pub file: PathBuf,
    /// The hall config (zones, analysis and detection settings of the camera).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Which camera of the config the file stands for (default: the first).
    #[arg(long)]
    pub camera: Option<String>,
    /// Model manifest (default: the config's).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// ONNX Runtime intra-op threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Analysed frames per second while the hall is still, instead of the camera's
    /// `analysis.fps` (0 = every frame).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Analysed frames per second while people move in or near a zone, instead of the camera's
    /// `analysis.active_fps` (0 = every frame; the same as --fps for a steady rate).
    #[arg(long)]
    pub active_fps: Option<f64>,
}

/// Counts the analysed frames on the progress bar.
struct Progress(ProgressBar);

impl Sink for Progress {
    fn frame(&mut self, step: &FrameStep<'_>) -> std::io::Result<()> {
        self.0.inc(1);
        if step.detected.decision.run() {
            self.0
                .set_message(format!("(at {:.1} s)", step.detected.frame.time.seconds()));
        }
        Ok(())
    }

    fn closed(
        &mut self,
        _: &hallwatch_core::CameraId,
        _: &[hallwatch_zones::ZoneEvent],
        _: &hallwatch_zones::HallSnapshot,
    ) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the command.
pub fn run(a: &ReplayArgs) -> Result<()> {
    let mut cfg = Config::load(&a.config)
        .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", a.config.display()))?;
    let mut cam_cfg = match &a.camera {
        Some(id) => cfg
            .cameras
            .iter()
            .find(|c| &c.id == id)
            .cloned()
            .with_context(|| format!("the config has no camera '{id}'"))?,
        None => cfg
            .cameras
            .first()
            .cloned()
            .context("the config has no camera")?,
    };
    cam_cfg.enabled = true;
    cam_cfg.source.kind = SourceKind::File;
    cam_cfg.source.path = a.file.display().to_string();
    cam_cfg.source.url.clear();
    cam_cfg.source.username.clear();
    cam_cfg.source.password.clear();
    cam_cfg.source.looping = false;
    if let Some(fps) = a.fps {
        anyhow::ensure!(
            fps.is_finite() && fps >= 0.0,
            "--fps {fps}: must be 0 (every frame) or a positive rate"
        );
        cam_cfg.analysis.fps = fps;
    }
    if let Some(fps) = a.active_fps {
        anyhow::ensure!(
            fps.is_finite() && fps >= 0.0,
            "--active-fps {fps}: must be 0 (every frame) or a positive rate"
        );
        cam_cfg.analysis.active_fps = fps;
    }
    // The file stands for this one camera: the same composition as `hallwatch run`
    // (hallwatch-pipeline), one detector worker, every frame the rate admits (a file waits
    // for the detector instead of dropping frames), so a replay is deterministic.
    cfg.cameras = vec![cam_cfg.clone()];
    let model = a
        .model
        .clone()
        .unwrap_or_else(|| crate::cli_ingest::model_path(&cfg));
    let manifest =
        Manifest::load(&model).with_context(|| format!("loading the model {}", model.display()))?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let Pipeline {
        ingest,
        pool,
        detected,
        mut analysis,
    } = Pipeline::start(
        &cfg,
        &manifest,
        &PoolOptions {
            workers: 1,
            intra_threads: a.threads,
            // A file goes frame after frame: spinning between runs is faster.
            spin: true,
        },
        Pacing::Lockstep,
    )
    .with_context(|| format!("starting the replay of {}", a.file.display()))?;
    let watch = ingest
        .cameras()
        .first()
        .map(|c| c.health_watch())
        .context("the replay's camera did not start")?;
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {pos} frames analysed {msg} [{elapsed}] {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let sizes = watch.clone();
    let mut files = RecordFiles::flat(
        &a.out,
        &cfg.zones,
        Box::new(move |_| sizes.get().source_size),
    );
    let mut progress = Progress(pb.clone());
    let started = Instant::now();
    {
        let mut sinks = Both(&mut files, &mut progress);
        // The camera ends with the file (its frames channel closes, then the pool's output).
        analysis.drive(&detected, &mut sinks, &Vec::new)?;
        let last = analysis.finish(&mut sinks)?;
        drop(last);
    }
    let costs = pool.costs();
    pool.join();
    let health = watch.get();
    ingest.stop();
    pb.finish_and_clear();
    if health.state == CameraState::Failed {
        anyhow::bail!(
            "{}: {}",
            a.file.display(),
            health.last_error.unwrap_or_else(|| "failed".into())
        );
    }
    let hall = analysis.latest().map(|(s, _)| s.clone());
    let summaries = files.finish().context("writing the replay files")?;
    let rec = summaries.into_values().next().unwrap_or_default();
    let cost = costs.into_iter().next().map(|(_, c)| c).unwrap_or_default();
    let analysed = cost.inferred + cost.skipped_still;
    let elapsed = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "file": a.file.display().to_string(),
        "camera": cam_cfg.id,
        "model": model.display().to_string(),
        "source_size": health.source_size,
        "source_fps": health.source_fps,
        "frames_decoded": health.frames_decoded,
        "frames_analysed": analysed,
        "frames_analysed_active": cost.analysed_active,
        "frames_skipped_by_rate": cost.skipped_by_rate,
        "analysis_fps": cam_cfg.analysis.fps,
        "active_fps": cam_cfg.analysis.active_fps,
        "frames_inferred": cost.inferred,
        "media_duration_s": rec.last_t,
        "tracks": rec.tracks,
        "zones": rec.zones,
        "waiting_zones": cfg.zones.iter().filter(|z| z.role == ZoneRole::Waiting).count(),
        "hall": hall,
        "elapsed_s": elapsed,
        "analysed_fps": analysed as f64 / elapsed.max(1e-9),
    });
    let summary_path = a.out.join("summary.json");
    std::fs::write(
        &summary_path,
        serde_json::to_string_pretty(&summary)? + "\n",
    )
    .with_context(|| format!("writing {}", summary_path.display()))?;
    println!(
        "{}: {analysed} frames analysed ({} inferred) in {elapsed:.1} s ({:.1} frames/s), {} tracks, {} zone visits -> {}",
        a.file.display(),
        cost.inferred,
        analysed as f64 / elapsed.max(1e-9),
        rec.tracks,
        rec.sessions,
        a.out.display()
    );
    Ok(())
}

/// Two sinks without boxing.
struct Both<'a, A: Sink, B: Sink>(&'a mut A, &'a mut B);

impl<A: Sink, B: Sink> Sink for Both<'_, A, B> {
    fn frame(&mut self, step: &FrameStep<'_>) -> std::io::Result<()> {
        self.0.frame(step)?;
        self.1.frame(step)
    }

    fn closed(
        &mut self,
        camera: &hallwatch_core::CameraId,
        events: &[hallwatch_zones::ZoneEvent],
        snapshot: &hallwatch_zones::HallSnapshot,
    ) -> std::io::Result<()> {
        self.0.closed(camera, events, snapshot)?;
        self.1.closed(camera, events, snapshot)
    }
}
