//! The event store's disk fills up under the real `hallwatch run` (a small tmpfs mounted by
//! the test, filled with a ballast file): /healthz says degraded, /metrics shows the refused
//! commits and the records waiting in memory, the `store_failing` alert goes out through a
//! channel while the store cannot even record it, the server keeps running; when space
//! returns everything kept in memory is written, the alert is stored and resolved, and nothing
//! is dropped.

use hallwatch_config::alerts::AlertKind;
use hallwatch_store::{AlertQuery, Store};
use hallwatch_tests::http::get;
use hallwatch_tests::{KillOnDrop, SmallFs, free_port, hallwatch_exe, toml_str, vtest, wait_until};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn health(addr: SocketAddr) -> serde_json::Value {
    serde_json::from_str(&get(addr, "/healthz", &[]).body).unwrap_or_default()
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

fn stored(db: &Path) -> u64 {
    Store::open(db)
        .and_then(|s| s.counts("day-du"))
        .map_or(0, |c| c.zone_samples + c.sessions)
}

#[test]
fn a_full_disk_is_reported_alerted_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(fs) = SmallFs::mount(&data, 24) else {
        return;
    };
    let db = data.join("hallwatch.db");
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let config = format!(
        r#"
[site]
id = "day-du"

[[cameras]]
id = "sanh"
source = {{ kind = "file", path = {clip}, loop = true }}
analysis = {{ fps = 2.0, active_fps = 2.0, width = 384 }}

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
id = "luu-tru-loi"
kind = "store_failing"
severity = "critical"
for_s = 2
clear_for_s = 2
working_hours = false

[[alerts.channels]]
id = "nhat-ky"
kind = "log"
"#,
        clip = toml_str(&vtest().display().to_string()),
        data = toml_str(&data.display().to_string()),
    );
    let config_path = dir.path().join("hall.toml");
    std::fs::write(&config_path, config).unwrap();
    let token = Command::new(hallwatch_exe())
        .args([
            "token",
            "add",
            "prometheus",
            "--scope",
            "metrics",
            "--config",
        ])
        .arg(&config_path)
        .output()
        .unwrap();
    assert!(token.status.success(), "{token:?}");
    let bearer = format!("Bearer {}", String::from_utf8_lossy(&token.stdout).trim());
    let auth = [("Authorization", bearer.as_str())];
    let log_path = dir.path().join("run.log");
    let mut run = KillOnDrop(
        Command::new(hallwatch_exe())
            .args(["run", "--config"])
            .arg(&config_path)
            .env("HALLWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    assert!(
        wait_until(Duration::from_secs(90), || TcpStream::connect(addr).is_ok()
            && stored(&db) > 0),
        "the server never stored anything:\n{}",
        log()
    );
    assert_eq!(health(addr)["status"], "ok", "{}", log());
    let before = stored(&db);

    // The disk fills up.
    let ballast = fs.fill();
    let mut h = serde_json::Value::Null;
    assert!(
        wait_until(Duration::from_secs(90), || {
            h = health(addr);
            h["status"] == "degraded" && h["problems"][0]["what"] == "store"
        }),
        "/healthz never said degraded: {h}\n{}",
        log()
    );
    let m = get(addr, "/metrics", &auth);
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(metric(&m.body, "hallwatch_store_failing"), 1.0);
    assert!(metric(&m.body, "hallwatch_store_commit_failures_total") >= 1.0);
    // Records keep coming and wait in memory.
    let (mut pending, mut committed) = (0.0, 0.0);
    assert!(
        wait_until(Duration::from_secs(60), || {
            let m = get(addr, "/metrics", &auth).body;
            pending = metric(&m, "hallwatch_store_pending_records");
            committed = metric(&m, "hallwatch_store_records_total");
            pending >= 3.0
        }),
        "no records waiting in memory"
    );
    // The alert goes out although the store cannot record it.
    assert!(
        wait_until(Duration::from_secs(30), || log()
            .contains("Không ghi được dữ liệu")),
        "no store_failing notification:\n{}",
        log()
    );
    assert!(log().contains("refuses writes"), "{}", log());
    assert!(run.0.try_wait().unwrap().is_none(), "hallwatch run died");

    // Space returns: what waited is written, the alert is stored and resolved.
    std::fs::remove_file(ballast).unwrap();
    assert!(
        wait_until(Duration::from_secs(90), || health(addr)["status"] == "ok"),
        "/healthz stayed degraded: {}\n{}",
        health(addr),
        log()
    );
    let m = get(addr, "/metrics", &auth).body;
    assert_eq!(metric(&m, "hallwatch_store_pending_records"), 0.0);
    assert_eq!(metric(&m, "hallwatch_store_dropped_records_total"), 0.0);
    assert_eq!(metric(&m, "hallwatch_store_failed_records_total"), 0.0);
    // Everything that waited was committed (the store unit test counts the rows one by one;
    // here an open visit and its close are two records but one row).
    let committed_after = metric(&m, "hallwatch_store_records_total");
    assert!(
        committed_after >= committed + pending,
        "{committed_after} committed, {committed} when {pending} were waiting"
    );
    assert!(stored(&db) > before, "nothing new in the store");
    let alerts = || {
        let mut q = AlertQuery::site("day-du");
        q.kind = Some(AlertKind::StoreFailing);
        Store::open(&db)
            .and_then(|s| s.alerts(&q))
            .unwrap_or_default()
    };
    assert!(
        wait_until(Duration::from_secs(30), || alerts()
            .iter()
            .any(|a| a.resolved.is_some())),
        "the store_failing alert is not in the store, resolved: {:?}\n{}",
        alerts(),
        log()
    );

    let _ = Command::new("kill")
        .args(["-INT", &run.0.id().to_string()])
        .status();
    assert!(
        wait_until(Duration::from_secs(20), || run
            .0
            .try_wait()
            .unwrap()
            .is_some()),
        "no stop after SIGINT"
    );
    let status = run.0.wait().unwrap();
    assert!(status.success(), "{status}\n{}", log());
    Store::open(&db).unwrap().integrity_check().unwrap();
}
