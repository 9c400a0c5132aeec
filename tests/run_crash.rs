//! `hallwatch run` is killed (SIGKILL: no chance to close anything) while people are in a
//! waiting zone: their visits were stored open as they began, and the next start closes them
//! as truncated instead of forgetting the people who were waiting.

use hallwatch_config::ZoneRole;
use hallwatch_store::{SessionQuery, Store};
use hallwatch_tests::{KillOnDrop, free_port, hallwatch_exe, toml_str, vtest, wait_until};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn visits(db: &Path) -> Vec<hallwatch_zones::Session> {
    Store::open(db)
        .and_then(|s| s.sessions(&SessionQuery::new("crash", -1e12, 1e12)))
        .unwrap_or_default()
}

fn start(config: &Path) -> KillOnDrop {
    KillOnDrop(
        Command::new(hallwatch_exe())
            .args(["run", "--config"])
            .arg(config)
            .env("HALLWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn visits_open_at_a_kill_are_stored_truncated_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("hallwatch.db");
    let config = format!(
        r#"
[site]
id = "crash"

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
"#,
        clip = toml_str(&vtest().display().to_string()),
        data = toml_str(&data.display().to_string()),
        port = free_port(),
    );
    let config_path = dir.path().join("hall.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut first = start(&config_path);
    // People walk into the waiting zone: their visits are in the store while still open.
    assert!(
        wait_until(Duration::from_secs(120), || visits(&db)
            .iter()
            .filter(|s| s.exit.is_none())
            .count()
            >= 2),
        "no open visit stored: {:?}",
        visits(&db)
    );
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let open: Vec<_> = visits(&db)
        .into_iter()
        .filter(|s| s.exit.is_none())
        .collect();
    assert!(open.len() >= 2, "{open:?}");
    assert!(open.iter().all(|s| s.role == ZoneRole::Waiting));

    // The next start closes them, truncated, no earlier than they began.
    let mut second = start(&config_path);
    let key = |s: &hallwatch_zones::Session| (s.camera.clone(), s.id, s.enter.to_bits());
    let closed = || {
        let now = visits(&db);
        open.iter()
            .map(|o| now.iter().find(|s| key(s) == key(o)).cloned())
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(60), || closed()
            .iter()
            .all(|s| s.as_ref().is_some_and(|s| s.exit.is_some()))),
        "the killed run's visits were not closed: {:?}",
        closed()
    );
    for (o, s) in open.iter().zip(closed()) {
        let s = s.expect("still there");
        let exit = s.exit.expect("closed");
        assert!(s.truncated, "{s:?}");
        assert!(exit >= o.enter, "{s:?}");
    }
    let _ = Command::new("kill")
        .args(["-INT", &second.0.id().to_string()])
        .status();
    assert!(
        wait_until(Duration::from_secs(20), || second
            .0
            .try_wait()
            .unwrap()
            .is_some()),
        "no stop after SIGINT"
    );
    assert!(second.0.wait().unwrap().success());
    // A clean stop leaves nothing open.
    assert!(
        visits(&db).iter().all(|s| s.exit.is_some()),
        "{:?}",
        visits(&db)
            .iter()
            .filter(|s| s.exit.is_none())
            .collect::<Vec<_>>()
    );
    Store::open(&db).unwrap().integrity_check().unwrap();
}
