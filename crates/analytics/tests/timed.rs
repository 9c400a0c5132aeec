//! Utilisation, uptime and flow against opening hours, filters, and the History API over a real
//! store — on constructed data whose answers are computed by hand.

use hallwatch_analytics::{
    AbandonRecord, Aggregator, DataFrame, Filter, History, HistoryQuery, OutageRecord, Period,
    SessionRecord, frame_to_json,
};
use hallwatch_config::{Config, HoursConfig};
use polars::prelude::DataType;

/// Monday 2026-10-05 00:00 in Asia/Ho_Chi_Minh (UTC+7), as Unix seconds.
const MONDAY: f64 = 1_791_133_200.0;
const H: f64 = 3600.0;
const M: f64 = 60.0;
const TZ: &str = "Asia/Ho_Chi_Minh";

fn agg() -> Aggregator {
    // Default hours: Monday to Friday, 7:30-11:30 and 13:30-17:00.
    let cal = HoursConfig::default().build(TZ).expect("hours");
    Aggregator::new(TZ, 15.0 * M)
        .expect("tz")
        .with_calendar(cal)
}

fn visit(role: &str, counter: u32, from_h: f64, to_h: f64) -> SessionRecord {
    SessionRecord {
        camera: "c1".into(),
        zone: if role == "counter" {
            format!("quay-{counter}")
        } else {
            "khu-cho".into()
        },
        role: role.into(),
        counter,
        enter: MONDAY + from_h * H,
        exit: MONDAY + to_h * H,
        truncated: false,
    }
}

fn f64s(df: &DataFrame, name: &str) -> Vec<f64> {
    let c = df
        .column(name)
        .expect("column")
        .cast(&DataType::Float64)
        .expect("cast");
    let ca = c.f64().expect("f64");
    (0..ca.len())
        .map(|i| ca.get(i).unwrap_or(f64::NAN))
        .collect()
}

fn hours(df: &DataFrame) -> Vec<u32> {
    let j = frame_to_json(df);
    j.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let p = r["period"].as_str().expect("period string");
            assert!(p.ends_with("+07:00"), "{p}");
            p[11..13].parse().expect("hour")
        })
        .collect()
}

#[test]
fn utilisation_counts_only_opening_hours_across_the_lunch_break() {
    let rows = vec![
        // Counter 1 serves 11:00-12:00: only 11:00-11:30 is open time.
        visit("counter", 1, 11.0, 12.0),
        // Counter 2 serves 8:00-8:15 and 8:30-8:45.
        visit("counter", 2, 8.0, 8.25),
        visit("counter", 2, 8.5, 8.75),
        // A waiting visit is not service.
        visit("waiting", 0, 8.0, 9.0),
    ];
    let a = agg();
    let df = a
        .utilisation(&rows, Period::Hour, MONDAY, MONDAY + 24.0 * H)
        .expect("utilisation");
    // Open hour buckets: 7 (30 min), 8, 9, 10, 11 (30 min), 13 (30 min), 14, 15, 16; two
    // counters each.
    assert_eq!(df.height(), 18, "{df}");
    assert_eq!(
        hours(&df),
        [
            7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 13, 13, 14, 14, 15, 15, 16, 16
        ]
    );
    let util = f64s(&df, "utilisation");
    let open = f64s(&df, "open_s");
    assert_eq!(open[0], 30.0 * M);
    assert_eq!(open[8], 30.0 * M);
    assert_eq!(util[2], 0.0, "counter 1 idle at 8");
    assert_eq!(util[3], 0.5, "counter 2: 30 of 60 min at 8");
    assert_eq!(
        util[8], 1.0,
        "counter 1 busy the whole open half hour at 11"
    );
    assert_eq!(util[9], 0.0);

    // Per day: 7.5 open hours; counter 1 busy 30 min (the lunch part does not count).
    let day = a
        .utilisation(&rows, Period::Day, MONDAY, MONDAY + 7.0 * 24.0 * H)
        .expect("per day");
    // Five working days x two counters; the weekend has no opening hours.
    assert_eq!(day.height(), 10, "{day}");
    let busy = f64s(&day, "busy_s");
    assert_eq!(&busy[..2], &[30.0 * M, 30.0 * M]);
    assert_eq!(f64s(&day, "open_s")[0], 7.5 * H);
    assert!((f64s(&day, "utilisation")[0] - 0.5 / 7.5).abs() < 1e-12);
    assert_eq!(&busy[2..], &[0.0; 8], "Tuesday to Friday idle");
}

#[test]
fn uptime_within_opening_hours_with_overlaps_and_an_open_outage() {
    let cams = vec!["c1".to_string(), "c2".to_string()];
    let out = |cam: &str, a: f64, b: Option<f64>| OutageRecord {
        camera: cam.into(),
        start: MONDAY + a * H,
        end: b.map(|b| MONDAY + b * H),
    };
    let outages = vec![
        out("c1", 9.0 + 50.0 / 60.0, Some(10.0 + 20.0 / 60.0)),
        out("c1", 9.0 + 55.0 / 60.0, Some(10.0)), // inside the first: counted once
        out("c1", 12.0, Some(13.0)),              // lunch: closed, not downtime
        out("c2", 16.5, None),                    // still down at the end of the range
    ];
    let a = agg();
    let df = a
        .uptime(&cams, &outages, Period::Hour, MONDAY, MONDAY + 17.0 * H)
        .expect("uptime");
    let rows = frame_to_json(&df);
    let get = |hour: &str, cam: &str| -> (f64, f64) {
        let r = rows
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| {
                r["camera"] == cam && r["period"].as_str().is_some_and(|p| p[11..13] == *hour)
            })
            .expect("row");
        (
            r["down_s"].as_f64().expect("down"),
            r["uptime"].as_f64().expect("uptime"),
        )
    };
    assert_eq!(get("09", "c1"), (10.0 * M, 1.0 - 10.0 / 60.0));
    assert_eq!(get("10", "c1"), (20.0 * M, 1.0 - 20.0 / 60.0));
    assert_eq!(get("13", "c1"), (0.0, 1.0));
    assert_eq!(get("16", "c2"), (30.0 * M, 0.5));
    assert_eq!(get("16", "c1"), (0.0, 1.0));
    // Whole day: c1 down 30 of 450 open minutes.
    let day = a
        .uptime(&cams, &outages, Period::Day, MONDAY, MONDAY + 17.0 * H)
        .expect("day");
    assert_eq!(f64s(&day, "down_s"), vec![30.0 * M, 30.0 * M]);
    assert!((f64s(&day, "uptime")[0] - (1.0 - 30.0 / 450.0)).abs() < 1e-12);
}

#[test]
fn flow_counts_arrivals_throughput_and_abandonment_with_empty_hours_absent() {
    let rows = vec![
        visit("waiting", 0, 8.1, 8.3),
        visit("waiting", 0, 8.2, 9.1),
        SessionRecord {
            truncated: true, // still an arrival
            ..visit("waiting", 0, 8.4, 8.5)
        },
        visit("waiting", 0, 10.0, 10.2),
        visit("counter", 1, 8.3, 8.6),   // served at 8
        visit("counter", 1, 9.1, 10.05), // served at 10
        SessionRecord {
            truncated: true, // cut by a stop: not a finished service
            ..visit("counter", 2, 9.0, 9.5)
        },
    ];
    let ab = vec![
        AbandonRecord {
            camera: "c1".into(),
            zone: "khu-cho".into(),
            t: MONDAY + 8.9 * H,
            waited_s: 20.0 * M,
        },
        AbandonRecord {
            camera: "c1".into(),
            zone: "khu-cho".into(),
            t: MONDAY + 15.0 * H,
            waited_s: 5.0 * M,
        },
    ];
    let a = agg();
    let df = a
        .flow(
            &Aggregator::sessions_frame(&rows).expect("frame"),
            &ab,
            Period::Hour,
        )
        .expect("flow");
    assert_eq!(hours(&df), [8, 10, 15], "{df}");
    assert_eq!(f64s(&df, "arrivals"), vec![3.0, 1.0, 0.0]);
    assert_eq!(f64s(&df, "served"), vec![1.0, 1.0, 0.0]);
    assert_eq!(f64s(&df, "abandoned"), vec![1.0, 0.0, 1.0]);
    let rate = f64s(&df, "abandonment_rate");
    assert!((rate[0] - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(rate[1], 0.0);
    assert!(rate[2].is_nan(), "no arrivals: no rate");
}

#[test]
fn filters_keep_one_camera_zone_or_counter() {
    let mut other = visit("counter", 2, 8.0, 8.5);
    other.camera = "c2".into();
    let rows = [
        visit("counter", 1, 8.0, 8.5),
        other,
        visit("waiting", 0, 8.0, 8.2),
    ];
    let by_counter = Filter {
        counter: Some(2),
        ..Filter::default()
    };
    assert_eq!(rows.iter().filter(|r| by_counter.keeps(r)).count(), 1);
    let by_camera = Filter {
        camera: Some("c1".into()),
        ..Filter::default()
    };
    assert_eq!(rows.iter().filter(|r| by_camera.keeps(r)).count(), 2);
    let by_zone = Filter {
        zone: Some("khu-cho".into()),
        ..Filter::default()
    };
    assert_eq!(rows.iter().filter(|r| by_zone.keeps(r)).count(), 1);
    assert!(Filter::default().is_empty());
}

const CONFIG: &str = r#"
[site]
id = "an-phu"

[[cameras]]
id = "c1"
source = { kind = "test" }

[[zones]]
id = "khu-cho"
camera = "c1"
role = "waiting"
polygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]

[[zones]]
id = "quay-1"
camera = "c1"
role = "counter"
counter = 1
polygon = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
"#;

#[test]
fn history_reads_the_store_and_aggregates_with_filters() {
    use hallwatch_core::{CameraId, TrackId};
    use hallwatch_store::{Abandonment, Record, Store, ZoneSample};
    use hallwatch_zones::Session;
    let config = Config::from_toml_str(CONFIG).expect("config");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path().join("h.db")).expect("store");
    let session = |id: u64, zone: &str, role, counter, a: f64, b: Option<f64>| {
        Record::Session(Session {
            id,
            camera: CameraId::new("c1"),
            zone: zone.into(),
            role,
            counter,
            tracks: vec![TrackId(id)],
            enter: MONDAY + a * H,
            exit: b.map(|b| MONDAY + b * H),
            truncated: false,
        })
    };
    use hallwatch_config::ZoneRole::{Counter, Waiting};
    let mut records = vec![
        session(1, "khu-cho", Waiting, 0, 8.0, Some(8.25)), // 15 min: within target
        session(2, "khu-cho", Waiting, 0, 8.1, Some(8.6)),  // 30 min
        session(3, "quay-1", Counter, 1, 8.25, Some(8.5)),
        session(4, "quay-1", Counter, 1, 8.6, None), // still open: to the end, truncated
    ];
    for (i, people) in [3u64, 5].iter().enumerate() {
        records.push(Record::ZoneSample(ZoneSample {
            camera: CameraId::new("c1"),
            zone: "khu-cho".into(),
            t: MONDAY + 8.0 * H + i as f64 * 600.0,
            people_now: *people,
            people_smoothed: *people as f64,
        }));
    }
    records.push(Record::Abandonment(Abandonment {
        camera: CameraId::new("c1"),
        zone: "khu-cho".into(),
        track: 9,
        enter: MONDAY + 8.0 * H,
        t: MONDAY + 8.5 * H,
    }));
    store.insert("an-phu", &records).expect("insert");

    let history = History::new(&store, &config).expect("history");
    let q = HistoryQuery {
        from: MONDAY,
        to: MONDAY + 9.0 * H,
        period: Period::Hour,
        filter: Filter::default(),
    };
    let s = history.series(&q).expect("series");
    assert_eq!(f64s(&s.waits, "count"), vec![2.0]);
    assert_eq!(f64s(&s.waits, "within_target"), vec![0.5]);
    assert_eq!(f64s(&s.queue, "mean"), vec![4.0, 4.0], "hall and zone at 8");
    assert_eq!(f64s(&s.flow, "arrivals"), vec![2.0]);
    assert_eq!(f64s(&s.flow, "served"), vec![1.0]);
    assert_eq!(f64s(&s.flow, "abandoned"), vec![1.0]);
    // Counter 1 busy 8:15-8:30 and, still open, 8:36-9:00 = 15 + 24 = 39 of 60 min at 8.
    let u = f64s(&s.utilisation, "busy_s");
    assert_eq!(u, vec![0.0, 39.0 * M], "7:30 and 8:00 buckets");
    assert_eq!(f64s(&s.uptime, "uptime"), vec![1.0, 1.0]);

    // Filtered to the counter: no waits.
    let q = HistoryQuery {
        filter: Filter {
            counter: Some(1),
            ..Filter::default()
        },
        ..q
    };
    let s = history.series(&q).expect("series");
    assert_eq!(s.waits.height(), 0);
    assert_eq!(f64s(&s.service, "count"), vec![1.0]);
    let json = s.to_json();
    assert_eq!(json["service"][0]["period"], "2026-10-05T08:00:00+07:00");
    assert_eq!(json["service"][0]["count"], 1);
}
