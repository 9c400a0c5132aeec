//! The API fuzzed from its own OpenAPI document by schemathesis (PyPI, in the setup's venv
//! `$HALLWATCH_PYTOOLS`), against a real server on loopback with a real store: at least 1,000
//! generated requests — valid and invalid parameters and bodies, as an admin with a session
//! and CSRF token — and not one 5xx answer.

use hallwatch_config::Config;
use hallwatch_core::{CameraHealth, CameraId, CounterState, HallState, ZoneState};
use hallwatch_store::{NewAlert, NewToken, NewUser, Role, Store, TokenScope};
use hallwatch_tests::http::{get, post_json};
use hallwatch_web::{AppOptions, AppState, Server};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

const CONFIG: &str = r#"
[site]
id = "fuzz"
name = "Sảnh thử"

[[cameras]]
id = "sanh"
source = { kind = "test" }

[[zones]]
id = "khu-cho"
camera = "sanh"
role = "waiting"
polygon = [[0.0, 0.3], [0.5, 0.3], [0.5, 0.6], [0.0, 0.6]]

[[zones]]
id = "quay-1"
camera = "sanh"
role = "counter"
counter = 1
polygon = [[0.6, 0.3], [0.9, 0.3], [0.9, 0.6], [0.6, 0.6]]
"#;

const PASSWORD: &str = "mat-khau-fuzz-1";
const MIN_CASES: u64 = 1000;

fn now() -> f64 {
    hallwatch_store::unix_seconds(std::time::SystemTime::now())
}

fn schemathesis() -> PathBuf {
    let bin = std::env::var_os("HALLWATCH_PYTOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| hallwatch_tests::cache_dir().join("pytools/bin"))
        .join("st");
    assert!(
        bin.is_file(),
        "schemathesis ({}) is missing: run `scripts/dev setup` (or `scripts/dev test`)",
        bin.display()
    );
    bin
}

/// The number of test cases schemathesis reports: "Test cases:" then "N generated, ...".
fn cases(output: &str) -> Option<u64> {
    let mut lines = output.lines();
    lines.find(|l| l.trim() == "Test cases:")?;
    lines.next()?.split_whitespace().next()?.parse().ok()
}

#[test]
fn schemathesis_finds_no_server_error_in_1000_cases() {
    let st = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallwatch.db");
    {
        let mut store = Store::open(&db).unwrap();
        store
            .add_user(
                &NewUser {
                    username: "admin",
                    role: Role::Admin,
                    password: PASSWORD,
                },
                now(),
            )
            .unwrap();
        store
            .create_token(
                &NewToken {
                    name: "doc",
                    scope: TokenScope::Read,
                    counter: None,
                },
                now(),
            )
            .unwrap();
        store
            .insert_alert(
                "fuzz",
                &NewAlert {
                    rule: "hang-dai".into(),
                    kind: hallwatch_config::alerts::AlertKind::QueueLength,
                    severity: hallwatch_config::alerts::Severity::Warning,
                    camera: String::new(),
                    zone: "khu-cho".into(),
                    counter: None,
                    triggered: now() - 60.0,
                    value: Some(9.0),
                    message: "Số người đang chờ: 9".into(),
                },
            )
            .unwrap();
    }
    let config = Arc::new(Config::from_toml_str(CONFIG).unwrap());
    let state = AppState::new(
        AppOptions::new(config)
            .store_path(&db)
            .dashboards_dir(hallwatch_tests::manifest_dir().join("../dashboards")),
    )
    .unwrap();
    state.publish(HallState {
        site: "fuzz".into(),
        seq: 1,
        t: now(),
        waiting_now: 3,
        zones: vec![ZoneState {
            id: "khu-cho".into(),
            role: "waiting".into(),
            people_now: 3,
            ..Default::default()
        }],
        counters: vec![CounterState {
            zone: "quay-1".into(),
            counter: 1,
            ..Default::default()
        }],
        cameras: vec![CameraHealth::new(CameraId::new("sanh"))],
        ..HallState::default()
    });
    let server = Server::start(state, "127.0.0.1:0").unwrap();
    let addr = server.local_addr();

    let login = post_json(
        addr,
        "/api/v1/login",
        &[],
        &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me: serde_json::Value = serde_json::from_str(&login.body).unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    let doc = get(addr, "/api/v1/openapi.json", &[("Cookie", cookie.as_str())]);
    assert_eq!(doc.status, 200);
    let schema = dir.path().join("openapi.json");
    std::fs::write(&schema, &doc.body).unwrap();

    let started = Instant::now();
    let out = Command::new(&st)
        .arg("run")
        .arg(&schema)
        .args(["--url", &format!("http://{addr}")])
        .args(["--checks", "not_a_server_error"])
        .args(["--phases", "examples,fuzzing", "--max-examples", "80"])
        .args(["--seed", "20261005", "--workers", "2"])
        // Fuzzing goes on until the time budget: 150 s give several thousand cases here.
        .args(["--request-timeout", "20", "--max-time", "150"])
        .args(["--generation-with-security-parameters", "false"])
        .args(["--generation-database", "none"])
        .args(["--suppress-health-check", "all"])
        .args(["--header", &format!("Cookie: {cookie}")])
        .args(["--header", &format!("X-CSRF-Token: {csrf}")])
        // Logging out would end the fuzzer's own session; the stream never ends by itself.
        .args([
            "--exclude-path",
            "/api/v1/logout",
            "--exclude-path",
            "/api/v1/live",
        ])
        .args(["--no-color", "--output-truncate", "true"])
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    println!("schemathesis took {:.0} s", started.elapsed().as_secs_f64());
    let n = cases(&text).unwrap_or_else(|| panic!("no test-case count in the output:\n{text}"));
    assert!(
        n >= MIN_CASES,
        "only {n} test cases (at least {MIN_CASES} wanted)"
    );
    assert!(out.status.success(), "schemathesis failed:\n{text}");
    assert!(!text.contains("Server error"), "{text}");
    drop(server);
}
