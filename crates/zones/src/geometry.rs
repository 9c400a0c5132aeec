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
