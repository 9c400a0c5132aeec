//! Region-of-interest inference: boxes from several crops of one frame, merged.
//!
//! A person standing across the seam between two regions is seen as two partial boxes, each
//! touching the seam. Boxes that touch an inner crop edge and overlap a box from another region
//! across that edge are joined into one; then NMS removes the duplicates that overlapping
//! regions produce. A fragment cut by a seam that lies mostly inside an uncut box from an
//! overlapping region is dropped in favour of that box.

use crate::decode::nms;
use crate::preprocess::Region;
use hallwatch_core::{BBox, Detection};

/// Pixels from a crop edge within which a box counts as cut by it.
const SEAM_TOLERANCE: f32 = 3.0;

/// Which inner edges (not on the frame border) of its region a box touches.
#[derive(Clone, Copy, Default, Debug)]
struct Cut {
    left: bool,
    right: bool,
    top: bool,
    bottom: bool,
}

fn cut(b: &BBox, r: &Region, fw: u32, fh: u32) -> Cut {
    let (rx1, ry1) = (r.x as f32, r.y as f32);
    let (rx2, ry2) = ((r.x + r.w) as f32, (r.y + r.h) as f32);
    Cut {
        left: r.x > 0 && b.x1 - rx1 <= SEAM_TOLERANCE,
        right: r.x + r.w < fw && rx2 - b.x2 <= SEAM_TOLERANCE,
        top: r.y > 0 && b.y1 - ry1 <= SEAM_TOLERANCE,
        bottom: r.y + r.h < fh && ry2 - b.y2 <= SEAM_TOLERANCE,
    }
}

fn overlap_1d(a1: f32, a2: f32, b1: f32, b2: f32) -> f32 {
    (a2.min(b2) - a1.max(b1)).max(0.0)
}

/// Whether two partial boxes from different regions are halves of one object across a seam:
/// they meet (or overlap) along the cut axis, and line up along the other axis.
fn halves(a: &BBox, ca: Cut, b: &BBox, cb: Cut) -> bool {
    let gap = SEAM_TOLERANCE * 2.0;
    let horizontal_seam =
        (ca.right && cb.left && b.x1 <= a.x2 + gap) || (ca.left && cb.right && a.x1 <= b.x2 + gap);
    let vertical_seam =
        (ca.bottom && cb.top && b.y1 <= a.y2 + gap) || (ca.top && cb.bottom && a.y1 <= b.y2 + gap);
    let along_y = overlap_1d(a.y1, a.y2, b.y1, b.y2) / a.height().min(b.height()).max(1.0);
    let along_x = overlap_1d(a.x1, a.x2, b.x1, b.x2) / a.width().min(b.width()).max(1.0);
    (horizontal_seam && along_y > 0.5) || (vertical_seam && along_x > 0.5)
}

/// Merges per-region detections (frame pixels) into one list for a `fw x fh` frame: joins
/// halves cut by seams, then suppresses duplicates above `nms_iou`.
pub fn merge_regions(
    per_region: Vec<(Region, Vec<Detection>)>,
    fw: u32,
    fh: u32,
    nms_iou: f32,
) -> Vec<Detection> {
    let mut items: Vec<(usize, Detection, Cut)> = Vec::new();
    for (ri, (r, dets)) in per_region.iter().enumerate() {
        for d in dets {
            items.push((ri, *d, cut(&d.bbox, r, fw, fh)));
        }
    }
    let mut merged = vec![false; items.len()];
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        if merged[i] {
            continue;
        }
        let (ri, mut d, mut c) = items[i];
        for j in i + 1..items.len() {
            let (rj, dj, cj) = items[j];
            if merged[j] || rj == ri || dj.class != d.class {
                continue;
            }
            if halves(&d.bbox, c, &dj.bbox, cj) {
                d.bbox = d.bbox.union(&dj.bbox);
                d.score = d.score.max(dj.score);
                c = Cut {
                    left: c.left && cj.left,
                    right: c.right && cj.right,
                    top: c.top && cj.top,
                    bottom: c.bottom && cj.bottom,
                };
                merged[j] = true;
            }
        }
        out.push(d);
    }
    // A fragment cut by a seam that lies mostly inside a whole box seen in another region is
    // the same person: the whole box stands for them.
    let cuts: Vec<bool> = out
        .iter()
        .map(|d| {
            per_region.iter().any(|(r, _)| {
                let c = cut(&d.bbox, r, fw, fh);
                inside(&d.bbox, r) && (c.left || c.right || c.top || c.bottom)
            })
        })
        .collect();
    let keep: Vec<Detection> = out
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            !(cuts[*i]
                && out.iter().enumerate().any(|(j, o)| {
                    j != *i && !cuts[j] && d.bbox.intersection(&o.bbox) >= 0.7 * d.bbox.area()
                }))
        })
        .map(|(_, d)| *d)
        .collect();
    nms(keep, nms_iou, usize::MAX)
}

fn inside(b: &BBox, r: &Region) -> bool {
    b.x1 >= r.x as f32 - 0.5
        && b.y1 >= r.y as f32 - 0.5
        && b.x2 <= (r.x + r.w) as f32 + 0.5
        && b.y2 <= (r.y + r.h) as f32 + 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Detection {
        Detection {
            bbox: BBox::new(x1, y1, x2, y2),
            score,
            class: 0,
        }
    }

    #[test]
    fn a_person_cut_by_a_vertical_seam_is_joined() {
        // Frame 200x100 split into two halves at x = 100; a person spans x 80..130.
        let left = Region {
            x: 0,
            y: 0,
            w: 100,
            h: 100,
        };
        let right = Region {
            x: 100,
            y: 0,
            w: 100,
            h: 100,
        };
        let out = merge_regions(
            vec![
                (
                    left,
                    vec![
                        det(80.0, 20.0, 100.0, 90.0, 0.6),
                        det(10.0, 10.0, 30.0, 60.0, 0.9),
                    ],
                ),
                (right, vec![det(100.0, 22.0, 130.0, 91.0, 0.8)]),
            ],
            200,
            100,
            0.5,
        );
        assert_eq!(out.len(), 2, "{out:?}");
        let joined = out.iter().find(|d| d.bbox.x2 > 120.0).expect("joined box");
        assert_eq!(joined.bbox, BBox::new(80.0, 20.0, 130.0, 91.0));
        assert_eq!(joined.score, 0.8);
    }

    #[test]
    fn side_by_side_people_at_a_seam_stay_apart() {
        let top = Region {
            x: 0,
            y: 0,
            w: 100,
            h: 50,
        };
        let bottom = Region {
            x: 0,
            y: 50,
            w: 100,
            h: 50,
        };
        // Two different people: one ends at the seam on the left, the other starts there on
        // the right, with no horizontal overlap.
        let out = merge_regions(
            vec![
                (top, vec![det(10.0, 10.0, 30.0, 50.0, 0.7)]),
                (bottom, vec![det(60.0, 50.0, 80.0, 95.0, 0.7)]),
            ],
            100,
            100,
            0.5,
        );
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_fragment_gives_way_to_the_whole_person_from_an_overlapping_region() {
        let a = Region {
            x: 0,
            y: 0,
            w: 100,
            h: 100,
        };
        let b = Region {
            x: 60,
            y: 0,
            w: 140,
            h: 100,
        };
        // Region a cuts the person at x = 100; region b sees all of them (x 85..115).
        let out = merge_regions(
            vec![
                (a, vec![det(86.0, 10.0, 100.0, 80.0, 0.7)]),
                (b, vec![det(85.0, 9.0, 115.0, 81.0, 0.6)]),
            ],
            200,
            100,
            0.5,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].bbox, BBox::new(85.0, 9.0, 115.0, 81.0));
    }

    #[test]
    fn overlapping_regions_do_not_double_count() {
        let a = Region {
            x: 0,
            y: 0,
            w: 120,
            h: 100,
        };
        let b = Region {
            x: 80,
            y: 0,
            w: 120,
            h: 100,
        };
        // The same person fully inside the overlap of both regions.
        let out = merge_regions(
            vec![
                (a, vec![det(85.0, 10.0, 110.0, 80.0, 0.9)]),
                (b, vec![det(86.0, 11.0, 111.0, 79.0, 0.8)]),
            ],
            200,
            100,
            0.5,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].score, 0.9);
    }
}
