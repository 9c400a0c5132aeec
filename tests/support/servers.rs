//! Real servers for the province roll-up tests, on 127.0.0.1 free ports, in temp folders:
//! Debian's nats-server with JetStream, and PostgreSQL 15 in a fresh cluster. Both are killed
//! when their handle drops.
//!
//! `initdb` and `postgres` refuse to run as root: when the tests run as root (CI), the cluster
//! belongs to the `postgres` system user and both run through `runuser -u postgres`.

use crate::free_port;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn wait_port(port: u16, what: &str, child: &mut Child, limit: Duration) {
    let start = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening on {port}: {status}");
        }
        assert!(
            start.elapsed() < limit,
            "{what} did not listen on {port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(child: &mut Child) {
    // SIGTERM first: both servers shut down cleanly on it (PostgreSQL's "smart" shutdown).
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A nats-server with JetStream.
pub struct Nats {
    child: Option<Child>,
    /// The client port.
    pub port: u16,
    /// JetStream's store folder (kept across [`Nats::restart`]).
    pub store_dir: PathBuf,
    log: PathBuf,
}

impl Nats {
    /// Starts one with its JetStream store under `dir`.
    pub fn start(dir: &Path) -> Nats {
        let mut n = Nats {
            child: None,
            port: free_port(),
            store_dir: dir.join("jetstream"),
            log: dir.join("nats.log"),
        };
        n.spawn();
        n
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("nats log");
        let mut child = Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nats-server (scripts/dev setup installs Debian's nats-server)");
        wait_port(
            self.port,
            "nats-server",
            &mut child,
            Duration::from_secs(20),
        );
        self.child = Some(child);
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it at once (SIGKILL: a link that drops, not a clean goodbye).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop(&mut c);
        }
    }
}

/// A PostgreSQL 15 cluster with a `province` database, trust authentication on loopback and
/// fsync off (a test database).
pub struct Postgres {
    child: Option<Child>,
    /// The port.
    pub port: u16,
    _dir: tempfile::TempDir,
}

fn pg_bin(name: &str) -> PathBuf {
    let debian = Path::new("/usr/lib/postgresql/15/bin").join(name);
    if debian.is_file() {
        debian
    } else {
        PathBuf::from(name)
    }
}

fn is_root() -> bool {
    // SAFETY-free: read our own uid from /proc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root.
fn as_pg(bin: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(bin));
        c
    } else {
        Command::new(pg_bin(bin))
    }
}

impl Postgres {
    /// initdb into a temp folder, start the server, create the `province` database.
    pub fn start() -> Postgres {
        let dir = tempfile::Builder::new()
            .prefix("hallwatch-pg")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown")
                .success();
            assert!(ok, "chown the cluster folder to postgres");
        }
        let out = as_pg("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("run initdb (scripts/dev setup installs postgresql-15)");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut child = as_pg("postgres")
            .arg("-D")
            .arg(&data)
            .args([
                "-p",
                &port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
            ])
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        wait_port(port, "postgres", &mut child, Duration::from_secs(30));
        let pg = Postgres {
            child: Some(child),
            port,
            _dir: dir,
        };
        // The server accepts connections a moment after it listens.
        let start = Instant::now();
        loop {
            let ok = Command::new(pg_bin("psql"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-U",
                    "postgres",
                    "-qAt",
                    "-c",
                ])
                .arg("CREATE DATABASE province")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "PostgreSQL did not accept connections"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        pg
    }

    /// The connection string of the `province` database.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=province connect_timeout=5",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop(&mut c);
        }
    }
}
