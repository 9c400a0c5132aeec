//! Per-token rate limits for ratings: a token bucket per key (kiosk or device token), with the
//! time passed in so it is tested by advancing a clock.

use std::collections::HashMap;

/// Token buckets: each key may send `burst` at once and `per_min` a minute on average.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    per_s: f64,
    burst: f64,
    buckets: HashMap<String, (f64, f64)>,
}

impl RateLimiter {
    /// `per_min` sustained, `burst` at once (both at least 1).
    pub fn new(per_min: u32, burst: u32) -> Self {
        Self {
            per_s: f64::from(per_min.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// The limiter of `[service]`'s `rating_rate_per_min` and `rating_burst`.
    pub fn for_ratings(cfg: &hallwatch_config::ServiceConfig) -> Self {
        Self::new(cfg.rating_rate_per_min, cfg.rating_burst)
    }

    /// Takes one unit for `key` at `now` (Unix seconds): Ok, or Err with the seconds to wait
    /// before the next one is allowed.
    pub fn check(&mut self, key: &str, now: f64) -> Result<(), f64> {
        if self.buckets.len() > 10_000 {
            // Forget keys whose bucket has refilled: they are as good as new.
            let (per_s, burst) = (self.per_s, self.burst);
            self.buckets
                .retain(|_, (tokens, last)| *tokens + (now - *last) * per_s < burst);
        }
        let (tokens, last) = self
            .buckets
            .entry(key.to_string())
            .or_insert((self.burst, now));
        let refilled = (*tokens + (now - *last).max(0.0) * self.per_s).min(self.burst);
        *last = now.max(*last);
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err((1.0 - refilled) / self.per_s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_the_sustained_rate_per_key() {
        let mut r = RateLimiter::new(6, 3); // one per 10 s, three at once
        let t = 1000.0;
        for _ in 0..3 {
            assert!(r.check("k1", t).is_ok());
        }
        let wait = r.check("k1", t).unwrap_err();
        assert!((wait - 10.0).abs() < 1e-9, "{wait}");
        assert!(r.check("k2", t).is_ok(), "another kiosk has its own bucket");
        assert!(r.check("k1", t + 5.0).is_err());
        assert!(r.check("k1", t + 10.0).is_ok());
        assert!(r.check("k1", t + 10.0).is_err());
        // A long pause refills the burst, no more.
        for _ in 0..3 {
            assert!(r.check("k1", t + 1000.0).is_ok());
        }
        assert!(r.check("k1", t + 1000.0).is_err());
    }
}
