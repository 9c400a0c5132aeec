//! The `hallwatch` command.
//!
//! Subcommands: `demo` (the whole system on the sample footage with a simulated ticket feed),
//! `check-config` (every config error at once, with its path), `probe` (what an operator runs
//! when wiring a camera) and `ingest` (run a config's cameras with live status).

mod central_cmd;
mod cli_ingest;
mod demo_cmd;
mod detect_cmd;
mod eval_cmd;
mod export_cmd;
mod import_cmd;
mod live_snapshot;
mod live_state;
mod probe;
mod province_report;
mod replay;
mod report_cmd;
mod run_cmd;
mod sim_cmd;
mod sim_feed;
mod sim_hall;
mod snapshot;
mod user_cmd;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hallwatch",
    version,
    about = "Service-quality figures from a one-stop hall's CCTV"
)]
struct Cli {
    /// Log filter (tracing env-filter syntax), e.g. `info` or `hallwatch_ingest=debug`.
    #[arg(long, global = true, env = "HALLWATCH_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole system on the sample footage: a looping live camera through the detector,
    /// tracker and zones, a simulated ticket system and rating devices, the dashboard on
    /// http://127.0.0.1:8080 with a demo login, alerts on the console. Ctrl-C stops.
    Demo(demo_cmd::DemoArgs),
    /// Checks a config file and lists every error with its path.
    CheckConfig {
        /// The TOML config file.
        file: PathBuf,
    },
    /// Opens a source (rtsp://..., a file, or test:PATTERN), prints codec, resolution and frame
    /// rate, decodes frames and reports the decode rate.
    Probe {
        /// rtsp:// URL (credentials allowed, never printed), file path, or test:PATTERN.
        source: String,
        /// Frames to decode.
        #[arg(long, short = 'n', default_value_t = 100)]
        frames: u64,
        /// RTSP transport: tcp, udp or auto.
        #[arg(long, default_value = "tcp")]
        transport: String,
        /// Seconds to wait for the first frame.
        #[arg(long, default_value_t = 20.0)]
        timeout: f64,
    },
    /// Runs the person detector over a video file and writes MOTChallenge detections
    /// (`frame,-1,x,y,w,h,score,-1,-1,-1`, frame = 1-based decoded frame, source pixels).
    Detect(detect_cmd::DetectArgs),
    /// Precision, recall and AP at IoU 0.5 of MOTChallenge detections against ground truth
    /// (rows with confidence 0 ignored).
    EvalDetections {
        /// Ground truth (gt.txt).
        #[arg(long)]
        gt: PathBuf,
        /// Detections (`hallwatch detect` output).
        #[arg(long)]
        det: PathBuf,
    },
    /// MOTA, IDF1, ID switches, precision and recall (IoU 0.5) of MOTChallenge tracks against
    /// ground truth, computed as py-motmetrics does.
    EvalTracks {
        /// Ground truth (gt.txt).
        #[arg(long)]
        gt: PathBuf,
        /// Tracks (`hallwatch replay` tracks.txt).
        #[arg(long)]
        tracks: PathBuf,
    },
    /// A zone's count per frame and its visits against MOTChallenge ground truth: count MAE and
    /// bias (and the tracker's own boxes'), visits true/found/matched (temporal IoU >= 0.5),
    /// duration errors, merges and splits.
    EvalZones(eval_cmd::EvalZonesArgs),
    /// Writes one frame with a normalised grid (and the config's zones) as PNG, for drawing
    /// zones. People are pixelated unless --no-blur.
    Snapshot(snapshot::SnapshotArgs),
    /// Exports history from the event store as Parquet or CSV, partitioned by site and local
    /// date.
    Export(export_cmd::ExportArgs),
    /// The monthly service-quality review (Báo cáo tháng) as HTML, PDF and XLSX.
    Report(report_cmd::ReportArgs),
    /// Imports a ticket-system or dossier export (CSV or XLSX) into the event store.
    Import(import_cmd::ImportArgs),
    /// Replays a file through ingest, detection, tracking and zones as fast as possible and
    /// writes tracks.txt (MOTChallenge), zone_counts.csv, zone_sessions.csv and summary.json.
    Replay(replay::ReplayArgs),
    /// Simulates a one-stop hall with ground truth: truth.csv, tickets.csv, ratings.csv,
    /// queue_truth.csv, MOTChallenge detections of a virtual camera, manifest.json (--out);
    /// or a hall's config and event store as if hallwatch had watched it (--hall).
    Simulate(sim_cmd::SimulateArgs),
    /// Runs the tracker, zones, hall metrics and wait predictor over a simulated hall and prints
    /// their errors against its truth.
    EvalSim(sim_cmd::EvalSimArgs),
    /// Runs the hall server: every camera through detection, tracking and zones into the event
    /// store, the dashboard and API on [server].bind, and the alerts, until Ctrl-C or SIGTERM.
    Run {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<f64>,
        /// Also write each camera's tracks, per-frame zone counts and visits into
        /// FOLDER/<camera>/, as `replay` does, for `eval-zones` on a live run (benchmarks,
        /// accuracy checks; it grows without bound, so not for a hall's daily service).
        #[arg(long, value_name = "FOLDER")]
        record: Option<PathBuf>,
    },
    /// The province centre: consumes every hall's facts from NATS JetStream into PostgreSQL
    /// and serves the province API on [server].bind of a central.toml, until Ctrl-C or
    /// SIGTERM.
    Central {
        /// The central.toml.
        #[arg(long, short)]
        config: PathBuf,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<f64>,
        /// Instead of running: import each commune's monthly Decision 766/QĐ-TTg scores from
        /// this CSV (columns site, month, total, and optionally cong_khai, tien_do,
        /// truc_tuyen, hai_long, so_hoa) into the centre's database, then exit.
        #[arg(long, value_name = "CSV")]
        import_766: Option<PathBuf>,
    },
    /// Runs every enabled camera of a config with live status until Ctrl-C (or all files end).
    Ingest {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<f64>,
    },
    /// Dashboard users: add, passwd, role, del, list (`--data-dir DIR` or `--config FILE`).
    User(user_cmd::UserArgs),
    /// API tokens for machines (ticket system, kiosks, monitoring): add, list, revoke.
    Token(user_cmd::TokenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::CheckConfig { file } => Ok(check_config(&file)),
        Command::Probe {
            source,
            frames,
            transport,
            timeout,
        } => probe::run(&source, frames, &transport, timeout),
        Command::Detect(args) => {
            detect_cmd::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Snapshot(args) => {
            snapshot::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalDetections { gt, det } => {
            eval_cmd::detections(&gt, &det)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalTracks { gt, tracks } => {
            eval_cmd::tracks(&gt, &tracks)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalZones(args) => {
            eval_cmd::zones(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            report_cmd::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => import_cmd::run(&args),
        Command::Export(args) => {
            export_cmd::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay(args) => {
            replay::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate(args) => {
            sim_cmd::simulate(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalSim(args) => {
            sim_cmd::eval_sim(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Central {
            config,
            seconds,
            import_766,
        } => match import_766 {
            Some(file) => central_cmd::import_766(&config, &file),
            None => central_cmd::run(&config, seconds),
        },
        Command::Run {
            config,
            seconds,
            record,
        } => match hallwatch_config::Config::load(&config) {
            Ok(cfg) => run_cmd::run(
                cfg,
                run_cmd::ServeOptions {
                    seconds,
                    record,
                    ..run_cmd::ServeOptions::default()
                },
            ),
            Err(errors) => {
                eprintln!("{}: invalid config:\n{errors}", config.display());
                Ok(ExitCode::from(2))
            }
        },
        Command::Ingest { config, seconds } => {
            let cfg = match hallwatch_config::Config::load(&config) {
                Ok(c) => c,
                Err(errors) => {
                    eprintln!("{}: invalid config:\n{errors}", config.display());
                    return Ok(ExitCode::from(2));
                }
            };
            cli_ingest::run(&cfg, seconds)
        }
        Command::User(args) => {
            user_cmd::run_user(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(args) => {
            user_cmd::run_token(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo_cmd::run(&args),
    }
}

fn check_config(file: &std::path::Path) -> ExitCode {
    match hallwatch_config::Config::load(file) {
        Ok(cfg) => {
            println!(
                "{}: ok (site '{}', {} cameras, {} zones)",
                file.display(),
                cfg.site.id,
                cfg.cameras.len(),
                cfg.zones.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{}: {} error(s):", file.display(), errors.errors().len());
            for e in errors.errors() {
                eprintln!("  {e}");
            }
            ExitCode::from(2)
        }
    }
}

/// The setup cache: $HALLWATCH_CACHE, else ~/.cache/hallwatch.
fn cache_dir() -> Result<PathBuf> {
    std::env::var_os("HALLWATCH_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/hallwatch")))
        .ok_or_else(|| anyhow::anyhow!("neither HALLWATCH_CACHE nor HOME is set"))
}

/// The cached sample footage (`scripts/dev setup` puts it there).
fn default_footage() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("HALLWATCH_VTEST") {
        return Ok(PathBuf::from(p));
    }
    let p = cache_dir()?.join("footage/vtest.avi");
    if !p.is_file() {
        anyhow::bail!(
            "sample footage {} is missing: run `scripts/dev setup`, or pass --footage FILE",
            p.display()
        );
    }
    Ok(p)
}
