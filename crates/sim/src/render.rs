//! The virtual camera: what a person detector reports in one frame, from where everyone really
//! is, with misses, occlusions, box jitter and false positives.

use crate::config::NoiseConfig;
use crate::des::DayPlan;
use crate::layout::Layout;
use crate::path::{Stream, rng};
use hallwatch_core::{BBox, Detection};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// Someone in view: their true box, whether they are in an occlusion episode.
struct Visible {
    bbox: BBox,
    hidden: bool,
}

/// The true boxes of everyone in view at `t`, in a fixed order (citizens by id, then officers
/// by counter).
fn visible(plan: &DayPlan, layout: &Layout, t: f64) -> Vec<Visible> {
    let mut v = Vec::new();
    for c in &plan.citizens {
        if t < c.path.start() || t > c.path.end() {
            continue;
        }
        if let Some((p, sit)) = c.path.at(t) {
            v.push(Visible {
                bbox: layout.person_box(p, sit),
                hidden: c.episodes.iter().any(|&(a, b)| a <= t && t < b),
            });
        }
    }
    for s in &plan.staff {
        if s.present.iter().any(|&(a, b)| a <= t && t < b) {
            v.push(Visible {
                bbox: layout.person_box(s.spot, 1.0),
                hidden: false,
            });
        }
    }
    v
}

/// The detections of frame `index` (at `t`) for run `seed`.
pub(crate) fn render(
    plan: &DayPlan,
    layout: &Layout,
    noise: &NoiseConfig,
    seed: u64,
    index: u64,
    t: f64,
) -> Vec<Detection> {
    let mut r = rng(seed, Stream::Frame, index);
    let people = visible(plan, layout, t);
    let (w, h) = (layout.width as f32, layout.height as f32);
    let mut out = Vec::with_capacity(people.len() + 1);
    for (i, a) in people.iter().enumerate() {
        // The same draws for everyone, whatever happens to them, so that one person's fate
        // does not shift the next one's noise.
        let u_miss = r.random::<f64>();
        let u_occ = r.random::<f64>();
        let score = r.random_range(noise.score[0]..=noise.score[1]);
        let z: [f64; 3] = [
            StandardNormal.sample(&mut r),
            StandardNormal.sample(&mut r),
            StandardNormal.sample(&mut r),
        ];
        if a.hidden || u_miss < noise.miss_prob {
            continue;
        }
        // Occluded by someone nearer the camera (feet lower in the image).
        let area = a.bbox.area().max(1.0);
        let occluded = people.iter().enumerate().any(|(j, b)| {
            j != i
                && b.bbox.y2 > a.bbox.y2
                && f64::from(a.bbox.intersection(&b.bbox) / area) >= noise.occlusion_overlap
        });
        let mut score = score;
        if occluded {
            if u_occ < noise.occluded_miss_prob {
                continue;
            }
            score *= 0.5;
        }
        if score < noise.min_score {
            continue;
        }
        let bh = f64::from(a.bbox.height());
        let j = noise.jitter * bh;
        let (cx, cy) = a.bbox.centre();
        let s = (1.0 + noise.jitter * z[2]).max(0.5);
        let bbox = BBox::from_cxcywh(
            (f64::from(cx) + j * z[0]) as f32,
            (f64::from(cy) + j * z[1]) as f32,
            (f64::from(a.bbox.width()) * s) as f32,
            (bh * s) as f32,
        )
        .clip(w, h);
        if bbox.area() > 0.0 {
            out.push(Detection {
                bbox,
                score: score as f32,
                class: 0,
            });
        }
    }
    // False positives: a Poisson count, each somewhere on the floor with a middling score.
    let lambda = noise.false_positives_per_frame;
    if lambda > 0.0 {
        let limit = (-lambda).exp();
        let mut p = r.random::<f64>();
        while p > limit {
            let x = r.random_range(0.05..0.95);
            let y = r.random_range(0.3..0.98);
            let shrink = r.random_range(0.5..1.0);
            let score = r.random_range(0.25..0.6);
            let b = layout.person_box((x, y), 0.0);
            let bb = BBox::new(b.x1, b.y2 - b.height() * shrink as f32, b.x2, b.y2).clip(w, h);
            if score >= noise.min_score && bb.area() > 0.0 {
                out.push(Detection {
                    bbox: bb,
                    score: score as f32,
                    class: 0,
                });
            }
            p *= r.random::<f64>();
        }
    }
    out
}
