//! The `hallwatch` command as an operator runs it.

use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_hallwatch");

#[test]
fn check_config_lists_every_mistake_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        r#"
[site]
id = "hall-1"

[[cameras]]
id = "a"
source = { kind = "rtsp", url = "rtsp://10.0.0.5/x" }
analysis = { fps = -1.0 }

[[cameras]]
id = "b"
source = { kind = "file" }

[[cameras]]
id = "c"
source = { kind = "rtsp" }

[[zones]]
id = "z"
camera = "nope"
role = "waiting"
polygon = [[0.0, 0.0], [1.0, 0.0]]
"#,
    )
    .expect("write");
    let out = Command::new(EXE)
        .arg("check-config")
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "cameras[0].analysis.fps:",
        "cameras[1].source.path: missing",
        "cameras[2].source.url: missing",
        "zones[0].camera:",
        "zones[0].polygon: needs at least 3 points",
    ] {
        assert!(err.contains(expected), "{expected:?} not in:\n{err}");
    }
}

#[test]
fn check_config_accepts_the_example() {
    let example = manifest_dir().join("../../examples/hall.toml");
    let out = Command::new(EXE)
        .arg("check-config")
        .arg(&example)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));
}

#[test]
fn probe_reports_a_source_and_hides_credentials() {
    let out = Command::new(EXE)
        .args(["probe", "test:smpte", "-n", "20"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("resolution: 640x480"), "{text}");
    assert!(text.contains("frame rate: 25.00 fps"), "{text}");
    assert!(text.contains("decoded:    20 frames"), "{text}");

    // Nothing listens on port 9 of loopback: a clear error, and the password never printed.
    let out = Command::new(EXE)
        .args([
            "probe",
            "rtsp://admin:topsecret@127.0.0.1:9/cam",
            "--timeout",
            "5",
        ])
        .output()
        .expect("run");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());
    assert!(all.contains("rtsp://***@127.0.0.1:9/cam"), "{all}");
    assert!(all.contains("no frame decoded"), "{all}");
    assert!(!all.contains("topsecret"), "{all}");
}

#[test]
fn detect_without_onnx_runtime_says_where_it_looked_and_how_to_install() {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = Command::new(EXE)
        .args(["detect", "no-video.avi", "--out"])
        .arg(empty.path().join("d.txt"))
        .env("ORT_DYLIB_PATH", empty.path().join("libonnxruntime.so"))
        .env("HALLWATCH_CACHE", empty.path())
        .env("HOME", empty.path())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("ONNX Runtime library not found"), "{err}");
    assert!(
        err.contains(&empty.path().join("libonnxruntime.so").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("scripts/dev setup") && err.contains("ORT_DYLIB_PATH"),
        "{err}"
    );
}

#[test]
fn export_writes_the_store_partitioned_by_local_date() {
    use hallwatch_config::ZoneRole;
    use hallwatch_core::{CameraId, TrackId};
    use hallwatch_store::{Record, Store};
    use hallwatch_zones::Session;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let config = dir.path().join("hall.toml");
    std::fs::write(
        &config,
        format!(
            "[site]\nid = \"an-phu\"\n[storage]\ndata_dir = \"{}\"\n",
            data.display()
        ),
    )
    .expect("write config");
    // Monday 2026-10-05 08:00 and 23:30 local (UTC+7); the second visit ends on Tuesday but
    // belongs to the day it started.
    let monday_8 = 1_791_162_000.0;
    let visit = |id: u64, enter: f64| Session {
        id,
        camera: CameraId::new("sanh"),
        zone: "khu-cho".into(),
        role: ZoneRole::Waiting,
        counter: 0,
        tracks: vec![TrackId(id)],
        enter,
        exit: Some(enter + 600.0),
        truncated: false,
    };
    let mut store = Store::open(data.join("hallwatch.db")).expect("store");
    store
        .insert(
            "an-phu",
            &[
                Record::Session(visit(1, monday_8)),
                Record::Session(visit(2, monday_8 + 15.5 * 3600.0)),
                Record::Abandonment(hallwatch_store::Abandonment {
                    camera: CameraId::new("sanh"),
                    zone: "khu-cho".into(),
                    track: 7,
                    enter: monday_8,
                    t: monday_8 + 900.0,
                }),
            ],
        )
        .expect("insert");
    drop(store);
    let out = dir.path().join("export");
    let o = Command::new(EXE)
        .args(["export", "--config"])
        .arg(&config)
        .args([
            "--from",
            "2026-10-05",
            "--to",
            "2026-10-06",
            "--format",
            "csv",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = out.join("sessions/site=an-phu/date=2026-10-05/part-0.csv");
    let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    assert_eq!(
        text.lines().count(),
        3,
        "header + both Monday visits:\n{text}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 visits"));
    let f = out.join("abandonments/site=an-phu/date=2026-10-05/part-0.csv");
    let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    assert_eq!(
        text.lines().nth(1).map(|l| l.ends_with(",900.0")),
        Some(true),
        "{text}"
    );
    // A bad date is a clear error.
    let o = Command::new(EXE)
        .args(["export", "--config"])
        .arg(&config)
        .args(["--from", "2026-13-01", "--to", "2026-10-06", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("'2026-13-01' is not a date"));
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
