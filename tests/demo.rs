//! `hallwatch demo`, the README's main command, end to end: it starts on a free loopback port,
//! prints its dashboard address and demo login, serves the dashboard, the live hall state
//! changes as the sample clip plays, the simulated ticket system and rating devices fill
//! today's service figures, and SIGINT stops it cleanly within 5 s with everything stored.

use hallwatch_tests::http::{get, post_json};
use hallwatch_tests::{artifacts_dir, hallwatch_exe, manifest_dir, vtest, wait_until};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills the demo if the test fails half-way.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Local hour of day in the demo's time zone (UTC+7, no daylight saving).
fn local_hour() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    ((now + 7 * 3600) % 86_400) / 3600
}

#[test]
fn the_demo_serves_a_live_hall_with_simulated_tickets_and_stops_on_sigint() {
    let data = tempfile::tempdir().unwrap();
    let child = Command::new(hallwatch_exe())
        .args(["demo", "--bind", "127.0.0.1:0", "--footage"])
        .arg(vtest())
        .arg("--data-dir")
        .arg(data.path())
        // The repository root, where `scripts/dev demo` runs it (dashboards/ is found there).
        .current_dir(manifest_dir().join(".."))
        .env("HALLWATCH_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut guard = Guard(Some(child));
    let stdout = guard.0.as_mut().unwrap().stdout.take().unwrap();
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("demo> {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut addr, mut password) = (None, None);
    // The banner ends with the line about Ctrl-C.
    while !printed
        .last()
        .is_some_and(|l: &String| l.ends_with("Ctrl-C stops"))
        && Instant::now() < deadline
    {
        let Ok(line) = lines.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        if let Some(a) = line.strip_prefix("dashboard: http://") {
            addr = a.trim_end_matches('/').parse::<SocketAddr>().ok();
        }
        if let Some(rest) = line.strip_prefix("demo login: user 'demo', password '") {
            password = rest.split('\'').next().map(String::from);
        }
        printed.push(line);
    }
    let (addr, password) = match (addr, password) {
        (Some(a), Some(p)) => (a, p),
        _ => panic!("the demo printed no address and login within 120 s: {printed:#?}"),
    };
    assert!(addr.ip().is_loopback());
    assert!(
        printed
            .iter()
            .any(|l| l.contains("simulated ticket system and rating devices")),
        "{printed:#?}"
    );

    // The dashboard is served, and the demo login works.
    let page = get(addr, "/", &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Số người đang chờ"), "{}", page.body);
    let login = post_json(
        addr,
        "/api/v1/login",
        &[],
        &format!(r#"{{"username":"demo","password":"{password}"}}"#),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let auth = [("Cookie", cookie.as_str())];
    assert_eq!(json(&get(addr, "/api/v1/me", &auth).body)["role"], "admin");

    // The hall state changes as the clip plays: later states, the camera running.
    let first = json(&get(addr, "/api/v1/state", &auth).body);
    let mut last = first.clone();
    assert!(
        wait_until(Duration::from_secs(90), || {
            last = json(&get(addr, "/api/v1/state", &auth).body);
            last["seq"].as_u64() >= first["seq"].as_u64().map(|s| s + 3)
                && last["cameras"][0]["state"]["state"] == "running"
        }),
        "the live state did not move: first {first}, last {last}"
    );
    assert!(
        last["t"].as_f64() > first["t"].as_f64(),
        "{first} -> {last}"
    );
    assert_eq!(last["site"], "vtest");
    assert!(
        last["zones"]
            .as_array()
            .unwrap()
            .iter()
            .any(|z| z["id"] == "khu-cho"),
        "{last}"
    );

    // The simulated ticket system and rating devices: today since midnight, then live.
    let today = json(&get(addr, "/api/v1/service/today", &auth).body);
    if local_hour() >= 1 {
        assert!(
            today["tickets"]["issued"].as_u64() > Some(5),
            "after 01:00 the simulated hall has issued tickets: {today}"
        );
        assert!(today["tickets"]["served"].as_u64() > Some(0), "{today}");
    } else {
        assert!(today["tickets"]["issued"].is_u64(), "{today}");
    }
    // The overview in headless Chromium: the live hall beside the simulated service figures;
    // the screenshot is the README's.
    let browser = overview_in_chromium(addr, &password);
    assert!(
        browser["waiting_now"]
            .as_str()
            .unwrap_or("")
            .parse::<u32>()
            .is_ok(),
        "{browser}"
    );
    assert!(
        browser["tickets_issued"]
            .as_str()
            .unwrap_or("")
            .parse::<u32>()
            .is_ok(),
        "{browser}"
    );
    let ratings: u32 = browser["ratings"].as_str().unwrap_or("").parse().unwrap();
    let satisfaction = browser["satisfaction"].as_str().unwrap_or("");
    if ratings > 0 {
        assert!(satisfaction.ends_with('%'), "{browser}");
    } else {
        assert_eq!(satisfaction, "Chưa có đánh giá", "{browser}");
    }
    assert_eq!(
        browser["report_link_visible"], true,
        "admins see Báo cáo tháng: {browser}"
    );
    assert_eq!(
        browser["satisfaction_heading_en"], "Satisfaction today",
        "{browser}"
    );

    let date = today["date"].as_str().unwrap();
    let tickets = get(
        addr,
        &format!("/api/v1/tickets?from={date}&to={date}"),
        &auth,
    );
    assert_eq!(tickets.status, 200, "{}", tickets.body);
    let stored_before = json(&tickets.body).as_array().unwrap().len();

    // SIGINT: a clean stop within 5 s.
    let child = guard.0.as_mut().unwrap();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let asked = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "the demo was still running 5 s after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = asked.elapsed();
    guard.0 = None;
    assert!(status.success(), "exit status {status} after SIGINT");
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(
        rest.iter().any(|l| l == "hallwatch demo: stopped"),
        "{rest:#?}"
    );
    println!("stopped {took:?} after SIGINT");

    // Everything stored survives: the tickets, and the camera's zone samples.
    let store = hallwatch_store::Store::open(data.path().join("hallwatch.db")).unwrap();
    let after = store.tickets("vtest", 0.0, 9_999_999_999.0).unwrap();
    assert!(
        after.len() >= stored_before,
        "{} < {stored_before}",
        after.len()
    );
    assert!(
        after.iter().all(|t| t.source == "demo-simulator"),
        "{:?}",
        after.first()
    );
    let counts = store.counts("vtest").unwrap();
    assert!(
        counts.zone_samples > 0,
        "the camera's zone samples are stored: {counts:?}"
    );
}

/// Runs tests/support/demo_screenshot.js against the demo; returns what it saw.
fn overview_in_chromium(addr: SocketAddr, password: &str) -> serde_json::Value {
    let node_path = std::env::var("HALLWATCH_NODE_PATH")
        .expect("HALLWATCH_NODE_PATH (playwright-core) is set by `scripts/dev env`");
    let chromium =
        std::env::var("HALLWATCH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempfile::tempdir().unwrap();
    let shots = artifacts_dir();
    let out = Command::new("node")
        .arg(manifest_dir().join("support/demo_screenshot.js"))
        .env("NODE_PATH", node_path)
        .env("BASE_URL", format!("http://{addr}"))
        .env("WEB_USER", "demo")
        .env("WEB_PASSWORD", password)
        .env("CHROMIUM", &chromium)
        .env("PROFILE_DIR", profile.path())
        .env("SHOTS_DIR", &shots)
        .output()
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
    assert!(
        shots.join("demo_overview_vi.png").is_file(),
        "no screenshot in {}",
        shots.display()
    );
    println!("browser: {r}");
    r
}
