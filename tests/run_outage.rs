//! The only camera of a running hall dies (its RTSP server is killed) under the real
//! `hallwatch run`: the camera_down alert is raised on the wall clock although no frame
//! arrives any more, the outage is in the event store while the server still runs, and both
//! end when the camera comes back.

use hallwatch_config::alerts::AlertKind;
use hallwatch_store::{AlertQuery, Store};
use hallwatch_tests::{
    KillOnDrop, RtspOptions, RtspServer, free_port, hallwatch_exe, toml_str, vtest, wait_until,
};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_test-rtsp-server");
const FOR_S: f64 = 4.0;

fn camera_down_alerts(db: &std::path::Path) -> Vec<hallwatch_store::AlertRecord> {
    let Ok(store) = Store::open(db) else {
        return Vec::new();
    };
    let mut q = AlertQuery::site("outage");
    q.kind = Some(AlertKind::CameraDown);
    store.alerts(&q).unwrap_or_default()
}

fn visits(db: &std::path::Path) -> Vec<hallwatch_zones::Session> {
    Store::open(db)
        .and_then(|s| s.sessions(&hallwatch_store::SessionQuery::new("outage", 0.0, 1e12)))
        .unwrap_or_default()
}

fn outages(db: &std::path::Path) -> Vec<hallwatch_store::DowntimeInterval> {
    let Ok(store) = Store::open(db) else {
        return Vec::new();
    };
    store
        .downtime("outage", 0.0, f64::MAX, None)
        .unwrap_or_default()
}

#[test]
fn a_dead_camera_is_alerted_and_stored_while_running() {
    let opts = RtspOptions::new(vtest());
    let rtsp = RtspServer::start(SERVER, &opts);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("hallwatch.db");
    let port = free_port();
    let config = format!(
        r#"
[site]
id = "outage"

[[cameras]]
id = "sanh"
source = {{ kind = "rtsp", url = {url}, transport = "tcp", latency_ms = 100 }}
analysis = {{ fps = 2.0, active_fps = 2.0, width = 384 }}
supervision = {{ backoff_initial_s = 0.5, backoff_max_s = 2.0, no_frame_timeout_s = 3.0, start_timeout_s = 20.0 }}

[[zones]]
id = "khu-cho"
camera = "sanh"
role = "waiting"
polygon = [[0.0, 0.3], [0.5, 0.3], [0.5, 0.6], [0.0, 0.6]]

[storage]
data_dir = {data}

[server]
bind = "127.0.0.1:{port}"

[[alerts.rules]]
id = "camera-mat"
kind = "camera_down"
severity = "critical"
for_s = {FOR_S}
clear_for_s = 1
working_hours = false
"#,
        url = toml_str(&opts.url()),
        data = toml_str(&data.display().to_string()),
    );
    let config_path = dir.path().join("hall.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut run = KillOnDrop(
        Command::new(hallwatch_exe())
            .args(["run", "--config"])
            .arg(&config_path)
            .env("HALLWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // Frames flow: the zone's samples reach the store.
    assert!(
        wait_until(Duration::from_secs(90), || Store::open(&db)
            .and_then(|s| s.counts("outage"))
            .is_ok_and(|c| c.zone_samples > 0)),
        "no zone sample stored: the camera never delivered"
    );
    assert!(outages(&db).is_empty(), "{:?}", outages(&db));

    // People are in the waiting zone: their visits are stored open.
    let open_visits = || {
        visits(&db)
            .into_iter()
            .filter(|s| s.exit.is_none())
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(60), || !open_visits().is_empty()),
        "no visit open in the store"
    );

    // The camera dies: no more frames, so only the wall clock can move the alert on.
    let open_at_kill = open_visits();
    rtsp.kill();
    let killed = Instant::now();
    assert!(
        wait_until(Duration::from_secs(60), || !camera_down_alerts(&db)
            .is_empty()),
        "no camera_down alert a minute after the camera died"
    );
    let took = killed.elapsed().as_secs_f64();
    println!("camera_down alert {took:.1} s after the camera died (for_s {FOR_S})");
    assert!(took <= FOR_S + 5.0, "camera_down took {took:.1} s");
    let alert = &camera_down_alerts(&db)[0];
    assert_eq!((alert.camera.as_str(), alert.resolved), ("sanh", None));

    // What the dead camera counted leaves the hall: its open visits end, truncated.
    assert!(
        wait_until(Duration::from_secs(10), || open_visits().is_empty()),
        "visits still open on a dead camera: {:?}",
        open_visits()
    );
    for o in &open_at_kill {
        let now = visits(&db);
        let s = now
            .iter()
            .find(|s| s.id == o.id && s.enter == o.enter)
            .expect("the visit is kept");
        assert!(s.truncated && s.exit >= Some(o.enter), "{s:?}");
    }

    // The outage is stored while the server runs, still open.
    assert!(
        wait_until(Duration::from_secs(10), || outages(&db)
            .iter()
            .any(|o| o.end.is_none())),
        "no open outage in the store: {:?}",
        outages(&db)
    );
    assert!(
        run.0.try_wait().unwrap().is_none(),
        "hallwatch run is still running"
    );

    // The camera comes back: the outage is closed in the store, the alert resolved.
    let _back = RtspServer::start(SERVER, &opts);
    assert!(
        wait_until(Duration::from_secs(60), || {
            let o = outages(&db);
            !o.is_empty() && o.iter().all(|o| o.end.is_some())
        }),
        "the outage was not closed: {:?}",
        outages(&db)
    );
    assert!(
        wait_until(Duration::from_secs(30), || camera_down_alerts(&db)
            .iter()
            .all(|a| a.resolved.is_some())),
        "the alert was not resolved: {:?}",
        camera_down_alerts(&db)
    );
    let o = outages(&db);
    let first = &o[0];
    let end = first.end.expect("closed");
    assert!(
        end - first.start >= 1.0 && !first.reason.is_empty(),
        "{first:?}"
    );

    let _ = Command::new("kill")
        .args(["-INT", &run.0.id().to_string()])
        .status();
    let t = Instant::now();
    while run.0.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = run.0.try_wait().unwrap().expect("stopped after SIGINT");
    assert!(status.success(), "{status}");
}
