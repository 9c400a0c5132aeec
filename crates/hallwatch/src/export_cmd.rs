//! `hallwatch export`: history from the event store as Parquet or CSV files partitioned
//! hive-style (`{table}/site=…/date=…/part-0.*`), for polars, DuckDB or Spark.

use anyhow::{Context, Result};
use chrono::{NaiveDate, TimeZone};
use hallwatch_analytics::{
    Aggregator, ExportFormat, SampleRecord, SessionRecord, export_partitioned,
};
use hallwatch_config::{Config, ZoneRole};
use hallwatch_store::{SessionQuery, Store};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// Options of `hallwatch export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The hall config (site, time zone, data folder).
    #[arg(long, short)]
    pub config: PathBuf,
    /// First local day, YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Last local day (included), YYYY-MM-DD.
    #[arg(long)]
    pub to: String,
    /// parquet or csv.
    #[arg(long, default_value = "parquet")]
    pub format: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// Unix seconds of local midnight starting `day` in `tz`.
fn midnight(day: &str, tz: &chrono_tz::Tz) -> Result<f64> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .with_context(|| format!("'{day}' is not a date (YYYY-MM-DD)"))?;
    let naive = date.and_hms_opt(0, 0, 0).context("midnight")?;
    let local = tz
        .from_local_datetime(&naive)
        .earliest()
        .with_context(|| format!("{day} 00:00 does not exist in {tz}"))?;
    Ok(local.timestamp() as f64)
}

fn role_name(r: ZoneRole) -> &'static str {
    match r {
        ZoneRole::Waiting => "waiting",
        ZoneRole::Counter => "counter",
        ZoneRole::Entrance => "entrance",
        ZoneRole::Ignore => "ignore",
    }
}

/// Runs the command.
pub fn run(a: &ExportArgs) -> Result<()> {
    let cfg = Config::load(&a.config)
        .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", a.config.display()))?;
    let format = match a.format.as_str() {
        "parquet" => ExportFormat::Parquet,
        "csv" => ExportFormat::Csv,
        other => anyhow::bail!("--format {other}: expected parquet or csv"),
    };
    let tz: chrono_tz::Tz = cfg.site.timezone.parse().map_err(|_| {
        anyhow::anyhow!(
            "site.timezone '{}' is not an IANA time zone",
            cfg.site.timezone
        )
    })?;
    let from = midnight(&a.from, &tz)?;
    let to = midnight(&a.to, &tz)? + 86_400.0;
    anyhow::ensure!(to > from, "--to {} is before --from {}", a.to, a.from);
    let db = PathBuf::from(&cfg.storage.data_dir).join("hallwatch.db");
    anyhow::ensure!(
        db.is_file(),
        "no event store at {} (storage.data_dir)",
        db.display()
    );
    let store = Store::open(&db)?;
    let pb = ProgressBar::new(4);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message("reading visits");
    let sessions: Vec<SessionRecord> = store
        .sessions(&SessionQuery::new(cfg.site.id.clone(), from, to))?
        .into_iter()
        .filter_map(|s| {
            Some(SessionRecord {
                camera: s.camera.to_string(),
                zone: s.zone.clone(),
                role: role_name(s.role).to_string(),
                counter: s.counter,
                enter: s.enter,
                exit: s.exit?,
                truncated: s.truncated,
            })
        })
        .collect();
    pb.inc(1);
    pb.set_message("reading zone samples");
    let roles: std::collections::HashMap<&str, ZoneRole> =
        cfg.zones.iter().map(|z| (z.id.as_str(), z.role)).collect();
    let samples: Vec<SampleRecord> = store
        .zone_samples(&cfg.site.id, from, to, None)?
        .into_iter()
        .map(|z| SampleRecord {
            role: roles
                .get(z.zone.as_str())
                .map_or("waiting", |r| role_name(*r))
                .to_string(),
            zone: z.zone,
            t: z.t,
            people: z.people_smoothed,
        })
        .collect();
    pb.inc(1);
    pb.set_message("writing visits");
    let mut files = export_partitioned(
        &Aggregator::sessions_frame(&sessions)?,
        "sessions",
        "enter",
        &cfg.site.id,
        &cfg.site.timezone,
        &a.out,
        format,
    )?;
    pb.inc(1);
    pb.set_message("writing zone samples");
    files.extend(export_partitioned(
        &Aggregator::samples_frame(&samples)?,
        "zone_samples",
        "t",
        &cfg.site.id,
        &cfg.site.timezone,
        &a.out,
        format,
    )?);
    pb.inc(1);
    pb.finish_and_clear();
    println!(
        "{} visits and {} zone samples from {} to {} -> {} files under {}",
        sessions.len(),
        samples.len(),
        a.from,
        a.to,
        files.len(),
        a.out.display()
    );
    Ok(())
}
