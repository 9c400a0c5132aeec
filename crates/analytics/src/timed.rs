//! Time-weighted figures against opening hours: counter utilisation and camera uptime, and the
//! flow series (arrivals, throughput, abandonment).

use crate::aggregate::local_time;
use crate::buckets::{clip, split};
use crate::{Aggregator, AnalyticsError, Period, SessionRecord};
use polars::prelude::*;
use std::collections::BTreeMap;

/// One camera outage as stored (`end` `None` while the camera is still down).
#[derive(Clone, Debug, PartialEq)]
pub struct OutageRecord {
    /// Camera id.
    pub camera: String,
    /// Unix seconds.
    pub start: f64,
    /// Unix seconds; `None` while still down.
    pub end: Option<f64>,
}

/// One person who left a waiting zone unserved.
#[derive(Clone, Debug, PartialEq)]
pub struct AbandonRecord {
    /// Camera id.
    pub camera: String,
    /// Waiting zone id.
    pub zone: String,
    /// When they were last seen, Unix seconds.
    pub t: f64,
    /// How long they had waited, seconds.
    pub waited_s: f64,
}

/// Bucket starts (Unix seconds) as the `period` datetime column the polars series use.
fn period_column(agg: &Aggregator, starts: Vec<f64>) -> Result<Column, AnalyticsError> {
    let df = df!("t" => starts)?;
    let out = df
        .lazy()
        .select([local_time("t", agg.polars_tz()).alias("period")])
        .collect()?;
    Ok(out.column("period")?.clone())
}

impl Aggregator {
    /// A frame of abandonments: `camera, zone, t, waited_s`.
    pub fn abandonments_frame(rows: &[AbandonRecord]) -> Result<DataFrame, AnalyticsError> {
        Ok(df!(
            "camera" => rows.iter().map(|a| a.camera.as_str()).collect::<Vec<_>>(),
            "zone" => rows.iter().map(|a| a.zone.as_str()).collect::<Vec<_>>(),
            "t" => rows.iter().map(|a| a.t).collect::<Vec<_>>(),
            "waited_s" => rows.iter().map(|a| a.waited_s).collect::<Vec<_>>(),
        )?)
    }

    /// A frame of camera outages: `camera, start, end` (`end` null while down).
    pub fn outages_frame(rows: &[OutageRecord]) -> Result<DataFrame, AnalyticsError> {
        Ok(df!(
            "camera" => rows.iter().map(|o| o.camera.as_str()).collect::<Vec<_>>(),
            "start" => rows.iter().map(|o| o.start).collect::<Vec<_>>(),
            "end" => rows.iter().map(|o| o.end).collect::<Vec<_>>(),
        )?)
    }

    /// Open seconds of the hall per bucket of `period` within `[from, to)`.
    fn open_buckets(&self, period: Period, from: f64, to: f64) -> BTreeMap<i64, f64> {
        let mut open = BTreeMap::new();
        for (s, e) in self.open_intervals(from, to) {
            for (b, secs) in split(self.chrono_tz(), period, s, e) {
                *open.entry(b as i64).or_insert(0.0) += secs;
            }
        }
        open
    }

    /// Counter utilisation against opening hours, per counter and bucket of `period` within
    /// `[from, to)`: `period, counter, busy_s, open_s, utilisation` where `busy_s` is the time
    /// citizens were at the counter inside opening hours (a service across the lunch break
    /// counts only its open part) and `utilisation = busy_s / open_s`. Buckets with no opening
    /// hours (nights, weekends, holidays) are left out; a counter with no service in an open
    /// bucket has a 0 row. Truncated visits count for the time they were seen.
    pub fn utilisation(
        &self,
        sessions: &[SessionRecord],
        period: Period,
        from: f64,
        to: f64,
    ) -> Result<DataFrame, AnalyticsError> {
        let open = self.open_buckets(period, from, to);
        let intervals = self.open_intervals(from, to);
        let mut counters: Vec<u32> = sessions
            .iter()
            .filter(|s| s.role == "counter")
            .map(|s| s.counter)
            .collect();
        counters.sort_unstable();
        counters.dedup();
        let mut busy: BTreeMap<(i64, u32), f64> = BTreeMap::new();
        for s in sessions.iter().filter(|s| s.role == "counter") {
            for (a, b) in clip(s.enter, s.exit, &intervals) {
                for (bk, secs) in split(self.chrono_tz(), period, a, b) {
                    *busy.entry((bk as i64, s.counter)).or_insert(0.0) += secs;
                }
            }
        }
        let (mut starts, mut cs, mut busy_s, mut open_s) = (vec![], vec![], vec![], vec![]);
        for (&b, &o) in &open {
            for &c in &counters {
                starts.push(b as f64);
                cs.push(c);
                busy_s.push(busy.get(&(b, c)).copied().unwrap_or(0.0));
                open_s.push(o);
            }
        }
        let period_col = period_column(self, starts)?;
        let n = cs.len();
        let df = DataFrame::new(
            n,
            vec![
                period_col,
                Column::new("counter".into(), cs),
                Column::new("busy_s".into(), busy_s),
                Column::new("open_s".into(), open_s),
            ],
        )?;
        Ok(df
            .lazy()
            .with_column((col("busy_s") / col("open_s")).alias("utilisation"))
            .sort(["period", "counter"], Default::default())
            .collect()?)
    }

    /// Camera uptime against opening hours, per camera and bucket of `period` within
    /// `[from, to)`: `period, camera, open_s, down_s, uptime` with `uptime = 1 - down_s /
    /// open_s`. An outage still open counts until `to`. Overlapping outages of one camera are
    /// counted once.
    pub fn uptime(
        &self,
        cameras: &[String],
        outages: &[OutageRecord],
        period: Period,
        from: f64,
        to: f64,
    ) -> Result<DataFrame, AnalyticsError> {
        let open = self.open_buckets(period, from, to);
        let intervals = self.open_intervals(from, to);
        let mut down: BTreeMap<(i64, &str), f64> = BTreeMap::new();
        for cam in cameras {
            // Merge this camera's outages first so overlaps count once.
            let mut spans: Vec<(f64, f64)> = outages
                .iter()
                .filter(|o| &o.camera == cam)
                .map(|o| (o.start, o.end.unwrap_or(to)))
                .collect();
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut merged: Vec<(f64, f64)> = Vec::new();
            for (s, e) in spans {
                match merged.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            for (s, e) in merged {
                for (a, b) in clip(s, e, &intervals) {
                    for (bk, secs) in split(self.chrono_tz(), period, a, b) {
                        *down.entry((bk as i64, cam.as_str())).or_insert(0.0) += secs;
                    }
                }
            }
        }
        let (mut starts, mut cams, mut open_s, mut down_s) = (vec![], vec![], vec![], vec![]);
        for (&b, &o) in &open {
            for cam in cameras {
                starts.push(b as f64);
                cams.push(cam.as_str());
                open_s.push(o);
                down_s.push(down.get(&(b, cam.as_str())).copied().unwrap_or(0.0));
            }
        }
        let period_col = period_column(self, starts)?;
        let n = cams.len();
        let df = DataFrame::new(
            n,
            vec![
                period_col,
                Column::new("camera".into(), cams),
                Column::new("open_s".into(), open_s),
                Column::new("down_s".into(), down_s),
            ],
        )?;
        Ok(df
            .lazy()
            .with_column((lit(1.0) - col("down_s") / col("open_s")).alias("uptime"))
            .sort(["period", "camera"], Default::default())
            .collect()?)
    }

    /// Flow per bucket of `period`: `period, arrivals` (waiting visits that began, truncated
    /// or not), `served` (counter visits finished by the citizen leaving, by the bucket they
    /// ended in: throughput), `abandoned` (by the bucket they left in) and `abandonment_rate`
    /// (`abandoned / arrivals`, null without arrivals). Only buckets with some flow appear.
    pub fn flow(
        &self,
        sessions: &DataFrame,
        abandonments: &[AbandonRecord],
        period: Period,
    ) -> Result<DataFrame, AnalyticsError> {
        let every = period.every();
        let arrivals = sessions
            .clone()
            .lazy()
            .filter(col("role").eq(lit("waiting")))
            .select([local_time("enter", self.polars_tz())
                .dt()
                .truncate(lit(every))
                .alias("period")])
            .group_by([col("period")])
            .agg([len().cast(DataType::UInt32).alias("arrivals")]);
        let served = sessions
            .clone()
            .lazy()
            .filter(col("role").eq(lit("counter")).and(col("truncated").not()))
            .select([local_time("exit", self.polars_tz())
                .dt()
                .truncate(lit(every))
                .alias("period")])
            .group_by([col("period")])
            .agg([len().cast(DataType::UInt32).alias("served")]);
        let ab = df!("t" => abandonments.iter().map(|a| a.t).collect::<Vec<_>>())?
            .lazy()
            .select([local_time("t", self.polars_tz())
                .dt()
                .truncate(lit(every))
                .alias("period")])
            .group_by([col("period")])
            .agg([len().cast(DataType::UInt32).alias("abandoned")]);
        let full = JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns);
        Ok(arrivals
            .join(served, [col("period")], [col("period")], full.clone())
            .join(ab, [col("period")], [col("period")], full)
            .with_columns([
                col("arrivals").fill_null(lit(0u32)),
                col("served").fill_null(lit(0u32)),
                col("abandoned").fill_null(lit(0u32)),
            ])
            .with_column(
                when(col("arrivals").gt(lit(0u32)))
                    .then(
                        col("abandoned").cast(DataType::Float64)
                            / col("arrivals").cast(DataType::Float64),
                    )
                    .otherwise(lit(NULL).cast(DataType::Float64))
                    .alias("abandonment_rate"),
            )
            .sort(["period"], Default::default())
            .collect()?)
    }
}
