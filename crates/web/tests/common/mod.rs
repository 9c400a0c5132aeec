//! Test harness: a real store in a temp folder, users of every role, tokens of every scope, a
//! clock the test moves, and request helpers over `tower::ServiceExt::oneshot`.
#![allow(dead_code)]

pub mod sse;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use hallwatch_config::Config;
use hallwatch_store::{NewToken, NewUser, Role, Store, TokenScope};
use hallwatch_web::{AppOptions, AppState, Clock};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

pub const CONFIG: &str = r#"
[site]
id = "thu-nghiem"
name = "Sảnh thử nghiệm"

[[cameras]]
id = "sanh"
name = "Sảnh chờ"
source = { kind = "file", path = "vtest.avi" }

[[zones]]
id = "khu-cho"
name = "Khu chờ"
camera = "sanh"
role = "waiting"
polygon = [[0.0, 0.30], [0.52, 0.30], [0.52, 0.58], [0.0, 0.50]]

[[zones]]
id = "quay-1"
name = "Quầy 1"
camera = "sanh"
role = "counter"
counter = 1
polygon = [[0.56, 0.28], [0.88, 0.22], [0.92, 0.45], [0.60, 0.55]]
"#;

pub const PASSWORD: &str = "mat-khau-thu-nghiem";

/// 2026-10-05 09:00 in Hanoi.
pub const T0: f64 = 1_791_165_600.0;

#[derive(Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(t: f64) -> Self {
        Self(Arc::new(AtomicU64::new(t.to_bits())))
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::SeqCst))
    }
    pub fn advance(&self, s: f64) {
        self.0.store((self.get() + s).to_bits(), Ordering::SeqCst);
    }
    pub fn clock(&self) -> Clock {
        let c = self.clone();
        Arc::new(move || c.get())
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub clock: ManualClock,
    /// scope -> secret
    pub tokens: HashMap<&'static str, String>,
}

pub fn config_with(extra: &str) -> Arc<Config> {
    Arc::new(Config::from_toml_str(&format!("{CONFIG}\n{extra}")).expect("test config"))
}

pub fn dashboards() -> std::path::PathBuf {
    manifest_dir().join("../../dashboards")
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config("")
    }

    pub fn with_config(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hallwatch.db");
        let mut store = Store::open(&db).unwrap();
        for (name, role) in [
            ("viewer", Role::Viewer),
            ("reviewer", Role::Reviewer),
            ("admin", Role::Admin),
        ] {
            store
                .add_user(
                    &NewUser {
                        username: name,
                        role,
                        password: PASSWORD,
                    },
                    T0,
                )
                .unwrap()
                .unwrap();
        }
        let mut tokens = HashMap::new();
        for scope in TokenScope::ALL {
            let counter = (scope == TokenScope::Kiosk).then_some(1);
            let issued = store
                .create_token(
                    &NewToken {
                        name: scope.as_str(),
                        scope,
                        counter,
                    },
                    T0,
                )
                .unwrap()
                .unwrap();
            tokens.insert(scope.as_str(), issued.secret);
        }
        drop(store);
        let clock = ManualClock::new(T0);
        let state = AppState::new(
            AppOptions::new(config_with(extra))
                .store_path(&db)
                .dashboards_dir(dashboards())
                .clock(clock.clock()),
        )
        .unwrap();
        Self {
            dir,
            state,
            clock,
            tokens,
        }
    }

    pub fn app(&self) -> Router {
        hallwatch_web::app(self.state.clone())
    }

    pub fn token(&self, scope: &str) -> Auth {
        Auth::Token(self.tokens[scope].clone())
    }

    pub async fn login(&self, user: &str) -> Auth {
        let (status, body, headers) = send(
            self.app(),
            Method::POST,
            "/api/v1/login",
            &Auth::None,
            Some(serde_json::json!({"username": user, "password": PASSWORD})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "login {user}: {body}");
        let cookie = headers
            .get(header::SET_COOKIE)
            .expect("a session cookie")
            .to_str()
            .unwrap();
        let pair = cookie.split(';').next().unwrap().to_string();
        Auth::Session {
            cookie: pair,
            csrf: body["csrf_token"].as_str().unwrap().to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Token(String),
    Session {
        cookie: String,
        csrf: String,
    },
    /// A session cookie without the CSRF header.
    SessionNoCsrf {
        cookie: String,
    },
}

impl Auth {
    pub fn without_csrf(&self) -> Auth {
        match self {
            Auth::Session { cookie, .. } => Auth::SessionNoCsrf {
                cookie: cookie.clone(),
            },
            other => other.clone(),
        }
    }
}

pub fn request(method: Method, path: &str, auth: &Auth, body: Option<Value>) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:8080");
    match auth {
        Auth::None => {}
        Auth::Token(t) => b = b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Auth::Session { cookie, csrf } => {
            b = b
                .header(header::COOKIE, cookie)
                .header("x-csrf-token", csrf)
        }
        Auth::SessionNoCsrf { cookie } => b = b.header(header::COOKIE, cookie),
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

pub async fn run(app: Router, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body, headers)
}

pub async fn send(
    app: Router,
    method: Method,
    path: &str,
    auth: &Auth,
    body: Option<Value>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    run(app, request(method, path, auth, body)).await
}

/// Asserts the one error shape and returns its code.
pub fn error_code(body: &Value) -> String {
    let e = &body["error"];
    assert!(e["message"].is_string(), "no error message in {body}");
    e["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_string()
}

/// This package's folder: cargo's run-time `CARGO_MANIFEST_DIR` (right even when the binary was
/// built in another checkout sharing the target folder), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
