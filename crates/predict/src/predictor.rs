//! The wait predictor and the Little's-law baseline.

use crate::config::{ConfigError, PredictConfig};
use crate::math::{Decayed, gamma_quantile};
use serde::Serialize;
use std::collections::BTreeMap;

/// How a [`Prediction`] was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// From the recent services (exponentially forgotten).
    Recent,
    /// Too few recent services: from the configured prior service time, with a wide band.
    Prior,
    /// No counter is open: no estimate.
    NoOpenCounter,
}

impl Method {
    /// The name as serialised: `recent`, `prior`, `no_open_counter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Recent => "recent",
            Method::Prior => "prior",
            Method::NoOpenCounter => "no_open_counter",
        }
    }
}

/// The predicted wait of a citizen arriving at `t`, and what it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// Stream time of the prediction, seconds.
    pub t: f64,
    /// Expected wait until a counter calls them, seconds; `None` when no counter is open.
    pub expected_wait_s: Option<f64>,
    /// Lower end of the band, seconds: the `Φ(-band_z)` quantile (10th percentile by default)
    /// of a gamma distribution with the wait's mean and variance. `None` when no counter is open.
    pub low_s: Option<f64>,
    /// Upper end of the band, seconds: the `Φ(band_z)` quantile (90th percentile by default).
    /// `None` when no counter is open.
    pub high_s: Option<f64>,
    /// People waiting, as last reported.
    pub queue: f64,
    /// Counters open now.
    pub open_counters: usize,
    /// Open counters known to be idle (nobody at them) now.
    pub idle_counters: usize,
    /// Mean service time used, seconds (recent, or the prior).
    pub mean_service_s: f64,
    /// Coefficient of variation (sd / mean) of the service time used.
    pub service_cv: f64,
    /// Citizens the open counters serve per minute when all are busy: `open_counters · 60 /
    /// mean_service_s` (0 with none open).
    pub service_rate_per_min: f64,
    /// Weighted count of recent services (each weighted by `2^(-age / half_life)`).
    pub recent_services: f64,
    /// Seconds since the latest event fed (`None` before any): a stale feed (a camera down)
    /// shows here.
    pub input_age_s: Option<f64>,
    /// How the prediction was made.
    pub method: Method,
}

/// Little's law, the baseline: the mean wait `W = L / λ`, with `L` the people waiting and `λ =
/// arrivals / window_s` the arrival rate averaged over a long window (e.g. since the start of
/// the day). `None` without arrivals or with an empty window.
pub fn little_law(queue: f64, arrivals: u64, window_s: f64) -> Option<f64> {
    if arrivals == 0 || !window_s.is_finite() || window_s <= 0.0 || !queue.is_finite() {
        return None;
    }
    Some(queue.max(0.0) * window_s / arrivals as f64)
}

#[derive(Clone, Copy, Debug)]
struct Counter {
    open: bool,
    /// Whether a citizen is at the counter; `None` when never told (then assumed busy).
    serving: Option<bool>,
}

/// Predicts the wait of a citizen arriving now from the queue, the open counters and their
/// recent service times. Feed it events in stream time as they happen, then ask
/// [`predict`](Self::predict) at any time. See the crate documentation for the formula.
#[derive(Clone, Debug)]
pub struct WaitPredictor {
    config: PredictConfig,
    day_start: f64,
    /// Durations of finished services, forgotten by age.
    services: Decayed,
    services_total: u64,
    /// Stream time of the latest event fed.
    last_event_t: Option<f64>,
    counters: BTreeMap<u32, Counter>,
    queue: f64,
    arrivals: u64,
}

impl WaitPredictor {
    /// A predictor with no counter open, an empty queue and no services yet; `t0` (stream time,
    /// seconds) starts the day for the Little's-law baseline.
    pub fn new(config: PredictConfig, t0: f64) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            day_start: t0,
            services: Decayed::new(t0),
            services_total: 0,
            last_event_t: None,
            counters: BTreeMap::new(),
            queue: 0.0,
            arrivals: 0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &PredictConfig {
        &self.config
    }

    /// Starts a new day at `t`: resets the arrival count of the Little's-law baseline. Service
    /// times, counters and the queue are kept (old services fade by the half-life anyway).
    pub fn start_day(&mut self, t: f64) {
        self.day_start = t;
        self.arrivals = 0;
    }

    /// A counter finished serving a citizen at `t`, after `service_s` seconds. Whether the
    /// counter is open is left as it is (a service may end as the counter closes); if its
    /// serving state is tracked it is now idle. Non-finite or non-positive service times are
    /// ignored.
    pub fn service_finished(&mut self, t: f64, counter: u32, service_s: f64) {
        self.seen(t);
        let c = self.counter(counter);
        if c.serving.is_some() {
            c.serving = Some(false);
        }
        if service_s.is_finite() && service_s > 0.0 && t.is_finite() {
            self.services.add(t, service_s, self.config.half_life_s);
            self.services_total += 1;
        }
    }

    /// A counter opened (staff at it) or closed (staff away: lunch, end of shift) at `t`. A
    /// counter that opens is assumed busy until [`counter_serving`](Self::counter_serving) says
    /// otherwise.
    pub fn counter_open(&mut self, t: f64, counter: u32, open: bool) {
        self.seen(t);
        let c = self.counter(counter);
        if c.open != open {
            c.serving = None;
        }
        c.open = open;
    }

    /// Whether a citizen is at a counter now (optional: without it, open counters are assumed
    /// busy). Implies the counter is open.
    pub fn counter_serving(&mut self, t: f64, counter: u32, serving: bool) {
        self.seen(t);
        let c = self.counter(counter);
        c.open = true;
        c.serving = Some(serving);
    }

    /// People waiting now (not those at counters), e.g. the smoothed count of the waiting
    /// zones. Negative values count as 0; non-finite ones are ignored.
    pub fn queue_length(&mut self, t: f64, n: f64) {
        self.seen(t);
        if n.is_finite() {
            self.queue = n.max(0.0);
        }
    }

    /// A citizen arrived (took a ticket or entered) at `t`: counted for the Little's-law
    /// baseline only.
    pub fn arrival(&mut self, t: f64) {
        self.seen(t);
        self.arrivals += 1;
    }

    /// Arrivals since the start of the day.
    pub fn arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Services recorded since the predictor was made.
    pub fn services_total(&self) -> u64 {
        self.services_total
    }

    /// The Little's-law baseline at `t`: the queue now over the arrival rate since the start of
    /// the day (see [`little_law`]).
    pub fn little_law(&self, t: f64) -> Option<f64> {
        little_law(self.queue, self.arrivals, t - self.day_start)
    }

    /// The predicted wait of a citizen arriving at `t` (stream time, not before the latest
    /// service fed; an earlier `t` counts as that time for the forgetting).
    pub fn predict(&self, t: f64) -> Prediction {
        let cfg = &self.config;
        let open = self.counters.values().filter(|c| c.open).count();
        let idle = self
            .counters
            .values()
            .filter(|c| c.open && c.serving == Some(false))
            .count();

        // Service time: mean m, variance v, variance of the estimated mean.
        let recent = self.services.moments(t, cfg.half_life_s);
        let recent_services = recent.map_or(0.0, |m| m.weight);
        let (method, m, v, var_mean) = match recent {
            Some(r) if r.weight >= cfg.min_samples => {
                // The recent services' weighted mean and spread, shrunk towards the prior by
                // `prior_weight` pseudo-services.
                let (k0, m0, cv0) = (cfg.prior_weight, cfg.prior_service_s, cfg.prior_service_cv);
                let m = (k0 * m0 + r.weight * r.mean) / (k0 + r.weight);
                let cv2_recent = r.var / (r.mean * r.mean);
                let cv2 = (k0 * cv0 * cv0 + r.weight * cv2_recent) / (k0 + r.weight);
                let v = cv2 * m * m;
                (Method::Recent, m, v, v / (k0 + r.n_eff))
            }
            _ => {
                let m = cfg.prior_service_s;
                let sd = cfg.prior_service_cv * m;
                let sd_mean = cfg.prior_mean_uncertainty * m;
                (Method::Prior, m, sd * sd, sd_mean * sd_mean)
            }
        };
        let cv2 = v / (m * m);
        let mut out = Prediction {
            t,
            expected_wait_s: None,
            low_s: None,
            high_s: None,
            queue: self.queue,
            open_counters: open,
            idle_counters: idle,
            mean_service_s: m,
            service_cv: cv2.sqrt(),
            service_rate_per_min: open as f64 * 60.0 / m,
            recent_services,
            input_age_s: self.last_event_t.map(|last| (t - last).max(0.0)),
            method,
        };
        if open == 0 {
            out.method = Method::NoOpenCounter;
            return out;
        }

        // Position in the line for the counters; at or below 0 a counter is free.
        let p = self.queue + 1.0 - idle as f64;
        let (mean_w, var_w) = if p <= 0.0 {
            (0.0, 0.0)
        } else {
            let c = open as f64;
            // Residual service of the fast server (c counters as one, service S / c):
            // E[R] = E[S²] / (2 E[S]), E[R²] = E[S³] / (3 E[S]) with gamma-distributed S.
            let r = m * (1.0 + cv2) / 2.0;
            let r2 = m * m * (1.0 + cv2) * (1.0 + 2.0 * cv2) / 3.0;
            let (mean_w, var_w) = if p >= 1.0 {
                let full = p - 1.0;
                (
                    r / c + full * m / c,
                    (r2 - r * r) / (c * c) + full * v / (c * c),
                )
            } else {
                // A fractional (smoothed) queue: waits the residual with probability p.
                (p * r / c, (p * r2 - (p * r) * (p * r)) / (c * c))
            };
            let scale = mean_w / m;
            (mean_w, var_w.max(0.0) + scale * scale * var_mean)
        };
        out.expected_wait_s = Some(mean_w);
        out.low_s = Some(gamma_quantile(mean_w, var_w, -cfg.band_z));
        out.high_s = Some(gamma_quantile(mean_w, var_w, cfg.band_z));
        out
    }

    /// Notes the time of an event.
    fn seen(&mut self, t: f64) {
        if t.is_finite() {
            self.last_event_t = Some(self.last_event_t.map_or(t, |last| last.max(t)));
        }
    }

    fn counter(&mut self, counter: u32) -> &mut Counter {
        self.counters.entry(counter).or_insert(Counter {
            open: false,
            serving: None,
        })
    }
}
