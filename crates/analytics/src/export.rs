//! Export of history as files partitioned hive-style (`site=…/date=…/part-0.parquet`), so that
//! polars, DuckDB or Spark read a whole tree with partition columns.

use crate::aggregate::{AnalyticsError, local_time};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// File format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Apache Parquet (zstd).
    Parquet,
    /// CSV with a header row.
    Csv,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
        }
    }
}

/// Writes `df` under `out/{table}/site={site}/date={YYYY-MM-DD}/part-0.{ext}`, one folder per
/// local date of `time_col` (Unix seconds) in time zone `tz`, rows in their original order.
/// Returns the files written, sorted. Existing files of the same partitions are replaced.
pub fn export_partitioned(
    df: &DataFrame,
    table: &str,
    time_col: &str,
    site: &str,
    tz: &str,
    out: &Path,
    format: ExportFormat,
) -> Result<Vec<PathBuf>, AnalyticsError> {
    let tz = TimeZone::opt_try_new(Some(tz))
        .ok()
        .flatten()
        .ok_or_else(|| AnalyticsError::TimeZone(tz.to_string()))?;
    let keyed = df
        .clone()
        .lazy()
        .with_column(
            local_time(time_col, &tz)
                .dt()
                .to_string("%Y-%m-%d")
                .alias("__date"),
        )
        .collect()?;
    let mut files = Vec::new();
    for part in keyed.partition_by_stable(["__date"], true)? {
        let date = part
            .column("__date")?
            .str()?
            .get(0)
            .unwrap_or("unknown")
            .to_string();
        let mut part = part.drop("__date")?;
        let dir = out
            .join(table)
            .join(format!("site={site}"))
            .join(format!("date={date}"));
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let path = dir.join(format!("part-0.{}", format.extension()));
        let file = std::fs::File::create(&path).map_err(|e| io_error(&path, e))?;
        match format {
            ExportFormat::Parquet => {
                ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(None))
                    .finish(&mut part)?;
            }
            ExportFormat::Csv => {
                CsvWriter::new(file)
                    .include_header(true)
                    .finish(&mut part)?;
            }
        }
        files.push(path);
    }
    files.sort();
    Ok(files)
}

fn io_error(path: &Path, e: std::io::Error) -> AnalyticsError {
    AnalyticsError::Io(format!("{}: {e}", path.display()))
}
