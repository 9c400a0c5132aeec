//! `hallwatch simulate` and `hallwatch eval-sim`: a simulated hall with ground truth
//! (crates/sim), and the real tracker, zones, hall metrics and wait predictor measured on it.

use anyhow::{Context, Result};
use hallwatch_sim::eval::{EvalOptions, evaluate};
use hallwatch_sim::output::write_run;
use hallwatch_sim::{SimConfig, Simulator};
use std::path::PathBuf;
use std::time::Instant;

/// The score threshold the simulated detections are made for: the default model's (0.45), so
/// the tracker is set up as for the real detector.
const SIM_DETECTOR_THRESHOLD: f32 = 0.45;

/// Options of `hallwatch simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Working days to simulate (weekends and holidays are skipped).
    #[arg(long, default_value_t = 5)]
    pub days: u32,
    /// Random seed: the same seed gives the same files, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Simulator settings (TOML; every field optional, defaults: a district hall with about
    /// 110 dossiers a day).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Analysed frames per second of the virtual camera (default: the config's, 2).
    #[arg(long)]
    pub fps: Option<f64>,
}

/// Options of `hallwatch eval-sim`.
#[derive(clap::Args)]
pub struct EvalSimArgs {
    /// A folder written by `hallwatch simulate`.
    pub dir: PathBuf,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write every zone visit the pipeline closed to this CSV.
    #[arg(long)]
    pub sessions: Option<PathBuf>,
    /// Also write each served citizen's predicted and realised wait to this CSV.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
}

/// Runs `hallwatch simulate`.
pub fn simulate(a: &SimulateArgs) -> Result<()> {
    let mut cfg = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            SimConfig::from_toml_str(&text).with_context(|| p.display().to_string())?
        }
        None => SimConfig::default(),
    };
    if let Some(fps) = a.fps {
        cfg.camera.fps = fps;
    }
    let started = Instant::now();
    let mut sim = Simulator::new(&cfg, a.seed, a.days)?;
    let m = write_run(&mut sim, &a.out)?;
    let c = &m.counts;
    println!(
        "simulated {} working days ({} to {}), seed {}: {} citizens ({} served, {} no-show, {} gave up), {} ticket events, {} ratings, {} frames with {} detections at {} fps -> {} ({:.1} s)",
        m.days,
        m.dates.first().map_or("-", String::as_str),
        m.dates.last().map_or("-", String::as_str),
        m.seed,
        c.citizens,
        c.served,
        c.no_show,
        c.abandoned,
        c.ticket_events,
        c.ratings,
        c.frames,
        c.detections,
        m.fps,
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs `hallwatch eval-sim`.
pub fn eval_sim(a: &EvalSimArgs) -> Result<()> {
    let opts = EvalOptions {
        tracker: hallwatch_pipeline::tracker_config(SIM_DETECTOR_THRESHOLD),
        sessions_csv: a.sessions.clone(),
        predictions_csv: a.predictions.clone(),
        ..EvalOptions::default()
    };
    let report = evaluate(&a.dir, &opts)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}
