//! Where things are in the virtual camera's image, and how big a person looks there.
//!
//! The hall's zones come from the embedded hallwatch config ([`hall_config`], `hall.toml`):
//! counter spots and staff chairs are placed inside each counter's polygons, seats in rows
//! inside the waiting polygon, the door on the entrance line. All points are normalised image
//! coordinates (x right, y down, both in [0, 1]) of where a person's feet are.

use crate::SimError;
use hallwatch_config::{Config, ZoneRole};
use hallwatch_core::BBox;
use std::collections::BTreeMap;

/// The embedded config of the simulated hall (site, the virtual camera, its zones).
pub const HALL_TOML: &str = include_str!("hall.toml");

/// The hallwatch config of the simulated hall: the zones the simulated detections pass through.
pub fn hall_config() -> Result<Config, SimError> {
    Config::from_toml_str(HALL_TOML)
        .map_err(|e| SimError::Config(format!("embedded hall.toml: {e}")))
}

/// A point in normalised image coordinates.
pub(crate) type P = (f64, f64);

/// One counter's spots.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CounterSpots {
    /// Where the citizen stands while served.
    pub citizen: P,
    /// The officer's chair.
    pub staff: P,
}

/// The hall's geometry on the virtual camera.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Camera id.
    pub camera: String,
    /// Frame size in pixels.
    pub width: u32,
    /// Frame size in pixels.
    pub height: u32,
    /// Outside the door, where people appear and vanish.
    pub door_out: P,
    /// Just inside the door.
    pub door_in: P,
    /// The ticket kiosk.
    pub kiosk: P,
    /// The aisle every walk follows, between the counters and the seats.
    pub aisle_y: f64,
    /// Seats, in rows (staggered).
    pub seats: Vec<P>,
    /// Standing places in the waiting area when the seats are full.
    pub standing: Vec<P>,
    /// Overflow area `[x0, x1, y0, y1]` inside the waiting area when everything is taken.
    pub overflow: [f64; 4],
    /// Counter number to its spots.
    pub counters: BTreeMap<u32, CounterSpots>,
}

fn bounds(poly: &[[f64; 2]]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in poly {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].max(p[0]);
        b[2] = b[2].min(p[1]);
        b[3] = b[3].max(p[1]);
    }
    b
}

impl Layout {
    /// The layout of a hall config's first camera: one waiting zone, counter zones with staff
    /// polygons, one vertical entrance line with the hall on the right.
    pub fn from_config(hall: &Config) -> Result<Layout, SimError> {
        let cam = hall
            .cameras
            .first()
            .ok_or_else(|| SimError::Config("the hall config has no camera".into()))?;
        let zones: Vec<_> = hall.zones.iter().filter(|z| z.camera == cam.id).collect();
        let bad = |m: &str| SimError::Config(format!("hall layout: {m}"));
        let waiting = zones
            .iter()
            .find(|z| z.role == ZoneRole::Waiting)
            .ok_or_else(|| bad("no waiting zone"))?;
        let entrance = zones
            .iter()
            .find(|z| z.role == ZoneRole::Entrance && z.line.len() == 2)
            .ok_or_else(|| bad("no entrance line"))?;
        let mut counters = BTreeMap::new();
        let mut counter_bottom: f64 = 0.0;
        for z in zones.iter().filter(|z| z.role == ZoneRole::Counter) {
            let b = bounds(&z.polygon);
            let s = bounds(&z.staff_polygon);
            if z.staff_polygon.len() < 3 {
                return Err(bad(&format!(
                    "counter zone '{}' has no staff polygon",
                    z.id
                )));
            }
            counter_bottom = counter_bottom.max(b[3]);
            counters.insert(
                z.counter,
                CounterSpots {
                    citizen: ((b[0] + b[1]) / 2.0, b[3] - 0.04),
                    staff: ((s[0] + s[1]) / 2.0, s[3] - 0.03),
                },
            );
        }
        let w = bounds(&waiting.polygon);
        let aisle_y = (counter_bottom + w[2]) / 2.0;
        let line_x = (entrance.line[0][0] + entrance.line[1][0]) / 2.0;
        // Rows of seats 0.10 apart from 0.07 below the waiting area's top edge, seats 0.08
        // apart, every other row shifted by half a seat so that a row hides little of the
        // one behind; the right-hand strip is for standing.
        let mut seats = Vec::new();
        let mut r = 0;
        loop {
            let y = w[2] + 0.07 + 0.10 * f64::from(r);
            if y > w[3] - 0.04 {
                break;
            }
            let shift = if r % 2 == 1 { 0.04 } else { 0.0 };
            let mut x = w[0] + 0.06 + shift;
            while x <= w[1] - 0.12 {
                seats.push((x, y));
                x += 0.08;
            }
            r += 1;
        }
        let standing_x = w[1] - 0.05;
        let standing = (0..6)
            .map(|i| (standing_x, w[2] + 0.06 + 0.06 * f64::from(i)))
            .filter(|p| p.1 <= w[3] - 0.03)
            .collect();
        Ok(Layout {
            camera: cam.id.clone(),
            width: cam.source.width,
            height: cam.source.height,
            door_out: (line_x - 0.07, aisle_y),
            door_in: (line_x + 0.04, aisle_y),
            kiosk: (line_x + 0.06, aisle_y - 0.10),
            aisle_y,
            seats,
            standing,
            overflow: [
                standing_x - 0.04,
                standing_x + 0.015,
                w[2] + 0.05,
                w[3] - 0.04,
            ],
            counters,
        })
    }

    /// The walk from `a` to `b` along the aisle: up or down to it, along it, then to `b`.
    pub fn route(&self, a: P, b: P) -> Vec<P> {
        let mut pts = vec![a, (a.0, self.aisle_y), (b.0, self.aisle_y), b];
        pts.dedup_by(|x, y| (x.0 - y.0).abs() < 1e-9 && (x.1 - y.1).abs() < 1e-9);
        pts
    }

    /// Distance in image widths (y scaled by the aspect ratio, so that it is the same floor
    /// distance either way).
    pub fn dist(&self, a: P, b: P) -> f64 {
        let aspect = f64::from(self.height) / f64::from(self.width.max(1));
        ((a.0 - b.0).powi(2) + ((a.1 - b.1) * aspect).powi(2)).sqrt()
    }

    /// The true box, in pixels, of a person whose feet are at `p`, `sit` 0 standing to 1
    /// seated (a seated person is 30 % shorter). People further away (higher in the image)
    /// look smaller.
    pub fn person_box(&self, p: P, sit: f64) -> BBox {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let stand = h * (0.10 + 0.22 * p.1);
        let bh = (1.0 - 0.3 * sit.clamp(0.0, 1.0)) * stand;
        let bw = 0.38 * stand;
        let (fx, fy) = (p.0 * w, p.1 * h);
        BBox::new(
            (fx - bw / 2.0) as f32,
            (fy - bh) as f32,
            (fx + bw / 2.0) as f32,
            fy as f32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallwatch_zones::geometry::{Line, Polygon};

    #[test]
    fn the_places_lie_in_their_zones() {
        let hall = hall_config().expect("embedded config is valid");
        let l = Layout::from_config(&hall).expect("layout");
        let poly = |id: &str, staff: bool| {
            let z = hall.zones.iter().find(|z| z.id == id).expect("zone");
            Polygon::from_config(if staff { &z.staff_polygon } else { &z.polygon })
                .expect("polygon")
        };
        let waiting = poly("khu-cho", false);
        assert!(l.seats.len() >= 24, "{} seats", l.seats.len());
        for p in l.seats.iter().chain(&l.standing) {
            assert!(waiting.contains(*p), "{p:?} outside the waiting zone");
        }
        for (x, y) in [
            (l.overflow[0], l.overflow[2]),
            (l.overflow[1], l.overflow[3]),
        ] {
            assert!(waiting.contains((x, y)));
        }
        assert_eq!(l.counters.len(), 3);
        for (n, s) in &l.counters {
            let id = format!("quay-{n}");
            assert!(poly(&id, false).contains(s.citizen));
            assert!(poly(&id, true).contains(s.staff));
        }
        // The aisle, the door and the kiosk are in no zone.
        let mut outside = vec![l.door_in, l.door_out, l.kiosk];
        outside.extend((0..=20).map(|i| (0.05 + 0.045 * f64::from(i), l.aisle_y)));
        for p in outside {
            assert!(!waiting.contains(p), "{p:?}");
            for n in 1..=3 {
                assert!(!poly(&format!("quay-{n}"), false).contains(p), "{p:?}");
                assert!(!poly(&format!("quay-{n}"), true).contains(p), "{p:?}");
            }
        }
        // Walking in from door_out to door_in crosses the entrance line inwards.
        let door = hall.zones.iter().find(|z| z.id == "cua").expect("door");
        let line = Line {
            a: (door.line[0][0], door.line[0][1]),
            b: (door.line[1][0], door.line[1][1]),
            inside_left: door.inside == hallwatch_config::InsideSide::Left,
        };
        assert_eq!(line.crossing(l.door_out, l.door_in), Some(true));
        assert_eq!(line.crossing(l.door_in, l.door_out), Some(false));
    }

    #[test]
    fn routes_follow_the_aisle_and_boxes_shrink_with_distance() {
        let l = Layout::from_config(&hall_config().expect("hall")).expect("layout");
        let seat = l.seats[0];
        let r = l.route(l.kiosk, seat);
        assert_eq!(r.len(), 4);
        assert_eq!(r[1].1, l.aisle_y);
        assert_eq!(r[2], (seat.0, l.aisle_y));
        assert_eq!(l.route(l.door_out, l.door_in).len(), 2);
        let near = l.person_box((0.5, 0.9), 0.0);
        let far = l.person_box((0.5, 0.3), 0.0);
        assert!(near.height() > far.height() * 1.5);
        assert!(l.person_box((0.5, 0.9), 1.0).height() < near.height());
        assert_eq!(near.foot(), (640.0, 648.0));
    }
}
