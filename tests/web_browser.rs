//! The dashboard end to end in headless Chromium against the real `hallwatch run`: a looping
//! replay of the sample clip feeds the live hall state; a user created with `hallwatch user add`
//! logs in, watches the overview update live, switches language; screenshots are saved.
//!
//! Screenshots land in `$HALLWATCH_ARTIFACTS` or `<target>/artifacts/`: `web_overview_vi.png`,
//! `web_overview_en.png`, `web_wall.png`, `web_camera.png`.

use hallwatch_tests::{artifacts_dir, free_port, hallwatch_exe, vtest, wait_until};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "mat-khau-e2e-1";

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        // SIGTERM first: the server shuts down gracefully and the store is flushed.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn log_in_watch_the_overview_update_live_and_switch_language() {
    let node_path = std::env::var("HALLWATCH_NODE_PATH")
        .expect("HALLWATCH_NODE_PATH (playwright-core) is set by `scripts/dev env`");
    let chromium =
        std::env::var("HALLWATCH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let exe = hallwatch_exe();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let dashboards = hallwatch_tests::manifest_dir().join("../dashboards");
    let config = format!(
        r#"
[site]
id = "e2e"
name = "Sảnh thử nghiệm"

[[cameras]]
id = "sanh"
name = "Sảnh chờ"
source = {{ kind = "file", path = "{vtest}", loop = true }}
analysis = {{ fps = 5.0 }}

[[zones]]
id = "khu-cho"
name = "Khu chờ"
camera = "sanh"
role = "waiting"
polygon = [[0.0, 0.30], [0.52, 0.30], [0.52, 0.58], [0.0, 0.50]]

[[zones]]
id = "quay-1"
name = "Quầy 1"
camera = "sanh"
role = "counter"
counter = 1
polygon = [[0.56, 0.28], [0.88, 0.22], [0.92, 0.45], [0.60, 0.55]]

[storage]
data_dir = "{data}"

[server]
bind = "127.0.0.1:{port}"
dashboards_dir = "{dashboards}"
"#,
        vtest = vtest().display(),
        data = data.display(),
        dashboards = dashboards.display(),
    );
    let config_path = dir.path().join("hall.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut add = Command::new(&exe)
        .args([
            "user",
            "add",
            "giam-sat",
            "--role",
            "viewer",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(&data)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success(), "hallwatch user add");

    let server = Kill(
        Command::new(&exe)
            .args(["run", "--config"])
            .arg(&config_path)
            .env("HALLWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(
        wait_until(Duration::from_secs(60), || {
            std::net::TcpStream::connect(addr).is_ok()
                && hallwatch_tests::http::get(addr, "/healthz", &[]).status == 200
        }),
        "hallwatch run did not serve /healthz on {addr}"
    );

    let shots = artifacts_dir();
    let profile = tempfile::tempdir().unwrap();
    let script = hallwatch_tests::manifest_dir().join("support/web_e2e.js");
    let out = Command::new("node")
        .arg(&script)
        .env("NODE_PATH", &node_path)
        .env("BASE_URL", format!("http://{addr}"))
        .env("WEB_USER", "giam-sat")
        .env("WEB_PASSWORD", PASSWORD)
        .env("CHROMIUM", &chromium)
        .env("PROFILE_DIR", profile.path())
        .env("SHOTS_DIR", &shots)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("{}");
    let r: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    assert!(
        out.status.success() && r.get("error").is_none(),
        "browser run failed:\n{stdout}\n{stderr}"
    );
    println!("{}", serde_json::to_string_pretty(&r).unwrap());

    assert_eq!(r["login_page_lang"], "vi", "Vietnamese by default");
    let next = &r["safe_next"];
    assert_eq!(
        next["/history.html?from=1"], "/history.html?from=1",
        "{next}"
    );
    for hostile in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/x",
        "javascript:alert(1)",
    ] {
        assert_eq!(next[hostile], "/", "{hostile}: {next}");
    }
    assert_eq!(
        next.as_object().map(|o| o.len()),
        Some(5),
        "the decoded %5C form is the backslash one: {next}"
    );
    let seqs: Vec<u64> = r["seqs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_u64())
        .collect();
    assert!(
        seqs.len() >= 4 && seqs.windows(2).all(|w| w[1] > w[0]),
        "live updates: {seqs:?}"
    );
    assert!(r["live_class"].as_str().unwrap().contains("on"), "{r}");
    assert!(
        r["waiting_now"].as_str().unwrap().parse::<u32>().is_ok(),
        "{r}"
    );
    assert_eq!(r["counters"], 1);
    assert_eq!(r["cameras"], 1);
    assert_eq!(r["heading_vi"], "Số người đang chờ");
    assert_eq!(
        (r["heading_en"].as_str(), r["lang_en"].as_str()),
        (Some("People waiting"), Some("en"))
    );
    assert_eq!(
        r["heading_after_reload"], "People waiting",
        "the choice is remembered"
    );
    assert_eq!(r["heading_back"], "Số người đang chờ");
    assert!(r["wall_waiting"].as_str().unwrap().parse::<u32>().is_ok());
    assert_eq!(
        r["history_loaded"], true,
        "history page: {}",
        r["history_message"]
    );
    assert_eq!(
        r["snapshot_shown"], true,
        "the camera page shows the pixelated live picture of the running camera"
    );
    assert_eq!(
        r["external_requests"],
        serde_json::json!([]),
        "only local assets"
    );
    let errors: Vec<&str> = r["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .filter(|l| {
            l.starts_with("pageerror")
                || (l.starts_with("error") && !l.contains("404") && !l.contains("401"))
        })
        .collect();
    assert!(errors.is_empty(), "script errors: {errors:?}");
    for shot in ["web_overview_vi.png", "web_overview_en.png", "web_wall.png"] {
        let p = shots.join(shot);
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 10_000)
                .unwrap_or(false),
            "{}",
            p.display()
        );
    }
    println!("screenshots in {}", shots.display());
    drop(server);
}
