//! The live stream on a real server over loopback: first state at once, changes within 1 s,
//! keep-alive comments, and streams that end so a graceful shutdown does not hang.

mod common;

use common::sse::SseClient;
use common::*;
use hallwatch_core::HallState;
use hallwatch_web::Server;
use std::time::{Duration, Instant};

fn state(seq: u64, waiting: u32) -> HallState {
    HallState {
        site: "thu-nghiem".into(),
        seq,
        t: T0 + seq as f64,
        waiting_now: waiting,
        ..HallState::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_receives_a_state_change_within_one_second() {
    let h = Harness::with_config("[server]\nsse_keepalive_s = 1");
    let server = Server::start(h.state.clone(), "127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let token = h.tokens["read"].clone();
    let mut client = tokio::time::timeout(
        Duration::from_secs(5),
        SseClient::connect(addr, "/api/v1/live", &token),
    )
    .await
    .unwrap()
    .unwrap();
    let first = client.next_state().await.unwrap().unwrap();
    let s: HallState = serde_json::from_str(&first.data).unwrap();
    assert_eq!(
        (s.seq, first.id.as_str()),
        (0, "0"),
        "the current state comes first"
    );

    for (seq, waiting) in [(1, 3), (2, 5), (3, 2)] {
        let sent = Instant::now();
        h.state.publish(state(seq, waiting));
        let ev = tokio::time::timeout(Duration::from_secs(1), client.next_state())
            .await
            .expect("a state change within 1 s")
            .unwrap()
            .unwrap();
        let got: HallState = serde_json::from_str(&ev.data).unwrap();
        assert_eq!((got.seq, got.waiting_now), (seq, waiting));
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "{:?}",
            sent.elapsed()
        );
    }
    // Nothing published: keep-alive comments arrive.
    let ev = tokio::time::timeout(Duration::from_secs(3), client.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.event, "comment");
    assert_eq!(h.state.metrics().sse_clients(), 1);

    // A stop ends the open stream and returns well before the grace period.
    let stopping = Instant::now();
    tokio::task::spawn_blocking(move || server.stop().unwrap())
        .await
        .unwrap();
    assert!(
        stopping.elapsed() < hallwatch_web::SHUTDOWN_GRACE,
        "{:?}",
        stopping.elapsed()
    );
    let end = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match client.next().await {
                Ok(Some(_)) => continue,
                _ => return,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the stream ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_falls_behind_skips_to_the_latest_state() {
    let h = Harness::new();
    let server = Server::start(h.state.clone(), "127.0.0.1:0").unwrap();
    let mut client = SseClient::connect(server.local_addr(), "/api/v1/live", &h.tokens["read"])
        .await
        .unwrap();
    client.next_state().await.unwrap().unwrap();
    // Far more changes than the buffer holds, without reading.
    for seq in 1..=500 {
        h.state.publish(state(seq, 1));
    }
    let mut last = 0;
    while last < 500 {
        let ev = tokio::time::timeout(Duration::from_secs(2), client.next_state())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let s: HallState = serde_json::from_str(&ev.data).unwrap();
        assert!(s.seq > last, "in order: {} after {last}", s.seq);
        last = s.seq;
    }
    assert_eq!(last, 500, "it reaches the latest state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_tokens_cannot_open_the_stream() {
    let h = Harness::new();
    let server = Server::start(h.state.clone(), "127.0.0.1:0").unwrap();
    let err = SseClient::connect(server.local_addr(), "/api/v1/live", &h.tokens["kiosk"])
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("403"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_are_capped() {
    let h = Harness::with_config("[server]\nsse_max_clients = 2");
    let server = Server::start(h.state.clone(), "127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let token = h.tokens["read"].clone();
    let mut a = SseClient::connect(addr, "/api/v1/live", &token)
        .await
        .unwrap();
    let mut b = SseClient::connect(addr, "/api/v1/live", &token)
        .await
        .unwrap();
    a.next_state().await.unwrap().unwrap();
    b.next_state().await.unwrap().unwrap();
    let err = SseClient::connect(addr, "/api/v1/live", &token)
        .await
        .err()
        .expect("a third stream is refused");
    assert!(err.to_string().contains("503"), "{err}");
    // One closes: a new one is let in.
    drop(a);
    let mut ok = None;
    for _ in 0..50 {
        if let Ok(c) = SseClient::connect(addr, "/api/v1/live", &token).await {
            ok = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut c = ok.expect("a stream after one closed");
    c.next_state().await.unwrap().unwrap();
}

/// Reads what the server sends on `s` until it closes the connection (or `limit` passes).
async fn read_until_closed(s: &mut tokio::net::TcpStream, limit: Duration) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()?;
    Some(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_cannot_hold_the_server() {
    use tokio::io::AsyncWriteExt;
    let h = Harness::with_config("[server]\nheader_timeout_s = 1\nmax_connections = 2");
    let server = Server::start(h.state.clone(), "127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    // Slowloris: headers dribbled in, never finished. The server closes the connection once
    // the header timeout has passed.
    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut dribble = tokio::net::TcpStream::connect(addr).await.unwrap();
    dribble
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    // Both slots are taken: a well-behaved client waits in the listen queue...
    let mut good = tokio::net::TcpStream::connect(addr).await.unwrap();
    good.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    // ...and is served once the slow ones were closed, within the timeout and a margin.
    let answer = read_until_closed(&mut good, Duration::from_secs(5))
        .await
        .expect("served after the slow connections were closed");
    let waited = started.elapsed();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "served after {waited:?}"
    );
    // The slow connection was closed without an answer to its unfinished request (hyper may
    // say 408 first).
    let rest = read_until_closed(&mut slow, Duration::from_secs(2))
        .await
        .expect("the slow connection was closed");
    let text = String::from_utf8_lossy(&rest);
    assert!(
        rest.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    let _ = dribble.write_all(b"Host: x\r\n").await;
}
