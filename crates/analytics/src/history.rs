//! The library API the web and report layers call: history read from the event store and
//! aggregated over a time range, with filters, ready as data frames or JSON rows.

use crate::timed::{AbandonRecord, OutageRecord};
use crate::{Aggregator, AnalyticsError, Filter, Period, SampleRecord, SessionRecord};
use hallwatch_config::{Config, ZoneRole};
use hallwatch_store::{SessionQuery, Store};
use polars::prelude::*;
use std::collections::HashMap;

/// What to aggregate: `[from, to)` in Unix seconds, bucketed by `period`, restricted by
/// `filter`.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryQuery {
    /// Start, Unix seconds (inclusive).
    pub from: f64,
    /// End, Unix seconds (exclusive).
    pub to: f64,
    /// Bucket length.
    pub period: Period,
    /// Camera, zone or counter restriction.
    pub filter: Filter,
}

/// Rows read from the store for one query.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// Zone visits that began in the range (open ones end at the range's end, as truncated).
    pub sessions: Vec<SessionRecord>,
    /// Zone samples taken in the range.
    pub samples: Vec<SampleRecord>,
    /// Camera outages overlapping the range.
    pub outages: Vec<OutageRecord>,
    /// People who left unserved in the range.
    pub abandonments: Vec<AbandonRecord>,
    /// The cameras the figures are about (configured, or seen in the rows).
    pub cameras: Vec<String>,
}

/// Every series of a query, each a polars frame with a local `period` column (see the
/// [`Aggregator`] method of the same name for the columns).
#[derive(Clone, Debug)]
pub struct Series {
    /// Waits: count, mean, p50, p90, max, within target.
    pub waits: DataFrame,
    /// Service time per counter.
    pub service: DataFrame,
    /// Counter utilisation against opening hours.
    pub utilisation: DataFrame,
    /// Queue length per waiting zone and hall-wide (`zone = "*"`).
    pub queue: DataFrame,
    /// Arrivals, served (throughput), abandoned, abandonment rate.
    pub flow: DataFrame,
    /// Camera uptime against opening hours.
    pub uptime: DataFrame,
    /// Mean hall-wide queue by weekday and hour over the whole range.
    pub heatmap: DataFrame,
}

impl Series {
    /// All series as JSON: `{"waits": [{"period": "2026-10-05T08:00:00+07:00", "count": 4,
    /// ...}, ...], ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "waits": frame_to_json(&self.waits),
            "service": frame_to_json(&self.service),
            "utilisation": frame_to_json(&self.utilisation),
            "queue": frame_to_json(&self.queue),
            "flow": frame_to_json(&self.flow),
            "uptime": frame_to_json(&self.uptime),
            "heatmap": frame_to_json(&self.heatmap),
        })
    }
}

/// A frame as a JSON array of row objects. Datetimes become RFC 3339 strings in their zone;
/// NaN and null become `null`.
pub fn frame_to_json(df: &DataFrame) -> serde_json::Value {
    let mut rows = vec![serde_json::Map::new(); df.height()];
    for column in df.columns() {
        let name = column.name().to_string();
        let s = column.as_materialized_series();
        let is_datetime = matches!(s.dtype(), DataType::Datetime(..));
        let strings = if is_datetime {
            s.strftime("%Y-%m-%dT%H:%M:%S%:z").ok()
        } else {
            None
        };
        for (i, row) in rows.iter_mut().enumerate() {
            let v = match &strings {
                Some(st) => match st.get(i) {
                    Ok(AnyValue::String(x)) => serde_json::Value::String(x.to_string()),
                    Ok(AnyValue::StringOwned(x)) => serde_json::Value::String(x.to_string()),
                    _ => serde_json::Value::Null,
                },
                None => any_to_json(s.get(i).unwrap_or(AnyValue::Null)),
            };
            row.insert(name.clone(), v);
        }
    }
    serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect())
}

fn any_to_json(v: AnyValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        AnyValue::Null => J::Null,
        AnyValue::Boolean(b) => J::Bool(b),
        AnyValue::String(s) => J::String(s.to_string()),
        AnyValue::StringOwned(s) => J::String(s.to_string()),
        AnyValue::UInt8(x) => J::from(x),
        AnyValue::UInt16(x) => J::from(x),
        AnyValue::UInt32(x) => J::from(x),
        AnyValue::UInt64(x) => J::from(x),
        AnyValue::Int8(x) => J::from(x),
        AnyValue::Int16(x) => J::from(x),
        AnyValue::Int32(x) => J::from(x),
        AnyValue::Int64(x) => J::from(x),
        AnyValue::Float32(x) => {
            serde_json::Number::from_f64(f64::from(x)).map_or(J::Null, J::Number)
        }
        AnyValue::Float64(x) => serde_json::Number::from_f64(x).map_or(J::Null, J::Number),
        other => J::String(other.to_string()),
    }
}

/// History of one site in one store: reads and aggregates.
pub struct History<'a> {
    store: &'a Store,
    site: String,
    agg: Aggregator,
    roles: HashMap<String, ZoneRole>,
    cameras: Vec<String>,
}

impl<'a> History<'a> {
    /// History of `config`'s site in `store`, with its time zone, wait target, opening hours,
    /// zone roles and cameras.
    pub fn new(store: &'a Store, config: &Config) -> Result<Self, AnalyticsError> {
        Ok(Self {
            store,
            site: config.site.id.clone(),
            agg: Aggregator::from_config(config)?,
            roles: config
                .zones
                .iter()
                .map(|z| (z.id.clone(), z.role))
                .collect(),
            cameras: config.cameras.iter().map(|c| c.id.clone()).collect(),
        })
    }

    /// The aggregator in use.
    pub fn aggregator(&self) -> &Aggregator {
        &self.agg
    }

    /// Reads the rows a query needs.
    pub fn load(&self, q: &HistoryQuery) -> Result<Loaded, AnalyticsError> {
        let store_err = |e: hallwatch_store::StoreError| AnalyticsError::Io(e.to_string());
        let mut sq = SessionQuery::new(self.site.clone(), q.from, q.to);
        if let Some(c) = &q.filter.camera {
            sq = sq.camera(c.as_str());
        }
        if let Some(z) = &q.filter.zone {
            sq = sq.zone(z.clone());
        }
        let sessions: Vec<SessionRecord> = self
            .store
            .sessions(&sq)
            .map_err(store_err)?
            .into_iter()
            .map(|s| SessionRecord {
                camera: s.camera.to_string(),
                zone: s.zone.clone(),
                role: role_name(s.role).into(),
                counter: s.counter,
                enter: s.enter,
                exit: s.exit.unwrap_or(q.to).max(s.enter),
                truncated: s.truncated || s.exit.is_none(),
            })
            .filter(|r| q.filter.keeps(r))
            .collect();
        let samples: Vec<SampleRecord> = self
            .store
            .zone_samples(&self.site, q.from, q.to, q.filter.zone.as_deref())
            .map_err(store_err)?
            .into_iter()
            .filter(|z| {
                q.filter
                    .camera
                    .as_ref()
                    .is_none_or(|c| z.camera.as_str() == c)
            })
            .map(|z| SampleRecord {
                role: self
                    .roles
                    .get(&z.zone)
                    .map_or("unknown", |r| role_name(*r))
                    .into(),
                zone: z.zone,
                t: z.t,
                people: z.people_smoothed,
            })
            .collect();
        let outages: Vec<OutageRecord> = self
            .store
            .downtime(&self.site, q.from, q.to, None)
            .map_err(store_err)?
            .into_iter()
            .filter(|d| {
                q.filter
                    .camera
                    .as_ref()
                    .is_none_or(|c| d.camera.as_str() == c)
            })
            .map(|d| OutageRecord {
                camera: d.camera.to_string(),
                start: d.start,
                end: d.end,
            })
            .collect();
        let abandonments: Vec<AbandonRecord> = self
            .store
            .abandonments(&self.site, q.from, q.to, q.filter.zone.as_deref())
            .map_err(store_err)?
            .into_iter()
            .filter(|a| {
                q.filter
                    .camera
                    .as_ref()
                    .is_none_or(|c| a.camera.as_str() == c)
            })
            .map(|a| AbandonRecord {
                camera: a.camera.to_string(),
                zone: a.zone.clone(),
                t: a.t,
                waited_s: a.waited_s(),
            })
            .collect();
        let mut cameras: Vec<String> = match &q.filter.camera {
            Some(c) => vec![c.clone()],
            None => self.cameras.clone(),
        };
        if cameras.is_empty() {
            cameras = sessions.iter().map(|s| s.camera.clone()).collect();
            cameras.sort();
            cameras.dedup();
        }
        Ok(Loaded {
            sessions,
            samples,
            outages,
            abandonments,
            cameras,
        })
    }

    /// Every series of `q`.
    pub fn series(&self, q: &HistoryQuery) -> Result<Series, AnalyticsError> {
        let loaded = self.load(q)?;
        self.agg.series(&loaded, q)
    }
}

fn role_name(r: ZoneRole) -> &'static str {
    match r {
        ZoneRole::Waiting => "waiting",
        ZoneRole::Counter => "counter",
        ZoneRole::Entrance => "entrance",
        ZoneRole::Ignore => "ignore",
    }
}

impl Aggregator {
    /// Every series of `q` over rows already loaded.
    pub fn series(&self, loaded: &Loaded, q: &HistoryQuery) -> Result<Series, AnalyticsError> {
        let sessions = Aggregator::sessions_frame(&loaded.sessions)?;
        let samples = Aggregator::samples_frame(&loaded.samples)?;
        Ok(Series {
            waits: self.waits(&sessions, q.period)?,
            service: self.service(&sessions, q.period)?,
            utilisation: self.utilisation(&loaded.sessions, q.period, q.from, q.to)?,
            queue: self.queue(&samples, q.period)?,
            flow: self.flow(&sessions, &loaded.abandonments, q.period)?,
            uptime: self.uptime(&loaded.cameras, &loaded.outages, q.period, q.from, q.to)?,
            heatmap: self.heatmap(&samples)?,
        })
    }
}
