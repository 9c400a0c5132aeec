//! Web server load figures (a benchmark, not a timed test):
//!
//! 1. 1,000 concurrent SSE clients on loopback: p50/p99 delivery latency of one state change,
//!    from `AppState::publish` to the event parsed by each client, over several changes.
//! 2. `GET /api/v1/state` under load: N keep-alive connections requesting as fast as they get
//!    answers for a few seconds; throughput and p50/p99 latency. Goal: p99 < 200 ms.
//!
//! Server and clients share this machine's cores (the server on its own runtime, as `hallwatch
//! run` has it), so the figures include the clients' own cost.
//!
//! `cargo bench -p hallwatch-web --bench web_load` (env: SSE_CLIENTS, SSE_ROUNDS,
//! LOAD_CONNECTIONS, LOAD_SECONDS).
//!
//! Measured on the 2-core development machine (release build): 1,000 SSE clients, 20 changes,
//! 0 missing: p50 9.0 ms, p99 16.3 ms, max 18 ms; `/api/v1/state` over 64 keep-alive
//! connections with the 1,000 streams still open: 17,300 requests/s, p50 2.9 ms, p99 24 ms,
//! max 108 ms.

#[path = "../tests/common/sse.rs"]
mod sse;

use hallwatch_config::Config;
use hallwatch_core::{CounterState, HallState, ZoneState};
use hallwatch_store::{NewToken, Store, TokenScope};
use hallwatch_web::{AppOptions, AppState, Server};
use sse::{HttpConn, SseClient};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[site]
id = "bench"

[[cameras]]
id = "sanh"
source = { kind = "test" }

[[zones]]
id = "khu-cho"
camera = "sanh"
role = "waiting"
polygon = [[0.0, 0.3], [0.5, 0.3], [0.5, 0.6], [0.0, 0.6]]
"#;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A state the size of a real hall's: 6 zones, 8 counters.
fn hall(seq: u64) -> HallState {
    HallState {
        site: "bench".into(),
        site_name: "Trung tâm Phục vụ hành chính công".into(),
        seq,
        t: 1_791_165_600.0 + seq as f64,
        waiting_now: (seq % 30) as u32,
        zones: (0..6)
            .map(|i| ZoneState {
                id: format!("khu-{i}"),
                role: "waiting".into(),
                people_now: (seq % 7) as u32,
                ..Default::default()
            })
            .collect(),
        counters: (1..=8)
            .map(|c| CounterState {
                zone: format!("quay-{c}"),
                counter: c,
                ..Default::default()
            })
            .collect(),
        ..HallState::default()
    }
}

fn main() {
    let clients = env_or("SSE_CLIENTS", 1000);
    let rounds = env_or("SSE_ROUNDS", 20);
    let connections = env_or("LOAD_CONNECTIONS", 64);
    let seconds = env_or("LOAD_SECONDS", 10);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("hallwatch.db");
    let secret = Store::open(&db)
        .and_then(|mut s| {
            s.create_token(
                &NewToken {
                    name: "bench",
                    scope: TokenScope::Read,
                    counter: None,
                },
                0.0,
            )
        })
        .expect("token")
        .expect("new token")
        .secret;
    let config = Arc::new(Config::from_toml_str(CONFIG).expect("config"));
    let state = AppState::new(AppOptions::new(config).store_path(&db)).expect("state");
    state.publish(hall(1));
    let server = Server::start(state.clone(), "127.0.0.1:0").expect("server");
    let addr = server.local_addr();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "web_load: server on {addr}, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // 1. SSE fan-out.
    let (lat_tx, mut lat_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    rt.block_on(async {
        let mut ready = Vec::new();
        for _ in 0..clients {
            let tx = lat_tx.clone();
            let secret = secret.clone();
            let (rtx, rrx) = tokio::sync::oneshot::channel::<()>();
            ready.push(rrx);
            tokio::spawn(async move {
                let mut c = match SseClient::connect(addr, "/api/v1/live", &secret).await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("connect: {e}");
                        return;
                    }
                };
                let _ = c.next_state().await;
                let _ = rtx.send(());
                while let Ok(Some(ev)) = c.next_state().await {
                    let seq: u64 = ev.id.parse().unwrap_or(0);
                    if tx.send((seq, Instant::now())).is_err() {
                        return;
                    }
                }
            });
        }
        let connected = Instant::now();
        let mut n = 0;
        for r in ready {
            if r.await.is_ok() {
                n += 1;
            }
        }
        println!("sse: {n} clients connected and got the current state in {:.2} s", connected.elapsed().as_secs_f64());
        let mut lat_ms = Vec::with_capacity(clients * rounds);
        let mut missing = 0;
        for r in 0..rounds {
            let seq = 100 + r as u64;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sent = Instant::now();
            state.publish(hall(seq));
            let mut got = 0;
            let deadline = sent + Duration::from_secs(5);
            while got < n {
                match tokio::time::timeout_at(deadline.into(), lat_rx.recv()).await {
                    Ok(Some((s, at))) if s == seq => {
                        got += 1;
                        lat_ms.push(at.duration_since(sent).as_secs_f64() * 1000.0);
                    }
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
            missing += n - got;
        }
        lat_ms.sort_by(f64::total_cmp);
        println!(
            "sse: {} deliveries of {rounds} changes to {n} clients ({missing} missing): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            lat_ms.len(),
            percentile(&lat_ms, 0.5),
            percentile(&lat_ms, 0.99),
            lat_ms.last().copied().unwrap_or(f64::NAN)
        );
    });
    drop(lat_tx);

    // 2. GET /api/v1/state under load (the SSE clients still connected).
    rt.block_on(async {
        let stop = Instant::now() + Duration::from_secs(seconds as u64);
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let secret = secret.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let Ok(mut conn) = HttpConn::connect(addr).await else { return (lat, 1) };
                while Instant::now() < stop {
                    let t = Instant::now();
                    match conn.get("/api/v1/state", &secret).await {
                        Ok((200, _)) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            if let Ok((l, e)) = t.await {
                all.extend(l);
                errors += e;
            }
        }
        all.sort_by(f64::total_cmp);
        println!(
            "state: {} requests in {seconds} s over {connections} connections ({:.0}/s, {errors} errors): p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms (goal p99 < 200 ms)",
            all.len(),
            all.len() as f64 / seconds as f64,
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.last().copied().unwrap_or(f64::NAN)
        );
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    let _ = server.stop();
}
