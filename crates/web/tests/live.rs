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
