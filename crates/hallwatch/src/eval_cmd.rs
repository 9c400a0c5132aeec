//! `hallwatch eval-detections`, `hallwatch eval-tracks` and `hallwatch eval-zones`: accuracy
//! against MOTChallenge ground truth.

use anyhow::{Context, Result};
use hallwatch_config::ZoneRole;
use hallwatch_eval::zones::{
    FrameClock, ZoneEvalOptions, evaluate_zone, read_zone_counts, read_zone_visits,
};
use hallwatch_eval::{evaluate_detections, evaluate_tracks, read_mot};
use hallwatch_zones::geometry::Polygon;
use std::path::{Path, PathBuf};

/// Prints precision, recall and AP at IoU 0.5 (ground-truth rows with confidence 0 ignored).
pub fn detections(gt: &Path, det: &Path) -> Result<()> {
    let g = read_mot(gt)?;
    let d = read_mot(det)?;
    let s = evaluate_detections(&g, &d, 0.5);
    println!(
        "ground truth: {} boxes ({} ignored rows skipped), detections: {}",
        s.gt_count,
        g.len() - s.gt_count,
        s.det_count
    );
    println!(
        "TP {}  FP {}  FN {}  (ignored detections {})",
        s.tp, s.fp, s.fn_, s.ignored
    );
    println!("precision {:.4}", s.precision);
    println!("recall    {:.4}", s.recall);
    println!("AP@0.5    {:.4}", s.ap);
    Ok(())
}

/// Prints MOTA, IDF1, ID switches, precision and recall at IoU 0.5.
pub fn tracks(gt: &Path, hyp: &Path) -> Result<()> {
    let g = read_mot(gt)?;
    let h = read_mot(hyp)?;
    let s = evaluate_tracks(&g, &h, 0.5);
    println!(
        "frames {}  objects {}  unique objects {}  predictions {}",
        s.num_frames, s.num_objects, s.num_unique_objects, s.num_predictions
    );
    println!("MOTA      {:.4}", s.mota);
    println!("MOTP      {:.4}  (mean 1 - IoU of matches)", s.motp);
    println!(
        "IDF1      {:.4}  (IDP {:.4}, IDR {:.4})",
        s.idf1, s.idp, s.idr
    );
    println!(
        "ID switches {}  fragmentations {}",
        s.id_switches, s.fragmentations
    );
    println!("FP {}  FN {}", s.false_positives, s.misses);
    println!("precision {:.4}", s.precision);
    println!("recall    {:.4}", s.recall);
    println!(
        "mostly tracked {}  partially tracked {}  mostly lost {}",
        s.mostly_tracked, s.partially_tracked, s.mostly_lost
    );
    Ok(())
}

/// Options of `hallwatch eval-zones`.
#[derive(clap::Args)]
pub struct EvalZonesArgs {
    /// Ground truth (MOTChallenge gt.txt of the replayed file).
    #[arg(long)]
    pub gt: PathBuf,
    /// The hall config the file was replayed with (zones and anchor).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Zones to score (repeat the flag); default: every waiting and counter zone of the
    /// config's first camera.
    #[arg(long)]
    pub zone: Vec<String>,
    /// A `hallwatch replay` output folder: its zone_counts.csv, zone_sessions.csv, tracks.txt
    /// and summary.json, unless given one by one.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Counts per frame (`frame,time_s,zone,count[,smoothed]`).
    #[arg(long)]
    pub counts: Option<PathBuf>,
    /// Zone visits (`zone,track_id,enter_s,exit_s,...[,tracks]`).
    #[arg(long)]
    pub visits: Option<PathBuf>,
    /// The tracker's boxes (tracks.txt): adds the tracker-box count, merges and splits.
    #[arg(long)]
    pub tracks: Option<PathBuf>,
    /// Source frame size, WIDTHxHEIGHT (default: summary.json beside the counts).
    #[arg(long)]
    pub size: Option<String>,
    /// Source frames per second (default: read from the counts' frame numbers and times).
    #[arg(long)]
    pub fps: Option<f64>,
    /// True visits shorter than this many seconds are "don't care".
    #[arg(long, default_value_t = 0.5)]
    pub min_visit: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_size(s: &str) -> Result<(u32, u32)> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .with_context(|| format!("--size {s:?}: expected WIDTHxHEIGHT, e.g. 640x480"))?;
    let w: u32 = w
        .trim()
        .parse()
        .with_context(|| format!("--size {s:?}: bad width"))?;
    let h: u32 = h
        .trim()
        .parse()
        .with_context(|| format!("--size {s:?}: bad height"))?;
    anyhow::ensure!(
        w > 0 && h > 0,
        "--size {s:?}: width and height must be positive"
    );
    Ok((w, h))
}

/// Runs `hallwatch eval-zones`: prints each zone's count and visit figures.
pub fn zones(a: &EvalZonesArgs) -> Result<()> {
    let cfg = hallwatch_config::Config::load(&a.config)
        .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", a.config.display()))?;
    let in_run = |name: &str| a.run.as_ref().map(|d| d.join(name));
    let counts_path = a
        .counts
        .clone()
        .or_else(|| in_run("zone_counts.csv"))
        .context("give --counts zone_counts.csv (or --run DIR)")?;
    let visits_path = a
        .visits
        .clone()
        .or_else(|| in_run("zone_sessions.csv"))
        .context("give --visits zone_sessions.csv (or --run DIR)")?;
    let tracks_path = a.tracks.clone().or_else(|| in_run("tracks.txt"));
    let size = match &a.size {
        Some(s) => parse_size(s)?,
        None => {
            let summary = counts_path.with_file_name("summary.json");
            let text = std::fs::read_to_string(&summary).with_context(|| {
                format!(
                    "no --size given and {} cannot be read for the source size",
                    summary.display()
                )
            })?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", summary.display()))?;
            let s = &v["source_size"];
            match (s[0].as_u64(), s[1].as_u64()) {
                (Some(w), Some(h)) if w > 0 && h > 0 => (w as u32, h as u32),
                _ => anyhow::bail!(
                    "{} has no source_size: give --size WIDTHxHEIGHT",
                    summary.display()
                ),
            }
        }
    };
    let zone_ids: Vec<String> = if a.zone.is_empty() {
        let first = cfg.cameras.first().map(|c| c.id.as_str()).unwrap_or("");
        cfg.zones
            .iter()
            .filter(|z| {
                z.camera == first && matches!(z.role, ZoneRole::Waiting | ZoneRole::Counter)
            })
            .map(|z| z.id.clone())
            .collect()
    } else {
        a.zone.clone()
    };
    anyhow::ensure!(
        !zone_ids.is_empty(),
        "the config has no waiting or counter zone to score"
    );
    let gt = read_mot(&a.gt)?;
    let tracks = tracks_path
        .filter(|p| a.tracks.is_some() || p.exists())
        .map(|p| read_mot(&p))
        .transpose()?;
    let mut results = Vec::new();
    for id in &zone_ids {
        let z = cfg
            .zones
            .iter()
            .find(|z| &z.id == id)
            .with_context(|| format!("the config has no zone '{id}'"))?;
        let polygon = Polygon::from_config(&z.polygon)
            .with_context(|| format!("zone '{id}' has no polygon (an entrance line?)"))?;
        let counts = read_zone_counts(&counts_path, id)?;
        anyhow::ensure!(
            !counts.is_empty(),
            "{} has no rows for zone '{id}'",
            counts_path.display()
        );
        let visits = read_zone_visits(&visits_path, id)?;
        let clock = match a.fps {
            Some(f) if f > 0.0 => FrameClock::from_fps(f),
            Some(f) => anyhow::bail!("--fps {f}: must be positive"),
            None => FrameClock::from_counts(&counts).with_context(|| {
                format!(
                    "{}: fewer than two timed frames for zone '{id}': give --fps",
                    counts_path.display()
                )
            })?,
        };
        let mut opts = ZoneEvalOptions::new(polygon, size, clock);
        opts.anchor = cfg.hall.anchor;
        opts.min_visit_s = a.min_visit;
        let s = evaluate_zone(&gt, tracks.as_deref(), &counts, &visits, &opts);
        results.push((id.clone(), s));
    }
    if a.json {
        let map: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(id, s)| Ok((id.clone(), serde_json::to_value(s)?)))
            .collect::<Result<_>>()?;
        println!("{}", serde_json::to_string_pretty(&map)?);
        return Ok(());
    }
    let opt = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
    let opt_n = |v: Option<usize>| v.map_or("-".to_string(), |v| v.to_string());
    println!(
        "{:<10} {:>6} {:>6} {:>6} {:>7} {:>5} {:>5} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "zone",
        "frames",
        "count",
        "MAE",
        "tracker",
        "bias",
        "true",
        "found",
        "match",
        "dur50",
        "dur90",
        "merge",
        "split"
    );
    for (id, s) in &results {
        println!(
            "{:<10} {:>6} {:>6.2} {:>6.3} {:>7} {:>+5.2} {:>5} {:>7} {:>5.0}% {:>6} {:>6} {:>6} {:>6}",
            id,
            s.frames,
            s.true_count_mean,
            s.count_mae,
            opt(s.tracker_count_mae, 3),
            s.count_bias,
            s.true_visits,
            format!("{} ({})", s.found_visits, s.matched),
            100.0 * s.matched_share,
            opt(s.duration_err_median_s, 2),
            opt(s.duration_err_p90_s, 2),
            opt_n(s.merges),
            opt_n(s.splits),
        );
    }
    println!(
        "count: mean true people in the zone; MAE/bias of the count written, tracker: MAE of counting the tracker's boxes; \
         true/found (matched) visits; dur50/dur90: median/p90 |duration error| (s) of matched visits"
    );
    Ok(())
}
