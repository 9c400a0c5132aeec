//! hallwatch-analytics: aggregation of hall history with polars (lazy), in the hall's local
//! time.
//!
//! Input rows come from the event store ([`SessionRecord`], [`SampleRecord`]); the
//! [`Aggregator`] turns them into the series reviewers read: waits per period (count, mean,
//! p50, p90, max, share within the target), service time per counter with busy seconds, queue
//! length per zone and hall-wide (mean, max), and a weekday x hour heatmap. Periods
//! ([`Period`]) are minutes, hours, local days or local months; local means the site's IANA
//! time zone (Asia/Ho_Chi_Minh by default). [`export_partitioned`] writes Parquet or CSV
//! partitioned hive-style (`site=…/date=…`).
//!
//! Status: part of issue 5 — the store, wait prediction, export and retention live in their own
//! crates or are still to come.
#![deny(missing_docs)]

mod aggregate;
mod export;

pub use aggregate::{Aggregator, AnalyticsError, Period, SampleRecord, SessionRecord};
pub use export::{ExportFormat, export_partitioned};
pub use polars::prelude::DataFrame;
