//! Zone-level accuracy against MOTChallenge ground truth: how many people a zone holds in each
//! frame, and each person's visit to it (when they stepped in, when they left).
//!
//! The truth is derived from the ground-truth boxes: a person is inside the zone in a frame
//! when the anchor point of their box (bottom-centre or centre, as the hall config says) lies
//! in the polygon. A true visit is a run of frames inside, joined across gaps of at most
//! [`ZoneEvalOptions::join_gap_s`] (a foot flickering over the edge), dated from the first to
//! the last frame inside. True visits shorter than [`ZoneEvalOptions::min_visit_s`] (someone
//! grazing a corner) are "don't care": a found visit matched to one is neither right nor wrong.
//!
//! Found visits are matched to true visits one to one by temporal IoU (at least
//! [`ZoneEvalOptions::min_tiou`], the pairing with the most matches and then the largest total
//! IoU). Each interval is widened by half a source frame on both sides, so that a one-frame
//! visit has a length. With the tracker's boxes (`tracks.txt`), every track box is paired with a
//! ground-truth box per frame (IoU >= 0.5), which tells who a found visit really followed:
//! a **merge** is a found visit that followed two or more people, a **split** a true visit
//! covered by two or more found visits of that person.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use hallwatch_config::Anchor;
use hallwatch_core::BBox;
use hallwatch_zones::geometry::{Point, Polygon};
use serde::Serialize;

use crate::assignment::min_cost_matching;
use crate::{EvalError, MotRow};

/// One row of `zone_counts.csv` for the zone being evaluated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountRow {
    /// MOTChallenge frame number (1-based decoded frame).
    pub frame: u32,
    /// Stream time of the frame, seconds, when the file has it.
    pub time_s: Option<f64>,
    /// People counted in the zone.
    pub count: f64,
}

/// One found visit (a row of `zone_sessions.csv` for the zone being evaluated).
#[derive(Clone, Debug, PartialEq)]
pub struct VisitRow {
    /// Stream time the visit began, seconds.
    pub enter_s: f64,
    /// Stream time it ended, seconds.
    pub exit_s: f64,
    /// The tracks that made it up.
    pub tracks: Vec<i64>,
}

/// How frame numbers map to stream time: `t = t0 + (frame - frame0) * dt`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameClock {
    /// A frame number.
    pub frame0: u32,
    /// Its stream time, seconds.
    pub t0: f64,
    /// Seconds per source frame.
    pub dt: f64,
}

impl FrameClock {
    /// The clock of a source with `fps` frames per second whose frame 1 is at time 0.
    pub fn from_fps(fps: f64) -> Self {
        Self {
            frame0: 1,
            t0: 0.0,
            dt: 1.0 / fps,
        }
    }

    /// The clock read from count rows that carry times (the first and last rows with a time,
    /// on different frames); `None` when there are not two such rows.
    pub fn from_counts(rows: &[CountRow]) -> Option<Self> {
        let timed: Vec<(u32, f64)> = rows
            .iter()
            .filter_map(|r| r.time_s.map(|t| (r.frame, t)))
            .collect();
        let first = *timed.iter().min_by_key(|(f, _)| *f)?;
        let last = *timed.iter().max_by_key(|(f, _)| *f)?;
        (last.0 > first.0).then(|| Self {
            frame0: first.0,
            t0: first.1,
            dt: (last.1 - first.1) / f64::from(last.0 - first.0),
        })
    }

    /// Stream time of `frame`.
    pub fn time(&self, frame: u32) -> f64 {
        self.t0 + (f64::from(frame) - f64::from(self.frame0)) * self.dt
    }
}

/// What to evaluate and how.
#[derive(Clone, Debug)]
pub struct ZoneEvalOptions {
    /// The zone, in normalised image coordinates.
    pub polygon: Polygon,
    /// Which point of a box places a person.
    pub anchor: Anchor,
    /// Source frame size in pixels (the ground truth's coordinates).
    pub frame_size: (u32, u32),
    /// Frame numbers to stream time.
    pub clock: FrameClock,
    /// True visits shorter than this (seconds) are "don't care". Default 0.5.
    pub min_visit_s: f64,
    /// Runs inside separated by at most this many seconds outside (or unannotated) are one
    /// visit. Default 0.5.
    pub join_gap_s: f64,
    /// Least temporal IoU for a found visit to match a true one. Default 0.5.
    pub min_tiou: f64,
}

impl ZoneEvalOptions {
    /// Options with the defaults for everything but the zone, its frame size and clock.
    pub fn new(polygon: Polygon, frame_size: (u32, u32), clock: FrameClock) -> Self {
        Self {
            polygon,
            anchor: Anchor::BottomCentre,
            frame_size,
            clock,
            min_visit_s: 0.5,
            join_gap_s: 0.5,
            min_tiou: 0.5,
        }
    }

    fn inside(&self, b: &BBox) -> bool {
        let (x, y) = match self.anchor {
            Anchor::BottomCentre => b.foot(),
            Anchor::Centre => b.centre(),
        };
        let p: Point = (
            f64::from(x) / f64::from(self.frame_size.0.max(1)),
            f64::from(y) / f64::from(self.frame_size.1.max(1)),
        );
        self.polygon.contains(p)
    }
}

/// A visit of one ground-truth person.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TrueVisit {
    /// Ground-truth id.
    pub id: i64,
    /// First and last frame inside.
    pub first_frame: u32,
    /// Last frame inside.
    pub last_frame: u32,
    /// Stream time of the first frame inside.
    pub enter_s: f64,
    /// Stream time of the last frame inside.
    pub exit_s: f64,
}

impl TrueVisit {
    /// Seconds from the first to the last frame inside.
    pub fn duration(&self) -> f64 {
        self.exit_s - self.enter_s
    }
}

/// The figures of one zone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneScores {
    /// Frames compared for counts (the rows of the counts file).
    pub frames: usize,
    /// Mean true count over those frames.
    pub true_count_mean: f64,
    /// Mean absolute error of the count written.
    pub count_mae: f64,
    /// Mean of (written - true).
    pub count_bias: f64,
    /// Mean absolute error of counting the tracker's own boxes in the zone (when tracks were
    /// given): the count the hall model should not lose to.
    pub tracker_count_mae: Option<f64>,
    /// True visits (at least `min_visit_s` long).
    pub true_visits: usize,
    /// True visits shorter than `min_visit_s`, left out.
    pub short_true_visits: usize,
    /// Found visits, less those matched to short true visits.
    pub found_visits: usize,
    /// True visits matched one to one.
    pub matched: usize,
    /// `matched / true_visits`.
    pub matched_share: f64,
    /// `found_visits / true_visits`.
    pub found_ratio: f64,
    /// Median absolute error of a matched visit's duration, seconds.
    pub duration_err_median_s: Option<f64>,
    /// 90th percentile of the same.
    pub duration_err_p90_s: Option<f64>,
    /// Mean of (found - true) duration over matched visits, seconds.
    pub duration_bias_s: Option<f64>,
    /// Found visits that followed two or more people (needs tracks).
    pub merges: Option<usize>,
    /// True visits covered by two or more found visits of that person (needs tracks).
    pub splits: Option<usize>,
}

/// The true visits of the zone, short ones included, ordered by entry.
pub fn true_visits(gt: &[MotRow], opts: &ZoneEvalOptions) -> Vec<TrueVisit> {
    let mut by_id: BTreeMap<i64, Vec<(u32, bool)>> = BTreeMap::new();
    for r in gt.iter().filter(|r| !r.is_ignored_gt()) {
        by_id
            .entry(r.id)
            .or_default()
            .push((r.frame, opts.inside(&r.bbox)));
    }
    let join_frames = (opts.join_gap_s / opts.clock.dt).floor() as u32;
    let mut out = Vec::new();
    for (id, mut frames) in by_id {
        frames.sort_unstable_by_key(|(f, _)| *f);
        let mut run: Option<(u32, u32)> = None;
        for (f, inside) in frames {
            if !inside {
                continue;
            }
            run = match run {
                Some((a, b)) if f - b <= join_frames + 1 => Some((a, f)),
                Some((a, b)) => {
                    out.push(visit(id, a, b, &opts.clock));
                    Some((f, f))
                }
                None => Some((f, f)),
            };
        }
        if let Some((a, b)) = run {
            out.push(visit(id, a, b, &opts.clock));
        }
    }
    out.sort_by(|a, b| a.enter_s.total_cmp(&b.enter_s).then(a.id.cmp(&b.id)));
    out
}

fn visit(id: i64, a: u32, b: u32, clock: &FrameClock) -> TrueVisit {
    TrueVisit {
        id,
        first_frame: a,
        last_frame: b,
        enter_s: clock.time(a),
        exit_s: clock.time(b),
    }
}

fn tiou(a: (f64, f64), b: (f64, f64), pad: f64) -> f64 {
    let (a0, a1) = (a.0 - pad, a.1 + pad);
    let (b0, b1) = (b.0 - pad, b.1 + pad);
    let inter = (a1.min(b1) - a0.max(b0)).max(0.0);
    let union = (a1.max(b1) - a0.min(b0)).max(1e-12);
    inter / union
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// Which ground-truth person each (frame, track) box followed: per frame, track boxes and
/// ground-truth boxes paired one to one at IoU >= 0.5 (most pairs, then the largest IoU).
fn identities(gt: &[MotRow], tracks: &[MotRow]) -> HashMap<(u32, i64), i64> {
    let mut gt_by_frame: BTreeMap<u32, Vec<&MotRow>> = BTreeMap::new();
    for r in gt.iter().filter(|r| !r.is_ignored_gt()) {
        gt_by_frame.entry(r.frame).or_default().push(r);
    }
    let mut tr_by_frame: BTreeMap<u32, Vec<&MotRow>> = BTreeMap::new();
    for r in tracks {
        tr_by_frame.entry(r.frame).or_default().push(r);
    }
    let mut map = HashMap::new();
    for (frame, trs) in &tr_by_frame {
        let Some(gts) = gt_by_frame.get(frame) else {
            continue;
        };
        let pairs = min_cost_matching(trs.len(), gts.len(), |i, j| {
            let iou = f64::from(trs[i].bbox.iou(&gts[j].bbox));
            (iou >= 0.5).then_some(1.0 - iou)
        });
        for (i, j) in pairs {
            map.insert((*frame, trs[i].id), gts[j].id);
        }
    }
    map
}

/// Ground-truth people a found visit followed: those behind at least 30 % of its boxes that
/// could be paired with a person.
fn followed(
    v: &VisitRow,
    tracks: &[MotRow],
    ids: &HashMap<(u32, i64), i64>,
    clock: &FrameClock,
) -> BTreeSet<i64> {
    let mut n: BTreeMap<i64, usize> = BTreeMap::new();
    let eps = clock.dt / 2.0;
    for r in tracks.iter().filter(|r| v.tracks.contains(&r.id)) {
        let t = clock.time(r.frame);
        if t < v.enter_s - eps || t > v.exit_s + eps {
            continue;
        }
        if let Some(g) = ids.get(&(r.frame, r.id)) {
            *n.entry(*g).or_default() += 1;
        }
    }
    let total: usize = n.values().sum();
    n.into_iter()
        .filter(|(_, k)| *k as f64 >= 0.3 * total as f64)
        .map(|(g, _)| g)
        .collect()
}

/// Scores one zone: counts per frame and visits against the truth from `gt`. `tracks` (the
/// tracker's boxes, MOTChallenge rows) adds the tracker-box count baseline, merges and splits.
pub fn evaluate_zone(
    gt: &[MotRow],
    tracks: Option<&[MotRow]>,
    counts: &[CountRow],
    visits: &[VisitRow],
    opts: &ZoneEvalOptions,
) -> ZoneScores {
    // Counts, frame by frame.
    let mut true_by_frame: HashMap<u32, usize> = HashMap::new();
    for r in gt
        .iter()
        .filter(|r| !r.is_ignored_gt() && opts.inside(&r.bbox))
    {
        *true_by_frame.entry(r.frame).or_default() += 1;
    }
    let mut tracker_by_frame: HashMap<u32, usize> = HashMap::new();
    if let Some(tr) = tracks {
        for r in tr.iter().filter(|r| opts.inside(&r.bbox)) {
            *tracker_by_frame.entry(r.frame).or_default() += 1;
        }
    }
    let n = counts.len().max(1) as f64;
    let truth = |f: u32| true_by_frame.get(&f).copied().unwrap_or(0) as f64;
    let count_mae = counts
        .iter()
        .map(|c| (c.count - truth(c.frame)).abs())
        .sum::<f64>()
        / n;
    let count_bias = counts.iter().map(|c| c.count - truth(c.frame)).sum::<f64>() / n;
    let true_count_mean = counts.iter().map(|c| truth(c.frame)).sum::<f64>() / n;
    let tracker_count_mae = tracks.map(|_| {
        counts
            .iter()
            .map(|c| {
                (tracker_by_frame.get(&c.frame).copied().unwrap_or(0) as f64 - truth(c.frame)).abs()
            })
            .sum::<f64>()
            / n
    });

    // Visits.
    let all_true = true_visits(gt, opts);
    let pad = opts.clock.dt / 2.0;
    let pairs = min_cost_matching(visits.len(), all_true.len(), |i, j| {
        let iou = tiou(
            (visits[i].enter_s, visits[i].exit_s),
            (all_true[j].enter_s, all_true[j].exit_s),
            pad,
        );
        (iou >= opts.min_tiou).then_some(1.0 - iou)
    });
    let is_short = |v: &TrueVisit| v.duration() < opts.min_visit_s;
    let short_true = all_true.iter().filter(|v| is_short(v)).count();
    let true_n = all_true.len() - short_true;
    let mut errors = Vec::new();
    let mut bias = 0.0;
    let mut found_on_short = 0;
    for &(i, j) in &pairs {
        if is_short(&all_true[j]) {
            found_on_short += 1;
            continue;
        }
        let d = (visits[i].exit_s - visits[i].enter_s) - all_true[j].duration();
        bias += d;
        errors.push(d.abs());
    }
    let matched = errors.len();
    errors.sort_by(f64::total_cmp);
    let found_n = visits.len() - found_on_short;

    let (merges, splits) = match tracks {
        Some(tr) => {
            let ids = identities(gt, tr);
            let people: Vec<BTreeSet<i64>> = visits
                .iter()
                .map(|v| followed(v, tr, &ids, &opts.clock))
                .collect();
            let overlaps = |v: &VisitRow, t: &TrueVisit| {
                tiou((v.enter_s, v.exit_s), (t.enter_s, t.exit_s), pad) > 0.0
            };
            let merges = visits
                .iter()
                .zip(&people)
                .filter(|(v, p)| {
                    p.iter()
                        .filter(|g| {
                            all_true
                                .iter()
                                .any(|t| t.id == **g && !is_short(t) && overlaps(v, t))
                        })
                        .count()
                        >= 2
                })
                .count();
            let splits = all_true
                .iter()
                .filter(|t| !is_short(t))
                .filter(|t| {
                    visits
                        .iter()
                        .zip(&people)
                        .filter(|(v, p)| p.contains(&t.id) && overlaps(v, t))
                        .count()
                        >= 2
                })
                .count();
            (Some(merges), Some(splits))
        }
        None => (None, None),
    };

    ZoneScores {
        frames: counts.len(),
        true_count_mean,
        count_mae,
        count_bias,
        tracker_count_mae,
        true_visits: true_n,
        short_true_visits: short_true,
        found_visits: found_n,
        matched,
        matched_share: if true_n > 0 {
            matched as f64 / true_n as f64
        } else {
            1.0
        },
        found_ratio: if true_n > 0 {
            found_n as f64 / true_n as f64
        } else {
            0.0
        },
        duration_err_median_s: quantile(&errors, 0.5),
        duration_err_p90_s: quantile(&errors, 0.9),
        duration_bias_s: (matched > 0).then(|| bias / matched as f64),
        merges,
        splits,
    }
}

/// Columns of a CSV file by header name.
struct Csv {
    name: String,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Csv {
    fn read(path: &Path) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse(&text, &path.display().to_string()))
    }

    fn parse(text: &str, name: &str) -> Self {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines
            .next()
            .map(|(_, l)| l.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        let rows = lines
            .map(|(i, l)| (i + 1, l.split(',').map(|s| s.trim().to_owned()).collect()))
            .collect();
        Self {
            name: name.to_owned(),
            header,
            rows,
        }
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn need(&self, name: &str) -> Result<usize, EvalError> {
        self.column(name).ok_or_else(|| EvalError::Parse {
            file: self.name.clone(),
            line: 1,
            message: format!(
                "no column '{name}' in the header (columns: {})",
                self.header.join(",")
            ),
        })
    }

    fn field<T: std::str::FromStr>(
        &self,
        line: usize,
        row: &[String],
        col: usize,
    ) -> Result<T, EvalError> {
        let raw = row.get(col).map(String::as_str).unwrap_or("");
        raw.parse().map_err(|_| EvalError::Parse {
            file: self.name.clone(),
            line,
            message: format!("column '{}': cannot read {raw:?}", self.header[col]),
        })
    }
}

/// The rows of a `zone_counts.csv` (`frame,time_s,zone,count[,smoothed]`, as `hallwatch
/// replay` writes it) for `zone`, from text; `name` names it in errors.
pub fn parse_zone_counts(text: &str, name: &str, zone: &str) -> Result<Vec<CountRow>, EvalError> {
    counts_from(&Csv::parse(text, name), zone)
}

/// [`parse_zone_counts`] from a file.
pub fn read_zone_counts(path: &Path, zone: &str) -> Result<Vec<CountRow>, EvalError> {
    counts_from(&Csv::read(path)?, zone)
}

fn counts_from(csv: &Csv, zone: &str) -> Result<Vec<CountRow>, EvalError> {
    let (f, z, c) = (csv.need("frame")?, csv.need("zone")?, csv.need("count")?);
    let t = csv.column("time_s");
    let mut out = Vec::new();
    for (line, row) in &csv.rows {
        if row.get(z).map(String::as_str) != Some(zone) {
            continue;
        }
        out.push(CountRow {
            frame: csv.field(*line, row, f)?,
            time_s: t.map(|t| csv.field(*line, row, t)).transpose()?,
            count: csv.field(*line, row, c)?,
        });
    }
    Ok(out)
}

/// The visits of `zone` in a `zone_sessions.csv` (`zone,track_id,enter_s,exit_s,...[,tracks]`,
/// tracks separated by `;`), from text; `name` names it in errors.
pub fn parse_zone_visits(text: &str, name: &str, zone: &str) -> Result<Vec<VisitRow>, EvalError> {
    visits_from(&Csv::parse(text, name), zone)
}

/// [`parse_zone_visits`] from a file.
pub fn read_zone_visits(path: &Path, zone: &str) -> Result<Vec<VisitRow>, EvalError> {
    visits_from(&Csv::read(path)?, zone)
}

fn visits_from(csv: &Csv, zone: &str) -> Result<Vec<VisitRow>, EvalError> {
    let (z, a, b) = (csv.need("zone")?, csv.need("enter_s")?, csv.need("exit_s")?);
    let tracks = csv.column("tracks");
    let first = csv.column("track_id");
    let mut out = Vec::new();
    for (line, row) in &csv.rows {
        if row.get(z).map(String::as_str) != Some(zone) {
            continue;
        }
        let ids: Vec<i64> = match (tracks, first) {
            (Some(c), _) => row
                .get(c)
                .map(String::as_str)
                .unwrap_or("")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().map_err(|_| EvalError::Parse {
                        file: csv.name.clone(),
                        line: *line,
                        message: format!("column 'tracks': {s:?} is not a track id"),
                    })
                })
                .collect::<Result<_, _>>()?,
            (None, Some(c)) => vec![csv.field(*line, row, c)?],
            (None, None) => Vec::new(),
        };
        let (enter_s, exit_s): (f64, f64) = (csv.field(*line, row, a)?, csv.field(*line, row, b)?);
        if exit_s < enter_s {
            return Err(EvalError::Parse {
                file: csv.name.clone(),
                line: *line,
                message: format!("exit_s {exit_s} is before enter_s {enter_s}"),
            });
        }
        out.push(VisitRow {
            enter_s,
            exit_s,
            tracks: ids,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_mot;

    /// A 100x100 frame at 10 fps; the zone is the left half (x < 0.5).
    fn opts() -> ZoneEvalOptions {
        ZoneEvalOptions::new(
            Polygon(vec![(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]),
            (100, 100),
            FrameClock::from_fps(10.0),
        )
    }

    /// A MOT row whose feet are at pixel x `fx`, y 90.
    fn row(frame: u32, id: i64, fx: f32) -> String {
        format!("{frame},{id},{},40,10,50,1", fx - 5.0)
    }

    /// Person 1 walks from x=10 to x=90 over frames 1..=41 (2 px a frame: inside frames 1-20,
    /// x < 50); person 2 stands at x=30 in frames 11-30.
    fn gt() -> Vec<MotRow> {
        let mut s = String::new();
        for f in 1..=41u32 {
            s += &row(f, 1, 10.0 + 2.0 * (f - 1) as f32);
            s.push('\n');
        }
        for f in 11..=30u32 {
            s += &row(f, 2, 30.0);
            s.push('\n');
        }
        parse_mot(&s, "gt").expect("gt")
    }

    #[test]
    fn true_visits_come_from_the_anchor_in_the_polygon() {
        let v = true_visits(&gt(), &opts());
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].id, v[0].first_frame, v[0].last_frame), (1, 1, 20));
        assert!((v[0].duration() - 1.9).abs() < 1e-9);
        assert_eq!((v[1].id, v[1].first_frame, v[1].last_frame), (2, 11, 30));
    }

    #[test]
    fn short_gaps_join_and_long_gaps_split() {
        // Inside frames 1-5, out 6-7 (0.2 s), in 8-12, out 13-20 (0.8 s), in 21-30.
        let mut s = String::new();
        for f in 1..=30u32 {
            let x = if (6..=7).contains(&f) || (13..=20).contains(&f) {
                80.0
            } else {
                20.0
            };
            s += &row(f, 5, x);
            s.push('\n');
        }
        let v = true_visits(&parse_mot(&s, "gt").expect("gt"), &opts());
        let spans: Vec<(u32, u32)> = v.iter().map(|v| (v.first_frame, v.last_frame)).collect();
        assert_eq!(spans, vec![(1, 12), (21, 30)]);
    }

    #[test]
    fn perfect_output_scores_perfectly() {
        let g = gt();
        let counts: Vec<CountRow> = (1..=41)
            .map(|f| CountRow {
                frame: f,
                time_s: Some((f - 1) as f64 / 10.0),
                count: (if f <= 20 { 1.0 } else { 0.0 })
                    + (if (11..=30).contains(&f) { 1.0 } else { 0.0 }),
            })
            .collect();
        let visits = vec![
            VisitRow {
                enter_s: 0.0,
                exit_s: 1.9,
                tracks: vec![7],
            },
            VisitRow {
                enter_s: 1.0,
                exit_s: 2.9,
                tracks: vec![8],
            },
        ];
        // The tracker's boxes are the ground truth's, under other ids.
        let tracks: Vec<MotRow> = g
            .iter()
            .map(|r| MotRow::new(r.frame, r.id + 6, r.bbox))
            .collect();
        let s = evaluate_zone(&g, Some(&tracks), &counts, &visits, &opts());
        assert_eq!(s.frames, 41);
        assert_eq!(s.count_mae, 0.0);
        assert_eq!(s.count_bias, 0.0);
        assert_eq!(s.tracker_count_mae, Some(0.0));
        assert_eq!((s.true_visits, s.found_visits, s.matched), (2, 2, 2));
        assert_eq!(s.matched_share, 1.0);
        assert!(s.duration_err_median_s.expect("median") < 1e-9);
        assert_eq!((s.merges, s.splits), (Some(0), Some(0)));
        assert_eq!(
            FrameClock::from_counts(&counts),
            Some(FrameClock::from_fps(10.0))
        );
    }

    #[test]
    fn lag_merge_split_and_shortfall_are_measured() {
        let g = gt();
        // Counts one too many in 10 of 41 frames: MAE and bias 10/41.
        let counts: Vec<CountRow> = (1..=41)
            .map(|f| {
                let t = (if f <= 20 { 1.0 } else { 0.0 })
                    + (if (11..=30).contains(&f) { 1.0 } else { 0.0 });
                CountRow {
                    frame: f,
                    time_s: None,
                    count: if f > 31 { t + 1.0 } else { t },
                }
            })
            .collect();
        // One visit that followed person 1 (track 7) and then person 2 (the same track after
        // a swap): a merge. Person 2's visit split in two by track 8 and track 9.
        let mut tracks = Vec::new();
        for r in &g {
            let id = match (r.id, r.frame) {
                (1, f) if f <= 10 => 7,
                (1, _) => 10,
                (2, f) if f <= 16 => 7,
                (2, f) if f <= 22 => 8,
                (2, _) => 9,
                _ => unreachable!(),
            };
            tracks.push(MotRow::new(r.frame, id, r.bbox));
        }
        let visits = vec![
            // track 7 from 0.0 to 1.5: person 1 frames 1-10, person 2 frames 11-16.
            VisitRow {
                enter_s: 0.0,
                exit_s: 1.5,
                tracks: vec![7],
            },
            VisitRow {
                enter_s: 1.6,
                exit_s: 2.1,
                tracks: vec![8],
            },
            VisitRow {
                enter_s: 2.2,
                exit_s: 2.9,
                tracks: vec![9],
            },
        ];
        let s = evaluate_zone(&g, Some(&tracks), &counts, &visits, &opts());
        assert!((s.count_mae - 10.0 / 41.0).abs() < 1e-9);
        assert!((s.count_bias - 10.0 / 41.0).abs() < 1e-9);
        assert_eq!((s.true_visits, s.found_visits), (2, 3));
        // [0, 1.5] vs person 1's [0, 1.9], each widened by half a frame: IoU 1.6 / 2.0 ->
        // matched, error 0.4 s. Person 2's [1.0, 2.9] against [1.6, 2.1]: 0.6 / 2.0 -> no match
        // (< 0.5); against [2.2, 2.9]: 0.8 / 2.0 -> none either.
        assert_eq!(s.matched, 1);
        assert!((s.matched_share - 0.5).abs() < 1e-9);
        assert!((s.duration_err_median_s.expect("median") - 0.4).abs() < 1e-9);
        assert!((s.duration_bias_s.expect("bias") + 0.4).abs() < 1e-9);
        assert_eq!(s.merges, Some(1));
        assert_eq!(s.splits, Some(1));
        // Without tracks: no merges and splits, the rest unchanged.
        let s2 = evaluate_zone(&g, None, &counts, &visits, &opts());
        assert_eq!(
            (s2.merges, s2.splits, s2.tracker_count_mae),
            (None, None, None)
        );
        assert_eq!(s2.matched, 1);
    }

    #[test]
    fn short_true_visits_are_dont_care() {
        // Person 3 grazes the zone for 3 frames (0.2 s).
        let mut g = gt();
        let mut s = String::new();
        for f in 1..=10u32 {
            s += &row(f, 3, if (4..=6).contains(&f) { 45.0 } else { 60.0 });
            s.push('\n');
        }
        g.extend(parse_mot(&s, "gt").expect("gt"));
        let visits = vec![
            VisitRow {
                enter_s: 0.3,
                exit_s: 0.5,
                tracks: vec![1],
            },
            VisitRow {
                enter_s: 0.0,
                exit_s: 1.9,
                tracks: vec![2],
            },
        ];
        let s = evaluate_zone(&g, None, &[], &visits, &opts());
        assert_eq!((s.true_visits, s.short_true_visits), (2, 1));
        assert_eq!((s.found_visits, s.matched), (1, 1));
    }

    #[test]
    fn csv_files_are_read_by_header_and_bad_rows_named() {
        let counts =
            "frame,time_s,zone,count,smoothed\n1,0.000,a,2,1.5\n1,0.000,b,0,0\n3,0.080,a,1,1.2\n";
        let c = parse_zone_counts(counts, "c.csv", "a").expect("counts");
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].frame, 3);
        assert_eq!(
            FrameClock::from_counts(&c).map(|k| (k.dt * 1e6).round()),
            Some(40_000.0)
        );
        let bad = "frame,time_s,zone,count\n1,0.0,a,two\n";
        let e = parse_zone_counts(bad, "c.csv", "a").expect_err("bad");
        assert!(
            e.to_string().contains("c.csv:2") && e.to_string().contains("count"),
            "{e}"
        );
        let missing = parse_zone_counts("frame,zone\n", "c.csv", "a").expect_err("header");
        assert!(
            missing.to_string().contains("no column 'count'"),
            "{missing}"
        );

        let visits = "zone,track_id,enter_s,exit_s,duration_s,truncated,tracks\na,4,1.0,2.5,1.5,false,4;9\nb,5,0,1,1,false,5\n";
        let v = parse_zone_visits(visits, "v.csv", "a").expect("visits");
        assert_eq!(
            v,
            vec![VisitRow {
                enter_s: 1.0,
                exit_s: 2.5,
                tracks: vec![4, 9]
            }]
        );
        let old = "zone,track_id,enter_s,exit_s,duration_s,truncated\na,4,1.0,2.5,1.5,false\n";
        assert_eq!(
            parse_zone_visits(old, "v.csv", "a").expect("old")[0].tracks,
            vec![4]
        );
        let backwards = "zone,track_id,enter_s,exit_s\na,4,3.0,2.5\n";
        let e = parse_zone_visits(backwards, "v.csv", "a").expect_err("backwards");
        assert!(
            e.to_string().contains("v.csv:2") && e.to_string().contains("before"),
            "{e}"
        );
    }
}
