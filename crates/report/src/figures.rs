//! The figures of one hall and one month, read from the event store.
//!
//! Camera-side figures (visitors, served, waits, service times, utilisation against opening
//! hours, camera uptime, the weekday x hour heatmap) come from hallwatch-analytics (polars) over
//! the rows [`History::load`] reads; the longest queues with their time, tickets, ratings,
//! dossiers and alerts are counted here.

use crate::ReportError;
use hallwatch_analytics::{Filter, History, HistoryQuery, Period, frame_to_json};
use hallwatch_config::Config;
use hallwatch_service::{DurationStats, WaitComparison, fusion, times::local_date};
use hallwatch_store::{AlertSummary, Channel, RatingLevel, Store};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Tickets of the month (from the ticket system).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TicketFigures {
    /// Tickets issued.
    pub issued: u64,
    /// Of which called to a counter.
    pub called: u64,
    /// Of which finished.
    pub finished: u64,
    /// Of which no-shows.
    pub no_show: u64,
    /// Waits issued -> called.
    pub waits: Option<DurationStats>,
    /// Service times called -> finished.
    pub service: Option<DurationStats>,
}

/// One counter's month.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CounterFigures {
    /// Counter number.
    pub counter: u32,
    /// Citizens served (camera: finished counter visits).
    pub served: u64,
    /// Mean service time (camera), seconds.
    pub mean_service_s: Option<f64>,
    /// Median service time (camera), seconds.
    pub p50_service_s: Option<f64>,
    /// Seconds with a citizen at the counter inside opening hours.
    pub busy_s: f64,
    /// Opening seconds of the month.
    pub open_s: f64,
    /// `busy_s / open_s`.
    pub utilisation: Option<f64>,
    /// Tickets finished at this counter.
    pub tickets_finished: u64,
    /// Mean ticket service time, seconds.
    pub ticket_mean_service_s: Option<f64>,
    /// Ratings given at this counter.
    pub ratings: u64,
    /// Share of them satisfied (Rất hài lòng + Hài lòng).
    pub satisfied_share: Option<f64>,
}

/// One camera's availability.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CameraFigures {
    /// Camera id.
    pub camera: String,
    /// Opening seconds of the month.
    pub open_s: f64,
    /// Of which the camera was down.
    pub down_s: f64,
    /// `1 - down_s / open_s`.
    pub uptime: Option<f64>,
}

/// The longest hall-wide queue of one day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueuePeak {
    /// When (the first sample at the day's maximum), Unix seconds.
    pub t: f64,
    /// People waiting (summed over the waiting zones, smoothed).
    pub people: f64,
}

/// Ratings of the month.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RatingFigures {
    /// Rất hài lòng.
    pub very_satisfied: u64,
    /// Hài lòng.
    pub satisfied: u64,
    /// Không hài lòng.
    pub dissatisfied: u64,
    /// Ratings with a comment.
    pub with_comment: u64,
}

impl RatingFigures {
    /// All ratings.
    pub fn total(&self) -> u64 {
        self.very_satisfied + self.satisfied + self.dissatisfied
    }

    /// Share satisfied (the two satisfied levels) of all ratings.
    pub fn satisfied_share(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| (self.very_satisfied + self.satisfied) as f64 / n as f64)
    }

    /// Share dissatisfied.
    pub fn dissatisfied_share(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| self.dissatisfied as f64 / n as f64)
    }
}

/// Dossiers of the month (from the one-stop software's export).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DossierFigures {
    /// Received in the month.
    pub received: u64,
    /// Of which online.
    pub online: u64,
    /// Of which in person.
    pub in_person: u64,
    /// Resolved in the month before the due date (local day).
    pub resolved_early: u64,
    /// Resolved on the due date.
    pub resolved_on_time: u64,
    /// Resolved after the due date (Quá hạn).
    pub resolved_late: u64,
    /// Resolved without a due date.
    pub resolved_no_due: u64,
    /// Still in progress at the month's end.
    pub in_progress: u64,
    /// Of which already past the due date.
    pub in_progress_overdue: u64,
}

impl DossierFigures {
    fn with_due(&self) -> u64 {
        self.resolved_early + self.resolved_on_time + self.resolved_late
    }

    /// Đúng hạn: resolved no later than due, of those resolved with a due date.
    pub fn on_time_rate(&self) -> Option<f64> {
        let n = self.with_due();
        (n > 0).then(|| (self.resolved_early + self.resolved_on_time) as f64 / n as f64)
    }

    /// Quá hạn: resolved after the due date, of those resolved with a due date.
    pub fn overdue_rate(&self) -> Option<f64> {
        let n = self.with_due();
        (n > 0).then(|| self.resolved_late as f64 / n as f64)
    }
}

/// Per local day of the month.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Visitors (waiting visits begun).
    pub visitors: u64,
    /// Served (counter visits finished).
    pub served: u64,
    /// Mean camera wait, seconds.
    pub camera_wait_s: Option<f64>,
    /// Mean ticket wait, seconds.
    pub ticket_wait_s: Option<f64>,
}

/// Everything a review reads about one hall in one month.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HallMonth {
    /// Start of the month, Unix seconds.
    pub from: f64,
    /// End of the month (excluded).
    pub to: f64,
    /// Visitors: waiting visits begun (camera).
    pub visitors: u64,
    /// Served: counter visits finished by the citizen leaving (camera).
    pub served: u64,
    /// Left the queue unserved.
    pub abandoned: u64,
    /// Camera-measured waits and, where tickets exist, ticket-measured waits.
    pub waits: WaitComparison,
    /// Service time at the counters (camera).
    pub service: Option<DurationStats>,
    /// Mean counter utilisation over all counters.
    pub utilisation: Option<f64>,
    /// Mean camera uptime over all cameras.
    pub uptime: Option<f64>,
    /// Tickets.
    pub tickets: TicketFigures,
    /// The five days with the longest hall-wide queue, longest first.
    pub longest_queues: Vec<QueuePeak>,
    /// Mean hall-wide queue per (weekday 1 = Monday, hour).
    pub heatmap: Vec<(u32, u32, f64)>,
    /// Per counter.
    pub counters: Vec<CounterFigures>,
    /// Per camera.
    pub cameras: Vec<CameraFigures>,
    /// Alerts (hallwatch-store's summary).
    pub alerts: AlertSummary,
    /// Ratings.
    pub ratings: RatingFigures,
    /// Dossiers; None when none was imported for the month.
    pub dossiers: Option<DossierFigures>,
    /// Per day.
    pub daily: Vec<DayFigures>,
}

impl HallMonth {
    /// Alerts of one severity.
    pub fn alerts_of(&self, severity: hallwatch_config::alerts::Severity) -> u64 {
        self.alerts
            .by_kind
            .iter()
            .filter(|k| k.severity == severity)
            .map(|k| k.count)
            .sum()
    }

    /// The Decision 766/QĐ-TTg-style satisfaction indicator, 0..=1: with dossier figures,
    /// 1 - overdue rate - share of "Không hài lòng" ratings (at least 0); without them, the
    /// share satisfied. None without ratings.
    pub fn satisfaction_index(&self) -> Option<f64> {
        let dissatisfied = self.ratings.dissatisfied_share()?;
        match self
            .dossiers
            .as_ref()
            .and_then(DossierFigures::overdue_rate)
        {
            Some(overdue) => Some((1.0 - overdue - dissatisfied).max(0.0)),
            None => self.ratings.satisfied_share(),
        }
    }
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn stats_from_row(row: &Value) -> Option<DurationStats> {
    Some(DurationStats {
        count: num(row, "count")? as usize,
        mean_s: num(row, "mean_s")?,
        p50_s: num(row, "p50_s")?,
        p90_s: num(row, "p90_s")?,
        max_s: num(row, "max_s")?,
        within_target: num(row, "within_target").unwrap_or(f64::NAN),
    })
}

fn rows(df: &hallwatch_analytics::DataFrame) -> Vec<Value> {
    match frame_to_json(df) {
        Value::Array(a) => a,
        _ => Vec::new(),
    }
}

/// The config to read `site` with: the loaded config for its own site; for another site of the
/// same store (`--all`), the same rules (time zone, hours, targets) with the site's own id and
/// no zones or cameras (they are learnt from its rows).
pub(crate) fn config_for(config: &Config, site: &str) -> Config {
    if config.site.id == site {
        return config.clone();
    }
    let mut c = config.clone();
    c.site.id = site.to_string();
    c.site.name = site.to_string();
    c.zones.clear();
    c.cameras.clear();
    c
}

/// Computes a hall's month `[from, to)`.
pub fn hall_month(
    store: &Store,
    config: &Config,
    from: f64,
    to: f64,
) -> Result<HallMonth, ReportError> {
    let site = config.site.id.as_str();
    let history = History::new(store, config)?;
    let agg = history.aggregator();
    let target_s = agg.wait_target_s();
    let q = HistoryQuery {
        from,
        to,
        period: Period::Month,
        filter: Filter::default(),
    };
    let mut loaded = history.load(&q)?;
    // Zones not in the config (another site of the store): their role is the one their
    // visits were stored with.
    let roles: HashMap<String, String> = loaded
        .sessions
        .iter()
        .map(|s| (s.zone.clone(), s.role.clone()))
        .collect();
    for s in &mut loaded.samples {
        if s.role == "unknown"
            && let Some(r) = roles.get(&s.zone)
        {
            s.role = r.clone();
        }
    }
    cameras_of_store(config, &mut loaded);
    let series = agg.series(&loaded, &q)?;
    let mut m = HallMonth {
        from,
        to,
        ..HallMonth::default()
    };

    // Flow over the month.
    for r in rows(&series.flow) {
        m.visitors += num(&r, "arrivals").unwrap_or(0.0) as u64;
        m.served += num(&r, "served").unwrap_or(0.0) as u64;
        m.abandoned += num(&r, "abandoned").unwrap_or(0.0) as u64;
    }

    // Camera waits come from the polars aggregation; ticket waits beside them.
    let camera_waits = rows(&series.waits).first().and_then(stats_from_row);
    let tickets = store.tickets(site, from, to)?;
    let (ticket_waits, ticket_service) = fusion::ticket_durations(&tickets);
    let mut waits = WaitComparison::of(&ticket_waits, &[], target_s);
    waits.camera = camera_waits;
    if let (Some(t), Some(c)) = (&waits.ticket, &waits.camera) {
        waits.mean_diff_s = Some(t.mean_s - c.mean_s);
        waits.p50_diff_s = Some(t.p50_s - c.p50_s);
    }
    m.waits = waits;
    m.tickets = TicketFigures {
        issued: tickets.len() as u64,
        called: tickets.iter().filter(|t| t.called.is_some()).count() as u64,
        finished: tickets.iter().filter(|t| t.finished.is_some()).count() as u64,
        no_show: tickets.iter().filter(|t| t.no_show.is_some()).count() as u64,
        waits: DurationStats::of(&ticket_waits, target_s),
        service: DurationStats::of(&ticket_service, f64::INFINITY),
    };

    // Service time over all counters: the finished counter visits.
    let service: Vec<f64> = loaded
        .sessions
        .iter()
        .filter(|s| s.role == "counter" && !s.truncated)
        .map(|s| s.exit - s.enter)
        .collect();
    m.service = DurationStats::of(&service, f64::INFINITY);

    // Per counter: service (polars), utilisation (polars), tickets and ratings.
    let ratings = store.ratings(site, from, to)?;
    let mut counters: BTreeMap<u32, CounterFigures> = BTreeMap::new();
    for r in rows(&series.service) {
        let Some(c) = num(&r, "counter") else {
            continue;
        };
        let e = counters.entry(c as u32).or_default();
        e.served = num(&r, "count").unwrap_or(0.0) as u64;
        e.mean_service_s = num(&r, "mean_s");
        e.p50_service_s = num(&r, "p50_s");
    }
    for r in rows(&series.utilisation) {
        let Some(c) = num(&r, "counter") else {
            continue;
        };
        let e = counters.entry(c as u32).or_default();
        e.busy_s += num(&r, "busy_s").unwrap_or(0.0);
        e.open_s += num(&r, "open_s").unwrap_or(0.0);
    }
    let mut ticket_service_by_counter: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for t in &tickets {
        if let (Some(c), Some(s)) = (t.counter, t.service_s()) {
            ticket_service_by_counter.entry(c).or_default().push(s);
        }
    }
    for (c, v) in &ticket_service_by_counter {
        let e = counters.entry(*c).or_default();
        e.tickets_finished = v.len() as u64;
        e.ticket_mean_service_s = Some(v.iter().sum::<f64>() / v.len() as f64);
    }
    let mut rating_by_counter: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for r in &ratings {
        if let Some(c) = r.counter {
            let e = rating_by_counter.entry(c).or_default();
            e.0 += 1;
            e.1 += u64::from(r.level.is_satisfied());
        }
    }
    for (c, (n, sat)) in &rating_by_counter {
        let e = counters.entry(*c).or_default();
        e.ratings = *n;
        e.satisfied_share = Some(*sat as f64 / *n as f64);
    }
    for (c, e) in counters.iter_mut() {
        e.counter = *c;
        e.utilisation = (e.open_s > 0.0).then(|| e.busy_s / e.open_s);
    }
    m.counters = counters.into_values().collect();
    let utils: Vec<f64> = m.counters.iter().filter_map(|c| c.utilisation).collect();
    m.utilisation = (!utils.is_empty()).then(|| utils.iter().sum::<f64>() / utils.len() as f64);

    m.cameras = camera_figures(&series.uptime);
    let ups: Vec<f64> = m.cameras.iter().filter_map(|c| c.uptime).collect();
    m.uptime = (!ups.is_empty()).then(|| ups.iter().sum::<f64>() / ups.len() as f64);

    // Heatmap (polars) and the longest queues with their time (here: polars' group-by keeps
    // no arg-max time).
    for r in rows(&series.heatmap) {
        if let (Some(w), Some(h), Some(v)) = (num(&r, "weekday"), num(&r, "hour"), num(&r, "mean"))
        {
            m.heatmap.push((w as u32, h as u32, v));
        }
    }
    let tz = agg_tz(config)?;
    let mut hall: BTreeMap<u64, f64> = BTreeMap::new();
    for s in loaded.samples.iter().filter(|s| s.role == "waiting") {
        *hall.entry(s.t.to_bits()).or_insert(0.0) += s.people;
    }
    let mut per_day: BTreeMap<chrono::NaiveDate, QueuePeak> = BTreeMap::new();
    let mut times: Vec<(f64, f64)> = hall
        .into_iter()
        .map(|(k, v)| (f64::from_bits(k), v))
        .collect();
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, people) in times {
        let day = local_date(tz, t);
        match per_day.get(&day) {
            Some(p) if p.people >= people => {}
            _ => {
                per_day.insert(day, QueuePeak { t, people });
            }
        }
    }
    let mut peaks: Vec<QueuePeak> = per_day.into_values().filter(|p| p.people > 0.0).collect();
    peaks.sort_by(|a, b| b.people.total_cmp(&a.people).then(a.t.total_cmp(&b.t)));
    peaks.truncate(5);
    m.longest_queues = peaks;

    // Daily series.
    let q_day = HistoryQuery {
        period: Period::Day,
        ..q.clone()
    };
    let sessions_df = hallwatch_analytics::Aggregator::sessions_frame(&loaded.sessions)?;
    let mut daily: BTreeMap<String, DayFigures> = BTreeMap::new();
    for r in rows(&agg.flow(&sessions_df, &loaded.abandonments, q_day.period)?) {
        let Some(day) = r.get("period").and_then(Value::as_str) else {
            continue;
        };
        let e = daily.entry(day[..10].to_string()).or_default();
        e.visitors = num(&r, "arrivals").unwrap_or(0.0) as u64;
        e.served = num(&r, "served").unwrap_or(0.0) as u64;
    }
    for r in rows(&agg.waits(&sessions_df, q_day.period)?) {
        let Some(day) = r.get("period").and_then(Value::as_str) else {
            continue;
        };
        daily
            .entry(day[..10].to_string())
            .or_default()
            .camera_wait_s = num(&r, "mean_s");
    }
    let mut tw: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for t in &tickets {
        if let Some(w) = t.wait_s() {
            tw.entry(t.day.clone()).or_default().push(w);
        }
    }
    for (d, v) in tw {
        daily.entry(d).or_default().ticket_wait_s = Some(v.iter().sum::<f64>() / v.len() as f64);
    }
    // Every day of the range, with or without visitors, and only those (a served visit may
    // end just after midnight).
    let (first_date, last_date) = (local_date(tz, from), local_date(tz, to - 1.0));
    let mut d = first_date;
    while d <= last_date {
        daily.entry(d.format("%Y-%m-%d").to_string()).or_default();
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    let first = first_date.format("%Y-%m-%d").to_string();
    let last = last_date.format("%Y-%m-%d").to_string();
    m.daily = daily
        .into_iter()
        .filter(|(d, _)| d.as_str() >= first.as_str() && d.as_str() <= last.as_str())
        .map(|(day, mut f)| {
            f.day = day;
            f
        })
        .collect();

    // Ratings.
    for r in &ratings {
        match r.level {
            RatingLevel::VerySatisfied => m.ratings.very_satisfied += 1,
            RatingLevel::Satisfied => m.ratings.satisfied += 1,
            RatingLevel::Dissatisfied => m.ratings.dissatisfied += 1,
        }
        m.ratings.with_comment += u64::from(!r.comment.trim().is_empty());
    }

    // Dossiers open at some time in the month.
    let dossiers = store.dossiers(site, from, to)?;
    if !dossiers.is_empty() {
        let mut d = DossierFigures::default();
        for x in &dossiers {
            if x.received >= from {
                d.received += 1;
                match x.channel {
                    Channel::Online => d.online += 1,
                    Channel::InPerson => d.in_person += 1,
                }
            }
            match x.resolved {
                Some(r) if r < to => match x.due {
                    None => d.resolved_no_due += 1,
                    Some(due) => {
                        let (rd, dd) = (local_date(tz, r), local_date(tz, due));
                        if rd < dd {
                            d.resolved_early += 1;
                        } else if rd == dd {
                            d.resolved_on_time += 1;
                        } else {
                            d.resolved_late += 1;
                        }
                    }
                },
                _ => {
                    d.in_progress += 1;
                    if x.due
                        .is_some_and(|due| local_date(tz, due) < local_date(tz, to - 1.0))
                    {
                        d.in_progress_overdue += 1;
                    }
                }
            }
        }
        m.dossiers = Some(d);
    }

    m.alerts = store.alert_summary(site, from, to)?;
    Ok(m)
}

fn agg_tz(config: &Config) -> Result<chrono_tz::Tz, ReportError> {
    config
        .site
        .timezone
        .parse()
        .map_err(|_| ReportError::TimeZone(config.site.timezone.clone()))
}

/// Without cameras in the config (another site of the store), the cameras are those the rows
/// name.
fn cameras_of_store(config: &Config, loaded: &mut hallwatch_analytics::Loaded) {
    if config.cameras.is_empty() {
        let mut cams: Vec<String> = loaded
            .sessions
            .iter()
            .map(|s| s.camera.clone())
            .chain(loaded.outages.iter().map(|o| o.camera.clone()))
            .collect();
        cams.sort();
        cams.dedup();
        loaded.cameras = cams;
    }
}

/// Each camera's open and down seconds summed over the buckets of an uptime series.
fn camera_figures(uptime: &hallwatch_analytics::DataFrame) -> Vec<CameraFigures> {
    let mut cams: BTreeMap<String, CameraFigures> = BTreeMap::new();
    for r in rows(uptime) {
        let Some(cam) = r.get("camera").and_then(Value::as_str) else {
            continue;
        };
        let e = cams.entry(cam.to_string()).or_default();
        e.camera = cam.to_string();
        e.open_s += num(&r, "open_s").unwrap_or(0.0);
        e.down_s += num(&r, "down_s").unwrap_or(0.0);
    }
    for e in cams.values_mut() {
        e.uptime = (e.open_s > 0.0).then(|| 1.0 - e.down_s / e.open_s);
    }
    cams.into_values().collect()
}

/// Each camera's working time against the opening hours and its time without a picture over
/// `[from, to)` (one local day, for the province centre's camera uptime): the same figures as
/// [`hall_month`]'s cameras, summed the same way.
pub fn camera_days(
    store: &Store,
    config: &Config,
    from: f64,
    to: f64,
) -> Result<Vec<CameraFigures>, ReportError> {
    let history = History::new(store, config)?;
    let q = HistoryQuery {
        from,
        to,
        period: Period::Day,
        filter: Filter::default(),
    };
    let mut loaded = history.load(&q)?;
    cameras_of_store(config, &mut loaded);
    let uptime =
        history
            .aggregator()
            .uptime(&loaded.cameras, &loaded.outages, Period::Day, from, to)?;
    Ok(camera_figures(&uptime))
}
