//! The province roll-up against real servers started by the tests on 127.0.0.1: Debian's
//! nats-server with JetStream and a fresh PostgreSQL 15 cluster. A hall store produces facts
//! while its publisher ships them and the centre writes them into PostgreSQL; the link drops,
//! the centre restarts, facts are published twice — and every fact arrives exactly once, in
//! order. Every wait is bounded.

use hallwatch_central::{CentralConfig, StatusHandle as CentralStatus};
use hallwatch_config::UplinkConfig;
use hallwatch_config::ZoneRole;
use hallwatch_config::alerts::{AlertKind, Severity};
use hallwatch_core::{CameraId, TrackId};
use hallwatch_store::{
    Channel, Dossier, NewAlert, Rating, RatingLevel, Record, Store, Ticket, ZoneSample,
};
use hallwatch_tests::servers::{Nats, Postgres};
use hallwatch_uplink::{Publisher, PublisherOptions, StatusHandle as UplinkStatus};
use hallwatch_zones::Session;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const SITE: &str = "an-phu";
/// 2026-12-01 08:00 Asia/Ho_Chi_Minh.
const T0: f64 = 1_796_086_800.0;

fn uplink(nats: &Nats) -> UplinkConfig {
    UplinkConfig {
        servers: vec![nats.url()],
        ack_timeout_s: 2.0,
        retry_max_s: 1.0,
        window: 64,
        ..UplinkConfig::default()
    }
}

fn central_cfg(nats: &Nats, pg: &Postgres) -> CentralConfig {
    CentralConfig::from_toml_str(&format!(
        r#"
        [nats]
        servers = ["{}"]
        batch = 50

        [postgres]
        url = "{}"

        [[halls]]
        site = "{SITE}"
        name = "Trung tâm Phục vụ hành chính công xã An Phú"
        commune = "An Phú"
        province = "Tây Ninh"
        "#,
        nats.url(),
        pg.url()
    ))
    .expect("central config")
}

fn visit(id: u64, enter: f64, exit: Option<f64>) -> Session {
    Session {
        id,
        camera: CameraId::new("cam1"),
        zone: "wait".into(),
        role: ZoneRole::Waiting,
        counter: 0,
        tracks: vec![TrackId(id)],
        enter,
        exit,
        truncated: false,
    }
}

/// Round `i` of a hall's day: a visit opens, the previous one closes, a zone sample, and now
/// and then a ticket, a rating, a dossier and an alert.
fn produce(store: &mut Store, i: u64) {
    produce_from(store, T0, i)
}

/// [`produce`] from another start time.
fn produce_from(store: &mut Store, t0: f64, i: u64) {
    let t = t0 + i as f64 * 30.0;
    let mut records = vec![
        Record::Session(visit(i, t, None)),
        Record::ZoneSample(ZoneSample {
            camera: CameraId::new("cam1"),
            zone: "wait".into(),
            t,
            people_now: i % 7,
            people_smoothed: (i % 7) as f64,
        }),
    ];
    if i > 0 {
        records.push(Record::Session(visit(i - 1, t - 30.0, Some(t - 5.0))));
    }
    store.insert(SITE, &records).expect("insert");
    if i.is_multiple_of(3) {
        store
            .upsert_tickets(
                SITE,
                &[Ticket {
                    day: local_day(t),
                    number: format!("A{i:03}"),
                    service: "Hộ tịch".into(),
                    issued: t,
                    called: Some(t + 60.0),
                    counter: Some(2),
                    finished: None,
                    no_show: None,
                    source: "api".into(),
                }],
            )
            .expect("ticket");
    }
    if i.is_multiple_of(5) {
        store
            .insert_rating(
                SITE,
                &Rating {
                    t,
                    counter: Some(2),
                    ticket: None,
                    level: RatingLevel::Satisfied,
                    score: None,
                    scale_max: None,
                    comment: "cán bộ nhiệt tình".into(),
                    device: "kiosk".into(),
                    client_id: Some(format!("r{i}")),
                },
            )
            .expect("rating");
        store
            .upsert_dossiers(
                SITE,
                &[Dossier {
                    code: format!("000.00.12.H34-261201-{i:04}"),
                    service: "Hộ tịch".into(),
                    channel: Channel::InPerson,
                    received: t,
                    due: Some(t + 86_400.0),
                    resolved: None,
                }],
            )
            .expect("dossier");
    }
    if i % 20 == 10 {
        store
            .insert_alert(
                SITE,
                &NewAlert {
                    rule: "long-queue".into(),
                    kind: AlertKind::QueueLength,
                    severity: Severity::Warning,
                    camera: String::new(),
                    zone: "wait".into(),
                    counter: None,
                    triggered: t,
                    value: Some(9.0),
                    message: "9 người đang chờ".into(),
                },
            )
            .expect("alert");
    }
}

/// The local date (Asia/Ho_Chi_Minh) of Unix time `t`, `YYYY-MM-DD`.
fn local_day(t: f64) -> String {
    use chrono::TimeZone;
    chrono_tz::Asia::Ho_Chi_Minh
        .timestamp_opt(t.floor() as i64, 0)
        .single()
        .expect("a representable time")
        .date_naive()
        .to_string()
}

async fn pg_client(pg: &Postgres) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(conn);
    client
}

async fn count(pg: &tokio_postgres::Client, sql: &str) -> i64 {
    pg.query_one(sql, &[]).await.expect(sql).get(0)
}

/// Waits until `f` holds, at most `limit`.
async fn until<F, Fut>(what: &str, limit: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("stops within 20 s")
            .expect("task");
    }
}

fn start_publisher(store: &Path, cfg: UplinkConfig) -> (Running, UplinkStatus) {
    start_publisher_for(SITE, store, cfg)
}

fn start_publisher_for(site: &str, store: &Path, cfg: UplinkConfig) -> (Running, UplinkStatus) {
    let p = Publisher::build(PublisherOptions {
        site: site.into(),
        store: store.to_path_buf(),
        config: cfg,
        timezone: "Asia/Ho_Chi_Minh".into(),
    })
    .expect("publisher");
    let status = p.status();
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(p.run(rx));
    (Running { stop: tx, task }, status)
}

fn start_central(cfg: CentralConfig) -> (Running, CentralStatus) {
    let status = CentralStatus::default();
    let (tx, rx) = watch::channel(false);
    let s = status.clone();
    let task = tokio::spawn(async move {
        hallwatch_central::run(cfg, s, rx)
            .await
            .expect("central runs");
    });
    (Running { stop: tx, task }, status)
}

/// Everything the hall stored is in PostgreSQL once, with the hall's values.
async fn assert_same(store: &Store, pg: &tokio_postgres::Client) {
    let live = |t: &str| format!("SELECT count(*) FROM {t} WHERE site = '{SITE}' AND NOT deleted");
    let c = store.counts(SITE).expect("counts");
    assert_eq!(count(pg, &live("visits")).await as u64, c.sessions);
    assert_eq!(
        count(pg, &live("zone_samples")).await as u64,
        c.zone_samples
    );
    let tickets = store.tickets(SITE, 0.0, f64::MAX).expect("tickets");
    assert_eq!(count(pg, &live("tickets")).await as usize, tickets.len());
    let ratings = store.ratings(SITE, 0.0, f64::MAX).expect("ratings");
    assert_eq!(count(pg, &live("ratings")).await as usize, ratings.len());
    let dossiers = store.dossiers(SITE, 0.0, f64::MAX).expect("dossiers");
    assert_eq!(count(pg, &live("dossiers")).await as usize, dossiers.len());
    assert!(count(pg, &live("alerts")).await >= 1);
    // Values: every visit's exit as the hall has it.
    let rows = pg
        .query(
            "SELECT session_id, exit FROM visits WHERE site = $1 AND NOT deleted ORDER BY session_id",
            &[&SITE],
        )
        .await
        .expect("visits");
    let mut hall: Vec<(i64, Option<f64>)> = store
        .sessions(&hallwatch_store::SessionQuery::new(
            SITE,
            f64::MIN,
            f64::MAX,
        ))
        .expect("sessions")
        .iter()
        .map(|s| (s.id as i64, s.exit))
        .collect();
    hall.sort_by_key(|v| v.0);
    let central: Vec<(i64, Option<f64>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(central, hall);
    // Privacy: no dossier code, no rating comment at the centre.
    assert_eq!(
        count(
            pg,
            "SELECT count(*) FROM dossiers WHERE code LIKE '%H34%' OR key LIKE '%H34%'"
        )
        .await,
        0
    );
    assert_eq!(
        count(pg, "SELECT count(*) FROM ratings WHERE has_comment").await as usize,
        ratings.len()
    );
}

/// The hall's outbox is empty and the centre holds every fact up to the hall's last.
async fn wait_shipped(store_path: &Path, pg: &tokio_postgres::Client, limit: Duration) -> i64 {
    wait_shipped_site(store_path, SITE, pg, limit).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fact_arrives_once_in_order_through_link_loss_and_a_central_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let mut nats = Nats::start(dir.path());
    let db: PathBuf = dir.path().join("hall.sqlite");
    let mut store = Store::open(&db).expect("store");
    let (publisher, up) = start_publisher(&db, uplink(&nats));
    let (central, _) = start_central(central_cfg(&nats, &pg));
    let client = pg_client(&pg).await;

    // A morning: facts while everything is up.
    for i in 0..40 {
        produce(&mut store, i);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The link drops (the centre's NATS server dies) while the hall keeps working.
    nats.kill();
    let mut max_lag = 0;
    for i in 40..100 {
        produce(&mut store, i);
        max_lag = max_lag.max(up.get().lag_events);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    until(
        "the uplink to see the outage",
        Duration::from_secs(20),
        || {
            let s = up.get();
            // (A missing acknowledgement is an error once `ack_timeout_s` has passed.)
            async move { !s.connected && s.lag_events > 0 && !s.last_error.is_empty() }
        },
    )
    .await;
    max_lag = max_lag.max(up.get().lag_events);
    assert!(
        max_lag >= 60,
        "the lag rose while the link was down: {max_lag}"
    );
    nats.restart();
    // The centre restarts mid-stream.
    tokio::time::sleep(Duration::from_millis(300)).await;
    central.stop().await;
    for i in 100..130 {
        produce(&mut store, i);
    }
    let (central, cstatus) = start_central(central_cfg(&nats, &pg));
    for i in 130..150 {
        produce(&mut store, i);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let last = wait_shipped(&db, &client, Duration::from_secs(60)).await;
    let s = up.get();
    assert_eq!(
        (s.lag_events, s.acked_seq as i64),
        (0, last),
        "the lag fell back: {s:?}"
    );
    assert!(s.connected && s.last_error.is_empty(), "{s:?}");

    // Exactly once, in order: every fact applied once (duplicates are skipped by sequence),
    // no gap ever seen in the hall's sequence.
    let row = client
        .query_one(
            "SELECT facts, gaps, last_seq, registered, name FROM halls WHERE site = $1",
            &[&SITE],
        )
        .await
        .expect("hall");
    let (facts, gaps, last_seq): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((facts, gaps, last_seq), (last, 0, last));
    assert!(row.get::<_, bool>(3));
    assert_eq!(
        row.get::<_, String>(4),
        "Trung tâm Phục vụ hành chính công xã An Phú"
    );
    assert_same(&store, &client).await;
    // Visits land in their month's partition.
    assert_eq!(
        count(&client, "SELECT count(*) FROM visits_y2026m12").await,
        count(&client, "SELECT count(*) FROM visits").await
    );
    let _ = cstatus;
    publisher.stop().await;
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_facts_published_twice_change_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());
    let db = dir.path().join("hall.sqlite");
    let copy = dir.path().join("hall-copy.sqlite");
    {
        let mut store = Store::open(&db).expect("store");
        store.set_outbox(true).expect("outbox on");
        for i in 0..30 {
            produce(&mut store, i);
        }
    }
    // A second copy of the same outbox: the same facts, same epoch, same numbers.
    std::fs::copy(&db, &copy).expect("copy the hall file");
    let (central, cstatus) = start_central(central_cfg(&nats, &pg));
    let client = pg_client(&pg).await;
    let (p1, _) = start_publisher(&db, uplink(&nats));
    let last = wait_shipped(&db, &client, Duration::from_secs(60)).await;
    p1.stop().await;
    let before = count(&client, "SELECT count(*) FROM visits").await;
    let (p2, up2) = start_publisher(&copy, uplink(&nats));
    until("the copy to be shipped", Duration::from_secs(60), || {
        let s = up2.get();
        async move { s.acked_seq as i64 == last && s.lag_events == 0 }
    })
    .await;
    p2.stop().await;
    // Within the stream's duplicate window JetStream drops the copies itself; whatever
    // reaches the centre is skipped by sequence.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let row = client
        .query_one(
            "SELECT facts, gaps, last_seq FROM halls WHERE site = $1",
            &[&SITE],
        )
        .await
        .expect("hall");
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2)
        ),
        (last, 0, last)
    );
    assert_eq!(count(&client, "SELECT count(*) FROM visits").await, before);
    let store = Store::open_again(&db).expect("store");
    assert_same(&store, &client).await;

    // A stale revision forced through the centre (as a re-delivery after the dedup window
    // would be) does not replace the newer row.
    let mut central_db = hallwatch_central::Central::connect(&pg.url(), &[])
        .await
        .expect("central");
    let stale = hallwatch_central::Fact {
        site: SITE.into(),
        kind: "visit".into(),
        key: "cam1/3/1796086890.0".into(),
        epoch: store.outbox_status(SITE).expect("status").epoch,
        seq: 1,
        t: T0,
        deleted: false,
        row: serde_json::json!({"camera": "cam1", "session_id": 3, "zone": "wait",
            "role": "waiting", "counter": 0, "enter": T0 + 90.0, "exit": null,
            "duration": null, "truncated": 0}),
    };
    // A fresh connection reads the progress: seq 1 is at or below the hall's, skipped.
    let r = central_db
        .apply(std::slice::from_ref(&stale))
        .await
        .expect("apply");
    assert_eq!((r.applied, r.duplicates), (0, 1));
    let exit: Option<f64> = client
        .query_one(
            "SELECT exit FROM visits WHERE site = $1 AND session_id = 3",
            &[&SITE],
        )
        .await
        .expect("visit 3")
        .get(0);
    assert!(exit.is_some(), "the closed visit stays closed");
    assert!(cstatus.get().applied_total >= last as u64);
    central.stop().await;
}

/// The real thing end to end: `hallwatch import` brings a ticket export into a hall with an
/// `[uplink]`, `hallwatch run` analyses a clip and ships while it runs, `hallwatch central`
/// consumes into PostgreSQL and serves the league table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_server_and_the_centre_ship_a_clip_and_a_ticket_import() {
    use hallwatch_tests::{KillOnDrop, free_port, hallwatch_exe, toml_str, vtest};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());
    let data = dir.path().join("data");
    let hall_toml = dir.path().join("hall.toml");
    std::fs::write(
        &hall_toml,
        format!(
            r#"
[site]
id = "{SITE}"
timezone = "Asia/Ho_Chi_Minh"

[[cameras]]
id = "sanh"
source = {{ kind = "file", path = {clip}, loop = true }}
analysis = {{ fps = 2.0, active_fps = 2.0, width = 384 }}

[[zones]]
id = "khu-cho"
camera = "sanh"
role = "waiting"
polygon = [[0.0, 0.2], [1.0, 0.2], [1.0, 1.0], [0.0, 1.0]]

[storage]
data_dir = {data}

[server]
bind = "127.0.0.1:{port}"

[uplink]
servers = ["{nats}"]
ack_timeout_s = 3
live_interval_s = 1
"#,
            clip = toml_str(&vtest().display().to_string()),
            data = toml_str(&data.display().to_string()),
            port = free_port(),
            nats = nats.url(),
        ),
    )
    .expect("hall.toml");
    let central_port = free_port();
    let central_toml = dir.path().join("central.toml");
    std::fs::write(
        &central_toml,
        format!(
            r#"
[nats]
servers = ["{}"]

[postgres]
url = "{}"

[server]
bind = "127.0.0.1:{central_port}"

[storage]
data_dir = {central_data}

[[halls]]
site = "{SITE}"
name = "Xã An Phú"
"#,
            nats.url(),
            pg.url(),
            central_data = toml_str(&dir.path().join("central").display().to_string()),
        ),
    )
    .expect("central.toml");
    // A read token of the centre's own, for the API (as a monitoring system would hold).
    let out = Command::new(hallwatch_exe())
        .args([
            "token",
            "add",
            "province-monitor",
            "--scope",
            "read",
            "--data-dir",
        ])
        .arg(dir.path().join("central"))
        .output()
        .expect("hallwatch token add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string();

    // A ticket export, imported before the server starts: shipped once it does.
    let csv = dir.path().join("tickets.csv");
    let mut text = String::from("number,service,issued,called,counter,finished\n");
    for i in 0..12 {
        text.push_str(&format!(
            "A{i:03},Hộ tịch,2026-12-01 08:{m:02}:00,2026-12-01 08:{c:02}:00,{k},2026-12-01 08:{f:02}:00\n",
            m = i * 3,
            c = i * 3 + 1,
            k = 1 + i % 2,
            f = i * 3 + 2
        ));
    }
    std::fs::write(&csv, text).expect("csv");
    let out = Command::new(hallwatch_exe())
        .args(["import", "tickets"])
        .arg(&csv)
        .arg("--config")
        .arg(&hall_toml)
        .output()
        .expect("hallwatch import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let _central = KillOnDrop(
        Command::new(hallwatch_exe())
            .args(["central", "--config"])
            .arg(&central_toml)
            .env("HALLWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("hallwatch central"),
    );
    let run = Command::new(hallwatch_exe())
        .args(["run", "--seconds", "20", "--config"])
        .arg(&hall_toml)
        .env("HALLWATCH_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hallwatch run");
    let out = tokio::task::spawn_blocking(move || run.wait_with_output())
        .await
        .expect("join")
        .expect("run ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The server shipped what it stored, the last visits included, before it stopped.
    let db = data.join("hallwatch.db");
    let store = Store::open_again(&db).expect("hall store");
    let st = store.outbox_status(SITE).expect("outbox");
    assert_eq!(st.pending, 0, "{st:?}");
    assert!(
        st.last_seq > 12,
        "visits and samples beside the tickets: {st:?}"
    );
    let client = pg_client(&pg).await;
    let last = wait_shipped(&db, &client, Duration::from_secs(30)).await;
    let row = client
        .query_one("SELECT facts, gaps FROM halls WHERE site = $1", &[&SITE])
        .await
        .expect("hall");
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (last, 0));
    let c = store.counts(SITE).expect("counts");
    assert!(c.sessions > 0);
    let live = |t: &str| format!("SELECT count(*) FROM {t} WHERE site = '{SITE}' AND NOT deleted");
    assert_eq!(count(&client, &live("visits")).await as u64, c.sessions);
    assert_eq!(
        count(&client, &live("zone_samples")).await as u64,
        c.zone_samples
    );
    assert_eq!(count(&client, &live("tickets")).await, 12);
    assert_eq!(
        count(&client, "SELECT count(*) FROM visits WHERE exit IS NULL").await,
        0,
        "the visits the stop closed arrived closed"
    );
    assert!(
        count(&client, "SELECT count(*) FROM live_state").await == 1,
        "the live state arrived"
    );

    // The province API: open health, the league table behind the token.
    let base: std::net::SocketAddr = format!("127.0.0.1:{central_port}").parse().expect("addr");
    let bearer = format!("Bearer {secret}");
    let get = |path: &str, auth: bool| {
        let h = [("Authorization", bearer.as_str())];
        let r = hallwatch_tests::http::get(base, path, if auth { &h[..] } else { &[] });
        (r.status, r.body)
    };
    let (status, body) = get("/api/v1/province/health", false);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ok\""), "{body}");
    let (status, _) = get("/api/v1/province/league?month=2026-12", false);
    assert_eq!(status, 401);
    let (status, body) = get("/api/v1/province/league?month=2026-12", true);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["halls"][0]["site"], SITE, "{v}");
    assert_eq!(v["halls"][0]["name"], "Xã An Phú", "{v}");
    assert_eq!(v["halls"][0]["gaps"], 0, "{v}");
    let (status, body) = get("/api/v1/province/league?month=2026-13", true);
    assert_eq!(status, 400, "{body}");
    // Today's league (the run's visits are dated by the wall clock).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    let (status, body) = get(
        &format!("/api/v1/province/league?day={}", local_day(now)),
        true,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["halls"][0]["site"], SITE, "{v}");
    let (status, _) = get("/api/v1/province/league?day=2026-02-30", true);
    assert_eq!(status, 400);
    // The drill-down: the hall's days this month.
    let (status, body) = get(&format!("/api/v1/province/halls/{SITE}/days"), true);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(v["days"].as_array().is_some_and(|d| !d.is_empty()), "{v}");
    // A read token may not ask a hall to re-send (a reviewer's job).
    let h = [("Authorization", bearer.as_str())];
    let r = hallwatch_tests::http::post_json(
        base,
        &format!("/api/v1/province/halls/{SITE}/resend?day=2026-12-01"),
        &h,
        "",
    );
    assert_eq!(r.status, 403, "{}", r.body);
}

/// A TCP proxy on 127.0.0.1 that cuts every connection through it whenever `cut` is bumped:
/// a flaky link between a hall and the centre.
async fn flaky_proxy(
    upstream: u16,
    cut: watch::Receiver<u64>,
    accepted: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("proxy bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut down, _)) = listener.accept().await {
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut cut = cut.clone();
            cut.borrow_and_update();
            tokio::spawn(async move {
                let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut down, &mut up) => {}
                    _ = cut.changed() => {}
                }
                // Dropping both ends mid-message: whatever was in flight is lost.
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_link_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());
    let (cut_tx, cut_rx) = watch::channel(0u64);
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let proxy = flaky_proxy(nats.port, cut_rx, accepted.clone()).await;
    let db = dir.path().join("hall.sqlite");
    let mut store = Store::open(&db).expect("store");
    let mut cfg = uplink(&nats);
    cfg.servers = vec![format!("nats://127.0.0.1:{proxy}")];
    let (publisher, up) = start_publisher(&db, cfg);
    let (central, _) = start_central(central_cfg(&nats, &pg));
    let client = pg_client(&pg).await;
    // The link is cut every 300 ms while the hall produces.
    for i in 0..120 {
        produce(&mut store, i);
        if i % 10 == 9 {
            cut_tx.send_modify(|n| *n += 1);
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let last = wait_shipped(&db, &client, Duration::from_secs(90)).await;
    let row = client
        .query_one(
            "SELECT facts, gaps, last_seq FROM halls WHERE site = $1",
            &[&SITE],
        )
        .await
        .expect("hall");
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2)
        ),
        (last, 0, last),
        "every fact once, in order, through {} cuts",
        *cut_tx.borrow()
    );
    assert_same(&store, &client).await;
    let s = up.get();
    eprintln!("flaky link: {s:?}");
    assert_eq!(s.lag_events, 0);
    // The hall's client had to connect again after the cuts (it reconnects by itself; a cut
    // with acknowledgements in flight also shows as a retry and resends).
    let connections = accepted.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        connections >= 6,
        "the link was cut under the client: {connections} connections"
    );
    publisher.stop().await;
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_day_is_found_by_its_digest_and_sent_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());
    let db = dir.path().join("hall.sqlite");
    let mut store = Store::open(&db).expect("store");
    store.set_outbox(true).expect("outbox on");
    // Yesterday morning, local time: a finished day the publisher writes digests for.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    let local_midnight = ((now + 7.0 * 3600.0) / 86_400.0).floor() * 86_400.0 - 7.0 * 3600.0;
    let yesterday_8h = local_midnight - 86_400.0 + 8.0 * 3600.0;
    let day = local_day(yesterday_8h);
    for i in 0..30 {
        produce_from(&mut store, yesterday_8h, i);
    }
    let (central, _) = start_central(central_cfg(&nats, &pg));
    let (publisher, _) = start_publisher(&db, uplink(&nats));
    let client = pg_client(&pg).await;
    let reader = hallwatch_central::Central::connect(&pg.url(), &[])
        .await
        .expect("reader");
    let (y, m) = (
        day[..4].parse::<i32>().expect("year"),
        day[5..7].parse::<u32>().expect("month"),
    );
    let day_check = |checks: Vec<hallwatch_central::completeness::DayCheck>| {
        checks.into_iter().find(|d| d.day == day)
    };
    let start = Instant::now();
    let check = loop {
        let c = day_check(reader.completeness(SITE, y, m).await.expect("completeness"));
        if let Some(c) = c.filter(|c| c.complete && c.kinds.len() == 8) {
            break c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "yesterday's digests did not arrive and match"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let visits = check
        .kinds
        .iter()
        .find(|k| k.fact == "visit")
        .expect("visit digest");
    assert_eq!((visits.hall_count, visits.centre_count), (30, 30));

    // Three of yesterday's visits are lost at the centre (a JetStream store lost without
    // `sync_interval: always`, a restore from an old backup...).
    let lost = client
        .execute(
            "DELETE FROM visits WHERE site = $1 AND session_id IN (3, 4, 5)",
            &[&SITE],
        )
        .await
        .expect("delete");
    assert_eq!(lost, 3);
    let c = day_check(reader.completeness(SITE, y, m).await.expect("c")).expect("day");
    assert!(!c.complete);
    let v = c.kinds.iter().find(|k| k.fact == "visit").expect("visit");
    assert_eq!((v.hall_count, v.centre_count, v.ok), (30, 27, false));

    // A late ticket for yesterday changes the hall's digest: when it arrives the centre checks
    // the day, finds it incomplete and asks the hall for it again, by itself.
    publisher.stop().await;
    store
        .upsert_tickets(
            SITE,
            &[Ticket {
                day: day.clone(),
                number: "Z999".into(),
                service: String::new(),
                issued: yesterday_8h + 3600.0,
                called: None,
                counter: None,
                finished: None,
                no_show: None,
                source: "late.csv".into(),
            }],
        )
        .expect("late ticket");
    let (publisher, _) = start_publisher(&db, uplink(&nats));
    until(
        "the centre to fill the day again",
        Duration::from_secs(60),
        || {
            let r = &reader;
            let d = &day_check;
            async move {
                d(r.completeness(SITE, y, m).await.expect("completeness"))
                    .is_some_and(|c| c.complete)
            }
        },
    )
    .await;
    assert_eq!(
        count(
            &client,
            &format!("SELECT count(*) FROM visits WHERE site = '{SITE}'")
        )
        .await,
        30
    );
    // Asking directly works too, and changes nothing more.
    let nats_client = async_nats::connect(nats.url()).await.expect("nats");
    let n = hallwatch_central::completeness::resend_day(&nats_client, "hallwatch", SITE, &day)
        .await
        .expect("resend");
    assert!(n >= 30, "{n}");
    let bad =
        hallwatch_central::completeness::resend_day(&nats_client, "hallwatch", SITE, "2026-02-30")
            .await;
    assert!(bad.is_err());
    let last = wait_shipped(&db, &client, Duration::from_secs(60)).await;
    let row = client
        .query_one("SELECT gaps, last_seq FROM halls WHERE site = $1", &[&SITE])
        .await
        .expect("hall");
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (0, last));
    assert_same(&store, &client).await;
    publisher.stop().await;
    central.stop().await;
}

/// A small seeded generator (the test's halls must be the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A month of one hall (November 2026, local time): waits, counter visits, some truncated,
/// abandonments, ratings and dossiers, drawn from `seed`.
fn hall_month_of(store: &mut Store, site: &str, seed: u64) {
    const NOV_1_LOCAL: f64 = 1_793_466_000.0; // 2026-11-01 00:00 +07
    let mut g = Lcg(seed);
    let mut id = 0u64;
    for day in 0..30u64 {
        let open = NOV_1_LOCAL + day as f64 * 86_400.0 + 7.5 * 3600.0;
        let mut records = Vec::new();
        for k in 0..(30 + g.below(30)) {
            id += 1;
            let enter = open + k as f64 * 300.0 + g.below(200) as f64;
            let waited = 20.0 + g.below(2400) as f64 + 0.25 * g.below(4) as f64;
            let mut w = visit(id, enter, Some(enter + waited));
            w.truncated = g.below(25) == 0;
            records.push(Record::Session(w));
            if g.below(10) == 0 {
                records.push(Record::Abandonment(hallwatch_store::Abandonment {
                    camera: CameraId::new("cam1"),
                    zone: "wait".into(),
                    track: id,
                    enter,
                    t: enter + waited,
                }));
                continue;
            }
            id += 1;
            let start = enter + waited + 5.0;
            let mut c = visit(id, start, Some(start + 60.0 + g.below(900) as f64));
            c.zone = "q1".into();
            c.role = ZoneRole::Counter;
            c.counter = 1 + (id % 3) as u32;
            c.truncated = g.below(40) == 0;
            records.push(Record::Session(c));
        }
        store.insert(site, &records).expect("visits");
        for r in 0..(5 + g.below(10)) {
            let level = match g.below(10) {
                0 | 1 => RatingLevel::Dissatisfied,
                2..=5 => RatingLevel::Satisfied,
                _ => RatingLevel::VerySatisfied,
            };
            store
                .insert_rating(
                    site,
                    &Rating {
                        t: open + r as f64 * 600.0,
                        counter: Some(1),
                        ticket: None,
                        level,
                        score: None,
                        scale_max: None,
                        comment: String::new(),
                        device: "kiosk".into(),
                        client_id: Some(format!("{day}-{r}")),
                    },
                )
                .expect("rating");
        }
        let dossiers: Vec<Dossier> = (0..(3 + g.below(6)))
            .map(|k| {
                let received = open + k as f64 * 900.0;
                let due = received + (2 + g.below(5)) as f64 * 86_400.0;
                Dossier {
                    code: format!("{site}-{day}-{k}"),
                    service: "Hộ tịch".into(),
                    channel: Channel::InPerson,
                    received,
                    due: Some(due),
                    resolved: (g.below(8) != 0).then(|| received + g.below(7 * 86_400) as f64),
                }
            })
            .collect();
        store.upsert_dossiers(site, &dossiers).expect("dossiers");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_league_table_matches_each_halls_own_monthly_review() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());
    let (central, _) = start_central(central_cfg(&nats, &pg));
    let client = pg_client(&pg).await;
    let sites = ["xa-an-phu", "xa-binh-my", "phuong-tan-dinh"];
    let mut publishers = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        let db = dir.path().join(format!("{site}.sqlite"));
        let mut store = Store::open(&db).expect("store");
        store.set_outbox(true).expect("outbox");
        hall_month_of(&mut store, site, 7 + i as u64);
        let (running, _) = start_publisher_for(site, &db, uplink(&nats));
        publishers.push((running, db, site));
    }
    for (_, db, site) in &publishers {
        wait_shipped_site(db, site, &client, Duration::from_secs(90)).await;
    }
    let reader = hallwatch_central::Central::connect(&pg.url(), &[])
        .await
        .expect("reader");
    let league = reader.league(2026, 11, 15.0 * 60.0).await.expect("league");
    for (_, db, site) in &publishers {
        let cfg = hallwatch_config::Config::from_toml_str(&format!(
            "[site]\nid = \"{site}\"\ntimezone = \"Asia/Ho_Chi_Minh\"\n"
        ))
        .expect("hall config");
        let store = Store::open_again(db).expect("store");
        let month = hallwatch_report::hall_month(&store, &cfg, 1_793_466_000.0, 1_796_058_000.0)
            .expect("the hall's own month");
        let row = league
            .iter()
            .find(|r| r.site == **site)
            .expect("league row");
        let cam = month.waits.camera.as_ref().expect("waits");
        let close = |a: Option<f64>, b: f64, what: &str| {
            let a = a.unwrap_or(f64::NAN);
            assert!(
                (a - b).abs() < 1e-9,
                "{site} {what}: centre {a} vs hall {b}"
            );
        };
        assert_eq!(row.waits as usize, cam.count, "{site} waits");
        close(row.wait_p50_s, cam.p50_s, "median wait");
        close(row.wait_p90_s, cam.p90_s, "p90 wait");
        close(row.within_target, cam.within_target, "share within target");
        assert_eq!(row.served as u64, month.served, "{site} Lượt phục vụ");
        assert_eq!(row.abandoned as u64, month.abandoned, "{site} abandoned");
        assert_eq!(row.ratings as u64, month.ratings.total(), "{site} ratings");
        close(
            row.satisfied_share,
            month.ratings.satisfied_share().expect("ratings"),
            "Mức độ hài lòng",
        );
        let dossiers = month.dossiers.as_ref().expect("dossiers");
        close(
            row.on_time_rate,
            dossiers.on_time_rate().expect("resolved dossiers"),
            "Đúng hạn",
        );
        assert!(cam.count > 500, "{site}: a month of waits ({})", cam.count);
    }
    for (p, ..) in publishers {
        p.stop().await;
    }
    central.stop().await;
}

/// `hallwatch simulate --hall` for three halls with an [uplink]: each simulated hall (the
/// virtual camera's detections through the real tracker, zones and store, its tickets and
/// ratings through the API's checks) ships itself to the centre, and each hall's league row
/// equals its own monthly review. One hall's camera then goes down for 90 minutes on a day
/// already shipped: the hall's publisher re-computes that day, and the centre's camera uptime
/// follows the hall's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_simulated_halls_reach_the_league_as_their_own_monthly_reviews() {
    use hallwatch_tests::{hallwatch_exe, toml_str};
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());
    let (central, _) = start_central(central_cfg(&nats, &pg));
    let client = pg_client(&pg).await;
    let sites = ["xa-an-phu", "xa-binh-my", "phuong-tan-dinh"];
    let mut halls = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        let hall = dir.path().join(site);
        std::fs::create_dir_all(&hall).expect("hall dir");
        // The simulated hall's own config, with an uplink added as an operator would.
        let text = hallwatch_sim::HALL_TOML.replacen(
            "id = \"sim-hall\"",
            &format!("id = \"{site}\""),
            1,
        ) + &format!(
            "\n[storage]\ndata_dir = {}\n\n[uplink]\nservers = [\"{}\"]\nack_timeout_s = 3\n",
            toml_str(&hall.join("data").display().to_string()),
            nats.url()
        );
        std::fs::write(hall.join("hall.toml"), text).expect("hall.toml");
        let hall_arg = hall.clone();
        let seed = (i + 1).to_string();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(hallwatch_exe())
                .args(["simulate", "--days", "4", "--start", "2026-11-02", "--seed"])
                .arg(&seed)
                .arg("--hall")
                .arg(&hall_arg)
                .args(["--ship-timeout-s", "120"])
                .env("HALLWATCH_LOG", "warn")
                .output()
        })
        .await
        .expect("join")
        .expect("hallwatch simulate");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success() && stdout.contains("shipped to the province centre"),
            "{site}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        halls.push((site, hall));
    }
    // The same folder again is refused: a second run would mix two simulations.
    let again = std::process::Command::new(hallwatch_exe())
        .args(["simulate", "--days", "1", "--hall"])
        .arg(&halls[0].1)
        .output()
        .expect("simulate again");
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds an event store"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Hall 2's camera down 09:00-10:30 on Tuesday 3 November, found after the day shipped.
    let (site2, hall2) = (&halls[1].0, &halls[1].1);
    let cfg2 = hallwatch_config::Config::load(&hall2.join("hall.toml")).expect("hall config");
    let db2 = hall2.join("data/hallwatch.db");
    let nov3_9h = 1_793_466_000.0 + 2.0 * 86_400.0 + 9.0 * 3600.0;
    {
        let mut store = Store::open_again(&db2).expect("store");
        store
            .insert(
                site2,
                &[Record::CameraDowntime(hallwatch_store::DowntimeInterval {
                    camera: CameraId::new("sim-sanh"),
                    start: nov3_9h,
                    end: Some(nov3_9h + 5400.0),
                    reason: "mất tín hiệu".into(),
                })],
            )
            .expect("outage");
    }
    let p = Publisher::build(PublisherOptions {
        site: site2.to_string(),
        store: db2.clone(),
        config: uplink(&nats),
        timezone: "Asia/Ho_Chi_Minh".into(),
    })
    .expect("publisher")
    .with_camera_days({
        let cfg = cfg2.clone();
        std::sync::Arc::new(move |store: &Store, from: f64, to: f64| {
            hallwatch_report::camera_days(store, &cfg, from, to)
                .map(|cams| {
                    cams.into_iter()
                        .map(|c| hallwatch_uplink::CameraDay {
                            camera: c.camera,
                            open_s: c.open_s,
                            down_s: c.down_s,
                        })
                        .collect()
                })
                .map_err(|e| e.to_string())
        })
    });
    let days: Vec<chrono::NaiveDate> = (2..=5)
        .map(|d| chrono::NaiveDate::from_ymd_opt(2026, 11, d).expect("day"))
        .collect();
    let changed = p.summarise_days(days).await.expect("summarise");
    assert!(
        changed >= 1,
        "the outage changes Tuesday's camera day and digest"
    );
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(p.run(rx));
    wait_shipped_site(&db2, site2, &client, Duration::from_secs(60)).await;
    let _ = tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;

    let reader = hallwatch_central::Central::connect(&pg.url(), &[])
        .await
        .expect("reader");
    let league = reader.league(2026, 11, 15.0 * 60.0).await.expect("league");
    for (site, hall) in &halls {
        let cfg = hallwatch_config::Config::load(&hall.join("hall.toml")).expect("hall config");
        let store = Store::open_again(hall.join("data/hallwatch.db")).expect("store");
        let month = hallwatch_report::hall_month(&store, &cfg, 1_793_466_000.0, 1_796_058_000.0)
            .expect("the hall's own month");
        let row = league
            .iter()
            .find(|r| r.site == **site)
            .expect("league row");
        let cam = month.waits.camera.as_ref().expect("waits");
        let close = |a: Option<f64>, b: f64, what: &str| {
            let a = a.unwrap_or(f64::NAN);
            assert!(
                (a - b).abs() < 1e-9,
                "{site} {what}: centre {a} vs hall {b}"
            );
        };
        assert!(
            cam.count > 300,
            "{site}: four days of waits ({})",
            cam.count
        );
        assert_eq!(row.waits as usize, cam.count, "{site} waits");
        close(row.wait_p50_s, cam.p50_s, "median wait");
        close(row.wait_p90_s, cam.p90_s, "p90 wait");
        close(row.within_target, cam.within_target, "share within target");
        assert_eq!(row.served as u64, month.served, "{site} Lượt phục vụ");
        assert_eq!(row.abandoned as u64, month.abandoned, "{site} abandoned");
        assert_eq!(row.ratings as u64, month.ratings.total(), "{site} ratings");
        close(
            row.satisfied_share,
            month.ratings.satisfied_share().expect("ratings"),
            "Mức độ hài lòng",
        );
        let uptime = month.uptime.expect("the hall's camera uptime");
        close(row.camera_uptime, uptime, "camera uptime");
        if *site == *site2 {
            // 1.5 h of November's 21 working days x 7.5 h (07:30-11:30, 13:30-17:00): the
            // review counts the month's opening hours, and the simulation summarised them all.
            close(Some(uptime), 1.0 - 1.5 / 157.5, "the outage's share");
        } else {
            close(Some(uptime), 1.0, "no outage");
        }
    }
    let days = reader
        .hall_days(site2, 2026, 11, 900.0)
        .await
        .expect("hall days");
    let tuesday = days.iter().find(|d| d.day == "2026-11-03").expect("3 Nov");
    assert!(
        (tuesday.camera_uptime.expect("uptime") - (1.0 - 1.5 / 7.5)).abs() < 1e-9,
        "{tuesday:?}"
    );
    central.stop().await;
}

/// The province page in headless Chromium against `hallwatch central`: a viewer of the
/// centre logs in, reads the league table of three halls, opens one hall's days, switches to
/// English. Screenshots `province_vi.png`, `province_en.png` in the artifacts folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_page_shows_the_league_and_a_halls_days_in_both_languages() {
    use hallwatch_tests::{
        KillOnDrop, artifacts_dir, free_port, hallwatch_exe, manifest_dir, toml_str,
    };
    use std::io::Write;
    use std::process::{Command, Stdio};
    let node_path = std::env::var("HALLWATCH_NODE_PATH")
        .expect("HALLWATCH_NODE_PATH (playwright-core) is set by `scripts/dev env`");
    let chromium =
        std::env::var("HALLWATCH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start();
    let nats = Nats::start(dir.path());
    // Three halls' Novembers, shipped.
    let names = [
        ("xa-an-phu", "Xã An Phú"),
        ("xa-binh-my", "Xã Bình Mỹ"),
        ("phuong-tan-dinh", "Phường Tân Định"),
    ];
    let port = free_port();
    let central_data = dir.path().join("central");
    let mut toml = format!(
        "[nats]\nservers = [\"{}\"]\n[postgres]\nurl = \"{}\"\n[server]\nbind = \"127.0.0.1:{port}\"\n\
         dashboards_dir = {}\n[storage]\ndata_dir = {}\n",
        nats.url(),
        pg.url(),
        toml_str(&manifest_dir().join("../dashboards").display().to_string()),
        toml_str(&central_data.display().to_string()),
    );
    for (site, name) in names {
        toml.push_str(&format!(
            "[[halls]]\nsite = \"{site}\"\nname = \"{name}\"\n"
        ));
    }
    let central_toml = dir.path().join("central.toml");
    std::fs::write(&central_toml, toml).expect("central.toml");
    let mut add = Command::new(hallwatch_exe())
        .args([
            "user",
            "add",
            "so-noi-vu",
            "--role",
            "viewer",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(&central_data)
        .stdin(Stdio::piped())
        .spawn()
        .expect("hallwatch user add");
    writeln!(add.stdin.take().expect("stdin"), "mat-khau-tinh-1").expect("password");
    assert!(add.wait().expect("user add").success());
    let _central = KillOnDrop(
        Command::new(hallwatch_exe())
            .args(["central", "--config"])
            .arg(&central_toml)
            .env("HALLWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("hallwatch central"),
    );
    let client = pg_client(&pg).await;
    let mut publishers = Vec::new();
    for (i, (site, _)) in names.iter().enumerate() {
        let db = dir.path().join(format!("{site}.sqlite"));
        let mut store = Store::open(&db).expect("store");
        store.set_outbox(true).expect("outbox");
        hall_month_of(&mut store, site, 11 + i as u64);
        publishers.push(start_publisher_for(site, &db, uplink(&nats)).0);
        wait_shipped_site(&db, site, &client, Duration::from_secs(90)).await;
    }

    // Each commune's Decision 766 scores: a bad file is refused whole with its lines named,
    // a good one imported by the CLI, one more row by an admin through the API.
    let import = |file: &Path| {
        Command::new(hallwatch_exe())
            .args(["central", "--config"])
            .arg(&central_toml)
            .arg("--import-766")
            .arg(file)
            .output()
            .expect("hallwatch central --import-766")
    };
    let bad = dir.path().join("bad-766.csv");
    std::fs::write(
        &bad,
        "site,month,total\nxa-an-phu,2026-11,120\nxa-binh-my,2026-1,80\n",
    )
    .expect("csv");
    let out = import(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("line 2: total: '120' is not a score between 0 and 100")
            && err.contains("line 3: month: '2026-1' is not YYYY-MM")
            && err.contains("nothing imported"),
        "{err}"
    );
    let stranger = dir.path().join("stranger-766.csv");
    std::fs::write(&stranger, "site,month,total\nxa-khong-co,2026-11,80\n").expect("csv");
    let out = import(&stranger);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("site 'xa-khong-co' (2026-11) is not a hall of this centre"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&client, "SELECT count(*) FROM scores_766").await, 0);
    let good = dir.path().join("diem-766-thang-11.csv");
    std::fs::write(
        &good,
        "site;month;total;cong_khai;tien_do;truc_tuyen;hai_long;so_hoa\n\
         xa-an-phu;2026-11;\"88,5\";17;19;\"20,5\";16;16\n\
         xa-binh-my;2026-11;72;;;;;\n",
    )
    .expect("csv");
    let out = import(&good);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("imported 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut add = Command::new(hallwatch_exe())
        .args([
            "user",
            "add",
            "quan-tri",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(&central_data)
        .stdin(Stdio::piped())
        .spawn()
        .expect("hallwatch user add");
    writeln!(add.stdin.take().expect("stdin"), "mat-khau-quan-tri-1").expect("password");
    assert!(add.wait().expect("user add").success());
    let base: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let session = |user: &str, password: &str| {
        let login = hallwatch_tests::http::post_json(
            base,
            "/api/v1/login",
            &[],
            &format!(r#"{{"username":"{user}","password":"{password}"}}"#),
        );
        assert_eq!(login.status, 200, "{}", login.body);
        let cookie = login
            .header("set-cookie")
            .and_then(|c| c.split(';').next().map(String::from))
            .expect("session cookie");
        let me: serde_json::Value = serde_json::from_str(&login.body).expect("json");
        (cookie, me["csrf_token"].as_str().expect("csrf").to_string())
    };
    let scores_csv = "site,month,total\nphuong-tan-dinh,2026-11,91.5\n";
    let (cookie, csrf) = session("so-noi-vu", "mat-khau-tinh-1");
    let r = hallwatch_tests::http::post_json(
        base,
        "/api/v1/province/scores-766",
        &[("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())],
        scores_csv,
    );
    assert_eq!(r.status, 403, "a viewer does not import scores: {}", r.body);
    let (cookie, csrf) = session("quan-tri", "mat-khau-quan-tri-1");
    let r = hallwatch_tests::http::post_json(
        base,
        "/api/v1/province/scores-766",
        &[("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())],
        "site,month,total\nphuong-tan-dinh,2026-11,abc\n",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("line 2: total: 'abc'"), "{}", r.body);
    let r = hallwatch_tests::http::post_json(
        base,
        "/api/v1/province/scores-766",
        &[("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())],
        scores_csv,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"imported\":1"), "{}", r.body);

    let shots = artifacts_dir();
    let profile = tempfile::tempdir().expect("profile");
    let script = manifest_dir().join("support/province_e2e.js");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .env("NODE_PATH", &node_path)
            .env("BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("WEB_USER", "so-noi-vu")
            .env("WEB_PASSWORD", "mat-khau-tinh-1")
            .env("CHROMIUM", &chromium)
            .env("PROFILE_DIR", profile.path())
            .env("SHOTS_DIR", &shots)
            .env("MONTH", "2026-11")
            .output()
    })
    .await
    .expect("join")
    .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("{}");
    let r: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    assert!(
        out.status.success() && r.get("error").is_none(),
        "browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r["lang"], "vi", "Vietnamese first: {r}");
    let vi: Vec<&str> = r["headers_vi"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h.as_str())
        .collect();
    for word in [
        "Số người đang chờ",
        "Lượt phục vụ",
        "Mức độ hài lòng",
        "Đúng hạn",
    ] {
        assert!(vi.contains(&word), "{word} in {vi:?}");
    }
    let en: Vec<&str> = r["headers_en"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h.as_str())
        .collect();
    assert!(
        en.contains(&"Waiting now") && en.contains(&"Served"),
        "{en:?}"
    );
    let rows = r["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3, "{r}");
    let reader = hallwatch_central::Central::connect(&pg.url(), &[])
        .await
        .expect("reader");
    let league = reader.league(2026, 11, 900.0).await.expect("league");
    for row in rows {
        let site = row["site"].as_str().expect("site");
        let l = league
            .iter()
            .find(|x| x.site == site)
            .expect("in the league");
        let cells = row["cells"].as_array().expect("cells");
        assert_eq!(
            cells[0],
            names.iter().find(|n| n.0 == site).expect("named").1
        );
        assert_eq!(cells[2], l.waits.to_string().as_str(), "{row}");
        assert_eq!(cells[6], l.served.to_string().as_str(), "{row}");
        let score = match site {
            "xa-an-phu" => "88,5",
            "xa-binh-my" => "72",
            _ => "91,5",
        };
        assert_eq!(
            cells[11], score,
            "Điểm QĐ 766 in Vietnamese notation: {row}"
        );
    }
    let an_phu = league.iter().find(|x| x.site == "xa-an-phu").expect("row");
    assert_eq!(an_phu.score_766, Some(88.5));
    let days = r["days"].as_array().expect("days");
    assert_eq!(days.len(), 30, "a day per day of November: {r}");
    let complete: Vec<&str> = r["complete_en"]
        .as_array()
        .expect("complete")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(!complete.contains(&"Missing"), "{complete:?}");

    // The province monthly review from the same data: HTML, PDF, XLSX.
    let review_dir = dir.path().join("review");
    let central_toml2 = central_toml.clone();
    let review_dir2 = review_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(hallwatch_exe())
            .args([
                "report",
                "--province",
                "--month",
                "2026-11",
                "--format",
                "html,pdf,xlsx",
                "--central",
            ])
            .arg(&central_toml2)
            .arg("--out")
            .arg(&review_dir2)
            .output()
    })
    .await
    .expect("join")
    .expect("hallwatch report --province");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for ext in ["html", "pdf", "xlsx"] {
        let f = review_dir.join(format!("province-2026-11-vi.{ext}"));
        assert!(
            std::fs::metadata(&f)
                .map(|m| m.len() > 1000)
                .unwrap_or(false),
            "{} missing or empty",
            f.display()
        );
    }
    let page = std::fs::read_to_string(review_dir.join("province-2026-11-vi.html")).expect("html");
    for (_, name) in names {
        assert!(page.contains(name), "{name} in the review");
    }
    assert!(page.contains("Toàn tỉnh") && page.contains("Mức độ hài lòng"));
    assert!(
        page.contains("Điểm QĐ 766") && page.contains("<td>88.5</td>"),
        "the imported Decision 766 score in the review"
    );
    let review = reader
        .province_review(2026, 11, 900.0)
        .await
        .expect("review");
    assert_eq!(
        review.total.waits,
        review.halls.iter().map(|h| h.waits).sum::<i64>(),
        "the province's waits are every hall's"
    );
    assert_eq!(
        review.total.served,
        review.halls.iter().map(|h| h.served).sum::<i64>()
    );
    let p50s: Vec<f64> = review.halls.iter().filter_map(|h| h.wait_p50_s).collect();
    let total_p50 = review.total.wait_p50_s.expect("a province median");
    assert!(
        p50s.iter().cloned().fold(f64::INFINITY, f64::min) <= total_p50
            && total_p50 <= p50s.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        "the pooled median lies between the halls' medians: {total_p50} {p50s:?}"
    );
    assert!(page.contains(&format!("<td>{}</td>", review.total.waits)));
    assert_eq!(
        review.total.score_766,
        Some((88.5 + 72.0 + 91.5) / 3.0),
        "the province's score is the halls' mean"
    );
    for p in publishers {
        p.stop().await;
    }
}

/// [`wait_shipped`] for any hall; returns the hall's last sequence number.
async fn wait_shipped_site(
    db: &Path,
    site: &str,
    pg: &tokio_postgres::Client,
    limit: Duration,
) -> i64 {
    let store = Store::open_again(db).expect("store");
    let mut last = 0;
    until("every fact to reach PostgreSQL", limit, || {
        let st = store.outbox_status(site).expect("outbox");
        last = st.last_seq as i64;
        async move {
            // (The centre may not have made its tables yet.)
            let got: Option<i64> = pg
                .query_opt("SELECT last_seq FROM halls WHERE site = $1", &[&site])
                .await
                .ok()
                .flatten()
                .map(|r| r.get(0));
            st.pending == 0 && got == Some(st.last_seq as i64)
        }
    })
    .await;
    last
}
