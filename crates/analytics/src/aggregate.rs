use hallwatch_config::Calendar;
use polars::prelude::*;

/// Errors from building frames or running aggregations.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The site's time zone is not an IANA name polars knows.
    #[error("unknown time zone '{0}'")]
    TimeZone(String),
    /// polars failed.
    #[error("aggregation: {0}")]
    Polars(#[from] PolarsError),
    /// A file could not be written.
    #[error("{0}")]
    Io(String),
}

/// One finished zone visit, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    /// Camera id.
    pub camera: String,
    /// Zone id.
    pub zone: String,
    /// `waiting` or `counter`.
    pub role: String,
    /// Counter number (0 for waiting zones).
    pub counter: u32,
    /// Unix seconds.
    pub enter: f64,
    /// Unix seconds.
    pub exit: f64,
    /// Closed by a stop rather than by the person leaving.
    pub truncated: bool,
}

/// One periodic zone occupancy sample.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleRecord {
    /// Zone id.
    pub zone: String,
    /// `waiting` or `counter`.
    pub role: String,
    /// Unix seconds.
    pub t: f64,
    /// People in the zone (smoothed).
    pub people: f64,
}

/// Length of the buckets of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// One minute.
    Minute,
    /// One hour.
    Hour,
    /// One local day.
    Day,
    /// One local calendar month.
    Month,
}

impl Period {
    pub(crate) fn every(self) -> &'static str {
        match self {
            Period::Minute => "1m",
            Period::Hour => "1h",
            Period::Day => "1d",
            Period::Month => "1mo",
        }
    }
}

/// Aggregations in one site's local time.
#[derive(Clone, Debug)]
pub struct Aggregator {
    tz: TimeZone,
    chrono_tz: chrono_tz::Tz,
    wait_target_s: f64,
    calendar: Option<Calendar>,
}

/// Which rows a query keeps; `None` keeps all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Only this camera.
    pub camera: Option<String>,
    /// Only this zone.
    pub zone: Option<String>,
    /// Only this counter (counter visits only; waiting visits are dropped).
    pub counter: Option<u32>,
}

impl Filter {
    /// True when nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.camera.is_none() && self.zone.is_none() && self.counter.is_none()
    }

    /// Whether a visit passes.
    pub fn keeps(&self, r: &SessionRecord) -> bool {
        self.camera.as_ref().is_none_or(|c| &r.camera == c)
            && self.zone.as_ref().is_none_or(|z| &r.zone == z)
            && self
                .counter
                .is_none_or(|c| r.role == "counter" && r.counter == c)
    }
}

/// A column of Unix seconds as a datetime in time zone `tz`.
pub(crate) fn local_time(col_name: &str, tz: &TimeZone) -> Expr {
    (col(col_name) * lit(1000.0))
        .cast(DataType::Int64)
        .cast(DataType::Datetime(
            TimeUnit::Milliseconds,
            Some(TimeZone::UTC),
        ))
        .dt()
        .convert_time_zone(tz.clone())
}

impl Aggregator {
    /// For a site in IANA zone `tz` whose waits should stay within `wait_target_s`.
    ///
    /// Without a calendar ([`Aggregator::with_calendar`]) the hall counts as open around the
    /// clock for utilisation and uptime.
    pub fn new(tz: &str, wait_target_s: f64) -> Result<Self, AnalyticsError> {
        let chrono_tz = tz
            .parse::<chrono_tz::Tz>()
            .map_err(|_| AnalyticsError::TimeZone(tz.to_string()))?;
        let tz = TimeZone::opt_try_new(Some(tz))
            .ok()
            .flatten()
            .ok_or_else(|| AnalyticsError::TimeZone(tz.to_string()))?;
        Ok(Self {
            tz,
            chrono_tz,
            wait_target_s,
            calendar: None,
        })
    }

    /// The same aggregator with opening hours: utilisation and uptime count only open time.
    pub fn with_calendar(mut self, calendar: Calendar) -> Self {
        self.calendar = Some(calendar);
        self
    }

    /// The aggregator for a loaded config: its time zone, wait target (`hall.wait_target_min`)
    /// and opening hours (`[hours]`).
    pub fn from_config(config: &hallwatch_config::Config) -> Result<Self, AnalyticsError> {
        let calendar = config.calendar().map_err(|e| {
            AnalyticsError::TimeZone(
                e.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        Ok(
            Self::new(&config.site.timezone, config.hall.wait_target_min * 60.0)?
                .with_calendar(calendar),
        )
    }

    /// The wait target, seconds.
    pub fn wait_target_s(&self) -> f64 {
        self.wait_target_s
    }

    pub(crate) fn polars_tz(&self) -> &TimeZone {
        &self.tz
    }

    pub(crate) fn chrono_tz(&self) -> chrono_tz::Tz {
        self.chrono_tz
    }

    /// Open intervals within `[from, to)`: from the calendar, or the whole range without one.
    pub fn open_intervals(&self, from: f64, to: f64) -> Vec<(f64, f64)> {
        match &self.calendar {
            Some(c) => c.open_intervals(from, to),
            None if from < to => vec![(from, to)],
            None => Vec::new(),
        }
    }

    /// A frame of sessions.
    pub fn sessions_frame(rows: &[SessionRecord]) -> Result<DataFrame, AnalyticsError> {
        Ok(df!(
            "camera" => rows.iter().map(|r| r.camera.as_str()).collect::<Vec<_>>(),
            "zone" => rows.iter().map(|r| r.zone.as_str()).collect::<Vec<_>>(),
            "role" => rows.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(),
            "counter" => rows.iter().map(|r| r.counter).collect::<Vec<_>>(),
            "enter" => rows.iter().map(|r| r.enter).collect::<Vec<_>>(),
            "exit" => rows.iter().map(|r| r.exit).collect::<Vec<_>>(),
            "truncated" => rows.iter().map(|r| r.truncated).collect::<Vec<_>>(),
        )?)
    }

    /// A frame of occupancy samples.
    pub fn samples_frame(rows: &[SampleRecord]) -> Result<DataFrame, AnalyticsError> {
        Ok(df!(
            "zone" => rows.iter().map(|r| r.zone.as_str()).collect::<Vec<_>>(),
            "role" => rows.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(),
            "t" => rows.iter().map(|r| r.t).collect::<Vec<_>>(),
            "people" => rows.iter().map(|r| r.people).collect::<Vec<_>>(),
        )?)
    }

    /// Finished (not truncated) visits of zones with `role`, with their duration and the local
    /// period they started in.
    fn visits(&self, sessions: LazyFrame, role: &str, period: Period) -> LazyFrame {
        sessions
            .filter(col("role").eq(lit(role)).and(col("truncated").not()))
            .with_columns([
                (col("exit") - col("enter")).alias("duration"),
                local_time("enter", &self.tz)
                    .dt()
                    .truncate(lit(period.every()))
                    .alias("period"),
            ])
    }

    fn duration_stats(&self) -> Vec<Expr> {
        let d = col("duration");
        vec![
            d.clone().count().alias("count"),
            d.clone().mean().alias("mean_s"),
            d.clone()
                .quantile(lit(0.5), QuantileMethod::Linear)
                .alias("p50_s"),
            d.clone()
                .quantile(lit(0.9), QuantileMethod::Linear)
                .alias("p90_s"),
            d.clone().max().alias("max_s"),
        ]
    }

    fn keyed(keys: &[&str], tail: &[&str]) -> Vec<Expr> {
        keys.iter().chain(tail).map(|k| col(*k)).collect()
    }

    /// [`Aggregator::waits`] on a lazy frame (e.g. a Parquet scan of many halls), grouped by
    /// `keys` (e.g. `["site"]`) and period; not collected.
    pub fn waits_lazy(&self, sessions: LazyFrame, period: Period, keys: &[&str]) -> LazyFrame {
        let mut aggs = self.duration_stats();
        aggs.push(
            col("duration")
                .lt_eq(lit(self.wait_target_s))
                .cast(DataType::Float64)
                .mean()
                .alias("within_target"),
        );
        let by = Self::keyed(keys, &["period"]);
        self.visits(sessions, "waiting", period)
            .group_by(by.clone())
            .agg(aggs)
            .sort_by_exprs(by, Default::default())
    }

    /// Waits (finished, not truncated visits of waiting zones) per period of their start:
    /// `period, count, mean_s, p50_s, p90_s, max_s, within_target` (share of waits no longer
    /// than the target), sorted by period. Percentiles interpolate linearly.
    pub fn waits(&self, sessions: &DataFrame, period: Period) -> Result<DataFrame, AnalyticsError> {
        Ok(self
            .waits_lazy(sessions.clone().lazy(), period, &[])
            .collect()?)
    }

    /// [`Aggregator::service`] on a lazy frame, grouped by `keys`, period and counter.
    pub fn service_lazy(&self, sessions: LazyFrame, period: Period, keys: &[&str]) -> LazyFrame {
        let mut aggs = self.duration_stats();
        aggs.push(col("duration").sum().alias("busy_s"));
        let by = Self::keyed(keys, &["period", "counter"]);
        self.visits(sessions, "counter", period)
            .group_by(by.clone())
            .agg(aggs)
            .sort_by_exprs(by, Default::default())
    }

    /// Service times per counter and period: `period, counter, count, mean_s, p50_s, p90_s,
    /// max_s, busy_s`, sorted by period then counter.
    pub fn service(
        &self,
        sessions: &DataFrame,
        period: Period,
    ) -> Result<DataFrame, AnalyticsError> {
        Ok(self
            .service_lazy(sessions.clone().lazy(), period, &[])
            .collect()?)
    }

    /// Arrivals (waiting visits begun) by local weekday (1 = Monday) and hour, grouped by
    /// `keys`: `weekday, hour, arrivals` — the heatmap a monthly review reads when only visits
    /// are at hand.
    pub fn arrivals_heatmap_lazy(&self, sessions: LazyFrame, keys: &[&str]) -> LazyFrame {
        let by = Self::keyed(keys, &["weekday", "hour"]);
        sessions
            .filter(col("role").eq(lit("waiting")))
            .with_columns([
                local_time("enter", &self.tz)
                    .dt()
                    .weekday()
                    .alias("weekday"),
                local_time("enter", &self.tz).dt().hour().alias("hour"),
            ])
            .group_by(by.clone())
            .agg([len().alias("arrivals")])
            .sort_by_exprs(by, Default::default())
    }

    /// Queue length per waiting zone and period (`period, zone, mean, max`), plus hall-wide
    /// rows (`zone = "*"`) where each sample time's zones are summed first.
    pub fn queue(&self, samples: &DataFrame, period: Period) -> Result<DataFrame, AnalyticsError> {
        let waiting = samples
            .clone()
            .lazy()
            .filter(col("role").eq(lit("waiting")))
            .with_column(
                local_time("t", &self.tz)
                    .dt()
                    .truncate(lit(period.every()))
                    .alias("period"),
            );
        let per_zone = waiting.clone().group_by([col("period"), col("zone")]).agg([
            col("people").mean().alias("mean"),
            col("people").max().alias("max"),
        ]);
        let hall = waiting
            .group_by([col("period"), col("t")])
            .agg([col("people").sum().alias("people")])
            .group_by([col("period")])
            .agg([
                col("people").mean().alias("mean"),
                col("people").max().alias("max"),
            ])
            .with_column(lit("*").alias("zone"))
            .select([col("period"), col("zone"), col("mean"), col("max")]);
        Ok(concat([per_zone, hall], UnionArgs::default())?
            .sort(["period", "zone"], Default::default())
            .collect()?)
    }

    /// Mean hall-wide queue by local weekday (1 = Monday) and hour (0-23), for the cells that
    /// have samples: `weekday, hour, mean`.
    pub fn heatmap(&self, samples: &DataFrame) -> Result<DataFrame, AnalyticsError> {
        Ok(samples
            .clone()
            .lazy()
            .filter(col("role").eq(lit("waiting")))
            .group_by([col("t")])
            .agg([col("people").sum().alias("people")])
            .with_columns([
                local_time("t", &self.tz).dt().weekday().alias("weekday"),
                local_time("t", &self.tz).dt().hour().alias("hour"),
            ])
            .group_by([col("weekday"), col("hour")])
            .agg([col("people").mean().alias("mean")])
            .sort(["weekday", "hour"], Default::default())
            .collect()?)
    }
}
