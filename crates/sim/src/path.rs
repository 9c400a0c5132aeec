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

/// A point of a walk: where the person is at `t`, and whether they sit there until the next
/// point (only meaningful when the next point is at the same place).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Waypoint {
    t: f64,
    p: P,
    seated: bool,
}

/// Where a person is over time: points joined by straight walks; an open path keeps its person
/// at the last point until it is cut.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path {
    wps: Vec<Waypoint>,
    open: bool,
}

impl Path {
    /// A person appearing at `p` at `t`.
    pub fn new(t: f64, p: P) -> Self {
        Self {
            wps: vec![Waypoint { t, p, seated: false }],
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
        if self.open { f64::INFINITY } else { self.last().t }
    }

    /// Where the person is at `t` and whether they are seated; `None` outside the path.
    pub fn at(&self, t: f64) -> Option<(P, bool)> {
        if t < self.start() || t > self.end() {
            return None;
        }
        let k = self.wps.partition_point(|w| w.t <= t);
        // k >= 1 since t >= start.
        let a = self.wps[k - 1];
        let Some(b) = self.wps.get(k) else {
            return Some((a.p, a.seated));
        };
        if a.p == b.p || b.t <= a.t {
            return Some((a.p, a.seated));
        }
        let f = (t - a.t) / (b.t - a.t);
        Some(((a.p.0 + f * (b.p.0 - a.p.0), a.p.1 + f * (b.p.1 - a.p.1)), false))
    }

    /// Stays at the last point until `t`, seated or standing.
    pub fn wait_until(&mut self, t: f64, seated: bool) {
        let n = self.wps.len() - 1;
        self.wps[n].seated = seated;
        let last = self.last();
        if t > last.t {
            self.wps.push(Waypoint {
                t,
                p: last.p,
                seated: false,
            });
        }
    }

    /// Sits (or stands) at the last point from now on, until cut.
    pub fn stay(&mut self, seated: bool) {
        let n = self.wps.len() - 1;
        self.wps[n].seated = seated;
        self.open = true;
    }

    /// Drops what was planned after `t`: the person is where they were at `t`, standing up to
    /// go elsewhere.
    pub fn cut(&mut self, t: f64) {
        let p = self.at(t).map(|(p, _)| p).unwrap_or(self.last().p);
        let k = self.wps.partition_point(|w| w.t <= t);
        self.wps.truncate(k.max(1));
        if self.last().t < t {
            self.wps.push(Waypoint {
                t,
                p,
                seated: false,
            });
        }
        self.open = true;
    }

    /// Walks from the last point through `route` (whose first point is where they are) at
    /// `speed` image widths per second; returns the arrival time. The path is then closed at
    /// the arrival: call [`stay`](Self::stay) or [`wait_until`](Self::wait_until) to remain.
    pub fn walk(&mut self, layout: &Layout, route: &[P], speed: f64) -> f64 {
        let mut last = self.last();
        for &p in route {
            if p == last.p {
                continue;
            }
            let t = last.t + layout.dist(last.p, p) / speed;
            last = Waypoint {
                t,
                p,
                seated: false,
            };
            self.wps.push(last);
        }
        self.open = false;
        last.t
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
        let arrive = path.walk(&l, &[(0.1, 0.5), (0.3, 0.5)], 0.1);
        assert!((arrive - 102.0).abs() < 1e-9);
        path.stay(true);
        assert_eq!(path.end(), f64::INFINITY);
        assert_eq!(path.at(101.0), Some(((0.2, 0.5), false)));
        assert_eq!(path.at(500.0), Some(((0.3, 0.5), true)));
        path.cut(600.0);
        let gone = path.walk(&l, &[(0.3, 0.5), (0.5, 0.5)], 0.1);
        assert!((gone - 602.0).abs() < 1e-9);
        assert_eq!(path.at(599.0), Some(((0.3, 0.5), true)));
        assert_eq!(path.at(601.0), Some(((0.4, 0.5), false)));
        assert_eq!(path.at(99.0), None);
        assert_eq!(path.at(603.0), None);
        // Cut in the middle of a walk: they turn where they are.
        let mut p2 = Path::new(0.0, (0.0, 0.5));
        p2.walk(&l, &[(0.0, 0.5), (1.0, 0.5)], 0.1);
        p2.cut(5.0);
        p2.walk(&l, &[(0.5, 0.5), (0.5, 0.5 + 0.1 * 1280.0 / 720.0)], 0.1);
        assert!((p2.end() - 6.0).abs() < 1e-9);
    }
}
