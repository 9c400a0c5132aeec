//! The predictor's settings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Settings of a [`WaitPredictor`](crate::WaitPredictor). Every field has a default; a config
/// file names only what it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PredictConfig {
    /// Half-life of the exponential forgetting of service times, seconds of stream time: a
    /// service that ended this long ago counts half as much as one that ended now. Shorter
    /// follows changes (staff swaps, a run of hard dossiers) sooner but is noisier: the
    /// estimate rests on about `services per second · half_life / ln 2` services (3 counters
    /// at 7 min: 9 with 15 min, 19 with 30 min). Default 1800 (30 min).
    pub half_life_s: f64,
    /// Service time assumed while there are too few recent services, and the value recent ones
    /// are shrunk towards, seconds; best set from the hall's past days. Default 480 (8 min).
    pub prior_service_s: f64,
    /// Coefficient of variation (sd / mean) of a service time under the prior. Default 1.0
    /// (as spread as exponential services).
    pub prior_service_cv: f64,
    /// Relative sd of the prior mean itself (how unsure the prior service time is), which widens
    /// the band under the prior. Default 0.5.
    pub prior_mean_uncertainty: f64,
    /// Weight of the prior once there are enough recent services, in services: the mean service
    /// time is `(prior_weight · prior_service_s + Σ w·s) / (prior_weight + Σ w)` over the recent
    /// services `s` with weights `w`, so a few unusual services do not swing the prediction
    /// (likewise the spread). 0 uses the recent services alone. Default 5.
    pub prior_weight: f64,
    /// Weighted count of recent services (each weighted by `2^(-age / half_life)`) below which
    /// the prior is used. At least 1. Default 3.
    pub min_samples: f64,
    /// Standard-normal quantile of the band's upper end; the band runs from the
    /// `Φ(-band_z)` to the `Φ(band_z)` quantile of the wait. Default 1.2816: 10th to 90th
    /// percentile.
    pub band_z: f64,
}

impl Default for PredictConfig {
    fn default() -> Self {
        Self {
            half_life_s: 1800.0,
            prior_service_s: 480.0,
            prior_service_cv: 1.0,
            prior_mean_uncertainty: 0.5,
            prior_weight: 5.0,
            min_samples: 3.0,
            band_z: 1.2816,
        }
    }
}

impl PredictConfig {
    /// Checks that every field is finite and in range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&'static str, f64, bool); 7] = [
            ("half_life_s", self.half_life_s, self.half_life_s > 0.0),
            (
                "prior_service_s",
                self.prior_service_s,
                self.prior_service_s > 0.0,
            ),
            (
                "prior_service_cv",
                self.prior_service_cv,
                self.prior_service_cv >= 0.0,
            ),
            (
                "prior_mean_uncertainty",
                self.prior_mean_uncertainty,
                self.prior_mean_uncertainty >= 0.0,
            ),
            ("prior_weight", self.prior_weight, self.prior_weight >= 0.0),
            ("min_samples", self.min_samples, self.min_samples >= 1.0),
            ("band_z", self.band_z, self.band_z > 0.0),
        ];
        for (field, value, ok) in checks {
            if !value.is_finite() || !ok {
                return Err(ConfigError { field, value });
            }
        }
        Ok(())
    }
}

/// A [`PredictConfig`] field out of range.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The field's name.
    pub field: &'static str,
    /// Its value.
    pub value: f64,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = match self.field {
            "half_life_s" | "prior_service_s" | "band_z" => "a finite number > 0",
            "min_samples" => "a finite number >= 1",
            _ => "a finite number >= 0",
        };
        write!(f, "predict.{} = {} must be {rule}", self.field, self.value)
    }
}

impl std::error::Error for ConfigError {}
