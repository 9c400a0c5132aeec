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
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hall.toml");
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
