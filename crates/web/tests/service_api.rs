//! The service-quality routes over `oneshot`: ticket events with a tickets token, ratings from a
//! kiosk token (bound counter, idempotent client id, rate limit on the moving test clock),
//! lists for logged-in users, and the monthly review for reviewers.

mod common;

use axum::http::{Method, StatusCode, header};
use common::*;
use serde_json::json;

#[tokio::test]
async fn ticket_events_need_the_tickets_scope_and_give_waits() {
    let h = Harness::new();
    let tickets = h.token("tickets");
    let issued =
        json!({"event": "issued", "number": "A001", "service": "Hộ tịch", "t": T0 - 1200.0});
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/tickets/events",
        &h.token("kiosk"),
        Some(issued.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/tickets/events",
        &tickets,
        Some(issued.clone()),
    )
    .await;
    assert_eq!(
        (s, b["result"].as_str()),
        (StatusCode::OK, Some("inserted")),
        "{b}"
    );
    assert_eq!(b["day"], "2026-10-05");
    let batch = json!([
        {"event": "called", "number": "A001", "counter": 2, "t": T0 - 600.0},
        {"event": "called", "number": "A001"},
        {"event": "finished", "number": "A001", "counter": 2, "t": T0 - 300.0},
        {"event": "no_show", "number": "Z9", "t": T0}
    ]);
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/tickets/events",
        &tickets,
        Some(batch),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let r = b["results"].as_array().unwrap();
    assert_eq!(r[0]["result"], "updated");
    assert_eq!(r[1]["index"], 1);
    assert_eq!(r[1]["error"]["code"], "invalid");
    assert!(
        r[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("counter: required"),
        "{b}"
    );
    assert_eq!(
        (r[2]["wait_s"].as_f64(), r[2]["service_s"].as_f64()),
        (Some(600.0), Some(300.0))
    );
    assert!(
        r[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("never issued"),
        "{b}"
    );
    // A resend changes nothing.
    let (_, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/tickets/events",
        &tickets,
        Some(issued),
    )
    .await;
    assert_eq!(b["result"], "unchanged");
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/tickets/events",
        &tickets,
        Some(json!({"event": "issued", "number": ""})),
    )
    .await;
    assert_eq!(
        (s, error_code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid".into())
    );

    let viewer = h.login("viewer").await;
    let (s, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/tickets?from=2026-10-05&to=2026-10-05",
        &viewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b[0]["number"], "A001");
    assert_eq!(b[0]["wait_s"], 600.0);
    let (s, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/service/waits?from=2026-10-05&to=2026-10-05",
        &viewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["total"]["ticket"]["mean_s"], 600.0);
    assert!(
        b["total"]["camera"].is_null(),
        "no camera visits stored: {b}"
    );
    // Today so far: A001 issued, called after 10 min, served in 5; Z9 never issued.
    let (s, b, _) = send(h.app(), Method::GET, "/api/v1/service/today", &viewer, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["tickets"],
        json!({"issued": 1, "called": 1, "served": 1, "no_show": 0, "waiting": 0}),
        "{b}"
    );
    assert_eq!(
        (
            b["wait"]["mean_s"].as_f64(),
            b["service"]["mean_s"].as_f64()
        ),
        (Some(600.0), Some(300.0))
    );
    assert_eq!(b["ratings"]["count"], 0);
    assert!(b["ratings"]["satisfied_share"].is_null(), "{b}");
    let (s, _, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/service/today",
        &Auth::None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn kiosk_ratings_are_bound_deduplicated_and_rate_limited() {
    let h = Harness::new();
    let kiosk = h.token("kiosk");
    let tap = |id: &str| json!({"level": "very_satisfied", "client_id": id, "t": T0 - 10.0});
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &kiosk,
        Some(tap("a1")),
    )
    .await;
    assert_eq!(
        (s, &b["stored"]),
        (StatusCode::CREATED, &json!(true)),
        "{b}"
    );
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &kiosk,
        Some(tap("a1")),
    )
    .await;
    assert_eq!((s, &b["duplicate"]), (StatusCode::OK, &json!(true)), "{b}");
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &kiosk,
        Some(json!({"level": "satisfied", "counter": 2})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("belongs to counter 1")
    );
    // The default burst (3) is spent: the next is refused with Retry-After...
    let (s, b, headers) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &kiosk,
        Some(tap("a2")),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "10");
    // ...a device token has its own bucket, with stars mapped to levels...
    let stars = json!({"score": 2, "scale_max": 5, "counter": 4});
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &h.token("ratings"),
        Some(stars),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // ...and ten seconds later the kiosk may rate again.
    h.clock.advance(10.0);
    let (s, _, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &kiosk,
        Some(tap("a2")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &h.token("tickets"),
        Some(tap("a3")),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let viewer = h.login("viewer").await;
    let (s, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/ratings?from=2026-10-05&to=2026-10-05",
        &viewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let levels: Vec<&str> = b
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["very_satisfied", "very_satisfied", "dissatisfied"],
        "{b}"
    );
    assert_eq!(b[0]["counter"], 1);
    assert_eq!(b[2]["score"], 2);
    // Today's satisfaction on the overview: two very satisfied of three.
    let (s, b, _) = send(h.app(), Method::GET, "/api/v1/service/today", &viewer, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["date"], "2026-10-05");
    assert_eq!(
        (
            &b["ratings"]["count"],
            &b["ratings"]["very_satisfied"],
            &b["ratings"]["dissatisfied"]
        ),
        (&json!(3), &json!(2), &json!(1)),
        "{b}"
    );
    let share = b["ratings"]["satisfied_share"].as_f64().unwrap();
    assert!((share - 2.0 / 3.0).abs() < 1e-9, "{b}");
    assert_eq!(b["tickets"]["issued"], 0);
    assert!(b["wait"].is_null(), "{b}");
}

#[tokio::test]
async fn rating_comments_are_for_reviewers_and_old_ratings_refused() {
    let h = Harness::new();
    let device = h.token("ratings");
    let rate = |t: f64, id: &str| {
        json!({"level": "dissatisfied", "counter": 2, "t": t, "client_id": id,
               "comment": "Chờ lâu quá, anh Nguyễn Văn A ở quầy 2"})
    };
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &device,
        Some(rate(T0 - 60.0, "c1")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Dated weeks back (a device whose clock or queue is wrong): refused, saying why.
    let (s, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &device,
        Some(rate(T0 - 40.0 * 86_400.0, "c2")),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b.to_string().contains("older than 7 days"), "{b}");

    let list = "/api/v1/ratings?from=2026-10-05&to=2026-10-05";
    let viewer = h.login("viewer").await;
    let (s, b, headers) = send(h.app(), Method::GET, list, &viewer, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b.as_array().unwrap().len(), 1, "{b}");
    assert!(b[0]["comment"].is_null(), "viewers see no comment: {b}");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "no-store",
        "data is never cached"
    );
    let (_, b, _) = send(h.app(), Method::GET, list, &h.token("read"), None).await;
    assert!(b[0]["comment"].is_null(), "nor do read tokens: {b}");
    let reviewer = h.login("reviewer").await;
    let (_, b, _) = send(h.app(), Method::GET, list, &reviewer, None).await;
    assert_eq!(b[0]["comment"], "Chờ lâu quá, anh Nguyễn Văn A ở quầy 2");
}

#[tokio::test]
async fn the_monthly_review_is_for_reviewers() {
    let h = Harness::new();
    let kiosk = h.token("kiosk");
    let (s, _, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/ratings",
        &kiosk,
        Some(json!({"level": "dissatisfied"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let viewer = h.login("viewer").await;
    let (s, _, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/reports/2026-10",
        &viewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let reviewer = h.login("reviewer").await;
    let (s, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/reports/2026-10",
        &reviewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["report"]["month"], "2026-10");
    assert_eq!(b["report"]["current"]["ratings"]["dissatisfied"], 1);
    let kpi = b["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "satisfied_share")
        .unwrap();
    assert_eq!(kpi["current"], 0.0);
    let (s, b, headers) = send(
        h.app(),
        Method::GET,
        "/api/v1/reports/2026-10?format=xlsx&lang=en",
        &reviewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        headers
            .get(header::CONTENT_DISPOSITION)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("hallwatch-thu-nghiem-2026-10.xlsx")
    );
    let (s, _, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/reports/2026-13",
        &reviewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/reports/2026-10?hall=nope",
        &reviewer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
