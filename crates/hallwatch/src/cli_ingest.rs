//! `hallwatch ingest` and the demo: every camera of a config with a live status line each.

use anyhow::{Context, Result};
use hallwatch_config::Config;
use hallwatch_core::{CameraHealth, CameraState};
use hallwatch_ingest::Ingest;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn status_line(h: &CameraHealth) -> String {
    let state = match &h.state {
        CameraState::Starting => "starting".to_string(),
        CameraState::Running => "running".to_string(),
        CameraState::Reconnecting { attempt, retry_in_s } => {
            format!("reconnecting (attempt {attempt} in {retry_in_s:.0} s)")
        }
        CameraState::Finished => "finished".to_string(),
        CameraState::Failed => "failed".to_string(),
        CameraState::Stopped => "stopped".to_string(),
    };
    let mut s = format!(
        "{state:<12} in {:>5.1} fps  analysed {:>5.1} fps  frames {:>6}  dropped {}  reconnects {}",
        h.input_fps, h.analysed_fps, h.frames_analysed, h.frames_dropped, h.reconnects
    );
    if let Some(e) = &h.last_error {
        if !matches!(h.state, CameraState::Running | CameraState::Finished) {
            s.push_str(&format!("  last error: {e}"));
        }
    }
    s
}

fn is_done(h: &CameraHealth) -> bool {
    matches!(
        h.state,
        CameraState::Finished | CameraState::Failed | CameraState::Stopped
    )
}

/// Runs the config's cameras until Ctrl-C, `seconds`, or every camera has ended.
pub fn run(cfg: &Config, seconds: Option<f64>) -> Result<ExitCode> {
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&interrupted);
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let ingest = Ingest::start(&cfg.cameras).context("starting cameras")?;
    if ingest.cameras().is_empty() {
        anyhow::bail!("the config has no enabled camera");
    }

    // Until detection exists, a consumer per camera drains the frames and counts them.
    let counters: Vec<Arc<AtomicU64>> = ingest
        .cameras()
        .iter()
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();
    let consumers: Vec<_> = ingest
        .cameras()
        .iter()
        .zip(&counters)
        .map(|(cam, n)| {
            let rx = cam.frames().clone();
            let n = Arc::clone(n);
            std::thread::spawn(move || {
                while let Ok(_frame) = rx.recv() {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bars: Vec<ProgressBar> = ingest
        .cameras()
        .iter()
        .map(|c| {
            let pb = multi.add(ProgressBar::new_spinner());
            pb.set_style(style.clone());
            pb.set_prefix(c.id().to_string());
            pb
        })
        .collect();
    let started = Instant::now();
    loop {
        let health = ingest.health();
        for (pb, h) in bars.iter().zip(&health) {
            pb.set_message(status_line(h));
            pb.tick();
        }
        let timed_out = seconds.is_some_and(|s| started.elapsed().as_secs_f64() >= s);
        if interrupted.load(Ordering::SeqCst) || timed_out || health.iter().all(is_done) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let health = ingest.health();
    for (pb, h) in bars.iter().zip(&health) {
        pb.finish_with_message(status_line(h));
    }
    ingest.stop();
    for c in consumers {
        let _ = c.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("summary after {elapsed:.1} s:");
    for (h, n) in health.iter().zip(&counters) {
        println!(
            "  {}: {} frames analysed ({} decoded, {} dropped), codec {}, source {}, reconnects {}{}",
            h.camera,
            n.load(Ordering::Relaxed),
            h.frames_decoded,
            h.frames_dropped,
            h.codec.as_deref().unwrap_or("?"),
            h.source_size
                .map(|(w, hh)| format!("{w}x{hh}"))
                .unwrap_or_else(|| "?".into()),
            h.reconnects,
            h.last_error
                .as_ref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default()
        );
    }
    let failed = health.iter().any(|h| h.state == CameraState::Failed);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
