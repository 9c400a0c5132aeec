//! `hallwatch export`: history from the event store as Parquet or CSV files partitioned
//! hive-style (`{table}/site=…/date=…/part-0.*`), for polars, DuckDB or Spark.

use anyhow::{Context, Result};
use chrono::{NaiveDate, TimeZone};
use hallwatch_analytics::{
    Aggregator, DataFrame, ExportFormat, Filter, History, HistoryQuery, Period, export_partitioned,
};
use hallwatch_config::Config;
use hallwatch_store::Store;
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
    let history = History::new(&store, &cfg)?;
    let pb = ProgressBar::new(5);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message("reading history");
    let loaded = history.load(&HistoryQuery {
        from,
        to,
        period: Period::Day,
        filter: Filter::default(),
    })?;
    pb.inc(1);
    let write = |df: &DataFrame, table: &str, time_col: &str| {
        export_partitioned(
            df,
            table,
            time_col,
            &cfg.site.id,
            &cfg.site.timezone,
            &a.out,
            format,
        )
    };
    pb.set_message("writing visits");
    let mut files = write(
        &Aggregator::sessions_frame(&loaded.sessions)?,
        "sessions",
        "enter",
    )?;
    pb.inc(1);
    pb.set_message("writing zone samples");
    files.extend(write(
        &Aggregator::samples_frame(&loaded.samples)?,
        "zone_samples",
        "t",
    )?);
    pb.inc(1);
    pb.set_message("writing abandonments");
    let ab = &loaded.abandonments;
    files.extend(write(
        &Aggregator::abandonments_frame(ab)?,
        "abandonments",
        "t",
    )?);
    pb.inc(1);
    pb.set_message("writing camera outages");
    let out = &loaded.outages;
    files.extend(write(
        &Aggregator::outages_frame(out)?,
        "camera_outages",
        "start",
    )?);
    pb.inc(1);
    pb.finish_and_clear();
    println!(
        "{} visits, {} zone samples, {} abandonments, {} camera outages from {} to {} -> {} files under {}",
        loaded.sessions.len(),
        loaded.samples.len(),
        ab.len(),
        out.len(),
        a.from,
        a.to,
        files.len(),
        a.out.display()
    );
    Ok(())
}
