//! `GET /api/v1/live`: the hall state as Server-Sent Events.
//!
//! Each client first gets the current state, then every published change as it happens
//! (event `state`, data the [`hallwatch_core::HallState`] JSON, id its `seq`). The JSON is
//! serialised once per change and shared by all clients through a broadcast channel; a client
//! that falls behind skips to the latest state. A comment every `sse_keepalive_s` keeps
//! proxies from closing the connection. Streams end when the server shuts down or the
//! client's login session ends.

use crate::auth::{Principal, RequireRole, role};
use crate::error::ApiError;
use crate::state::{AppState, Published};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

fn event(p: &Published) -> Event {
    Event::default()
        .event("state")
        .id(p.state.seq.to_string())
        .data(&*p.json)
}

/// Counts the client while its stream lives.
struct ClientGuard(AppState);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.metrics().sse_disconnected();
    }
}

struct Client {
    state: AppState,
    rx: tokio::sync::broadcast::Receiver<Arc<Published>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    session: Option<String>,
    first: Option<Arc<Published>>,
    last: Option<Arc<Published>>,
    /// After a jump to the latest state: the `seq` it had. States published while the jump
    /// was made reach the fresh receiver too and are older; they are skipped.
    jumped_to: Option<u64>,
    _guard: ClientGuard,
}

pub(crate) async fn live(
    State(state): State<AppState>,
    RequireRole { principal, .. }: RequireRole<role::Viewer>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let max = i64::from(state.config().server.sse_max_clients);
    if state.metrics().sse_clients() >= max {
        tracing::warn!(max, "live stream refused: server.sse_max_clients reached");
        return Err(ApiError::unavailable(
            "too many live streams open; try again shortly",
        ));
    }
    let keepalive =
        Duration::from_secs_f64(state.config().server.sse_keepalive_s.clamp(1.0, 3600.0));
    // Subscribe before reading the current state so no change falls between the two.
    let rx = state.inner.changes.subscribe();
    let first = state.latest_published();
    state.metrics().sse_connected();
    let client = Client {
        rx,
        shutdown: state.inner.shutdown.subscribe(),
        session: match principal {
            Principal::User(u) => Some(u.id),
            Principal::Token(_) => None,
        },
        first: Some(first),
        last: None,
        jumped_to: None,
        _guard: ClientGuard(state.clone()),
        state,
    };
    let stream = futures_util::stream::unfold(client, |mut c| async move {
        if *c.shutdown.borrow() {
            return None;
        }
        let p = match c.first.take() {
            Some(p) => p,
            None => loop {
                tokio::select! {
                    r = c.rx.recv() => match r {
                        Ok(p) => {
                            if c.last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &p)) {
                                continue;
                            }
                            match c.jumped_to {
                                Some(seq) if p.state.seq <= seq => continue,
                                _ => c.jumped_to = None,
                            }
                            break p;
                        }
                        // Fallen behind: drop the backlog and jump to the latest state.
                        Err(RecvError::Lagged(_)) => {
                            c.rx = c.rx.resubscribe();
                            let latest = c.state.latest_published();
                            c.jumped_to = Some(latest.state.seq);
                            break latest;
                        }
                        Err(RecvError::Closed) => return None,
                    },
                    r = c.shutdown.changed() => {
                        if r.is_err() || *c.shutdown.borrow() {
                            return None;
                        }
                    }
                }
            },
        };
        if let Some(id) = &c.session
            && !c.state.inner.sessions.is_live(id, c.state.now())
        {
            return None;
        }
        c.state.metrics().sse_sent();
        let ev = event(&p);
        c.last = Some(p);
        Some((Ok(ev), c))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(keepalive)))
}
