//! Aggregates on constructed data whose answers are computed by hand.

use hallwatch_analytics::{Aggregator, DataFrame, Period, SampleRecord, SessionRecord};

/// Monday 2026-10-05 00:00 in Asia/Ho_Chi_Minh (UTC+7), as Unix seconds.
const MONDAY: f64 = 1_791_133_200.0;
const H: f64 = 3600.0;

fn wait(enter_h: f64, minutes: f64) -> SessionRecord {
    let enter = MONDAY + enter_h * H;
    SessionRecord {
        camera: "c".into(),
        zone: "khu-cho".into(),
        role: "waiting".into(),
        counter: 0,
        enter,
        exit: enter + minutes * 60.0,
        truncated: false,
    }
}

fn served(counter: u32, enter_h: f64, minutes: f64) -> SessionRecord {
    SessionRecord {
        zone: format!("quay-{counter}"),
        role: "counter".into(),
        counter,
        ..wait(enter_h, minutes)
    }
}

fn f64s(df: &DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .expect("column")
        .cast(&hallwatch_analytics_polars_f64())
        .expect("cast")
        .f64()
        .expect("f64")
        .into_no_null_iter()
        .collect()
}

fn hallwatch_analytics_polars_f64() -> polars::prelude::DataType {
    polars::prelude::DataType::Float64
}

#[test]
fn waits_per_local_hour_with_percentiles_and_target_share() {
    // 8:00-9:00 local: waits of 5, 10, 20, 40 minutes; 9:00-10:00: one of 12 minutes; a
    // truncated visit and a counter visit that must not count; the 11:30-13:30 lunch break is
    // simply empty.
    let mut rows = vec![
        wait(8.0, 5.0),
        wait(8.25, 10.0),
        wait(8.5, 20.0),
        wait(8.75, 40.0),
        wait(9.5, 12.0),
    ];
    rows.push(SessionRecord {
        truncated: true,
        ..wait(8.1, 100.0)
    });
    rows.push(served(1, 8.2, 7.0));
    rows.push(wait(14.0, 3.0));
    let agg = Aggregator::new("Asia/Ho_Chi_Minh", 15.0 * 60.0).expect("tz");
    let df = agg
        .waits(
            &Aggregator::sessions_frame(&rows).expect("frame"),
            Period::Hour,
        )
        .expect("waits");
    assert_eq!(df.height(), 3, "{df}");
    assert_eq!(f64s(&df, "count"), vec![4.0, 1.0, 1.0]);
    // 8:00 bucket, in seconds: mean (5+10+20+40)/4 = 18.75 min.
    let mean = f64s(&df, "mean_s");
    assert!((mean[0] - 18.75 * 60.0).abs() < 1e-6);
    // Linear percentiles of [5, 10, 20, 40] min: p50 = 15, p90 = 20 + 0.7 * 20 = 34.
    assert!((f64s(&df, "p50_s")[0] - 15.0 * 60.0).abs() < 1e-6);
    assert!((f64s(&df, "p90_s")[0] - 34.0 * 60.0).abs() < 1e-6);
    assert_eq!(f64s(&df, "max_s")[0], 40.0 * 60.0);
    // Within the 15 min target: 5 and 10 of four.
    assert_eq!(f64s(&df, "within_target"), vec![0.5, 1.0, 1.0]);
    // Local days: everything above is one Monday.
    let days = agg
        .waits(
            &Aggregator::sessions_frame(&rows).expect("frame"),
            Period::Day,
        )
        .expect("waits");
    assert_eq!(days.height(), 1);
    assert_eq!(f64s(&days, "count"), vec![6.0]);
}

#[test]
fn a_late_evening_wait_falls_on_the_local_day() {
    // 23:30 local on Monday is 16:30 UTC the same day; 00:30 local on Tuesday is 17:30 UTC
    // Monday: local days must split them.
    let rows = vec![wait(23.5, 10.0), wait(24.5, 10.0)];
    let agg = Aggregator::new("Asia/Ho_Chi_Minh", 900.0).expect("tz");
    let df = agg
        .waits(
            &Aggregator::sessions_frame(&rows).expect("frame"),
            Period::Day,
        )
        .expect("waits");
    assert_eq!(df.height(), 2, "{df}");
}

#[test]
fn service_time_and_busy_seconds_per_counter() {
    let rows = vec![
        served(1, 8.0, 6.0),
        served(1, 8.2, 10.0),
        served(2, 8.0, 20.0),
        wait(8.0, 9.0),
    ];
    let agg = Aggregator::new("Asia/Ho_Chi_Minh", 900.0).expect("tz");
    let df = agg
        .service(
            &Aggregator::sessions_frame(&rows).expect("frame"),
            Period::Day,
        )
        .expect("service");
    assert_eq!(df.height(), 2, "{df}");
    assert_eq!(f64s(&df, "counter"), vec![1.0, 2.0]);
    assert_eq!(f64s(&df, "count"), vec![2.0, 1.0]);
    assert_eq!(f64s(&df, "mean_s"), vec![8.0 * 60.0, 20.0 * 60.0]);
    // Busy 16 of the 7.5 working hours for counter 1: utilisation 16 / 450 is the caller's
    // division; the sum is what the store cannot give cheaply.
    assert_eq!(f64s(&df, "busy_s"), vec![16.0 * 60.0, 20.0 * 60.0]);
}

fn sample(zone: &str, h: f64, people: f64) -> SampleRecord {
    SampleRecord {
        zone: zone.into(),
        role: "waiting".into(),
        t: MONDAY + h * H,
        people,
    }
}

#[test]
fn queue_series_per_zone_and_hall_and_the_heatmap() {
    // Two waiting zones sampled at 8:00, 8:30 and 9:00 local (same instants); a counter zone
    // sample that must be ignored.
    let mut rows = vec![
        sample("a", 8.0, 2.0),
        sample("b", 8.0, 1.0),
        sample("a", 8.5, 4.0),
        sample("b", 8.5, 3.0),
        sample("a", 9.0, 6.0),
        sample("b", 9.0, 0.0),
    ];
    rows.push(SampleRecord {
        role: "counter".into(),
        ..sample("q", 8.0, 1.0)
    });
    let agg = Aggregator::new("Asia/Ho_Chi_Minh", 900.0).expect("tz");
    let frame = Aggregator::samples_frame(&rows).expect("frame");
    let df = agg.queue(&frame, Period::Hour).expect("queue");
    // Rows sorted by period then zone ("*" sorts first): 8:00 *, a, b; 9:00 *, a, b.
    let zone_col = df.column("zone").expect("zone").str().expect("str").clone();
    let zones: Vec<String> = (0..zone_col.len())
        .map(|i| zone_col.get(i).unwrap_or_default().to_string())
        .collect();
    assert_eq!(zones, vec!["*", "a", "b", "*", "a", "b"]);
    // Hall at 8:00 and 8:30: 3 and 7 -> mean 5, max 7; zone a: 3 and 4; b: 2 and 3.
    assert_eq!(f64s(&df, "mean"), vec![5.0, 3.0, 2.0, 6.0, 6.0, 0.0]);
    assert_eq!(f64s(&df, "max"), vec![7.0, 4.0, 3.0, 6.0, 6.0, 0.0]);

    let heat = agg.heatmap(&frame).expect("heatmap");
    assert_eq!(f64s(&heat, "weekday"), vec![1.0, 1.0]);
    assert_eq!(f64s(&heat, "hour"), vec![8.0, 9.0]);
    assert_eq!(f64s(&heat, "mean"), vec![5.0, 6.0]);
}

#[test]
fn unknown_time_zones_are_rejected() {
    let e = Aggregator::new("Mars/Olympus", 900.0).expect_err("error");
    assert!(e.to_string().contains("Mars/Olympus"));
}

#[test]
fn export_is_partitioned_by_site_and_local_date_and_reads_back() {
    use polars::prelude::*;
    let rows = vec![wait(8.0, 5.0), wait(9.0, 7.0), wait(24.5, 3.0)];
    let df = Aggregator::sessions_frame(&rows).expect("frame");
    let dir = tempfile::tempdir().expect("tempdir");
    let files = hallwatch_analytics::export_partitioned(
        &df,
        "sessions",
        "enter",
        "an-phu",
        "Asia/Ho_Chi_Minh",
        dir.path(),
        hallwatch_analytics::ExportFormat::Parquet,
    )
    .expect("export");
    let rel: Vec<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(dir.path())
                .expect("inside")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        rel,
        vec![
            "sessions/site=an-phu/date=2026-10-05/part-0.parquet",
            "sessions/site=an-phu/date=2026-10-06/part-0.parquet",
        ]
    );
    // Read the tree back with hive partitioning: the rows and the partition columns return.
    let back = LazyFrame::scan_parquet(
        PlRefPath::from(format!("{}/sessions/**/*.parquet", dir.path().display()).as_str()),
        ScanArgsParquet {
            hive_options: HiveOptions::new_enabled(),
            ..Default::default()
        },
    )
    .expect("scan")
    .collect()
    .expect("collect");
    assert_eq!(back.height(), 3);
    assert!(
        back.column("site").is_ok() && back.column("date").is_ok(),
        "{back}"
    );
    let csv = hallwatch_analytics::export_partitioned(
        &df,
        "sessions",
        "enter",
        "an-phu",
        "Asia/Ho_Chi_Minh",
        dir.path(),
        hallwatch_analytics::ExportFormat::Csv,
    )
    .expect("csv");
    let text = std::fs::read_to_string(&csv[0]).expect("read");
    assert!(
        text.starts_with("camera,zone,role,counter,enter,exit,truncated"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3, "header + the two Monday rows");
}
