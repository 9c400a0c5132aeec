//! Seeded random streams and people's walks through the image.

use crate::layout::{Layout, P};
use rand::SeedableRng;
use rand_pcg::Pcg64;

/// Streams of randomness, so that each part of the simulation draws from its own generator and
/// changing one (say, the camera noise) leaves the others (the hall's events) as they were.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    /// A day's hall events, indexed by day.
    Day = 1,
    /// A citizen's occlusion episodes, indexed by citizen id.
    Episodes = 2,
    /// A frame's detector noise, indexed by frame number: any frame can be rendered on its
    /// own, so a simulation started or stepped anywhere gives the same frames.
    Frame = 3,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of `stream` item `index` for a run's `seed`.
pub(crate) fn rng(seed: u64, stream: Stream, index: u64) -> Pcg64 {
    let s = splitmix(splitmix(seed) ^ splitmix((stream as u64) << 56 ^ index));
    Pcg64::seed_from_u64(s)
}

/// Seconds people take to reach their walking speed, and to stop.
pub(crate) const ACCEL_S: f64 = 1.0;

/// A point of a walk: where the person is at `t` and how far they are sitting (0 standing, 1
/// seated). Between two points both move linearly: a walk, or sitting down and standing up.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Waypoint {
    t: f64,
    p: P,
    sit: f64,
}

/// Where a person is over time: points joined by straight walks; an open path keeps its person
/// at the last point until it is cut.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path {
    wps: Vec<Waypoint>,
    open: bool,
}

impl Path {
    /// A person appearing, standing, at `p` at `t`.
    pub fn new(t: f64, p: P) -> Self {
        Self {
            wps: vec![Waypoint { t, p, sit: 0.0 }],
            open: true,
        }
    }

    fn last(&self) -> Waypoint {
        // A path always has its first point.
        self.wps[self.wps.len() - 1]
    }

    /// When the person appears.
    pub fn start(&self) -> f64 {
        self.wps[0].t
    }

    /// When they vanish (infinity while the path is open).
    pub fn end(&self) -> f64 {
        if self.open {
            f64::INFINITY
        } else {
            self.last().t
        }
    }

    /// Where the person is at `t` and how far they sit (0 standing, 1 seated); `None` outside
    /// the path.
    pub fn at(&self, t: f64) -> Option<(P, f64)> {
        if t < self.start() || t > self.end() {
            return None;
        }
        let k = self.wps.partition_point(|w| w.t <= t);
        // k >= 1 since t >= start.
        let a = self.wps[k - 1];
        let Some(b) = self.wps.get(k) else {
            return Some((a.p, a.sit));
        };
        if b.t <= a.t {
            return Some((b.p, b.sit));
        }
        let f = (t - a.t) / (b.t - a.t);
        Some((
            (a.p.0 + f * (b.p.0 - a.p.0), a.p.1 + f * (b.p.1 - a.p.1)),
            a.sit + f * (b.sit - a.sit),
        ))
    }

    /// Stays where they are until `t`, sitting down (`sit` 1) or standing up (`sit` 0) along
    /// the way when it differs from now.
    pub fn hold(&mut self, t: f64, sit: f64) {
        let last = self.last();
        if t > last.t {
            self.wps.push(Waypoint { t, p: last.p, sit });
        }
    }

    /// Stays at the last point from now on, until cut.
    pub fn stay(&mut self) {
        self.open = true;
    }

    /// Drops what was planned after `t`: the person is where they were at `t`, ready to go
    /// elsewhere. Returns how far they sit then.
    pub fn cut(&mut self, t: f64) -> f64 {
        let (p, sit) = self.at(t).unwrap_or((self.last().p, self.last().sit));
        let k = self.wps.partition_point(|w| w.t <= t);
        self.wps.truncate(k.max(1));
        if self.last().t < t {
            self.wps.push(Waypoint { t, p, sit });
        }
        self.open = true;
        sit
    }

    /// Walks from the last point through `route` (whose first point is where they are),
    /// standing, at `speed` image widths per second, speeding up over the first
    /// [`ACCEL_S`] seconds and slowing down over the last (people do not start or stop
    /// dead); returns the arrival time. The path is then closed at the arrival: call
    /// [`stay`](Self::stay) or [`hold`](Self::hold) to remain.
    pub fn walk(&mut self, layout: &Layout, route: &[P], speed: f64) -> f64 {
        let start = self.last();
        let mut pts = vec![start.p];
        for &p in route {
            if pts.last() != Some(&p) {
                pts.push(p);
            }
        }
        let mut cum = vec![0.0];
        for w in pts.windows(2) {
            let d = cum[cum.len() - 1] + layout.dist(w[0], w[1]);
            cum.push(d);
        }
        let total = cum[cum.len() - 1];
        self.open = false;
        if total <= 0.0 || speed <= 0.0 {
            return start.t;
        }
        // A trapezoid speed profile: accelerate for `ta`, cruise, decelerate for `ta`.
        let ta = ACCEL_S.min(total / speed);
        let da = speed * ta / 2.0;
        let duration = ta + total / speed;
        let time_at = |s: f64| {
            if s <= da {
                (2.0 * s * ta / speed).sqrt()
            } else if s <= total - da {
                ta + (s - da) / speed
            } else {
                duration - (2.0 * (total - s).max(0.0) * ta / speed).sqrt()
            }
        };
        let point_at = |s: f64| {
            let k = cum.partition_point(|c| *c < s).clamp(1, pts.len() - 1);
            let (a, b) = (pts[k - 1], pts[k]);
            let len = cum[k] - cum[k - 1];
            let f = if len > 0.0 {
                ((s - cum[k - 1]) / len).clamp(0.0, 1.0)
            } else {
                1.0
            };
            (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1))
        };
        let mut marks: Vec<f64> = cum[1..].to_vec();
        for k in 1..=4 {
            let tt = ta * f64::from(k) / 4.0;
            let s = speed * tt * tt / (2.0 * ta);
            marks.push(s);
            marks.push(total - s);
        }
        marks.retain(|s| *s > 0.0 && *s <= total);
        marks.sort_by(f64::total_cmp);
        marks.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
        for s in marks {
            let p = if s >= total {
                pts[pts.len() - 1]
            } else {
                point_at(s)
            };
            self.wps.push(Waypoint {
                t: start.t + time_at(s),
                p,
                sit: 0.0,
            });
        }
        start.t + duration
    }

    /// Ends the path at its last point.
    pub fn close(&mut self) {
        self.open = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Layout, hall_config};
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = rng(7, Stream::Day, 0).random();
        assert_eq!(a, rng(7, Stream::Day, 0).random::<u64>());
        assert_ne!(a, rng(7, Stream::Day, 1).random::<u64>());
        assert_ne!(a, rng(8, Stream::Day, 0).random::<u64>());
        assert_ne!(a, rng(7, Stream::Frame, 0).random::<u64>());
    }

    #[test]
    fn a_walk_sits_stands_up_and_leaves() {
        let l = Layout::from_config(&hall_config().expect("hall")).expect("layout");
        let mut path = Path::new(100.0, (0.1, 0.5));
        // 0.2 image widths at 0.1 per second, plus a second of speeding up and slowing down.
        let arrive = path.walk(&l, &[(0.1, 0.5), (0.3, 0.5)], 0.1);
        assert!((arrive - 103.0).abs() < 1e-9);
        path.hold(105.0, 1.0);
        path.stay();
        assert_eq!(path.end(), f64::INFINITY);
        let (mid, sit) = path.at(101.5).expect("walking");
        assert!((mid.0 - 0.2).abs() < 1e-9 && mid.1 == 0.5 && sit == 0.0);
        // Slow at first: a quarter second in, far less than a quarter of a second's walk.
        let (first, _) = path.at(100.25).expect("walking");
        assert!(first.0 - 0.1 < 0.1 * 0.25 / 2.0, "{first:?}");
        assert_eq!(path.at(104.0), Some(((0.3, 0.5), 0.5)));
        assert_eq!(path.at(500.0), Some(((0.3, 0.5), 1.0)));
        assert_eq!(path.cut(600.0), 1.0);
        path.hold(602.0, 0.0);
        let gone = path.walk(&l, &[(0.3, 0.5), (0.5, 0.5)], 0.1);
        assert!((gone - 605.0).abs() < 1e-9);
        assert_eq!(path.at(599.0), Some(((0.3, 0.5), 1.0)));
        assert_eq!(path.at(601.0), Some(((0.3, 0.5), 0.5)));
        let (p, sit) = path.at(603.5).expect("walking");
        assert!((p.0 - 0.4).abs() < 1e-9 && sit == 0.0);
        assert_eq!(path.at(99.0), None);
        assert_eq!(path.at(605.5), None);
        // Cut in the middle of a walk: they turn where they are.
        let mut p2 = Path::new(0.0, (0.0, 0.5));
        p2.walk(&l, &[(0.0, 0.5), (1.0, 0.5)], 0.1);
        assert_eq!(p2.cut(5.0), 0.0);
        // At 5 s: 0.05 speeding up, then 4 s at 0.1 per second.
        assert!((p2.at(5.0).expect("there").0.0 - 0.45).abs() < 1e-9);
        p2.walk(&l, &[(0.5, 0.5), (0.5, 0.5 + 0.1 * 1280.0 / 720.0)], 0.1);
        assert!((p2.end() - 7.5).abs() < 1e-9);
    }
}
