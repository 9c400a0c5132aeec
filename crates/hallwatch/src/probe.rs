//! `hallwatch probe`: open one source, say what it is, decode frames and time it.

use anyhow::{Context, Result};
use hallwatch_config::CameraConfig;
use hallwatch_core::{CameraState, redact};
use hallwatch_ingest::CameraHandle;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// A camera config for one source string: rtsp(s):// URL, test:PATTERN, or a file path.
pub fn camera_for(source: &str, transport: &str, timeout: f64) -> Result<CameraConfig> {
    let mut src = toml::Table::new();
    if source.starts_with("rtsp://") || source.starts_with("rtsps://") {
        src.insert("kind".into(), "rtsp".into());
        src.insert("url".into(), source.into());
        src.insert("transport".into(), transport.into());
    } else if let Some(pattern) = source.strip_prefix("test:") {
        src.insert("kind".into(), "test".into());
        src.insert("pattern".into(), pattern.into());
    } else {
        src.insert("kind".into(), "file".into());
        src.insert("path".into(), source.into());
    }
    let mut analysis = toml::Table::new();
    analysis.insert("fps".into(), 0.0.into());
    analysis.insert("queue".into(), 16.into());
    let mut supervision = toml::Table::new();
    supervision.insert("start_timeout_s".into(), timeout.into());
    supervision.insert("no_frame_timeout_s".into(), timeout.into());
    let mut cam = toml::Table::new();
    cam.insert("id".into(), "probe".into());
    cam.insert("source".into(), src.into());
    cam.insert("analysis".into(), analysis.into());
    cam.insert("supervision".into(), supervision.into());
    CameraConfig::deserialize(toml::Value::Table(cam)).context("building the probe's camera")
}

/// Runs the probe.
pub fn run(source: &str, frames: u64, transport: &str, timeout: f64) -> Result<ExitCode> {
    let cfg = camera_for(source, transport, timeout)?;
    let shown = redact::url(source);
    println!("probing {shown}");
    let mut cam = CameraHandle::spawn(&cfg).context("starting the probe")?;
    let pb = ProgressBar::new(frames);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut got = 0u64;
    let mut first: Option<Instant> = None;
    let mut size = None;
    let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(1.0));
    while got < frames {
        match cam.frames().recv_timeout(Duration::from_millis(200)) {
            Ok(f) => {
                first.get_or_insert_with(Instant::now);
                size = Some((f.width, f.height));
                got += 1;
                pb.inc(1);
            }
            Err(_) => {
                let h = cam.health();
                let failed = matches!(
                    h.state,
                    CameraState::Failed | CameraState::Reconnecting { .. }
                );
                if failed
                    || h.state == CameraState::Finished
                    || (got == 0 && Instant::now() > deadline)
                {
                    break;
                }
            }
        }
    }
    pb.finish_and_clear();
    let elapsed = first.map(|t| t.elapsed().as_secs_f64()).unwrap_or(0.0);
    let h = cam.health();
    cam.stop();
    if got == 0 {
        println!(
            "no frame decoded: {}",
            h.last_error
                .as_deref()
                .unwrap_or("timed out waiting for the first frame")
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("codec:      {}", h.codec.as_deref().unwrap_or("unknown"));
    if let Some((w, hh)) = h.source_size.or(size) {
        println!("resolution: {w}x{hh}");
    }
    match h.source_fps {
        Some(fps) => println!("frame rate: {fps:.2} fps"),
        None => println!("frame rate: variable or not stated"),
    }
    let rate = if elapsed > 0.0 && got > 1 {
        (got - 1) as f64 / elapsed
    } else {
        0.0
    };
    println!("decoded:    {got} frames, {rate:.1} frames/s (decode + RGB conversion)");
    if let Some(e) = h.last_error {
        println!("last error: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The next frame of a file camera, waiting as long as it decodes: None once the file has
/// ended and every frame was taken, an error naming the file when the camera failed.
pub fn next_file_frame(
    cam: &CameraHandle,
    file: &std::path::Path,
) -> Result<Option<hallwatch_core::Frame>> {
    loop {
        if let Ok(f) = cam.frames().recv_timeout(Duration::from_millis(200)) {
            return Ok(Some(f));
        }
        let h = cam.health();
        match h.state {
            CameraState::Finished if cam.frames().is_empty() => return Ok(None),
            CameraState::Failed => anyhow::bail!(
                "{}: {}",
                file.display(),
                h.last_error.unwrap_or_else(|| "failed".into())
            ),
            _ => {}
        }
    }
}
