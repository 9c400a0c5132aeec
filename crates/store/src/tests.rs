use crate::schema::{APPLICATION_ID, LATEST_VERSION};
use crate::*;
use hallwatch_config::ZoneRole;
use hallwatch_core::{CameraId, Downtime, TrackId};
use hallwatch_zones::Session;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tempfile::TempDir;

const SITE: &str = "an-phu";
const DAY: f64 = 86_400.0;
const T0: f64 = 1_700_000_000.0;

fn db(dir: &TempDir) -> PathBuf {
    dir.path().join("events.sqlite")
}

fn session(
    id: u64,
    camera: &str,
    zone: &str,
    role: ZoneRole,
    enter: f64,
    exit: Option<f64>,
) -> Session {
    Session {
        id,
        camera: CameraId::new(camera),
        zone: zone.into(),
        role,
        counter: if role == ZoneRole::Counter { 2 } else { 0 },
        tracks: vec![TrackId(id), TrackId(id.wrapping_add(100) % (1 << 62))],
        enter,
        exit,
        truncated: false,
    }
}

fn sample(zone: &str, t: f64) -> ZoneSample {
    ZoneSample {
        camera: CameraId::new("cam1"),
        zone: zone.into(),
        t,
        people_now: 3,
        people_smoothed: 2.5,
    }
}

fn down(camera: &str, start: f64, end: Option<f64>) -> DowntimeInterval {
    DowntimeInterval {
        camera: CameraId::new(camera),
        start,
        end,
        reason: "no frames".into(),
    }
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("raw open")
}

fn all_sessions(store: &Store) -> Vec<Session> {
    store
        .sessions(&SessionQuery::new(SITE, f64::MIN, f64::MAX))
        .expect("sessions")
}

#[test]
fn fresh_file_gets_latest_version_and_durable_settings() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(db(&dir)).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(Store::latest_schema_version(), LATEST_VERSION);
    let q = |sql: &str| -> String {
        store
            .conn
            .query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })
            .unwrap()
    };
    assert_eq!(q("PRAGMA journal_mode"), "wal");
    assert_eq!(q("PRAGMA synchronous"), "2", "2 = FULL");
    assert_eq!(q("PRAGMA foreign_keys"), "1");
    assert_eq!(q("PRAGMA application_id"), APPLICATION_ID.to_string());
    for table in [
        "sessions",
        "zone_samples",
        "camera_health",
        "abandonments",
        "tickets",
        "ratings",
        "dossiers",
        "alerts",
        "alert_deliveries",
        "users",
        "api_tokens",
    ] {
        let n: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "table {table}");
    }
    store.integrity_check().unwrap();
}

#[test]
fn reopening_is_a_no_op_and_keeps_data() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let mut store = Store::open(&path).unwrap();
    store
        .insert(
            SITE,
            &[Record::Session(session(
                1,
                "cam1",
                "w",
                ZoneRole::Waiting,
                T0,
                Some(T0 + 5.0),
            ))],
        )
        .unwrap();
    let schema = |s: &Store| -> Vec<String> {
        let mut stmt = s
            .conn
            .prepare("SELECT sql FROM sqlite_schema ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .map(|r| r.unwrap().unwrap_or_default())
            .collect()
    };
    let before = schema(&store);
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(schema(&store), before);
    assert_eq!(all_sessions(&store).len(), 1);
}

#[test]
fn newer_schema_version_is_refused_and_file_untouched() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    drop(Store::open(&path).unwrap());
    raw(&path)
        .execute_batch(&format!("PRAGMA user_version = {}", LATEST_VERSION + 1))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    match &err {
        StoreError::TooNew {
            found, supported, ..
        } => {
            assert_eq!(*found, LATEST_VERSION + 1);
            assert_eq!(*supported, LATEST_VERSION);
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("upgrade hallwatch"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn garbage_file_is_refused_and_never_touched() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let garbage: Vec<u8> = (0..16_384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("not an SQLite database"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    // Nothing renamed, nothing created beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("events.sqlite")]);
}

#[test]
fn damaged_pages_are_refused_and_never_touched() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let mut store = Store::open(&path).unwrap();
    let records: Vec<Record> = (0..3000)
        .map(|i| {
            Record::Session(session(
                i,
                "cam1",
                "w",
                ZoneRole::Waiting,
                T0 + i as f64,
                Some(T0 + i as f64 + 9.0),
            ))
        })
        .collect();
    store.insert(SITE, &records).unwrap();
    drop(store); // checkpoints the WAL into the file and removes it
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 20 * page, "{} bytes", bytes.len());
    // Scribble over b-tree pages in the middle, leaving the header page intact.
    for b in &mut bytes[6 * page..12 * page] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn another_applications_database_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    raw(&path)
        .execute_batch("CREATE TABLE sessions (x); INSERT INTO sessions VALUES (1);")
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_directory_gives_an_open_error() {
    let dir = TempDir::new().unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn inserting_the_same_records_twice_stores_them_once() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    let s = session(
        7,
        "cam1",
        "counter-2",
        ZoneRole::Counter,
        T0,
        Some(T0 + 30.0),
    );
    let records = vec![
        Record::Session(s.clone()),
        Record::ZoneSample(sample("w", T0)),
        Record::CameraDowntime(down("cam1", T0, Some(T0 + 60.0))),
    ];
    store.insert(SITE, &records).unwrap();
    store.insert(SITE, &records).unwrap();
    assert_eq!(
        store.counts(SITE).unwrap(),
        Counts {
            sessions: 1,
            zone_samples: 1,
            downtime: 1,
            abandonments: 0,
        }
    );
    assert_eq!(all_sessions(&store), vec![s.clone()]);
    // The same engine id after a restart (another enter) is another visit.
    let mut again = s.clone();
    again.enter += 1000.0;
    again.exit = Some(again.enter + 5.0);
    store.insert(SITE, &[Record::Session(again)]).unwrap();
    // Another site is another hall.
    store
        .insert("other-hall", &[Record::Session(s.clone())])
        .unwrap();
    assert_eq!(store.counts(SITE).unwrap().sessions, 2);
    assert_eq!(store.counts("other-hall").unwrap().sessions, 1);
}

#[test]
fn an_open_visit_is_closed_by_a_later_write_and_never_reopened() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    let open = session(3, "cam1", "w", ZoneRole::Waiting, T0, None);
    store
        .insert(SITE, &[Record::Session(open.clone())])
        .unwrap();
    assert_eq!(all_sessions(&store)[0].exit, None);
    let mut closed = open.clone();
    closed.exit = Some(T0 + 12.0);
    closed.tracks.push(TrackId(999));
    store
        .insert(SITE, &[Record::Session(closed.clone())])
        .unwrap();
    store.insert(SITE, &[Record::Session(open)]).unwrap();
    assert_eq!(all_sessions(&store), vec![closed]);
    let duration: f64 = store
        .conn
        .query_row("SELECT duration FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(duration, 12.0);

    // Downtime likewise.
    store
        .insert(SITE, &[Record::CameraDowntime(down("cam1", T0, None))])
        .unwrap();
    store
        .insert(
            SITE,
            &[Record::CameraDowntime(down("cam1", T0, Some(T0 + 9.0)))],
        )
        .unwrap();
    store
        .insert(SITE, &[Record::CameraDowntime(down("cam1", T0, None))])
        .unwrap();
    assert_eq!(
        store.downtime(SITE, f64::MIN, f64::MAX, None).unwrap(),
        vec![down("cam1", T0, Some(T0 + 9.0))]
    );
}

#[test]
fn invalid_records_are_refused_before_writing() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    let bad = Record::Session(session(1, "c", "w", ZoneRole::Waiting, f64::NAN, None));
    let good = Record::ZoneSample(sample("w", T0));
    let err = store.insert(SITE, &[good, bad]).unwrap_err();
    assert!(matches!(err, StoreError::InvalidRecord { .. }), "{err:?}");
    assert_eq!(store.counts(SITE).unwrap(), Counts::default());
    let huge = Record::Session(session(u64::MAX, "c", "w", ZoneRole::Waiting, T0, None));
    assert!(huge.validate().is_err());
    let mut s = sample("w", T0);
    s.people_smoothed = f64::INFINITY;
    assert!(Record::ZoneSample(s).validate().is_err());
}

#[test]
fn session_queries_filter_by_range_camera_zone_and_role() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    let s = vec![
        session(
            1,
            "cam1",
            "waiting-a",
            ZoneRole::Waiting,
            T0,
            Some(T0 + 60.0),
        ),
        session(
            2,
            "cam1",
            "counter-2",
            ZoneRole::Counter,
            T0 + 100.0,
            Some(T0 + 400.0),
        ),
        session(3, "cam2", "waiting-b", ZoneRole::Waiting, T0 + 200.0, None),
        session(
            4,
            "cam2",
            "waiting-b",
            ZoneRole::Waiting,
            T0 + 300.0,
            Some(T0 + 310.0),
        ),
        session(
            5,
            "cam1",
            "waiting-a",
            ZoneRole::Waiting,
            T0 + 400.0,
            Some(T0 + 410.0),
        ),
    ];
    let records: Vec<Record> = s.iter().cloned().map(Record::Session).collect();
    store.insert(SITE, &records).unwrap();
    store.insert("elsewhere", &records).unwrap();
    let ids = |q: SessionQuery| -> Vec<u64> {
        let rows = store.sessions(&q).unwrap();
        assert_eq!(store.count_sessions(&q).unwrap() as usize, rows.len());
        rows.iter().map(|s| s.id).collect()
    };
    // [from, to): enter == from included, enter == to excluded.
    assert_eq!(
        ids(SessionQuery::new(SITE, T0 + 100.0, T0 + 400.0)),
        vec![2, 3, 4]
    );
    assert_eq!(
        ids(SessionQuery::new(SITE, T0, T0 + 1e6)),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        ids(SessionQuery::new(SITE, T0, T0 + 1e6).camera("cam2")),
        vec![3, 4]
    );
    assert_eq!(
        ids(SessionQuery::new(SITE, T0, T0 + 1e6).zone("waiting-a")),
        vec![1, 5]
    );
    assert_eq!(
        ids(SessionQuery::new(SITE, T0, T0 + 1e6).role(ZoneRole::Counter)),
        vec![2]
    );
    assert_eq!(
        ids(SessionQuery::new(SITE, T0 + 1.0, T0 + 1e6)
            .camera("cam1")
            .role(ZoneRole::Waiting)),
        vec![5]
    );
    assert_eq!(
        ids(SessionQuery::new("nowhere", T0, T0 + 1e6)),
        Vec::<u64>::new()
    );
    let limited = SessionQuery::new(SITE, T0, T0 + 1e6).limit(2);
    assert_eq!(
        store
            .sessions(&limited)
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(store.count_sessions(&limited).unwrap(), 5);
    // Round trip of every field.
    let back = store
        .sessions(&SessionQuery::new(SITE, T0, T0 + 1e6))
        .unwrap();
    assert_eq!(back, s);
}

#[test]
fn zone_samples_and_downtime_ranges() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    let mut records = Vec::new();
    for i in 0..10 {
        records.push(Record::ZoneSample(sample("w1", T0 + i as f64 * 10.0)));
        records.push(Record::ZoneSample(sample("w2", T0 + i as f64 * 10.0)));
    }
    records.push(Record::CameraDowntime(down("cam1", T0, Some(T0 + 50.0))));
    records.push(Record::CameraDowntime(down(
        "cam2",
        T0 + 100.0,
        Some(T0 + 150.0),
    )));
    records.push(Record::CameraDowntime(down("cam1", T0 + 300.0, None)));
    store.insert(SITE, &records).unwrap();

    let got = store
        .zone_samples(SITE, T0 + 20.0, T0 + 50.0, None)
        .unwrap();
    let ts: Vec<(f64, &str)> = got.iter().map(|s| (s.t - T0, s.zone.as_str())).collect();
    assert_eq!(
        ts,
        vec![
            (20.0, "w1"),
            (20.0, "w2"),
            (30.0, "w1"),
            (30.0, "w2"),
            (40.0, "w1"),
            (40.0, "w2")
        ]
    );
    let w2 = store
        .zone_samples(SITE, T0, T0 + 1000.0, Some("w2"))
        .unwrap();
    assert_eq!(w2.len(), 10);
    assert_eq!(w2[0], sample("w2", T0));

    let starts = |from: f64, to: f64, cam: Option<&str>| -> Vec<f64> {
        let cam = cam.map(CameraId::new);
        store
            .downtime(SITE, T0 + from, T0 + to, cam.as_ref())
            .unwrap()
            .iter()
            .map(|d| d.start - T0)
            .collect()
    };
    assert_eq!(starts(0.0, 1e6, None), vec![0.0, 100.0, 300.0]);
    // Overlap: ended at/after `from`, began before `to`; the open one is in every later range.
    assert_eq!(starts(50.0, 100.0, None), vec![0.0]);
    assert_eq!(starts(50.1, 100.0, None), Vec::<f64>::new());
    assert_eq!(starts(120.0, 1e6, None), vec![100.0, 300.0]);
    assert_eq!(starts(5000.0, 6000.0, None), vec![300.0]);
    assert_eq!(starts(0.0, 1e6, Some("cam2")), vec![100.0]);
}

#[test]
fn samples_from_a_snapshot_get_their_camera_from_the_config() {
    use hallwatch_zones::{HallSnapshot, ZoneFigure};
    let cfg = hallwatch_config::Config::from_toml_str(
        r#"
        [site]
        id = "an-phu"
        [[cameras]]
        id = "cam7"
        source = { kind = "test" }
        [[zones]]
        id = "waiting"
        camera = "cam7"
        role = "waiting"
        polygon = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]
        "#,
    )
    .unwrap();
    let snap = HallSnapshot {
        t: T0,
        zones: vec![
            ZoneFigure {
                zone: "waiting".into(),
                role: ZoneRole::Waiting,
                people_now: 4,
                people_smoothed: 3.5,
            },
            ZoneFigure {
                zone: "unknown".into(),
                role: ZoneRole::Waiting,
                people_now: 1,
                people_smoothed: 1.0,
            },
        ],
        waiting_smoothed: 3.5,
        waiting_now: 4,
        counters: vec![],
        arrivals_last_hour: 0,
        arrivals_total: 0,
        waits: 0,
        mean_wait_s: None,
        within_target: None,
        abandoned: 0,
    };
    let samples = ZoneSample::from_snapshot(&snap, &cfg.zones);
    assert_eq!(
        samples,
        vec![ZoneSample {
            camera: "cam7".into(),
            zone: "waiting".into(),
            t: T0,
            people_now: 4,
            people_smoothed: 3.5
        }]
    );
    let d = Downtime {
        start: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500),
        end: None,
        reason: "eos".into(),
    };
    assert_eq!(
        DowntimeInterval::from_downtime("cam7".into(), &d),
        DowntimeInterval {
            camera: "cam7".into(),
            start: 1_700_000_000.5,
            end: None,
            reason: "eos".into()
        }
    );
}

#[test]
fn retention_deletes_exactly_what_is_older_than_the_windows() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    let now = T0 + 100.0 * DAY;
    let s_cut = now - 30.0 * DAY; // sessions_days = 30
    let a_cut = now - 90.0 * DAY; // aggregates_days = 90
    let eps = 1e-3;
    let sessions = vec![
        // deleted: last seen strictly before the cutoff
        session(
            1,
            "c",
            "w",
            ZoneRole::Waiting,
            s_cut - 100.0,
            Some(s_cut - eps),
        ),
        session(2, "c", "w", ZoneRole::Waiting, s_cut - 5.0 * DAY, None), // open: by enter
        // kept: exactly at the cutoff, after it, entered before but left after
        session(3, "c", "w", ZoneRole::Waiting, s_cut - 100.0, Some(s_cut)),
        session(
            4,
            "c",
            "w",
            ZoneRole::Waiting,
            s_cut - 100.0,
            Some(s_cut + eps),
        ),
        session(5, "c", "w", ZoneRole::Waiting, s_cut, None),
        session(6, "c", "w", ZoneRole::Waiting, now - 10.0, Some(now - 1.0)),
    ];
    let mut records: Vec<Record> = sessions.into_iter().map(Record::Session).collect();
    for t in [a_cut - DAY, a_cut - eps, a_cut, a_cut + eps, now] {
        records.push(Record::ZoneSample(sample("w", t)));
    }
    records.push(Record::CameraDowntime(down(
        "c1",
        a_cut - DAY,
        Some(a_cut - eps),
    ))); // deleted
    records.push(Record::CameraDowntime(down("c2", a_cut - DAY, Some(a_cut)))); // kept: at cutoff
    records.push(Record::CameraDowntime(down("c3", a_cut - 5.0 * DAY, None))); // kept: still down
    records.push(Record::CameraDowntime(down("c4", now - DAY, Some(now)))); // kept

    // Abandonments follow the sessions' window; service rows the aggregates' window.
    for (track, t) in [(1, s_cut - eps), (2, s_cut), (3, now)] {
        records.push(Record::Abandonment(Abandonment {
            camera: CameraId::new("c"),
            zone: "w".into(),
            track,
            enter: t - 60.0,
            t,
        }));
    }
    store.insert(SITE, &records).unwrap();
    store.insert("other", &records).unwrap();
    store
        .conn
        .execute_batch(&format!(
            "INSERT INTO tickets (site, day, number, issued) VALUES ('an-phu', 'd', 'A1', {old}), ('an-phu', 'd', 'A2', {cut});
             INSERT INTO ratings (site, t, level) VALUES ('an-phu', {old}, 'satisfied'), ('an-phu', {cut}, 'satisfied');
             INSERT INTO dossiers (site, code, channel, received) VALUES ('an-phu', 'H1', 'online', {old}), ('an-phu', 'H2', 'online', {cut});
             INSERT INTO alerts (site, rule, kind, severity, triggered, resolved) VALUES
                 ('an-phu', 'r', 'queue', 'warning', {old}, {old}),
                 ('an-phu', 'r', 'queue', 'warning', {old2}, NULL),
                 ('an-phu', 'r', 'queue', 'warning', {cut}, {cut});",
            old = a_cut - eps,
            old2 = a_cut - DAY,
            cut = a_cut,
        ))
        .unwrap();
    let report = store
        .apply_retention(
            now,
            Retention {
                sessions_days: 30,
                aggregates_days: 90,
            },
        )
        .unwrap();
    // Across both sites.
    assert_eq!(
        report,
        RetentionReport {
            sessions: 4,
            zone_samples: 4,
            downtime: 2,
            abandonments: 2,
            service: 4,
            outbox_dropped: 0,
        }
    );
    for site in [SITE, "other"] {
        let ids: Vec<u64> = store
            .sessions(&SessionQuery::new(site, f64::MIN, f64::MAX))
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, vec![3, 4, 5, 6]);
        let ts: Vec<f64> = store
            .zone_samples(site, f64::MIN, f64::MAX, None)
            .unwrap()
            .iter()
            .map(|s| s.t)
            .collect();
        assert_eq!(ts, vec![a_cut, a_cut + eps, now]);
        let cams: Vec<String> = store
            .downtime(site, f64::MIN, f64::MAX, None)
            .unwrap()
            .iter()
            .map(|d| d.camera.to_string())
            .collect();
        assert_eq!(cams, vec!["c3", "c2", "c4"]);
        let tracks: Vec<u64> = store
            .abandonments(site, f64::MIN, f64::MAX, None)
            .unwrap()
            .iter()
            .map(|a| a.track)
            .collect();
        assert_eq!(tracks, vec![2, 3]);
    }
    // Kept: the rows at the cutoff, and the unresolved old alert.
    for (table, left) in [
        ("alerts", 2),
        ("tickets", 1),
        ("ratings", 1),
        ("dossiers", 1),
    ] {
        let n: i64 = store
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, left, "{table}");
    }
    let policy = Retention {
        sessions_days: 30,
        aggregates_days: 90,
    };
    // Applying it again deletes nothing more.
    assert_eq!(
        store.apply_retention(now, policy).unwrap(),
        RetentionReport::default()
    );
    assert!(store.apply_retention(f64::NAN, policy).is_err());
}

#[test]
fn writer_commits_everything_queued_on_close() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let store = Store::open(&path).unwrap();
    let options = WriterOptions {
        queue_capacity: 64, // far fewer than the records: senders block, nothing is dropped
        batch_max: 100,
        linger: Duration::from_millis(50),
        ..WriterOptions::default()
    };
    let (writer, handle) = store.writer(SITE, options).unwrap();
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let w = writer.clone();
            std::thread::spawn(move || {
                for i in 0..1000u64 {
                    let id = p * 10_000 + i;
                    let s = session(
                        id,
                        &format!("cam{p}"),
                        "w",
                        ZoneRole::Waiting,
                        T0 + i as f64,
                        Some(T0 + i as f64 + 1.0),
                    );
                    w.send(Record::Session(s)).unwrap();
                    w.send(Record::ZoneSample(sample(&format!("z{p}"), T0 + i as f64)))
                        .unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let stats = handle.stats();
    let store = handle.close().unwrap();
    assert_eq!(
        store.counts(SITE).unwrap(),
        Counts {
            sessions: 4000,
            zone_samples: 4000,
            downtime: 0,
            abandonments: 0,
        }
    );
    assert!(stats.records <= 8000);
    // Sending after close fails loudly.
    assert!(matches!(
        writer.send(Record::ZoneSample(sample("w", T0))),
        Err(StoreError::WriterClosed)
    ));
    // And the data is on disk for a fresh connection.
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(again.counts(SITE).unwrap().sessions, 4000);
    again.integrity_check().unwrap();
}

#[test]
fn writer_batches_fire_and_forget_records() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(db(&dir)).unwrap();
    let (writer, handle) = store
        .writer(
            SITE,
            WriterOptions {
                linger: Duration::from_millis(200),
                ..WriterOptions::default()
            },
        )
        .unwrap();
    for i in 0..1000 {
        writer
            .send(Record::ZoneSample(sample("w", T0 + i as f64)))
            .unwrap();
    }
    writer.flush().unwrap();
    let stats = writer.stats();
    assert_eq!(stats.records, 1000);
    assert!(stats.batches < 100, "{stats:?}");
    assert_eq!(stats.failed, 0);
    drop(handle);
}

#[test]
fn acknowledged_writes_are_visible_to_another_connection() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let (writer, handle) = Store::open(&path)
        .unwrap()
        .writer(
            SITE,
            WriterOptions {
                linger: Duration::from_secs(5),
                ..WriterOptions::default()
            },
        )
        .unwrap();
    let reader = Store::open(&path).unwrap();
    for i in 0..20 {
        let s = session(
            i,
            "cam1",
            "w",
            ZoneRole::Waiting,
            T0 + i as f64,
            Some(T0 + i as f64 + 1.0),
        );
        let started = std::time::Instant::now();
        writer.send_and_wait(Record::Session(s)).unwrap();
        // A waiter never sits out the linger.
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(reader.counts(SITE).unwrap().sessions, i + 1);
    }
    // Fire-and-forget then flush: visible after the flush.
    writer
        .send(Record::CameraDowntime(down("cam1", T0, None)))
        .unwrap();
    writer.flush().unwrap();
    assert_eq!(reader.counts(SITE).unwrap().downtime, 1);
    // Retention through the writer thread.
    let report = writer
        .apply_retention(
            T0 + 1000.0 * DAY,
            Retention {
                sessions_days: 1,
                aggregates_days: 1,
            },
        )
        .unwrap();
    assert_eq!(report.sessions, 20);
    assert_eq!(report.downtime, 0); // still open
    assert!(matches!(
        writer.send_and_wait(Record::Session(session(
            1,
            "c",
            "w",
            ZoneRole::Waiting,
            f64::INFINITY,
            None
        ))),
        Err(StoreError::InvalidRecord { .. })
    ));
    drop(handle);
    assert!(matches!(writer.flush(), Err(StoreError::WriterClosed)));
}

#[test]
fn dropping_the_handle_commits_what_is_queued() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let (writer, handle) = Store::open(&path)
        .unwrap()
        .writer(
            SITE,
            WriterOptions {
                linger: Duration::from_secs(10),
                ..WriterOptions::default()
            },
        )
        .unwrap();
    for i in 0..500 {
        writer
            .send(Record::ZoneSample(sample("w", T0 + i as f64)))
            .unwrap();
    }
    drop(handle);
    assert_eq!(
        Store::open(&path)
            .unwrap()
            .counts(SITE)
            .unwrap()
            .zone_samples,
        500
    );
}

#[test]
fn a_record_rejected_by_sqlite_fails_alone() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    // A trigger that refuses one zone stands in for a constraint violation inside a batch.
    raw_after_open(
        &path,
        "CREATE TRIGGER refuse BEFORE INSERT ON zone_samples WHEN NEW.zone = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    );
    let (writer, handle) = Store::open(&path)
        .unwrap()
        .writer(
            SITE,
            WriterOptions {
                linger: Duration::from_millis(100),
                ..WriterOptions::default()
            },
        )
        .unwrap();
    writer.send(Record::ZoneSample(sample("ok", T0))).unwrap();
    writer.send(Record::ZoneSample(sample("bad", T0))).unwrap();
    let err = writer
        .send_and_wait(Record::ZoneSample(sample("bad", T0 + 1.0)))
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err:?}");
    writer
        .send(Record::ZoneSample(sample("ok", T0 + 1.0)))
        .unwrap();
    let err = writer.flush().unwrap_err();
    assert!(
        matches!(err, StoreError::RecordsLost { count: 1, .. }),
        "{err:?}"
    );
    writer.flush().unwrap(); // reported once
    assert_eq!(writer.stats().failed, 2);
    let store = handle.close().unwrap();
    assert_eq!(store.counts(SITE).unwrap().zone_samples, 2);
}

fn raw_after_open(path: &Path, sql: &str) {
    drop(Store::open(path).unwrap());
    raw(path).execute_batch(sql).unwrap();
}

#[test]
fn the_writer_applies_retention_when_it_starts_and_on_schedule() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let now = unix_seconds(std::time::SystemTime::now());
    let mut store = Store::open(&path).unwrap();
    store
        .insert(
            SITE,
            &[Record::Session(session(
                1,
                "c",
                "w",
                ZoneRole::Waiting,
                now - 40.0 * DAY,
                Some(now - 40.0 * DAY + 60.0),
            ))],
        )
        .unwrap();
    let options = WriterOptions {
        retention: Some(Retention {
            sessions_days: 30,
            aggregates_days: 400,
        }),
        retention_every: Duration::from_millis(300),
        ..WriterOptions::default()
    };
    let (writer, handle) = store.writer(SITE, options).unwrap();
    let reader = Store::open(&path).unwrap();
    let gone = |n: u64| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if reader.counts(SITE).unwrap().sessions == n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    };
    assert!(gone(0), "the 40-day-old visit is deleted at start");
    // A visit that is old when written goes at the next scheduled run, without any new write.
    writer
        .send_and_wait(Record::Session(session(
            2,
            "c",
            "w",
            ZoneRole::Waiting,
            now - 31.0 * DAY,
            Some(now - 31.0 * DAY + 60.0),
        )))
        .unwrap();
    assert!(gone(0), "deleted by the scheduled run");
    drop(writer);
    handle.close().unwrap();
}

/// A small tmpfs file system mounted on a fresh folder, unmounted on drop: a real full disk.
/// `None` when this process may not mount (not root); the caller says it skipped.
struct SmallFs {
    dir: TempDir,
}

impl SmallFs {
    fn mount(kib: u32) -> Option<SmallFs> {
        let dir = TempDir::new().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Root must be able to: a silent skip would hide a broken test machine.
            let root = std::process::Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
            assert!(!root, "cannot mount a tmpfs as root");
            eprintln!("skipped: mounting a small file system needs root");
            return None;
        }
        Some(SmallFs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a ballast file until the file system is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("ballast");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![7u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A writer on a store in `fs` retrying fast, with one record already committed.
fn writer_on(fs: &SmallFs, backlog_max: usize) -> (StoreWriter, WriterHandle) {
    let (writer, handle) = Store::open(fs.path().join("hallwatch.db"))
        .unwrap()
        .writer(
            SITE,
            WriterOptions {
                linger: Duration::from_millis(5),
                backlog_max,
                retry_initial: Duration::from_millis(50),
                retry_max: Duration::from_millis(200),
                ..WriterOptions::default()
            },
        )
        .unwrap();
    writer
        .send_and_wait(Record::ZoneSample(sample("w", T0)))
        .unwrap();
    (writer, handle)
}

#[test]
fn a_full_disk_keeps_records_in_memory_and_writes_them_when_space_returns() {
    let Some(fs) = SmallFs::mount(8192) else {
        return;
    };
    let (writer, handle) = writer_on(&fs, WriterOptions::default().backlog_max);
    let ballast = fs.fill();
    // Far more than the WAL's free pages hold: the database must refuse them.
    let sent = 20_000;
    for i in 1..sent {
        writer
            .send(Record::ZoneSample(sample("w", T0 + i as f64)))
            .unwrap();
    }
    wait_for("the writer to see the full disk", || {
        let s = writer.stats();
        s.failing_since.is_some() && s.pending > 0
    });
    let s = writer.stats();
    assert!(!s.healthy() && s.commit_failures > 0, "{s:?}");
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("full"),
        "{s:?}"
    );
    assert!(
        matches!(writer.flush(), Err(StoreError::WritesPending { count, .. }) if count > 0),
        "a flush says records wait"
    );
    // A sender who waits is told at once, not blocked.
    assert!(
        writer
            .send_and_wait(Record::ZoneSample(sample("x", T0)))
            .is_err()
    );
    // Space returns: everything kept is written, in order, nothing lost.
    std::fs::remove_file(ballast).unwrap();
    wait_for("the backlog to be written", || writer.stats().healthy());
    writer.flush().unwrap();
    let s = writer.stats();
    assert_eq!((s.pending, s.dropped), (0, 0), "{s:?}");
    let store = handle.close().unwrap();
    assert_eq!(store.counts(SITE).unwrap().zone_samples, sent as u64);
    store.integrity_check().unwrap();
}

#[test]
fn a_full_backlog_drops_the_oldest_and_says_so() {
    let Some(fs) = SmallFs::mount(8192) else {
        return;
    };
    let (writer, handle) = writer_on(&fs, 1000);
    let ballast = fs.fill();
    let sent = 20_000u64;
    for i in 1..sent {
        writer
            .send(Record::ZoneSample(sample("w", T0 + i as f64)))
            .unwrap();
    }
    wait_for("the backlog to overflow", || writer.stats().dropped > 0);
    std::fs::remove_file(ballast).unwrap();
    wait_for("the backlog to be written", || writer.stats().healthy());
    let s = writer.stats();
    match writer.flush() {
        Err(StoreError::RecordsLost { count, .. }) => assert_eq!(count, s.dropped),
        other => panic!("the drops must be reported: {other:?}"),
    }
    writer.flush().unwrap();
    let store = handle.close().unwrap();
    let stored = store.counts(SITE).unwrap().zone_samples;
    assert_eq!(stored + s.dropped, sent, "{s:?}");
    assert!(s.pending == 0 && s.dropped > 0, "{s:?}");
}

#[test]
fn visits_left_open_by_a_killed_run_are_closed_truncated_at_the_next_start() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let mut store = Store::open(&path).unwrap();
    let open = |id, camera: &str, enter| session(id, camera, "w", ZoneRole::Waiting, enter, None);
    store
        .insert(
            SITE,
            &[
                // Stored open as they began; one of them closed later.
                Record::Session(open(1, "cam1", T0)),
                Record::Session(open(2, "cam1", T0 + 10.0)),
                Record::Session(open(3, "cam2", T0 + 20.0)),
                Record::Session(open(4, "cam1", T0 + 30.0)),
                Record::Session(session(
                    2,
                    "cam1",
                    "w",
                    ZoneRole::Waiting,
                    T0 + 10.0,
                    Some(T0 + 70.0),
                )),
                // A staff member's visit, discarded: its open row goes.
                Record::DiscardOpen(open(4, "cam1", T0 + 30.0)),
                Record::ZoneSample(sample("w", T0 + 50.0)),
            ],
        )
        .unwrap();
    // A stale open copy never reopens a closed visit.
    store
        .insert(SITE, &[Record::Session(open(2, "cam1", T0 + 10.0))])
        .unwrap();
    assert_eq!(store.close_open_sessions(SITE).unwrap(), 2);
    let all = store
        .sessions(&SessionQuery::new(SITE, T0 - 1.0, T0 + 1000.0))
        .unwrap();
    let by_id = |id: u64| all.iter().find(|s| s.id == id).cloned();
    // cam1's last sign of life: the visit that closed at +70 (after its sample at +50).
    let one = by_id(1).expect("visit 1 kept");
    assert_eq!((one.exit, one.truncated), (Some(T0 + 70.0), true));
    let two = by_id(2).expect("visit 2 kept");
    assert_eq!((two.exit, two.truncated), (Some(T0 + 70.0), false));
    // cam2 left nothing later: the visit ends where it began.
    let three = by_id(3).expect("visit 3 kept");
    assert_eq!((three.exit, three.truncated), (Some(T0 + 20.0), true));
    assert!(by_id(4).is_none(), "the discarded visit is gone");
    // Nothing left to close the second time.
    assert_eq!(store.close_open_sessions(SITE).unwrap(), 0);
}

#[test]
fn the_outbox_records_every_change_in_order_only_while_switched_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    // Off (the default): facts are stored, nothing is queued.
    store
        .insert(SITE, &[Record::ZoneSample(sample("wait", 1.0))])
        .unwrap();
    assert_eq!(store.outbox_status(SITE).unwrap(), OutboxStatus::default());
    assert!(store.outbox_after(SITE, 0, 100).unwrap().is_empty());

    store.set_outbox(true).unwrap();
    let open = session(7, "cam1", "wait", ZoneRole::Waiting, 100.0, None);
    let closed = session(7, "cam1", "wait", ZoneRole::Waiting, 100.0, Some(160.0));
    store
        .insert(SITE, &[Record::Session(open.clone())])
        .unwrap();
    store
        .insert(
            SITE,
            &[
                Record::Session(closed),
                Record::ZoneSample(sample("wait", 2.0)),
                Record::CameraDowntime(down("cam2", 50.0, None)),
            ],
        )
        .unwrap();
    // A staff member's open visit, discarded: shipped as a deletion.
    let staff = session(8, "cam1", "wait", ZoneRole::Waiting, 110.0, None);
    store
        .insert(SITE, &[Record::Session(staff.clone())])
        .unwrap();
    store.insert(SITE, &[Record::DiscardOpen(staff)]).unwrap();
    // Another site has its own numbering.
    store
        .insert("other", &[Record::ZoneSample(sample("wait", 3.0))])
        .unwrap();

    let events = store.outbox_after(SITE, 0, 100).unwrap();
    let summary: Vec<(u64, &str, &str, bool)> = events
        .iter()
        .map(|e| (e.seq, e.kind.as_str(), e.key.as_str(), e.deleted))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "visit", "cam1/7/100.0", false),
            (2, "visit", "cam1/7/100.0", false),
            (3, "zone_sample", "cam1/wait/2.0", false),
            (4, "outage", "cam2/50.0", false),
            (5, "visit", "cam1/8/110.0", false),
            (6, "visit", "cam1/8/110.0", true),
        ]
    );
    let first: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
    let second: serde_json::Value = serde_json::from_str(&events[1].payload).unwrap();
    assert_eq!(first["exit"], serde_json::Value::Null);
    assert_eq!(second["exit"], serde_json::json!(160.0));
    assert_eq!(second["zone"], "wait");
    assert!(second.get("tracks").is_none(), "track ids stay at the hall");
    let gone: serde_json::Value = serde_json::from_str(&events[5].payload).unwrap();
    assert_eq!(
        (gone["session_id"].as_i64(), gone["enter"].as_f64()),
        (Some(8), Some(110.0))
    );
    assert_eq!(
        store
            .outbox_after("other", 0, 10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![1]
    );
    // Paging.
    let page: Vec<u64> = store
        .outbox_after(SITE, 2, 2)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(page, vec![3, 4]);

    let st = store.outbox_status(SITE).unwrap();
    assert!(st.enabled && st.epoch > 1_700_000_000_000);
    assert_eq!((st.last_seq, st.acked_seq, st.pending), (6, 0, 6));
    store.outbox_acked(SITE, 4, 1000.0).unwrap();
    // A late, lower acknowledgement changes nothing.
    store.outbox_acked(SITE, 2, 1001.0).unwrap();
    let st = store.outbox_status(SITE).unwrap();
    assert_eq!((st.last_seq, st.acked_seq, st.pending), (6, 4, 2));
    assert_eq!(st.acked_t, Some(1000.0));
    assert_eq!(
        store.outbox_after(SITE, 0, 100).unwrap()[0].seq,
        5,
        "acknowledged facts are gone"
    );
    // The numbering survives reopening; the epoch too.
    let epoch = st.epoch;
    drop(store);
    let mut store = Store::open(db(&dir)).unwrap();
    store
        .insert(SITE, &[Record::ZoneSample(sample("wait", 4.0))])
        .unwrap();
    let st = store.outbox_status(SITE).unwrap();
    assert_eq!((st.epoch, st.last_seq, st.pending), (epoch, 7, 3));
}

#[test]
fn a_failed_write_gives_out_no_sequence_number_and_retention_drops_what_was_never_shipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    store.set_outbox(true).unwrap();
    store
        .insert(SITE, &[Record::ZoneSample(sample("wait", 1.0))])
        .unwrap();
    // A batch that fails part-way rolls back its outbox rows and numbers with it.
    let bad = rusqlite::Connection::open(db(&dir)).unwrap();
    let r = bad.execute_batch(
        "BEGIN; INSERT INTO zone_samples (site, camera, zone, t, people_now, people_smoothed) \
         VALUES ('an-phu', 'cam1', 'wait', 5.0, 1, 1.0); \
         INSERT INTO zone_samples (site, camera, zone, t, people_now, people_smoothed) \
         VALUES ('an-phu', 'cam1', 'wait', 6.0, -1, 1.0); COMMIT;",
    );
    assert!(r.is_err(), "the CHECK refuses a negative count");
    bad.execute_batch("ROLLBACK").unwrap();
    store
        .insert(SITE, &[Record::ZoneSample(sample("wait", 7.0))])
        .unwrap();
    let seqs: Vec<u64> = store
        .outbox_after(SITE, 0, 10)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2], "no gap from the rolled-back batch");
    // Nothing acknowledged for longer than the sessions' window: dropped and counted.
    let far = unix_seconds(std::time::SystemTime::now()) + 40.0 * DAY;
    let report = store
        .apply_retention(
            far,
            Retention {
                sessions_days: 30,
                aggregates_days: 90,
            },
        )
        .unwrap();
    assert_eq!(report.outbox_dropped, 2);
    let st = store.outbox_status(SITE).unwrap();
    assert_eq!((st.pending, st.dropped, st.last_seq), (0, 2, 2));
}

#[test]
fn fact_keys_match_the_outbox_and_requeue_sends_a_day_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    store.set_outbox(true).unwrap();
    store
        .insert(
            SITE,
            &[
                Record::Session(session(
                    1,
                    "cam1",
                    "wait",
                    ZoneRole::Waiting,
                    T0,
                    Some(T0 + 60.0),
                )),
                Record::ZoneSample(sample("wait", T0 + 5.0)),
                Record::CameraDowntime(down("cam1", T0 + 7.0, None)),
                // Another day.
                Record::ZoneSample(sample("wait", T0 + DAY)),
            ],
        )
        .unwrap();
    let raw = rusqlite::Connection::open(db(&dir)).unwrap();
    raw.execute_batch(&format!(
        "INSERT INTO ratings (site, t, level, device) VALUES ('{SITE}', {t}, 'satisfied', 'kiosk');
         INSERT INTO dossiers (site, code, channel, received) VALUES ('{SITE}', 'H1', 'online', {t});
         INSERT INTO tickets (site, day, number, issued) VALUES ('{SITE}', '2023-11-14', 'A1', {t});
         INSERT INTO abandonments (site, camera, zone, session_id, enter, t) VALUES ('{SITE}', 'cam1', 'wait', 4, {t}, {t2});
         INSERT INTO alerts (site, rule, kind, severity, zone, triggered) VALUES ('{SITE}', 'r', 'queue_length', 'warning', 'wait', {t});",
        t = T0 + 10.0,
        t2 = T0 + 20.0
    ))
    .unwrap();
    let queued: std::collections::HashMap<String, Vec<String>> = store
        .outbox_after(SITE, 0, 100)
        .unwrap()
        .into_iter()
        .fold(Default::default(), |mut m, e| {
            m.entry(e.kind).or_default().push(e.key);
            m
        });
    for kind in FACT_KINDS {
        let mut keys = store.fact_keys(SITE, kind, T0, T0 + DAY).unwrap();
        keys.sort();
        let mut from_outbox: Vec<String> = queued.get(*kind).cloned().unwrap_or_default();
        from_outbox.retain(|k| {
            !k.ends_with(&format!("/{}", T0 + DAY)) && !k.contains(&format!("/{:.1}", T0 + DAY))
        });
        from_outbox.sort();
        from_outbox.dedup();
        assert_eq!(keys, from_outbox, "{kind}");
        assert_eq!(keys.len(), 1, "{kind}: one fact that day");
    }
    assert!(store.fact_keys(SITE, "selfie", 0.0, 1.0).is_err());

    // Digests: the same digest twice queues once.
    assert!(
        store
            .put_digest(SITE, "2023-11-14", "visit", 1, "abc", T0)
            .unwrap()
    );
    assert!(
        !store
            .put_digest(SITE, "2023-11-14", "visit", 1, "abc", T0 + 1.0)
            .unwrap()
    );
    assert!(
        store
            .put_digest(SITE, "2023-11-14", "visit", 2, "abd", T0 + 2.0)
            .unwrap()
    );
    let digests: Vec<_> = store
        .outbox_after(SITE, 0, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "digest")
        .collect();
    assert_eq!(digests.len(), 2);
    assert_eq!(digests[1].key, "2023-11-14/visit");
    let p: serde_json::Value = serde_json::from_str(&digests[1].payload).unwrap();
    assert_eq!(
        (p["fact"].as_str(), p["count"].as_i64(), p["hash"].as_str()),
        (Some("visit"), Some(2), Some("abd"))
    );

    // The centre asks for the first day again: its 8 facts are queued anew, not the other day's.
    let last = store.outbox_status(SITE).unwrap().last_seq;
    assert_eq!(store.requeue(SITE, T0, T0 + DAY).unwrap(), 8);
    let again = store.outbox_after(SITE, last, 100).unwrap();
    assert_eq!(again.len(), 8);
    assert!(again.iter().all(|e| e.seq > last));
}

#[test]
fn the_outbox_carries_times_to_the_last_bit() {
    // Unix times of a real day have about 7 digits after the point that matter to a wait's
    // median; SQLite's json_object writes a REAL with 15 significant digits, which would cut
    // them to 10 us and make the centre's waits differ from the hall's.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    store.set_outbox(true).unwrap();
    let enter = 1_793_590_000.123_456_7_f64;
    let exit = enter + 679.712_898_015_976;
    let s = session(3, "cam1", "wait", ZoneRole::Waiting, enter, Some(exit));
    store.insert(SITE, &[Record::Session(s)]).unwrap();
    let e = store.outbox_after(SITE, 0, 10).unwrap();
    let p: serde_json::Value = serde_json::from_str(&e[0].payload).unwrap();
    assert_eq!(p["enter"].as_f64(), Some(enter), "{}", e[0].payload);
    assert_eq!(p["exit"].as_f64(), Some(exit), "{}", e[0].payload);
    assert_eq!(
        p["duration"].as_f64(),
        Some(exit - enter),
        "{}",
        e[0].payload
    );
}

#[test]
fn a_camera_day_ships_once_and_again_only_when_its_figures_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(db(&dir)).unwrap();
    store.set_outbox(true).unwrap();
    assert!(
        store
            .put_camera_day(SITE, "2026-11-03", "cam1", 27_000.0, 0.0, 1.0)
            .unwrap()
    );
    // The hourly summary again: nothing changes, nothing ships.
    assert!(
        !store
            .put_camera_day(SITE, "2026-11-03", "cam1", 27_000.2, 0.0, 2.0)
            .unwrap()
    );
    // An outage stored late changes the day.
    assert!(
        store
            .put_camera_day(SITE, "2026-11-03", "cam1", 27_000.0, 5_400.0, 3.0)
            .unwrap()
    );
    let e = store.outbox_after(SITE, 0, 10).unwrap();
    assert_eq!(e.len(), 2);
    assert!(
        e.iter()
            .all(|e| e.kind == "camera_day" && e.key == "2026-11-03/cam1")
    );
    let p: serde_json::Value = serde_json::from_str(&e[1].payload).unwrap();
    assert_eq!(
        (p["open_s"].as_f64(), p["down_s"].as_f64()),
        (Some(27_000.0), Some(5_400.0))
    );
    assert!(
        store
            .put_camera_day(SITE, "2026-11-03", "cam1", f64::NAN, 0.0, 4.0)
            .is_err()
    );
}
