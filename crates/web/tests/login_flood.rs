//! A login flood in its own process, so its memory can be measured: 200 wrong logins at once,
//! each from another address (forged `X-Forwarded-For` on top, which is not believed) and for
//! another, long username, so that no limiter key repeats and every one of them reaches the
//! argon2 hash (19 MiB each). The hashes wait for their two slots: the process's peak memory
//! grows by tens of MiB, not by 200 x 19 MiB, and every attempt is answered.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use std::net::SocketAddr;

/// The process's peak resident memory so far (VmHWM), KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_distinct_logins_keeps_memory_bounded() {
    let h = Harness::new();
    // One hash first, so the baseline includes a hash's own working memory.
    let mut req = request(
        Method::POST,
        "/api/v1/login",
        &Auth::None,
        Some(json!({"username": "viewer", "password": "wrong-password"})),
    );
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "10.9.0.1:40000".parse::<SocketAddr>().unwrap(),
    ));
    assert_eq!(run(h.app(), req).await.0, StatusCode::UNAUTHORIZED);
    let before = peak_rss_kib();

    let attempts = (0..200u32).map(|i| {
        let mut req = request(
            Method::POST,
            "/api/v1/login",
            &Auth::None,
            Some(json!({
                "username": format!("{}-{i}", "k".repeat(56)),
                "password": "wrong-password",
            })),
        );
        let addr: SocketAddr = format!("10.{}.{}.2:40000", i / 250, i % 250)
            .parse()
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        req.headers_mut().insert(
            "x-forwarded-for",
            axum::http::HeaderValue::from_str(&format!("203.0.113.{}", i % 250)).unwrap(),
        );
        run(h.app(), req)
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(s, _, _)| s)
        .collect();
    let grew_mib = peak_rss_kib().saturating_sub(before) / 1024;
    println!("peak memory grew by {grew_mib} MiB over 200 parallel logins");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "every attempt hashed and refused: {statuses:?}"
    );
    // Unbounded, 200 hashes at 19 MiB would need 3.8 GiB; two slots, each reusing its own
    // working memory, need about 40 MiB (fresh buffers per hash fragmented into 170 MiB).
    assert!(grew_mib < 90, "peak memory grew by {grew_mib} MiB");
}
