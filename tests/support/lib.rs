//! Shared helpers for hallwatch's end-to-end tests: where the sample footage is, free loopback
//! ports, a local RTSP camera process, and waiting for conditions with a deadline.

pub mod http;
pub mod servers;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sample footage vtest.avi fetched by `scripts/dev setup` (768x576, 795 frames, 10 fps).
/// Panics with the fix when it is missing: the test command installs it.
pub fn vtest() -> PathBuf {
    let path = std::env::var_os("HALLWATCH_VTEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("footage/vtest.avi"));
    assert!(
        path.is_file(),
        "sample footage {} is missing: run `scripts/dev setup` (or `scripts/dev test`)",
        path.display()
    );
    path
}

/// The setup cache: $HALLWATCH_CACHE or ~/.cache/hallwatch.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("HALLWATCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/hallwatch")
        })
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port on loopback");
    l.local_addr().expect("local addr").port()
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Options of a local RTSP camera.
#[derive(Clone, Debug)]
pub struct RtspOptions {
    /// Port on 127.0.0.1.
    pub port: u16,
    /// File served, decoded and re-encoded live.
    pub file: PathBuf,
    /// `h264` or `h265`.
    pub codec: &'static str,
    /// Mount path.
    pub path: &'static str,
    /// Basic-auth user and password, if any.
    pub auth: Option<(&'static str, &'static str)>,
}

impl RtspOptions {
    /// H.264 at /cam on a free port, no auth.
    pub fn new(file: PathBuf) -> Self {
        Self {
            port: free_port(),
            file,
            codec: "h264",
            path: "/cam",
            auth: None,
        }
    }

    /// The URL clients use (without credentials).
    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}{}", self.port, self.path)
    }
}

/// A running `test-rtsp-server` process; killed on drop.
pub struct RtspServer {
    child: Child,
}

impl RtspServer {
    /// Starts the server binary `exe` (pass `env!("CARGO_BIN_EXE_test-rtsp-server")`) and waits
    /// until it listens.
    pub fn start(exe: &str, o: &RtspOptions) -> Self {
        let mut cmd = Command::new(exe);
        cmd.arg("--port")
            .arg(o.port.to_string())
            .arg("--file")
            .arg(&o.file)
            .arg("--codec")
            .arg(o.codec)
            .arg("--path")
            .arg(o.path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((u, p)) = o.auth {
            cmd.arg("--user").arg(u).arg("--password").arg(p);
        }
        let mut child = cmd.spawn().expect("start test-rtsp-server");
        let stdout = child.stdout.take().expect("server stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read server banner");
        assert!(line.starts_with("READY"), "server did not start: {line:?}");
        Self { child }
    }

    /// Kills the server (the camera sees its connection drop).
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One camera config from TOML pieces, through the real config loader: `source` is an inline
/// table (`{ kind = "file", path = "..." }`), `extra` more keys of the camera (`analysis = {..}`).
pub fn camera(id: &str, source: &str, extra: &str) -> hallwatch_config::CameraConfig {
    let text =
        format!("[site]\nid = \"t\"\n\n[[cameras]]\nid = \"{id}\"\nsource = {source}\n{extra}\n");
    let mut cfg = hallwatch_config::Config::from_toml_str(&text)
        .unwrap_or_else(|e| panic!("test config invalid:\n{e}\n---\n{text}"));
    cfg.cameras.remove(0)
}

/// A TOML basic string for `s` (quotes and backslashes escaped).
pub fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Receives a file camera's frames until it has ended and its queue is empty, or `timeout`.
pub fn drain(
    cam: &hallwatch_ingest::CameraHandle,
    timeout: Duration,
) -> Vec<hallwatch_core::Frame> {
    use hallwatch_core::CameraState;
    let end = Instant::now() + timeout;
    let mut frames = Vec::new();
    while Instant::now() < end {
        match cam.frames().recv_timeout(Duration::from_millis(100)) {
            Ok(f) => frames.push(f),
            Err(_) => {
                let state = cam.health().state;
                if matches!(state, CameraState::Finished | CameraState::Failed)
                    && cam.frames().is_empty()
                {
                    break;
                }
            }
        }
    }
    frames
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The `hallwatch` binary next to the running test's folder (`cargo test --workspace` builds
/// it).
pub fn hallwatch_exe() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .map(|d| d.join("hallwatch"))
        .expect("the test binary lies in <target>/<profile>/deps");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p hallwatch` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

/// Where browser tests save screenshots: `$HALLWATCH_ARTIFACTS`, else `<target>/artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("HALLWATCH_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("the test's own path");
            // <target>/debug/deps/this-test -> <target>/artifacts
            exe.ancestors()
                .nth(3)
                .map(|t| t.join("artifacts"))
                .expect("the test binary lies in <target>/<profile>/deps")
        });
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// A child process killed (and reaped) when dropped, so a failing test leaves nothing running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small tmpfs mounted on a folder by the test: a disk that really fills up. Unmounted on
/// drop.
pub struct SmallFs(PathBuf);

impl SmallFs {
    /// Mounts `mib` MiB at `at` (created if missing). `None`, said on stderr, where this
    /// process may not mount (not root); as root a failure is a broken machine and panics.
    pub fn mount(at: &std::path::Path, mib: u32) -> Option<SmallFs> {
        std::fs::create_dir_all(at).expect("mount point");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(SmallFs(at.to_path_buf()));
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        assert!(!root, "cannot mount a tmpfs as root");
        eprintln!("skipped: mounting a small file system needs root");
        None
    }

    /// Writes a ballast file until the file system is full; returns its path.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("ballast");
        let mut f = std::fs::File::create(&path).expect("ballast");
        for size in [64 * 1024, 512] {
            let chunk = vec![7u8; size];
            while f.write_all(&chunk).is_ok() {}
        }
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
