//! Summary figures of a set of durations, computed as the polars aggregations of
//! hallwatch-analytics do (linear-interpolated percentiles), so ticket and camera waits compare
//! like for like.

/// Count, mean, percentiles, maximum and the share within a target of some durations (s).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct DurationStats {
    /// How many.
    pub count: usize,
    /// Mean, seconds.
    pub mean_s: f64,
    /// Median (linear interpolation), seconds.
    pub p50_s: f64,
    /// 90th percentile (linear interpolation), seconds.
    pub p90_s: f64,
    /// Longest, seconds.
    pub max_s: f64,
    /// Share of values no longer than the target (0..=1).
    pub within_target: f64,
}

/// The `q` quantile (0..=1) of sorted values, interpolating linearly between ranks.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi.min(n - 1)] - sorted[lo]) * frac)
}

impl DurationStats {
    /// The figures of `values` (non-finite values are ignored) against `target_s`; None when
    /// there is none.
    pub fn of(values: &[f64], target_s: f64) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        Some(Self {
            count: n,
            mean_s: v.iter().sum::<f64>() / n as f64,
            p50_s: quantile_sorted(&v, 0.5)?,
            p90_s: quantile_sorted(&v, 0.9)?,
            max_s: v[n - 1],
            within_target: v.iter().filter(|x| **x <= target_s).count() as f64 / n as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_polars() {
        // The analytics crate's hand-computed case: [5, 10, 20, 40] min -> p50 15, p90 34.
        let s = DurationStats::of(&[300.0, 600.0, 1200.0, 2400.0], 900.0).unwrap();
        assert_eq!(s.count, 4);
        assert!((s.mean_s - 1125.0).abs() < 1e-9);
        assert!((s.p50_s - 900.0).abs() < 1e-9);
        assert!((s.p90_s - 2040.0).abs() < 1e-9);
        assert_eq!(s.max_s, 2400.0);
        assert_eq!(s.within_target, 0.5);
        assert!(DurationStats::of(&[], 1.0).is_none());
    }
}
