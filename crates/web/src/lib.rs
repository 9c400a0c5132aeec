//! hallwatch-web: the HTTP server of a hall — REST API, live stream, dashboards, access
//! control and Prometheus metrics, on axum.
//!
//! - [`AppState`] (built from [`AppOptions`]): the config, the event store, the live
//!   [`hallwatch_core::HallState`] the pipeline publishes with [`AppState::publish`], login
//!   sessions, [`Metrics`] and an optional [`SnapshotSource`] of pixelated camera images.
//! - [`app`]: the [`axum::Router`]: `/api/v1/...` (documented at `/api/v1/openapi.json`),
//!   the SSE stream `/api/v1/live`, `/metrics`, `/healthz` and the static `dashboards/`
//!   folder. Every API error is `{"error": {"code": "...", "message": "..."}}` ([`ApiError`]).
//! - [`serve`] runs it on a listener until a shutdown future completes, ending live streams so
//!   the graceful shutdown does not hang; [`Server`] does the same on its own thread and
//!   runtime for a synchronous caller; [`shutdown_signal`] waits for SIGINT or SIGTERM.
//! - Access control ([`auth`]): users with roles viewer < reviewer < admin (argon2id hashes in
//!   the store), HttpOnly SameSite=Strict session cookies, CSRF tokens, login rate limiting,
//!   and scoped API tokens for machines. Only `/healthz`, `POST /api/v1/login` and the
//!   static files are public.
#![deny(missing_docs)]
#![recursion_limit = "256"]

mod alerts;
mod api;
pub mod auth;
mod error;
mod live;
pub mod metrics;
pub mod openapi;
mod service;
mod state;

pub use auth::{
    CSRF_HEADER, Principal, RequireRole, RequireToken, RequireUser, TokenPrincipal, UserSession,
    role, scope,
};
pub use error::{ApiError, ApiJson, ApiPath, ApiQuery};
pub use metrics::Metrics;
pub use state::{
    AppOptions, AppState, Clock, Snapshot, SnapshotSource, WebError, initial_state,
    resolve_dashboards_dir, system_clock,
};

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, patch, post};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// How long a graceful shutdown waits for open requests before giving up on them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The Content-Security-Policy of every response: only this server's own scripts, styles
/// and images; no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn api_not_found() -> ApiError {
    ApiError::not_found("no such API endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not allowed here",
    )
}

pub(crate) fn extra_openapi_paths(paths: &mut serde_json::Map<String, serde_json::Value>) {
    service::openapi_paths(paths);
}

/// The whole application: API, live stream, metrics, health and the dashboards folder.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// [`app`] with more routes, which use the same state, login, roles, CSRF checks and headers
/// (the province centre adds its own under `/api/v1/province`). They are matched before the
/// `/api` fallbacks.
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let api = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/v1/openapi.json", get(openapi::serve_document))
        .route("/api/v1/login", post(auth::login))
        .route("/api/v1/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/me/password", post(auth::change_own_password))
        .route("/api/v1/audit", get(api::audit_log))
        .route("/api/v1/state", get(api::state_now))
        .route("/api/v1/live", get(live::live))
        .route("/api/v1/cameras", get(api::cameras))
        .route("/api/v1/cameras/{id}/snapshot", get(api::snapshot))
        .route("/api/v1/zones", get(api::zones))
        .route("/api/v1/counters", get(api::counters))
        .route("/api/v1/today", get(api::today))
        .route("/api/v1/series", get(api::series))
        .route("/api/v1/sessions", get(api::sessions))
        .route("/api/v1/users", get(api::list_users).post(api::create_user))
        .route(
            "/api/v1/users/{username}",
            patch(api::update_user).delete(api::delete_user),
        )
        .route(
            "/api/v1/tokens",
            get(api::list_tokens).post(api::create_token),
        )
        .route(
            "/api/v1/tokens/{name}",
            axum::routing::delete(api::delete_token),
        )
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/alerts/{id}", get(alerts::one))
        .route("/api/v1/alerts/{id}/ack", post(alerts::ack))
        .merge(service::routes())
        .merge(extra)
        .route("/api", get(api_not_found).fallback(api_not_found))
        .route("/api/{*rest}", get(api_not_found).fallback(api_not_found));
    let statics = ServeDir::new(&state.inner.dashboards_dir)
        .append_index_html_on_directories(true)
        .not_found_service(axum::routing::any(api_not_found_static));
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let request_timeout =
        Duration::from_secs_f64(state.config().server.request_timeout_s.clamp(0.1, 86_400.0));
    // Data answers are never kept by a browser or a proxy cache (ratings, visits, people in
    // the picture); a handler that sets its own Cache-Control keeps it.
    let api = api.route_layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    api.method_not_allowed_fallback(method_not_allowed)
        .fallback_service(statics)
        // Slow bodies and stuck handlers end with 408; a live stream only has to start.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::CONTENT_SECURITY_POLICY, CSP))
        .with_state(state)
}

async fn api_not_found_static() -> ApiError {
    ApiError::not_found("no such page")
}

/// Serves [`app`] on `listener` until `shutdown` completes, then ends the live streams, lets
/// requests in flight finish (at most [`SHUTDOWN_GRACE`]) and returns. Client addresses
/// (for the login limit) come from the socket. At most `[server] max_connections` connections
/// are served at once (more wait in the listen queue), and a request's headers must arrive
/// within `header_timeout_s` (hyper's header read timeout, which also ends idle keep-alive
/// connections), so slow or idle clients cannot hold the server.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(state, Router::new(), listener, shutdown).await
}

/// [`serve`] of [`app_with`]`(state, extra)`.
pub async fn serve_with(
    state: AppState,
    extra: Router<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let server_cfg = state.config().server.clone();
    let header_timeout = Duration::from_secs_f64(server_cfg.header_timeout_s.clamp(0.1, 3600.0));
    let slots = Arc::new(tokio::sync::Semaphore::new(
        server_cfg.max_connections.max(1) as usize,
    ));
    let router = app_with(state.clone(), extra);
    // Connections hold a receiver; the server waits for all of them to drop at shutdown.
    let (close_tx, close_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: say so, back off, go on.
                    tracing::warn!(error = %e, "web server: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        );
        let service = TowerToHyperService::new(service);
        let mut close = close_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = close.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    state.close_streams();
    let _ = close_tx.send(true);
    drop(close_rx);
    if tokio::time::timeout(SHUTDOWN_GRACE, close_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!("web server: requests still open after the shutdown grace; closing");
    }
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The server on its own thread and tokio runtime, for a synchronous caller such as the
/// `hallwatch` binary: [`Server::start`], then [`Server::stop`] (graceful) when done.
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `bind` (e.g. `[server].bind`; port 0 picks a free one) and serves `state` on a
    /// new thread. Binding errors are returned here.
    pub fn start(state: AppState, bind: &str) -> Result<Server, WebError> {
        Self::start_with(state, bind, Router::new())
    }

    /// [`Server::start`] serving [`app_with`]`(state, extra)`.
    pub fn start_with(
        state: AppState,
        bind: &str,
        extra: Router<AppState>,
    ) -> Result<Server, WebError> {
        let io = |source| WebError::Io {
            addr: bind.to_string(),
            source,
        };
        let std_listener = std::net::TcpListener::bind(bind).map_err(io)?;
        std_listener.set_nonblocking(true).map_err(io)?;
        let addr = std_listener.local_addr().map_err(io)?;
        let workers = std::thread::available_parallelism()
            .map(|n| n.get().clamp(1, 4))
            .unwrap_or(2);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("hallwatch-web")
            .enable_all()
            .build()
            .map_err(io)?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("hallwatch-web".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(std_listener)?;
                    serve_with(st, extra, listener, async {
                        let _ = stop_rx.await;
                    })
                    .await
                })
            })
            .map_err(io)?;
        tracing::info!(%addr, "web server listening");
        Ok(Server {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (to publish to).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, ends live streams, waits for requests in flight (at most
    /// [`SHUTDOWN_GRACE`]) and joins the thread.
    pub fn stop(mut self) -> Result<(), WebError> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), WebError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(r) => r.map_err(|source| WebError::Io {
                    addr: self.addr.to_string(),
                    source,
                })?,
                Err(_) => tracing::error!("web server thread panicked"),
            }
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}
