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
//! Time-weighted figures count against the hall's opening hours ([`Aggregator::with_calendar`]):
//! counter utilisation (busy seconds inside opening hours over open seconds) and camera uptime;
//! [`Aggregator::flow`] gives arrivals, throughput and abandonment. [`Filter`] restricts to a
//! camera, zone or counter.
//!
//! [`History`] is the API for the web and report layers: it reads a site's rows for a
//! [`HistoryQuery`] (time range, period, filter) from the event store (hallwatch-store) and
//! returns every [`Series`], as frames or JSON ([`frame_to_json`]). The live hall state is
//! [`hallwatch_core::HallState`], published by the pipeline.
#![deny(missing_docs)]

mod aggregate;
mod buckets;
mod export;
mod history;
mod timed;

pub use aggregate::{Aggregator, AnalyticsError, Filter, Period, SampleRecord, SessionRecord};
pub use export::{ExportFormat, export_partitioned};
pub use history::{History, HistoryQuery, Loaded, Series, frame_to_json};
pub use polars::prelude::DataFrame;
pub use timed::{AbandonRecord, OutageRecord};
