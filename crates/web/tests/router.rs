//! Router tests over `oneshot`: every route's access rule, the error shape, CSRF, login limits,
//! sessions, static files and the OpenAPI document.

mod common;

use axum::Router;
use axum::http::{Method, StatusCode, header};
use axum::routing::post;
use common::*;
use hallwatch_core::{CameraHealth, CameraId, CameraState, CounterActivity, HallState};
use hallwatch_store::{Record, Store};
use hallwatch_web::{RequireToken, Snapshot, SnapshotSource, scope};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// Every route with a request that passes validation, and the least role that may call it:
/// 0 viewer (or read token on GET), 1 reviewer, 2 admin, 3 logged-in viewer only (no token),
/// 4 admin or metrics token, 5 anyone authenticated, 6 logged-in reviewer or admin.
fn routes() -> Vec<(Method, &'static str, Option<serde_json::Value>, u8)> {
    vec![
        (Method::GET, "/api/v1/state", None, 0),
        (Method::GET, "/api/v1/cameras", None, 0),
        (Method::GET, "/api/v1/zones", None, 0),
        (Method::GET, "/api/v1/counters", None, 0),
        (Method::GET, "/api/v1/today", None, 0),
        (Method::GET, "/api/v1/service/today", None, 0),
        (
            Method::GET,
            "/api/v1/series?from=2026-10-01&to=2026-10-05",
            None,
            0,
        ),
        (
            Method::GET,
            "/api/v1/sessions?from=2026-10-01&to=2026-10-05",
            None,
            1,
        ),
        (Method::GET, "/api/v1/alerts?state=active", None, 0),
        (Method::GET, "/api/v1/alerts/1", None, 0),
        (
            Method::POST,
            "/api/v1/alerts/1/ack",
            Some(json!({"note": "đã xử lý"})),
            6,
        ),
        (Method::GET, "/api/v1/users", None, 2),
        (
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "moi", "role": "viewer", "password": "mat-khau-moi-1"})),
            2,
        ),
        (
            Method::PATCH,
            "/api/v1/users/moi",
            Some(json!({"role": "reviewer"})),
            2,
        ),
        (Method::DELETE, "/api/v1/users/moi", None, 2),
        (Method::GET, "/api/v1/tokens", None, 2),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "may-so", "scope": "tickets"})),
            2,
        ),
        (Method::DELETE, "/api/v1/tokens/may-so", None, 2),
        (Method::GET, "/api/v1/audit?limit=50", None, 2),
        (Method::GET, "/api/v1/cameras/sanh/snapshot", None, 3),
        (Method::GET, "/metrics", None, 4),
        (Method::GET, "/api/v1/openapi.json", None, 5),
        (Method::GET, "/api/v1/me", None, 5),
    ]
}

struct Picture;

impl SnapshotSource for Picture {
    fn snapshot(&self, camera: &str) -> Option<Snapshot> {
        (camera == "sanh").then(|| Snapshot {
            bytes: axum::body::Bytes::from_static(b"\x89PNG\r\n\x1a\nfake"),
            content_type: "image/png",
            t: T0,
        })
    }
}

#[tokio::test]
async fn every_route_needs_a_session_or_token() {
    let h = Harness::new();
    for (m, path, body, _) in routes() {
        let (status, b, headers) = send(h.app(), m.clone(), path, &Auth::None, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {path}: {b}");
        assert_eq!(error_code(&b), "unauthenticated");
        assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    }
    let (status, _, _) = send(h.app(), Method::GET, "/api/v1/live", &Auth::None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, b, _) = send(h.app(), Method::POST, "/api/v1/logout", &Auth::None, None).await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let bogus =
        Auth::Token("hwt_0000000000000000000000000000000000000000000000000000000000000000".into());
    let (status, _, _) = send(h.app(), Method::GET, "/api/v1/state", &bogus, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an unknown token is refused"
    );
    let cookie = Auth::SessionNoCsrf {
        cookie: "hw_session=forged".into(),
    };
    let (status, _, _) = send(h.app(), Method::GET, "/api/v1/state", &cookie, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an unknown session is refused"
    );
}

#[tokio::test]
async fn public_paths_need_nothing() {
    let h = Harness::new();
    let (status, b, _) = send(h.app(), Method::GET, "/healthz", &Auth::None, None).await;
    assert_eq!((status, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    for page in [
        "/",
        "/login.html",
        "/wall.html",
        "/common.js",
        "/i18n.js",
        "/style.css",
        "/vendor/uplot/uPlot.iife.min.js",
        "/vendor/uplot/LICENSE",
    ] {
        let (status, _, headers) = send(h.app(), Method::GET, page, &Auth::None, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
    }
}

#[tokio::test]
async fn roles_and_scopes_are_enforced_on_every_route() {
    let h = Harness::new();
    h.state.set_snapshot_source(Arc::new(Picture));
    assert_eq!(insert_alert(&h), 1);
    let viewer = h.login("viewer").await;
    let reviewer = h.login("reviewer").await;
    let admin = h.login("admin").await;
    // Who may call each rule.
    let allowed = |rule: u8, who: &str| -> bool {
        matches!(
            (rule, who),
            (0, "viewer" | "reviewer" | "admin" | "read")
                | (1, "reviewer" | "admin")
                | (2, "admin")
                | (3, "viewer" | "reviewer" | "admin")
                | (4, "admin" | "metrics")
                | (5, _)
                | (6, "reviewer" | "admin")
        )
    };
    let callers: Vec<(&str, Auth)> = vec![
        ("viewer", viewer),
        ("reviewer", reviewer),
        ("admin", admin),
        ("read", h.token("read")),
        ("metrics", h.token("metrics")),
        ("tickets", h.token("tickets")),
        ("kiosk", h.token("kiosk")),
        ("ratings", h.token("ratings")),
    ];
    for (who, auth) in &callers {
        for (m, path, body, rule) in routes() {
            let (status, b, _) = send(h.app(), m.clone(), path, auth, body).await;
            if allowed(rule, who) {
                assert!(
                    status.is_success(),
                    "{who} should reach {m} {path}, got {status}: {b}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{who} must not reach {m} {path}: {b}"
                );
                assert_eq!(error_code(&b), "forbidden");
            }
        }
    }
}

fn insert_alert(h: &Harness) -> i64 {
    let mut store = Store::open(h.dir.path().join("hallwatch.db")).unwrap();
    store
        .insert_alert(
            "thu-nghiem",
            &hallwatch_store::NewAlert {
                rule: "hang-dai".into(),
                kind: hallwatch_config::alerts::AlertKind::QueueLength,
                severity: hallwatch_config::alerts::Severity::Warning,
                camera: String::new(),
                zone: "khu-cho".into(),
                counter: None,
                triggered: T0,
                value: Some(12.0),
                message: "Số người đang chờ: 12".into(),
            },
        )
        .unwrap()
}

#[tokio::test]
async fn alerts_are_listed_and_acknowledged_once_by_a_reviewer() {
    let h = Harness::new();
    let id = insert_alert(&h);
    let viewer = h.login("viewer").await;
    let (status, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/alerts?state=active",
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b[0]["id"], id);
    assert_eq!(b[0]["state"], "triggered");
    let path = format!("/api/v1/alerts/{id}/ack");
    let (status, _, _) = send(h.app(), Method::POST, &path, &viewer, Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot acknowledge");
    let reviewer = h.login("reviewer").await;
    let (status, b, _) = send(
        h.app(),
        Method::POST,
        &path,
        &reviewer,
        Some(json!({"note": "đã gọi thêm cán bộ"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(
        (b["acknowledged"].as_bool(), b["alert"]["ack_by"].as_str()),
        (Some(true), Some("reviewer"))
    );
    let admin = h.login("admin").await;
    let (_, b, _) = send(h.app(), Method::POST, &path, &admin, Some(json!({}))).await;
    assert_eq!(
        (b["acknowledged"].as_bool(), b["alert"]["ack_by"].as_str()),
        (Some(false), Some("reviewer")),
        "the first acknowledgement is kept"
    );
    let (status, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/alerts/999/ack",
        &admin,
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/alerts?state=weird",
        &viewer,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (status, _, _) = send(h.app(), Method::GET, "/api/v1/alerts/abc", &viewer, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_kiosk_token_reaches_only_its_endpoint() {
    let h = Harness::new();
    // An endpoint guarded the way the service routes guard theirs.
    let kiosk_route = Router::new()
        .route(
            "/api/v1/kiosk-probe",
            post(|t: RequireToken<scope::Kiosk>| async move {
                format!("counter {:?}", t.token.counter)
            }),
        )
        .with_state(h.state.clone());
    let app = h.app().merge(kiosk_route);
    let (status, b, _) = send(
        app.clone(),
        Method::POST,
        "/api/v1/kiosk-probe",
        &h.token("kiosk"),
        None,
    )
    .await;
    assert_eq!(
        (status, b.as_str()),
        (StatusCode::OK, Some("counter Some(1)"))
    );
    for other in ["read", "tickets", "ratings", "metrics"] {
        let (status, _, _) = send(
            app.clone(),
            Method::POST,
            "/api/v1/kiosk-probe",
            &h.token(other),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{other} token");
    }
    let admin = h.login("admin").await;
    let (status, _, _) = send(
        app.clone(),
        Method::POST,
        "/api/v1/kiosk-probe",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not even an admin session");
    for path in [
        "/api/v1/state",
        "/api/v1/live",
        "/metrics",
        "/api/v1/users",
        "/api/v1/cameras/sanh/snapshot",
    ] {
        let (status, _, _) = send(app.clone(), Method::GET, path, &h.token("kiosk"), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "kiosk token on {path}");
    }
}

#[tokio::test]
async fn bad_json_is_a_400_in_the_error_shape() {
    let h = Harness::new();
    let admin = h.login("admin").await;
    let bodies = [
        "{not json",
        "[]",
        r#"{"username": 5, "role": "viewer", "password": "long-enough"}"#,
        r#"{"username": "x", "role": "viewer"}"#,
        r#"{"username": "x", "role": "viewer", "password": "long-enough", "extra": 1}"#,
    ];
    for raw in bodies {
        let Auth::Session { cookie, csrf } = &admin else {
            unreachable!()
        };
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/api/v1/users")
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(raw))
            .unwrap();
        let (status, b, _) = run(h.app(), req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw}: {b}");
        assert_eq!(error_code(&b), "bad_request");
    }
    // The login endpoint too, and a body that is not JSON at all.
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from("{\"username\":"))
        .unwrap();
    let (status, b, _) = run(h.app(), req).await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/login")
        .body(axum::body::Body::from("username=a&password=b"))
        .unwrap();
    let (status, b, _) = run(h.app(), req).await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    // Bad query values.
    let viewer = h.login("viewer").await;
    for q in [
        "/api/v1/series?from=yesterday&to=2026-10-05",
        "/api/v1/series?from=2026-10-05&to=2026-10-01",
        "/api/v1/series?from=2026-10-01&to=2026-10-05&period=week",
        "/api/v1/series?to=2026-10-05",
        "/api/v1/series?from=2026-10-01&to=2026-10-05&counter=-1",
    ] {
        let (status, b, _) = send(h.app(), Method::GET, q, &viewer, None).await;
        assert_eq!(
            (status, error_code(&b).as_str()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{q}"
        );
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_get_the_error_shape() {
    let h = Harness::new();
    let admin = h.login("admin").await;
    for auth in [Auth::None, admin.clone()] {
        for path in [
            "/api/v1/nope",
            "/api/v2/state",
            "/api",
            "/api/v1/users/x/y",
            "/khong-co.html",
        ] {
            let (status, b, _) = send(h.app(), Method::GET, path, &auth, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(error_code(&b), "not_found");
        }
    }
    let (status, b, _) = send(h.app(), Method::DELETE, "/api/v1/state", &admin, None).await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let (status, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/cameras/khong-co/snapshot",
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, _, _) = send(
        h.app(),
        Method::DELETE,
        "/api/v1/users/khong-co",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn state_changes_from_a_session_need_the_csrf_token_and_same_origin() {
    let h = Harness::new();
    let admin = h.login("admin").await;
    let body = json!({"username": "csrf-test", "role": "viewer", "password": "mat-khau-moi-1"});
    let (status, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/users",
        &admin.without_csrf(),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    let Auth::Session { cookie, .. } = &admin else {
        unreachable!()
    };
    let wrong = Auth::Session {
        cookie: cookie.clone(),
        csrf: "0".repeat(64),
    };
    let (status, _, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/users",
        &wrong,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut req = request(Method::POST, "/api/v1/users", &admin, Some(body.clone()));
    req.headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let (status, b, _) = run(h.app(), req).await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    let mut req = request(Method::POST, "/api/v1/users", &admin, Some(body.clone()));
    req.headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
    let (status, b, _) = run(h.app(), req).await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    // A GET needs no CSRF token; a token-authenticated POST needs none either.
    let (status, _, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/users",
        &admin.without_csrf(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Logging in from another site is refused.
    let mut req = request(
        Method::POST,
        "/api/v1/login",
        &Auth::None,
        Some(json!({"username": "admin", "password": PASSWORD})),
    );
    req.headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let (status, _, _) = run(h.app(), req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn session_cookies_are_httponly_strict_and_secure_under_https() {
    let h = Harness::new();
    let (status, b, headers) = send(
        h.app(),
        Method::POST,
        "/api/v1/login",
        &Auth::None,
        Some(json!({"username": "viewer", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["role"], "viewer");
    assert_eq!(b["csrf_token"].as_str().unwrap().len(), 64);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("hw_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let tls = Harness::with_config("[server]\npublic_base_url = \"https://hcc.example.vn\"");
    let (_, _, headers) = send(
        tls.app(),
        Method::POST,
        "/api/v1/login",
        &Auth::None,
        Some(json!({"username": "viewer", "password": PASSWORD})),
    )
    .await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-hw_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
}

fn from_ip(req: &mut axum::http::Request<axum::body::Body>, ip: &str) {
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
}

/// A login request arriving from `ip`, with an `X-Forwarded-For` header when `forwarded` is
/// not empty.
fn login_request(
    ip: &str,
    forwarded: &str,
    user: &str,
    password: &str,
) -> axum::http::Request<axum::body::Body> {
    let mut req = request(
        Method::POST,
        "/api/v1/login",
        &Auth::None,
        Some(json!({"username": user, "password": password})),
    );
    from_ip(&mut req, ip);
    if !forwarded.is_empty() {
        req.headers_mut().insert(
            "x-forwarded-for",
            axum::http::HeaderValue::from_str(forwarded).unwrap(),
        );
    }
    req
}

async fn login_from(
    h: &Harness,
    ip: &str,
    user: &str,
    password: &str,
) -> (StatusCode, serde_json::Value, axum::http::HeaderMap) {
    run(h.app(), login_request(ip, "", user, password)).await
}

#[tokio::test]
async fn logins_are_rate_limited_per_address_and_user() {
    let h = Harness::with_config("[server]\nlogin_max_failures = 3\nlogin_window_s = 60");
    for _ in 0..3 {
        let (status, b, _) = login_from(&h, "10.1.1.1", "viewer", "wrong-password").await;
        assert_eq!(
            (status, error_code(&b).as_str()),
            (StatusCode::UNAUTHORIZED, "bad_credentials")
        );
    }
    // Blocked now, even with the right password; Retry-After says for how long.
    let (status, b, headers) = login_from(&h, "10.1.1.1", "viewer", PASSWORD).await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
    );
    assert_eq!(headers[header::RETRY_AFTER], "60");
    // Another user from the same address, and the same user from another address, still log in.
    assert_eq!(
        login_from(&h, "10.1.1.1", "admin", PASSWORD).await.0,
        StatusCode::OK
    );
    assert_eq!(
        login_from(&h, "10.1.1.2", "viewer", PASSWORD).await.0,
        StatusCode::OK
    );
    h.clock.advance(61.0);
    assert_eq!(
        login_from(&h, "10.1.1.1", "viewer", PASSWORD).await.0,
        StatusCode::OK
    );
    // Unknown users count too, so guessing names is limited the same way.
    for _ in 0..3 {
        login_from(&h, "10.1.1.3", "khong-co", "x-wrong-pass").await;
    }
    assert_eq!(
        login_from(&h, "10.1.1.3", "khong-co", "x-wrong-pass")
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn login_floods_are_counted_before_hashing_and_long_names_refused() {
    let h = Harness::with_config("[server]\nlogin_max_failures = 3\nlogin_window_s = 60");
    // 20 wrong logins at once for one user from one address: every attempt is counted before
    // its password is hashed, so exactly 3 reach the hash (401) and 17 are turned away (429).
    let attempts = (0..20).map(|_| login_from(&h, "10.2.2.2", "viewer", "wrong-password"));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(s, _, _)| s)
        .collect();
    let n = |code: StatusCode| statuses.iter().filter(|s| **s == code).count();
    assert_eq!(
        (
            n(StatusCode::UNAUTHORIZED),
            n(StatusCode::TOO_MANY_REQUESTS)
        ),
        (3, 17),
        "{statuses:?}"
    );
    // A username of 10,000 characters is refused before any work, and keys nothing.
    let long = "a".repeat(10_000);
    let (status, b, _) = login_from(&h, "10.2.2.3", &long, "wrong-password").await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert!(b.to_string().contains("64"), "{b}");
    // 64 characters are still a username (an unknown one: 401).
    let (status, _, _) = login_from(&h, "10.2.2.3", &"a".repeat(64), "wrong-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Logging in successfully does not use up the address's allowance.
    for _ in 0..15 {
        assert_eq!(
            login_from(&h, "10.2.2.4", "viewer", PASSWORD).await.0,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn sessions_end_on_logout_idle_time_and_user_deletion() {
    let h = Harness::with_config("[server]\nsession_idle_h = 1");
    let viewer = h.login("viewer").await;
    assert_eq!(
        send(h.app(), Method::GET, "/api/v1/me", &viewer, None)
            .await
            .0,
        StatusCode::OK
    );
    h.clock.advance(3601.0);
    assert_eq!(
        send(h.app(), Method::GET, "/api/v1/me", &viewer, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    let viewer = h.login("viewer").await;
    let (status, _, headers) = send(h.app(), Method::POST, "/api/v1/logout", &viewer, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        send(h.app(), Method::GET, "/api/v1/me", &viewer, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    // Deleted by another process (the `hallwatch user del` command): gone within 30 s.
    let reviewer = h.login("reviewer").await;
    let mut store = Store::open(h.dir.path().join("hallwatch.db")).unwrap();
    assert!(store.delete_user("reviewer").unwrap());
    h.clock.advance(31.0);
    assert_eq!(
        send(h.app(), Method::GET, "/api/v1/me", &reviewer, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // A password changed elsewhere ends the sessions too.
    let admin = h.login("admin").await;
    assert!(store.set_password("admin", "mat-khau-khac-9").unwrap());
    h.clock.advance(31.0);
    assert_eq!(
        send(h.app(), Method::GET, "/api/v1/me", &admin, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn admins_manage_users_and_tokens() {
    let h = Harness::new();
    let admin = h.login("admin").await;
    let (status, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/users",
        &admin,
        Some(json!({"username": "giam-sat", "role": "viewer", "password": "short"})),
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (status, _, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/users",
        &admin,
        Some(json!({"username": "giam-sat", "role": "viewer", "password": "mat-khau-dai-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/users",
        &admin,
        Some(json!({"username": "giam-sat", "role": "viewer", "password": "mat-khau-dai-1"})),
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    // An admin changing their own password stays logged in here; their other sessions end.
    let other = h.login("admin").await;
    let (status, _, _) = send(
        h.app(),
        Method::PATCH,
        "/api/v1/users/admin",
        &admin,
        Some(json!({"password": "mat-khau-moi-2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    h.clock.advance(31.0);
    assert_eq!(
        send(h.app(), Method::GET, "/api/v1/me", &admin, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        send(h.app(), Method::GET, "/api/v1/me", &other, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, b, _) = send(h.app(), Method::DELETE, "/api/v1/users/admin", &admin, None).await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "no self-deletion"
    );
    let (status, b, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/tokens",
        &admin,
        Some(json!({"name": "kiosk-2", "scope": "kiosk", "counter": 2})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = b["secret"].as_str().unwrap().to_string();
    let (status, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/me",
        &Auth::Token(secret.clone()),
        None,
    )
    .await;
    assert_eq!(
        (status, b["scope"].as_str()),
        (StatusCode::OK, Some("kiosk"))
    );
    let (_, list, _) = send(h.app(), Method::GET, "/api/v1/tokens", &admin, None).await;
    assert!(
        !list.to_string().contains(&secret),
        "secrets are never listed"
    );
    let (status, _, _) = send(
        h.app(),
        Method::DELETE,
        "/api/v1/tokens/kiosk-2",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/me",
        &Auth::Token(secret),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked at once");
    // A role change, a deletion; then the audit log says who did what, newest first, and
    // never a password or a secret.
    let (status, _, _) = send(
        h.app(),
        Method::PATCH,
        "/api/v1/users/giam-sat",
        &admin,
        Some(json!({"role": "reviewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(
        h.app(),
        Method::DELETE,
        "/api/v1/users/giam-sat",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, log, _) = send(h.app(), Method::GET, "/api/v1/audit", &admin, None).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let lines: Vec<(String, String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap().to_string();
            (f("actor"), f("action"), f("target"), f("detail"))
        })
        .collect();
    let expected = [
        ("admin", "user_deleted", "giam-sat", ""),
        ("admin", "role_changed", "giam-sat", "viewer -> reviewer"),
        ("admin", "token_revoked", "kiosk-2", ""),
        ("admin", "token_created", "kiosk-2", "scope=kiosk counter=2"),
        ("admin", "password_set", "admin", ""),
        ("admin", "user_added", "giam-sat", "role=viewer"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(lines[..expected.len()], expected[..], "{log}");
    assert!(
        !log.to_string().contains("mat-khau"),
        "no password in the log"
    );
    let (status, b, _) = send(h.app(), Method::GET, "/api/v1/audit?limit=0", &admin, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
}

#[tokio::test]
async fn snapshots_are_for_logged_in_users_only() {
    let h = Harness::new();
    let viewer = h.login("viewer").await;
    let (status, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/cameras/sanh/snapshot",
        &viewer,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::NOT_FOUND, "not_found"),
        "no source yet"
    );
    h.state.set_snapshot_source(Arc::new(Picture));
    let resp = tower::ServiceExt::oneshot(
        h.app(),
        request(Method::GET, "/api/v1/cameras/sanh/snapshot", &viewer, None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/png");
    assert!(
        resp.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let (status, _, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/cameras/sanh/snapshot",
        &h.token("read"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

fn published_state() -> HallState {
    let mut s = HallState {
        site: "thu-nghiem".into(),
        seq: 7,
        t: T0,
        waiting_now: 4,
        ..HallState::default()
    };
    s.zones.push(hallwatch_core::ZoneState {
        id: "khu-cho".into(),
        role: "waiting".into(),
        people_now: 4,
        people_smoothed: 3.5,
        ..Default::default()
    });
    s.counters.push(hallwatch_core::CounterState {
        zone: "quay-1".into(),
        counter: 1,
        activity: CounterActivity::Serving,
        serving_for_s: Some(95.0),
        ..Default::default()
    });
    let mut cam = CameraHealth::new(CameraId::new("sanh"));
    cam.state = CameraState::Running;
    cam.input_fps = 10.0;
    cam.analysed_fps = 5.0;
    cam.frames_dropped = 3;
    cam.reconnects = 2;
    cam.analysis = hallwatch_core::AnalysisCost {
        skipped_by_rate: 40,
        skipped_still: 6,
        inferred: 14,
        analysed_active: 9,
        inference_s: 1.5,
    };
    s.cameras.push(cam);
    s.storage = hallwatch_core::StorageHealth {
        failing: true,
        pending: 12,
        commit_failures: 3,
        records: 500,
        ..Default::default()
    };
    s.pipeline.detector_panics = 1;
    s
}

#[tokio::test]
async fn state_counters_and_metrics_follow_what_is_published() {
    let h = Harness::new();
    let viewer = h.login("viewer").await;
    let (_, b, _) = send(h.app(), Method::GET, "/api/v1/state", &viewer, None).await;
    assert_eq!(
        b["seq"], 0,
        "the initial state before the pipeline publishes"
    );
    assert_eq!(b["zones"][0]["id"], "khu-cho");
    h.state.publish(published_state());
    h.state.metrics().observe_inference("sanh", 0.042);
    let (_, b, _) = send(h.app(), Method::GET, "/api/v1/state", &viewer, None).await;
    assert_eq!(
        (b["seq"].as_u64(), b["waiting_now"].as_u64()),
        (Some(7), Some(4))
    );
    let (_, b, _) = send(h.app(), Method::GET, "/api/v1/counters", &viewer, None).await;
    assert_eq!(b[0]["activity"], "serving");
    let (_, b, _) = send(h.app(), Method::GET, "/api/v1/cameras", &viewer, None).await;
    assert_eq!(b[0]["health"]["frames_dropped"], 3);
    assert!(
        !b.to_string().contains("vtest.avi"),
        "no source paths or URLs"
    );
    // The store refuses writes in that state: /healthz says so, to anyone, without details
    // beyond counts.
    let (status, b, _) = send(h.app(), Method::GET, "/healthz", &Auth::None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["status"], "degraded", "{b}");
    assert_eq!(b["problems"][0]["what"], "store", "{b}");
    assert_eq!(b["problems"][0]["pending"], 12, "{b}");
    assert_eq!(b["problems"].as_array().map(Vec::len), Some(1), "{b}");
    let (status, text, headers) =
        send(h.app(), Method::GET, "/metrics", &h.token("metrics"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = text.as_str().unwrap();
    for line in [
        "hallwatch_camera_input_fps{site=\"thu-nghiem\",camera=\"sanh\"} 10",
        "hallwatch_camera_analysed_fps{site=\"thu-nghiem\",camera=\"sanh\"} 5",
        "hallwatch_camera_frames_dropped_total{site=\"thu-nghiem\",camera=\"sanh\"} 3",
        "hallwatch_camera_reconnects_total{site=\"thu-nghiem\",camera=\"sanh\"} 2",
        "hallwatch_camera_up{site=\"thu-nghiem\",camera=\"sanh\"} 1",
        "hallwatch_queue_length{site=\"thu-nghiem\",zone=\"khu-cho\"} 3.5",
        "hallwatch_waiting_people{site=\"thu-nghiem\"} 4",
        "hallwatch_counter_serving{site=\"thu-nghiem\",counter=\"1\"} 1",
        "hallwatch_inference_seconds_bucket{site=\"thu-nghiem\",camera=\"sanh\",le=\"0.05\"} 1",
        "hallwatch_inference_seconds_count{site=\"thu-nghiem\",camera=\"sanh\"} 1",
        "hallwatch_camera_frames_skipped_rate_total{site=\"thu-nghiem\",camera=\"sanh\"} 40",
        "hallwatch_camera_frames_skipped_still_total{site=\"thu-nghiem\",camera=\"sanh\"} 6",
        "hallwatch_camera_frames_inferred_total{site=\"thu-nghiem\",camera=\"sanh\"} 14",
        "hallwatch_camera_frames_active_total{site=\"thu-nghiem\",camera=\"sanh\"} 9",
        "hallwatch_camera_detector_seconds_total{site=\"thu-nghiem\",camera=\"sanh\"} 1.5",
        "hallwatch_store_failing{site=\"thu-nghiem\"} 1",
        "hallwatch_store_pending_records{site=\"thu-nghiem\"} 12",
        "hallwatch_store_commit_failures_total{site=\"thu-nghiem\"} 3",
        "hallwatch_store_records_total{site=\"thu-nghiem\"} 500",
        "hallwatch_store_dropped_records_total{site=\"thu-nghiem\"} 0",
        "hallwatch_detector_panics_total{site=\"thu-nghiem\"} 1",
        "hallwatch_camera_overloaded{site=\"thu-nghiem\",camera=\"sanh\"} 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(
        !text.contains("hallwatch_uplink_"),
        "no uplink figures without an [uplink]"
    );

    // The uplink: a short lag is normal; facts waiting over five minutes are a problem.
    let mut s = published_state();
    s.storage = Default::default();
    s.seq = 8;
    s.uplink = hallwatch_core::UplinkHealth {
        configured: true,
        connected: false,
        lag_events: 40,
        lag_s: 60.0,
        acked_seq: 100,
        ..Default::default()
    };
    h.state.publish(s.clone());
    let (_, b, _) = send(h.app(), Method::GET, "/healthz", &Auth::None, None).await;
    assert_eq!(b["status"], "ok", "{b}");
    s.seq = 9;
    s.uplink.lag_s = 301.0;
    h.state.publish(s);
    let (_, b, _) = send(h.app(), Method::GET, "/healthz", &Auth::None, None).await;
    assert_eq!(b["status"], "degraded", "{b}");
    assert_eq!(
        (
            b["problems"][0]["what"].as_str(),
            b["problems"][0]["lag_events"].as_u64()
        ),
        (Some("uplink"), Some(40)),
        "{b}"
    );
    let (_, text, _) = send(h.app(), Method::GET, "/metrics", &h.token("metrics"), None).await;
    let text = text.as_str().unwrap();
    for line in [
        "hallwatch_uplink_connected{site=\"thu-nghiem\"} 0",
        "hallwatch_uplink_lag_events{site=\"thu-nghiem\"} 40",
        "hallwatch_uplink_lag_seconds{site=\"thu-nghiem\"} 301",
        "hallwatch_uplink_acked_seq{site=\"thu-nghiem\"} 100",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[tokio::test]
async fn history_comes_from_the_store() {
    let h = Harness::new();
    {
        let mut store = Store::open(h.dir.path().join("hallwatch.db")).unwrap();
        let mut records = Vec::new();
        // Two Mondays earlier (a typical day) and today: waits in the waiting zone.
        for (day, n) in [(-14.0, 6), (-7.0, 4), (0.0, 3)] {
            for i in 0..n {
                let enter = T0 + day * 86_400.0 + f64::from(i) * 60.0;
                records.push(Record::Session(hallwatch_zones_session(
                    i as u64 + (day as i64).unsigned_abs() * 100,
                    enter,
                    enter + 300.0,
                )));
            }
        }
        store.insert("thu-nghiem", &records).unwrap();
    }
    let reviewer = h.login("reviewer").await;
    let (status, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/sessions?from=2026-10-05&to=2026-10-05",
        &reviewer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b.as_array().unwrap().len(), 3);
    assert_eq!(b[0]["duration_s"], 300.0);
    let (status, b, _) = send(
        h.app(),
        Method::GET,
        "/api/v1/series?from=2026-09-21&to=2026-10-05&period=day",
        &reviewer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let waits = b["series"]["waits"].as_array().unwrap();
    let total: i64 = waits.iter().map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 13);
    let (status, b, _) = send(h.app(), Method::GET, "/api/v1/today", &reviewer, None).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["date"], "2026-10-05");
    assert_eq!(b["typical_days"], 2);
    // 09:00 local: (6 + 4) / 2 arrivals on a typical Monday.
    assert_eq!(b["typical_by_hour"][9], 5.0);
    assert_eq!(b["arrivals_by_hour"].as_array().unwrap().len(), 24);
}

fn hallwatch_zones_session(id: u64, enter: f64, exit: f64) -> hallwatch_zones::Session {
    hallwatch_zones::Session {
        id,
        camera: CameraId::new("sanh"),
        zone: "khu-cho".into(),
        role: hallwatch_config::ZoneRole::Waiting,
        counter: 0,
        tracks: vec![hallwatch_core::TrackId(id)],
        enter,
        exit: Some(exit),
        truncated: false,
    }
}

#[tokio::test]
async fn the_openapi_document_and_the_routes_agree() {
    let h = Harness::new();
    let admin = h.login("admin").await;
    let (status, doc, _) = send(h.app(), Method::GET, "/api/v1/openapi.json", &admin, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in paths {
        for m in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", m.to_uppercase()));
        }
    }
    let mut routed: Vec<String> = routes()
        .iter()
        .filter(|r| r.1.starts_with("/api/"))
        .map(|(m, p, _, _)| {
            let p = p.split('?').next().unwrap();
            let p = p
                .replace("/users/moi", "/users/{username}")
                .replace("/tokens/may-so", "/tokens/{name}")
                .replace("/cameras/sanh/", "/cameras/{id}/")
                .replace("/alerts/1", "/alerts/{id}");
            format!("{m} {p}")
        })
        .collect();
    routed.extend(
        [
            "POST /api/v1/login",
            "POST /api/v1/logout",
            "GET /api/v1/live",
            "POST /api/v1/me/password",
        ]
        .map(String::from),
    );
    documented.sort();
    routed.sort();
    routed.dedup();
    // Every route here is documented (the service routes document themselves too), and every
    // documented path is routed (below).
    let missing: Vec<&String> = routed.iter().filter(|r| !documented.contains(r)).collect();
    assert!(missing.is_empty(), "undocumented routes: {missing:?}");
    // Every documented path answers something other than 404/405 for an admin.
    for entry in &documented {
        let (m, p) = entry.split_once(' ').unwrap();
        if p.contains('{') || p.ends_with("/live") || p.ends_with("/logout") {
            continue;
        }
        let p = if p.ends_with("/series") || p.ends_with("/sessions") {
            format!("{p}?from=2026-10-01&to=2026-10-02")
        } else {
            p.to_string()
        };
        let (status, _, _) = send(h.app(), m.parse().unwrap(), &p, &admin, Some(json!({}))).await;
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{entry}: {status}"
        );
    }
}

#[tokio::test]
async fn forged_forwarded_for_does_not_dodge_the_limit() {
    let h = Harness::with_config("[server]\nlogin_max_failures = 3\nlogin_window_s = 60");
    // A client on the LAN (not a trusted proxy) writes a new X-Forwarded-For on every try.
    let mut statuses = Vec::new();
    for k in 0..6 {
        let forged = format!("203.0.113.{k}");
        let req = login_request("10.3.3.3", &forged, "viewer", "wrong-password");
        statuses.push(run(h.app(), req).await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Behind a configured proxy the forwarded address is the client's: another client behind
    // the same proxy is not blocked by the first one's failures.
    let h = Harness::with_config(
        "[server]\nlogin_max_failures = 3\nlogin_window_s = 60\ntrusted_proxies = [\"10.9.9.9\"]",
    );
    let via_proxy = |client: &str, password: &str| {
        login_request(
            "10.9.9.9",
            &format!("6.6.6.6, {client}"),
            "viewer",
            password,
        )
    };
    for _ in 0..3 {
        run(h.app(), via_proxy("10.4.4.4", "wrong-password")).await;
    }
    assert_eq!(
        run(h.app(), via_proxy("10.4.4.4", PASSWORD)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        run(h.app(), via_proxy("10.4.4.5", PASSWORD)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_current_passwords_are_limited_like_logins() {
    let h = Harness::with_config("[server]\nlogin_max_failures = 3\nlogin_window_s = 60");
    let viewer = h.login("viewer").await;
    let change = |current: &str| json!({"current": current, "new": "another-long-password"});
    for _ in 0..3 {
        let (status, _, _) = send(
            h.app(),
            Method::POST,
            "/api/v1/me/password",
            &viewer,
            Some(change("not-my-password")),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, b, headers) = send(
        h.app(),
        Method::POST,
        "/api/v1/me/password",
        &viewer,
        Some(change(PASSWORD)),
    )
    .await;
    assert_eq!(
        (status, error_code(&b).as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        "{b}"
    );
    assert!(headers.contains_key(header::RETRY_AFTER));
    h.clock.advance(61.0);
    let (status, _, _) = send(
        h.app(),
        Method::POST,
        "/api/v1/me/password",
        &viewer,
        Some(change(PASSWORD)),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// Files of this process open on `db` now (one per SQLite connection).
fn open_handles(db: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| std::fs::read_link(e.path()).is_ok_and(|p| p == db))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_queries_uses_a_bounded_number_of_connections() {
    let h = Harness::new();
    let db = h.dir.path().join("hallwatch.db").canonicalize().unwrap();
    let reviewer = h.login("reviewer").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        let db = db.clone();
        std::thread::spawn(move || {
            let mut most = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                most = most.max(open_handles(&db));
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            most
        })
    };
    let requests: Vec<_> = (0..64)
        .map(|i| {
            let app = h.app();
            let auth = reviewer.clone();
            tokio::spawn(async move {
                let path = if i % 2 == 0 {
                    "/api/v1/series?from=2026-09-01&to=2026-10-05&period=day"
                } else {
                    "/api/v1/sessions?from=2026-10-01&to=2026-10-05"
                };
                send(app, Method::GET, path, &auth, None).await.0
            })
        })
        .collect();
    for r in requests {
        assert_eq!(r.await.unwrap(), StatusCode::OK);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let most = sampler.join().unwrap();
    // The server's pool allows 8 connections in use at once, plus one per password hashing
    // thread (2).
    assert!((1..=10).contains(&most), "{most} connections open at once");
}
