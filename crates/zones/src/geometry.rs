//! Zone shapes in normalised image coordinates (x right, y down, both in [0, 1]).

/// A point in normalised image coordinates.
pub type Point = (f64, f64);

/// A simple polygon.
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon(pub Vec<Point>);

impl Polygon {
    /// From config points.
    pub fn from_config(points: &[[f64; 2]]) -> Option<Self> {
        (points.len() >= 3).then(|| Self(points.iter().map(|p| (p[0], p[1])).collect()))
    }

    /// Whether `p` is inside (even-odd rule; points on an edge may go either way).
    pub fn contains(&self, p: Point) -> bool {
        let v = &self.0;
        let mut inside = false;
        let mut j = v.len() - 1;
        for i in 0..v.len() {
            let (xi, yi) = v[i];
            let (xj, yj) = v[j];
            if (yi > p.1) != (yj > p.1) && p.0 < (xj - xi) * (p.1 - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }
}

impl Polygon {
    /// Signed distance from `p` to the polygon's edge, in the units of `scale` applied to both
    /// (e.g. the frame's pixel size, so that distances are isotropic): positive inside,
    /// negative outside.
    pub fn signed_distance(&self, p: Point, scale: (f64, f64)) -> f64 {
        let v = &self.0;
        let q = (p.0 * scale.0, p.1 * scale.1);
        let mut best = f64::INFINITY;
        for i in 0..v.len() {
            let a = (v[i].0 * scale.0, v[i].1 * scale.1);
            let j = (i + 1) % v.len();
            let b = (v[j].0 * scale.0, v[j].1 * scale.1);
            best = best.min(segment_distance(q, a, b));
        }
        if self.contains(p) { best } else { -best }
    }

    /// Where on the move `p -> q` it crosses the polygon's edge, as fractions of the move in
    /// [0, 1], ascending (empty when it crosses nowhere).
    pub fn crossings(&self, p: Point, q: Point) -> Vec<f64> {
        let v = &self.0;
        let mut out = Vec::new();
        let d = (q.0 - p.0, q.1 - p.1);
        for i in 0..v.len() {
            let a = v[i];
            let b = v[(i + 1) % v.len()];
            let e = (b.0 - a.0, b.1 - a.1);
            let den = d.0 * e.1 - d.1 * e.0;
            if den.abs() < 1e-15 {
                continue;
            }
            let w = (a.0 - p.0, a.1 - p.1);
            let s = (w.0 * e.1 - w.1 * e.0) / den;
            let u = (w.0 * d.1 - w.1 * d.0) / den;
            if (0.0..=1.0).contains(&s) && (0.0..=1.0).contains(&u) {
                out.push(s);
            }
        }
        out.sort_by(f64::total_cmp);
        out
    }
}

pub(crate) fn segment_distance(q: Point, a: Point, b: Point) -> f64 {
    let ab = (b.0 - a.0, b.1 - a.1);
    let len2 = ab.0 * ab.0 + ab.1 * ab.1;
    let s = if len2 > 0.0 {
        (((q.0 - a.0) * ab.0 + (q.1 - a.1) * ab.1) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let c = (a.0 + s * ab.0, a.1 + s * ab.1);
    ((q.0 - c.0).powi(2) + (q.1 - c.1).powi(2)).sqrt()
}

/// A directed line with an inside side.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// First point.
    pub a: Point,
    /// Second point.
    pub b: Point,
    /// True when the inside is on the left of a -> b (in image coordinates, y down).
    pub inside_left: bool,
}

fn cross(o: Point, a: Point, b: Point) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

impl Line {
    /// Distance from `p` to the segment a-b, in the units of `scale` (as
    /// [`Polygon::signed_distance`]).
    pub fn distance(&self, p: Point, scale: (f64, f64)) -> f64 {
        let s = |q: Point| (q.0 * scale.0, q.1 * scale.1);
        segment_distance(s(p), s(self.a), s(self.b))
    }

    /// +1 inside, -1 outside, 0 on the line (extended to infinity).
    pub fn side(&self, p: Point) -> i8 {
        // With y pointing down, a positive cross product means p is to the right of a -> b as
        // seen on screen.
        let c = cross(self.a, self.b, p);
        let right = c > 0.0;
        if c == 0.0 {
            0
        } else if right != self.inside_left {
            1
        } else {
            -1
        }
    }

    /// Whether the move p -> q crosses the segment a-b, and which way: Some(true) inward,
    /// Some(false) outward.
    pub fn crossing(&self, p: Point, q: Point) -> Option<bool> {
        let (sp, sq) = (self.side(p), self.side(q));
        if sp == sq || sp == 0 && sq == 0 {
            return None;
        }
        // The move must cross the segment itself, not its extension.
        let d1 = cross(p, q, self.a);
        let d2 = cross(p, q, self.b);
        if d1 * d2 > 0.0 {
            return None;
        }
        if sq > 0 && sp <= 0 {
            Some(true)
        } else if sq < 0 && sp >= 0 {
            Some(false)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_contains() {
        let sq = Polygon(vec![(0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5)]);
        assert!(sq.contains((0.3, 0.3)));
        assert!(!sq.contains((0.6, 0.3)));
        assert!(!sq.contains((0.3, 0.05)));
        let tri = Polygon(vec![(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]);
        assert!(tri.contains((0.2, 0.2)));
        assert!(!tri.contains((0.8, 0.8)));
    }

    #[test]
    fn signed_distance_and_crossings() {
        let sq = Polygon(vec![(0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5)]);
        // In pixels of a 200 x 100 frame: the right edge is at x = 100 px.
        let d = sq.signed_distance((0.45, 0.3), (200.0, 100.0));
        assert!((d - 10.0).abs() < 1e-9, "{d}");
        let d = sq.signed_distance((0.6, 0.3), (200.0, 100.0));
        assert!((d + 20.0).abs() < 1e-9, "{d}");
        // A move from x 0.3 to 0.7 leaves at its middle; one across the square crosses twice.
        let c = sq.crossings((0.3, 0.3), (0.7, 0.3));
        assert_eq!(c.len(), 1);
        assert!((c[0] - 0.5).abs() < 1e-9);
        let c = sq.crossings((0.0, 0.3), (0.6, 0.3));
        assert_eq!(c.len(), 2);
        assert!((c[0] - 1.0 / 6.0).abs() < 1e-9 && (c[1] - 5.0 / 6.0).abs() < 1e-9);
        assert!(sq.crossings((0.2, 0.2), (0.3, 0.3)).is_empty());
    }

    #[test]
    fn line_crossings_have_a_direction() {
        // Horizontal line at y = 0.5 from left to right; on screen (y down) the left of the
        // direction of travel is up, so with inside_left the inside is y < 0.5.
        let l = Line {
            a: (0.2, 0.5),
            b: (0.8, 0.5),
            inside_left: true,
        };
        assert_eq!(l.side((0.5, 0.4)), 1);
        assert_eq!(l.side((0.5, 0.6)), -1);
        assert_eq!(l.crossing((0.5, 0.7), (0.5, 0.3)), Some(true));
        assert_eq!(l.crossing((0.5, 0.3), (0.5, 0.7)), Some(false));
        // Beside the segment: no crossing.
        assert_eq!(l.crossing((0.9, 0.7), (0.9, 0.3)), None);
        assert_eq!(l.crossing((0.5, 0.3), (0.6, 0.2)), None);
        let r = Line {
            inside_left: false,
            ..l
        };
        assert_eq!(r.crossing((0.5, 0.7), (0.5, 0.3)), Some(false));
    }
}
