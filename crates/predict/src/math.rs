//! Exponentially forgotten sample moments and the gamma quantile approximation.

use std::f64::consts::LN_2;

/// Weighted sums of samples, each weighted by `2^(-age / half_life)`, kept as of time `t`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Decayed {
    /// Time the sums are valid at.
    t: f64,
    /// Σ w.
    w: f64,
    /// Σ w².
    w2: f64,
    /// Σ w x.
    s1: f64,
    /// Σ w x².
    s2: f64,
}

/// Moments of the forgotten samples at some time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Moments {
    /// Σ w: the weighted count.
    pub weight: f64,
    /// Kish effective sample size (Σ w)² / Σ w², for the variance of the mean.
    pub n_eff: f64,
    /// Weighted mean.
    pub mean: f64,
    /// Weighted variance, with the small-sample correction n_eff / (n_eff - 1) (0 for one sample).
    pub var: f64,
}

/// `2^(-dt / half_life)`, the weight of something `dt` seconds old (1 for `dt <= 0`).
fn decay(dt: f64, half_life: f64) -> f64 {
    (-LN_2 * dt.max(0.0) / half_life).exp()
}

impl Decayed {
    pub(crate) fn new(t: f64) -> Self {
        Self {
            t,
            ..Self::default()
        }
    }

    /// Adds sample `x` taken at `t`. A sample older than the sums counts with its age's weight.
    pub(crate) fn add(&mut self, t: f64, x: f64, half_life: f64) {
        if t > self.t {
            let f = decay(t - self.t, half_life);
            self.w *= f;
            self.w2 *= f * f;
            self.s1 *= f;
            self.s2 *= f;
            self.t = t;
        }
        let w = decay(self.t - t, half_life);
        self.w += w;
        self.w2 += w * w;
        self.s1 += w * x;
        self.s2 += w * x * x;
    }

    /// The moments as of `t` (not earlier than the last sample).
    pub(crate) fn moments(&self, t: f64, half_life: f64) -> Option<Moments> {
        if self.w <= 0.0 {
            return None;
        }
        let weight = self.w * decay(t - self.t, half_life);
        let n_eff = self.w * self.w / self.w2;
        let mean = self.s1 / self.w;
        let raw = (self.s2 / self.w - mean * mean).max(0.0);
        let var = if n_eff > 1.0 {
            raw * n_eff / (n_eff - 1.0)
        } else {
            0.0
        };
        Some(Moments {
            weight,
            n_eff,
            mean,
            var,
        })
    }
}

/// The quantile at standard-normal score `z` of a gamma distribution with the given mean and
/// variance (Wilson–Hilferty: the cube root of a gamma variable is nearly normal). A variable
/// with no variance is its mean; the quantile is never negative.
pub(crate) fn gamma_quantile(mean: f64, var: f64, z: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    if var <= 0.0 {
        return mean;
    }
    let shape = mean * mean / var;
    let h = 1.0 / (9.0 * shape);
    let root = 1.0 - h + z * h.sqrt();
    if root <= 0.0 {
        0.0
    } else {
        mean * root * root * root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_halve_every_half_life() {
        let mut d = Decayed::new(0.0);
        d.add(0.0, 100.0, 60.0);
        d.add(60.0, 200.0, 60.0);
        let m = d.moments(60.0, 60.0).expect("samples");
        // Weights 0.5 and 1: mean (50 + 200) / 1.5.
        assert!((m.weight - 1.5).abs() < 1e-12);
        assert!((m.mean - 250.0 / 1.5).abs() < 1e-9);
        // Later, the count decays but the mean does not move.
        let later = d.moments(120.0, 60.0).expect("samples");
        assert!((later.weight - 0.75).abs() < 1e-12);
        assert!((later.mean - m.mean).abs() < 1e-9);
        // An out-of-order sample counts with its age's weight.
        let mut e = Decayed::new(0.0);
        e.add(60.0, 200.0, 60.0);
        e.add(0.0, 100.0, 60.0);
        let n = e.moments(60.0, 60.0).expect("samples");
        assert!((n.mean - m.mean).abs() < 1e-9);
    }

    #[test]
    fn equal_weights_give_the_sample_variance() {
        let mut d = Decayed::new(0.0);
        for x in [1.0, 2.0, 3.0, 4.0] {
            d.add(0.0, x, 1e12);
        }
        let m = d.moments(0.0, 1e12).expect("samples");
        assert!((m.n_eff - 4.0).abs() < 1e-9);
        assert!((m.var - 5.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn wilson_hilferty_matches_known_gamma_quantiles() {
        // Exponential, mean 1 (shape 1): 10th pct -ln 0.9, 90th pct ln 10.
        assert!((gamma_quantile(1.0, 1.0, 1.2816) - std::f64::consts::LN_10).abs() < 0.03);
        assert!((gamma_quantile(1.0, 1.0, -1.2816) + 0.9f64.ln()).abs() < 0.01);
        // Shape 10, scale 1: 90th pct 14.206.
        assert!((gamma_quantile(10.0, 10.0, 1.2816) - 14.206).abs() < 0.02);
        assert_eq!(gamma_quantile(5.0, 0.0, 1.2816), 5.0);
        assert_eq!(gamma_quantile(0.0, 3.0, 1.2816), 0.0);
    }
}
