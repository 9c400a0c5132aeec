//! `hallwatch snapshot`: one frame of a camera or file with a normalised grid and the
//! configured zones drawn on it, for drawing zones. People are pixelated unless `--no-blur`.

use anyhow::{Context, Result};
use hallwatch_config::{Config, ZoneRole};
use hallwatch_core::CameraState;
use hallwatch_detect::render::Canvas;
use hallwatch_detect::{DetectorOptions, OrtDetector};
use hallwatch_ingest::CameraHandle;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Options of `hallwatch snapshot`.
#[derive(clap::Args)]
pub struct SnapshotArgs {
    /// rtsp:// URL, file or test:PATTERN (or use --config with --camera).
    pub source: Option<String>,
    /// Config whose zones are drawn (and whose camera is opened with --camera).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Camera id in the config.
    #[arg(long)]
    pub camera: Option<String>,
    /// Seconds into a file (or seconds to wait on a live source).
    #[arg(long, default_value_t = 0.0)]
    pub at: f64,
    /// Do not pixelate people.
    #[arg(long)]
    pub no_blur: bool,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
}

fn colour(role: ZoneRole) -> [u8; 3] {
    match role {
        ZoneRole::Waiting => [255, 200, 0],
        ZoneRole::Counter => [0, 220, 120],
        ZoneRole::Entrance => [0, 160, 255],
        ZoneRole::Ignore => [160, 160, 160],
    }
}

/// Runs the command.
pub fn run(a: &SnapshotArgs) -> Result<()> {
    let cfg = match &a.config {
        Some(p) => Some(
            Config::load(p)
                .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", p.display()))?,
        ),
        None => None,
    };
    let mut cam_cfg = match (&a.source, &cfg, &a.camera) {
        (Some(src), _, _) => crate::probe::camera_for(src, "tcp", 20.0)?,
        (None, Some(c), Some(id)) => c
            .cameras
            .iter()
            .find(|k| &k.id == id)
            .cloned()
            .with_context(|| format!("the config has no camera '{id}'"))?,
        _ => anyhow::bail!("give a SOURCE, or --config with --camera"),
    };
    // Full resolution, every frame: the snapshot is for drawing, not analysis.
    cam_cfg.analysis.fps = 0.0;
    cam_cfg.analysis.width = 0;
    cam_cfg.analysis.height = 0;
    let camera_id = a.camera.clone().unwrap_or_else(|| cam_cfg.id.clone());
    let cam = CameraHandle::spawn(&cam_cfg).context("opening the source")?;
    let started = Instant::now();
    let mut last = None;
    loop {
        match cam.frames().recv_timeout(Duration::from_millis(200)) {
            Ok(f) => {
                let live = f.time.wall.is_some();
                let reached = if live {
                    started.elapsed().as_secs_f64() >= a.at
                } else {
                    f.time.media.as_secs_f64() >= a.at
                };
                last = Some(f);
                if reached {
                    break;
                }
            }
            Err(_) => {
                let h = cam.health();
                if matches!(h.state, CameraState::Finished | CameraState::Failed)
                    || started.elapsed() > Duration::from_secs(30) && last.is_none()
                {
                    if last.is_none() {
                        anyhow::bail!(
                            "no frame: {}",
                            h.last_error.unwrap_or_else(|| "timed out".into())
                        );
                    }
                    break;
                }
            }
        }
    }
    drop(cam);
    let frame = last.context("no frame")?;
    let mut canvas = Canvas::from_frame(&frame);
    if !a.no_blur {
        let model = cfg
            .as_ref()
            .map(crate::cli_ingest::model_path)
            .unwrap_or_else(crate::detect_cmd::default_model);
        let mut det = OrtDetector::load(&model, &DetectorOptions::default())
            .context("the person detector is needed to blur people (or pass --no-blur)")?;
        // A low threshold: better to blur a sign than to show a face.
        let (people, _) = det.detect(&frame, &[], 0.25)?;
        let boxes: Vec<_> = people.iter().map(|d| d.bbox).collect();
        canvas.pixelate(&boxes)?;
    }
    canvas.grid(0.1)?;
    if let Some(c) = &cfg {
        for z in c.zones.iter().filter(|z| z.camera == camera_id) {
            let label = if z.name.is_empty() {
                z.id.clone()
            } else {
                format!("{} ({})", z.id, z.role_name())
            };
            if z.role == ZoneRole::Entrance {
                canvas.polygon(&z.line, colour(z.role), &label, false)?;
            } else {
                canvas.polygon(&z.polygon, colour(z.role), &label, true)?;
                if !z.staff_polygon.is_empty() {
                    canvas.polygon(
                        &z.staff_polygon,
                        [255, 80, 80],
                        &format!("{} staff", z.id),
                        true,
                    )?;
                }
            }
        }
    }
    std::fs::write(&a.out, canvas.png()?)
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "{}: frame {} ({}x{}) at {:.1} s with a 0.1 grid{} -> {}",
        camera_id,
        frame.source_index + 1,
        frame.width,
        frame.height,
        frame.time.media.as_secs_f64(),
        if a.no_blur { "" } else { ", people pixelated" },
        a.out.display()
    );
    Ok(())
}
