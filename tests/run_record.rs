//! `hallwatch run --record FOLDER` writes what the live pipeline analysed, per camera, in the
//! same files as `hallwatch replay` (tracks.txt, zone_counts.csv, zone_sessions.csv): the
//! live run and the replay are one composition, so accuracy measured on a replay is the live
//! run's, and a live run's output can be scored against ground truth.

use hallwatch_store::{SessionQuery, Store};
use hallwatch_tests::{KillOnDrop, free_port, hallwatch_exe, toml_str, vtest, wait_until};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The fewest visits stored for either camera.
fn fewest_visits(db: &Path) -> usize {
    let sessions = Store::open(db)
        .and_then(|s| s.sessions(&SessionQuery::new("rec", -1e12, 1e12)))
        .unwrap_or_default();
    ["sanh-a", "sanh-b"]
        .iter()
        .map(|c| sessions.iter().filter(|s| s.camera.as_str() == *c).count())
        .min()
        .unwrap_or(0)
}

#[test]
fn a_live_run_records_each_cameras_tracks_and_zone_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let record = dir.path().join("record");
    let clip = toml_str(&vtest().display().to_string());
    let config = format!(
        r#"
[site]
id = "rec"

[[cameras]]
id = "sanh-a"
source = {{ kind = "file", path = {clip}, loop = true }}
analysis = {{ fps = 2.0, active_fps = 2.0, width = 384 }}

[[cameras]]
id = "sanh-b"
source = {{ kind = "file", path = {clip}, loop = true }}
analysis = {{ fps = 2.0, active_fps = 2.0, width = 384 }}

[[zones]]
id = "cho-a"
camera = "sanh-a"
role = "waiting"
polygon = [[0.0, 0.2], [1.0, 0.2], [1.0, 1.0], [0.0, 1.0]]

[[zones]]
id = "cho-b"
camera = "sanh-b"
role = "waiting"
polygon = [[0.0, 0.2], [1.0, 0.2], [1.0, 1.0], [0.0, 1.0]]

[storage]
data_dir = {data}

[server]
bind = "127.0.0.1:{port}"
"#,
        data = toml_str(&data.display().to_string()),
        port = free_port(),
    );
    let config_path = dir.path().join("hall.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut run = KillOnDrop(
        Command::new(hallwatch_exe())
            .args(["run", "--config"])
            .arg(&config_path)
            .arg("--record")
            .arg(&record)
            .env("HALLWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let db = data.join("hallwatch.db");
    assert!(
        wait_until(Duration::from_secs(120), || fewest_visits(&db) >= 6),
        "both cameras should have visits in the store: {}",
        fewest_visits(&db)
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
    assert!(run.0.wait().unwrap().success());

    for (camera, zone) in [("sanh-a", "cho-a"), ("sanh-b", "cho-b")] {
        let folder = record.join(camera);
        let read = |name: &str| {
            std::fs::read_to_string(folder.join(name))
                .unwrap_or_else(|e| panic!("{camera}/{name}: {e}"))
        };
        // MOTChallenge rows: frame, id, left, top, width, height, score (source pixels).
        let tracks = read("tracks.txt");
        let rows: Vec<Vec<f64>> = tracks
            .lines()
            .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
            .collect();
        assert!(rows.len() >= 10, "{camera}: {} track rows", rows.len());
        assert!(
            rows.iter()
                .all(|r| r.len() >= 7 && r[0] >= 1.0 && r[4] > 0.0 && r[5] > 0.0),
            "{camera}: {tracks}"
        );
        // The camera's zone, counted frame by frame, with someone in it at some point.
        let counts = read("zone_counts.csv");
        let mut lines = counts.lines();
        assert_eq!(lines.next(), Some("frame,time_s,zone,count,smoothed"));
        let counted: Vec<u32> = lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                assert_eq!(f[2], zone, "{camera}: {l}");
                f[3].parse().unwrap()
            })
            .collect();
        assert!(counted.iter().any(|&c| c > 0), "{camera}: {counts}");
        // Times are the stream's own seconds (a looping file is paced like a camera and
        // analysed on the wall clock), as in a replay: small, and rising with the frames.
        let times: Vec<(u64, f64)> = counts
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].parse().unwrap(), f[1].parse().unwrap())
            })
            .collect();
        assert!(
            times.iter().all(|&(_, t)| (0.0..1000.0).contains(&t)),
            "{camera}: {counts}"
        );
        assert!(
            times
                .windows(2)
                .all(|w| w[1].0 < w[0].0 || w[1].1 >= w[0].1),
            "{camera}: times fall within a loop: {counts}"
        );
        // Visits closed at the stop are written, truncated when still open.
        let sessions = read("zone_sessions.csv");
        assert!(
            sessions.lines().count() >= 2,
            "{camera}: no visit in {sessions}"
        );
    }
}
