//! The rating kiosk in headless Chromium against the real web server: a tap on a rating
//! reaches the store; a tap while the tablet is offline is queued and resent when it is back
//! online, and stored once.

use hallwatch_config::Config;
use hallwatch_store::{NewToken, NewUser, Rating, RatingLevel, Role, Store, TokenScope};
use hallwatch_web::{AppOptions, AppState, Server};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const CONFIG: &str = r#"
[site]
id = "an-phu"

[[cameras]]
id = "cam1"
source = { kind = "test" }
"#;

fn now() -> f64 {
    hallwatch_store::unix_seconds(std::time::SystemTime::now())
}

#[test]
fn a_tap_on_the_kiosk_reaches_the_store_even_after_a_dropped_connection() {
    let node_path = std::env::var("HALLWATCH_NODE_PATH")
        .expect("HALLWATCH_NODE_PATH (playwright-core) is set by `scripts/dev env`");
    let chromium =
        std::env::var("HALLWATCH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallwatch.db");
    let secret = {
        let mut store = Store::open(&db).unwrap();
        store
            .create_token(
                &NewToken {
                    name: "kiosk-quay-1",
                    scope: TokenScope::Kiosk,
                    counter: Some(1),
                },
                now(),
            )
            .unwrap()
            .unwrap()
            .secret
    };
    let config = Arc::new(Config::from_toml_str(CONFIG).unwrap());
    let dashboards = hallwatch_tests::manifest_dir().join("../dashboards");
    let state = AppState::new(
        AppOptions::new(config)
            .store_path(&db)
            .dashboards_dir(dashboards),
    )
    .unwrap();
    let server = Server::start(state, "127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/kiosk/?counter=1&token={secret}",
        server.local_addr()
    );
    let started = now();
    let script = hallwatch_tests::manifest_dir().join("support/kiosk_browser.js");
    let mut child = Command::new("node")
        .arg(&script)
        .env("NODE_PATH", &node_path)
        .env("KIOSK_URL", &url)
        .env("CHROMIUM", &chromium)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node");
    // Bounded: the script has its own timeouts; this guards a hung browser.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the kiosk browser script did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let r: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(r["ok"], true, "{r:#}");
    assert!(
        !r["url_after_load"].as_str().unwrap().contains("token="),
        "token left in the URL: {r}"
    );
    assert_eq!(r["counter_label"], "Quầy 1");
    assert_eq!(
        r["pending_offline"], 1,
        "the offline tap waits in the queue: {r}"
    );
    assert_eq!(r["queue_offline"][0]["level"], "dissatisfied");
    assert!(
        r["status_offline"].as_str().unwrap().contains("Chờ gửi: 1"),
        "{r}"
    );
    assert_eq!(r["pending_after"], 0);

    let store = Store::open(&db).unwrap();
    let ratings = store
        .ratings("an-phu", started - 60.0, now() + 60.0)
        .unwrap();
    assert_eq!(ratings.len(), 2, "{ratings:?}");
    assert_eq!(ratings[0].level, RatingLevel::Satisfied);
    assert_eq!(ratings[1].level, RatingLevel::Dissatisfied);
    assert_eq!(ratings[1].comment, "Chờ hơi lâu");
    for r in &ratings {
        assert_eq!(r.counter, Some(1));
        assert_eq!(r.device, "kiosk-quay-1");
        assert!(
            r.client_id.as_deref().is_some_and(|c| c.starts_with("k1-")),
            "{r:?}"
        );
        assert!(r.t >= started - 5.0, "the time of the tap is kept");
    }
    server.stop().unwrap();
}

/// Runs a node script with playwright-core, bounded in time; its last stdout line as JSON.
fn node(script: &str, env: &[(&str, &str)]) -> serde_json::Value {
    let node_path = std::env::var("HALLWATCH_NODE_PATH")
        .expect("HALLWATCH_NODE_PATH (playwright-core) is set by `scripts/dev env`");
    let chromium =
        std::env::var("HALLWATCH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut cmd = Command::new("node");
    cmd.arg(hallwatch_tests::manifest_dir().join("support").join(script))
        .env("NODE_PATH", node_path)
        .env("CHROMIUM", chromium)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("node");
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{script} did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_reviewer_gets_the_monthly_summary_and_the_workbook_from_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallwatch.db");
    {
        let mut store = Store::open(&db).unwrap();
        store
            .add_user(
                &NewUser {
                    username: "truong-bo-phan",
                    role: Role::Reviewer,
                    password: "mat-khau-du-dai",
                },
                now(),
            )
            .unwrap()
            .unwrap();
        // 2026-10-05 09:00 +07: one satisfied, one dissatisfied.
        for (i, level) in [RatingLevel::Satisfied, RatingLevel::Dissatisfied]
            .into_iter()
            .enumerate()
        {
            let r = Rating {
                t: 1_791_165_600.0 + i as f64,
                counter: Some(1),
                ticket: None,
                level,
                score: None,
                scale_max: None,
                comment: String::new(),
                device: "kiosk".into(),
                client_id: None,
            };
            store.insert_rating("an-phu", &r).unwrap();
        }
    }
    let config = Arc::new(Config::from_toml_str(CONFIG).unwrap());
    let dashboards = hallwatch_tests::manifest_dir().join("../dashboards");
    let state = AppState::new(
        AppOptions::new(config)
            .store_path(&db)
            .dashboards_dir(dashboards),
    )
    .unwrap();
    let server = Server::start(state, "127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.local_addr());
    let r = node(
        "report_page.js",
        &[
            ("BASE_URL", &base),
            ("USERNAME", "truong-bo-phan"),
            ("PASSWORD", "mat-khau-du-dai"),
        ],
    );
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(r["login"], 200);
    assert!(r["ratings_row"].as_str().unwrap().contains('2'), "{r}");
    assert!(r["satisfied_row"].as_str().unwrap().contains("50"), "{r}");
    assert_eq!(r["download_name"], "hallwatch-2026-10.xlsx");
    assert!(r["download_bytes"].as_u64().unwrap() > 1000, "{r}");
    server.stop().unwrap();
}
