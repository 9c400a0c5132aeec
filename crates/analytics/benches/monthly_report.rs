//! Monthly report aggregation over one year of visits for 100 halls (about 12 M rows in
//! Parquet): time and peak memory for one hall and for all halls, against an eager baseline
//! run in the same invocation. Not a timed test: it prints figures.
//!
//! `cargo bench -p hallwatch-analytics --bench monthly_report` (the README's `scripts/dev bench
//! -p hallwatch-analytics --bench monthly_report`). The data set is generated once, seeded,
//! under `$CARGO_TARGET_DIR/bench-data/` (or `$HALLWATCH_BENCH_DATA`), partitioned hive-style
//! `site=hall-NNN/part-0.parquet` with row groups sorted by time. Each measurement runs in a
//! child process of this binary so its peak RSS (VmHWM) is its own.
//!
//! The monthly aggregation ("ours") scans lazily: hive partition pruning keeps one hall's file,
//! row-group statistics skip the other months, only the needed columns are read; then waits per
//! local day (count, mean, p50, p90, max, within 15 min), the month's totals, service time and
//! busy seconds per counter per day, and the weekday x hour arrivals heatmap, per hall. The
//! baseline reads every file whole into memory, then filters and aggregates the same way.

use hallwatch_analytics::{Aggregator, Period};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const HALLS: usize = 100;
/// 2026-01-01 00:00 +07:00.
const YEAR_START: f64 = 1_767_200_400.0;
/// October 2026 in local time.
const MONTH_FROM: f64 = YEAR_START + 273.0 * 86_400.0;
const MONTH_TO: f64 = MONTH_FROM + 31.0 * 86_400.0;
const DATA_VERSION: &str = "v1";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }
}

fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("HALLWATCH_BENCH_DATA") {
        return PathBuf::from(d);
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    PathBuf::from(target)
        .join("bench-data")
        .join(format!("sessions-{DATA_VERSION}"))
}

/// One hall's year: per visitor an entrance crossing, a wait and a service; ~480 rows per
/// working day for an average hall.
fn hall_frame(hall: usize) -> PolarsResult<DataFrame> {
    let mut rng = Rng(0x5EED_0000 + hall as u64);
    let visitors_per_day = 80.0 + 160.0 * rng.uniform(); // 80..240, mean 160
    let counters = 3 + (rng.next() % 6) as u32; // 3..8
    let (mut camera, mut zone, mut role) = (Vec::new(), Vec::new(), Vec::new());
    let (mut counter, mut enter, mut exit, mut truncated) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let sessions = [(7.5, 11.5), (13.5, 17.0)];
    for day in 0..365 {
        if (3 + day) % 7 >= 5 {
            continue; // Saturday, Sunday (2026-01-01 is a Thursday)
        }
        let base = YEAR_START + day as f64 * 86_400.0;
        let n = (visitors_per_day * (0.8 + 0.4 * rng.uniform())) as usize;
        let mut rows: Vec<(f64, f64, f64, u32)> = (0..n)
            .map(|_| {
                // Morning-heavy: 60 % in the morning session.
                let (a, b) = if rng.uniform() < 0.6 {
                    sessions[0]
                } else {
                    sessions[1]
                };
                let arrive = base + (a + (b - a) * rng.uniform().powf(1.3)) * 3600.0;
                let wait = rng.exp(12.0 * 60.0);
                let service = 120.0 + rng.exp(8.0 * 60.0);
                (
                    arrive,
                    wait,
                    service,
                    1 + (rng.next() % u64::from(counters)) as u32,
                )
            })
            .collect();
        rows.sort_by(|x, y| x.0.total_cmp(&y.0));
        for (arrive, wait, service, c) in rows {
            let cut = rng.uniform() < 0.002;
            for (z, r, k, a, b) in [
                ("loi-vao", "entrance", 0, arrive - 5.0, arrive),
                ("khu-cho", "waiting", 0, arrive, arrive + wait),
                ("quay", "counter", c, arrive + wait, arrive + wait + service),
            ] {
                camera.push(if r == "counter" {
                    "cam-quay"
                } else {
                    "cam-sanh"
                });
                zone.push(if r == "counter" {
                    format!("quay-{k}")
                } else {
                    z.to_string()
                });
                role.push(r);
                counter.push(k);
                enter.push(a);
                exit.push(b);
                truncated.push(cut && r == "counter");
            }
        }
    }
    df!(
        "camera" => camera,
        "zone" => zone,
        "role" => role,
        "counter" => counter,
        "enter" => enter,
        "exit" => exit,
        "truncated" => truncated,
    )
}

fn ensure_data(dir: &Path) -> PolarsResult<u64> {
    let stamp = dir.join("COMPLETE");
    if let Ok(s) = std::fs::read_to_string(&stamp) {
        return Ok(s.trim().parse().unwrap_or(0));
    }
    eprintln!(
        "generating {HALLS} halls x 1 year into {} ...",
        dir.display()
    );
    let started = Instant::now();
    let mut rows = 0u64;
    for hall in 0..HALLS {
        let mut df = hall_frame(hall)?;
        rows += df.height() as u64;
        let d = dir.join(format!("site=hall-{hall:03}"));
        std::fs::create_dir_all(&d)?;
        let f = std::fs::File::create(d.join("part-0.parquet"))?;
        ParquetWriter::new(f)
            .with_compression(ParquetCompression::Zstd(None))
            .with_row_group_size(Some(16_384))
            .with_statistics(StatisticsOptions::full())
            .finish(&mut df)?;
    }
    std::fs::write(&stamp, rows.to_string())?;
    eprintln!("  {rows} rows in {:.1} s", started.elapsed().as_secs_f64());
    Ok(rows)
}

fn month_filter(hall: Option<&str>) -> Expr {
    let f = col("enter")
        .gt_eq(lit(MONTH_FROM))
        .and(col("enter").lt(lit(MONTH_TO)));
    match hall {
        Some(h) => f.and(col("site").eq(lit(h))),
        None => f,
    }
}

/// The monthly report's aggregations over a month of visits; returns rows produced.
fn aggregate(agg: &Aggregator, month: LazyFrame) -> PolarsResult<usize> {
    let keys = ["site"];
    let mut rows = 0;
    for lf in [
        agg.waits_lazy(month.clone(), Period::Day, &keys),
        agg.waits_lazy(month.clone(), Period::Month, &keys),
        agg.service_lazy(month.clone(), Period::Day, &keys),
        agg.arrivals_heatmap_lazy(month, &keys),
    ] {
        rows += lf.collect()?.height();
    }
    Ok(rows)
}

fn run_child(mode: &str, dir: &Path) -> PolarsResult<(usize, usize)> {
    let agg = Aggregator::new("Asia/Ho_Chi_Minh", 15.0 * 60.0)
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
    let hall = mode.ends_with("-one").then_some("hall-042");
    let columns = [
        "site",
        "camera",
        "zone",
        "role",
        "counter",
        "enter",
        "exit",
        "truncated",
    ];
    let month: DataFrame = if mode.starts_with("lazy") {
        let args = ScanArgsParquet {
            hive_options: HiveOptions::new_enabled(),
            ..Default::default()
        };
        let path = format!("{}/**/*.parquet", dir.display());
        LazyFrame::scan_parquet(PlRefPath::from(path.as_str()), args)?
            .filter(month_filter(hall))
            .select(columns.map(col))
            .collect()?
    } else {
        // Baseline: every file read whole into memory, then filtered.
        let mut parts = Vec::new();
        for hall_no in 0..HALLS {
            let site = format!("hall-{hall_no:03}");
            let f = std::fs::File::open(dir.join(format!("site={site}")).join("part-0.parquet"))?;
            let df = ParquetReader::new(f).finish()?;
            parts.push(df.lazy().with_column(lit(site).alias("site")).collect()?);
        }
        let all = concat(
            parts.into_iter().map(|d| d.lazy()).collect::<Vec<_>>(),
            UnionArgs::default(),
        )?
        .collect()?;
        all.lazy().filter(month_filter(hall)).collect()?
    };
    let rows = month.height();
    let out = aggregate(&agg, month.lazy())?;
    Ok((rows, out))
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = data_dir();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let mode = args.get(i + 1).ok_or("--child needs a mode")?;
        let started = Instant::now();
        let (rows, out) = run_child(mode, &dir)?;
        println!(
            "RESULT {mode} {:.3} {} {rows} {out}",
            started.elapsed().as_secs_f64(),
            peak_rss_kib()
        );
        return Ok(());
    }
    let total = ensure_data(&dir)?;
    let exe = std::env::current_exe()?;
    println!(
        "monthly report aggregation, October 2026, {HALLS} halls, {total} visit rows in a year \
         ({})",
        dir.display()
    );
    println!(
        "{:<11} {:>6} {:>11} {:>9} {:>13}",
        "variant", "halls", "month rows", "time s", "peak RSS MiB"
    );
    let mut results = std::collections::HashMap::new();
    for mode in ["lazy-one", "lazy-all", "eager-one", "eager-all"] {
        // Best of 3 for time; peak RSS of the same runs (max).
        let mut best = f64::MAX;
        let mut rss = 0u64;
        let mut rows = 0u64;
        for _ in 0..3 {
            let out = Command::new(&exe).args(["--child", mode]).output()?;
            if !out.status.success() {
                return Err(
                    format!("{mode} failed: {}", String::from_utf8_lossy(&out.stderr)).into(),
                );
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find(|l| l.starts_with("RESULT"))
                .ok_or("no RESULT line")?;
            let f: Vec<&str> = line.split_whitespace().collect();
            best = best.min(f[2].parse()?);
            rss = rss.max(f[3].parse()?);
            rows = f[4].parse()?;
        }
        println!(
            "{mode:<11} {:>6} {rows:>11} {best:>9.3} {:>13.0}",
            if mode.ends_with("one") { 1 } else { HALLS },
            rss as f64 / 1024.0
        );
        results.insert(mode, (best, rss));
    }
    for scope in ["one", "all"] {
        let (lt, lr) = results[format!("lazy-{scope}").as_str()];
        let (et, er) = results[format!("eager-{scope}").as_str()];
        println!(
            "{scope:>3} hall(s): lazy scan is {:.1}x faster and uses {:.1}x less peak memory than \
             the eager baseline",
            et / lt,
            er as f64 / lr as f64
        );
    }
    let (t, r) = results["lazy-all"];
    println!(
        "goal for all halls: < 2 s and < 1 GiB -> {:.3} s, {:.0} MiB: {}",
        t,
        r as f64 / 1024.0,
        if t < 2.0 && r < 1024 * 1024 {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
