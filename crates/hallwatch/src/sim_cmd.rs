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
    /// Output folder for the run's files (created if missing).
    #[arg(long, required_unless_present = "hall")]
    pub out: Option<PathBuf>,
    /// A hall folder: the simulated hall as if hallwatch had watched it. Its config
    /// `DIR/hall.toml` (written if missing; an existing one is used as it is, so add an
    /// [uplink] to it) and its event store (the config's data folder): the virtual camera's
    /// detections through the real tracker, zones and store writer, the ticket events and
    /// ratings through the API's checks. Then `hallwatch report --config DIR/hall.toml`
    /// reviews the month. With an [uplink], the facts are shipped to the province centre
    /// before the command ends.
    #[arg(long)]
    pub hall: Option<PathBuf>,
    /// The hall id of a new `DIR/hall.toml` (default: sim-hall).
    #[arg(long, requires = "hall")]
    pub site: Option<String>,
    /// First simulated day, local YYYY-MM-DD (default: the simulator config's, 2026-11-23); a
    /// closed day starts at the next working day.
    #[arg(long)]
    pub start: Option<String>,
    /// With --hall and an [uplink]: how long to wait for the centre to acknowledge every fact.
    #[arg(long, default_value_t = 300)]
    pub ship_timeout_s: u64,
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
    if let Some(start) = &a.start {
        cfg.start_date = start.clone();
    }
    if let Some(dir) = &a.hall {
        crate::sim_hall::simulate_hall(
            &cfg,
            &crate::sim_hall::HallRun {
                dir,
                site: a.site.as_deref(),
                seed: a.seed,
                days: a.days,
                ship_timeout: std::time::Duration::from_secs(a.ship_timeout_s),
            },
        )?;
    }
    let Some(out) = &a.out else {
        return Ok(());
    };
    let started = Instant::now();
    let mut sim = Simulator::new(&cfg, a.seed, a.days)?;
    let m = write_run(&mut sim, out)?;
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
        out.display(),
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
