//! The centre's HTTP API: `app(state) -> Router`, apart from the server, so tests call it.
//!
//! - `GET /healthz` (open): `ok`, or `degraded` while the consumer is not consuming.
//! - `GET /api/v1/province/halls` (token): every hall's progress ([`crate::HallProgress`]).
//! - `GET /api/v1/province/league?month=YYYY-MM` (token): the league table of a local month
//!   ([`crate::league::LeagueRow`]); the current month (UTC) without `month`.
//! - `GET /api/v1/province/halls/{site}/completeness?month=YYYY-MM` (token): each day the hall
//!   sent digests for, checked against the centre's rows.
//! - `POST /api/v1/province/halls/{site}/resend?day=YYYY-MM-DD` (token): asks the hall to send
//!   that day again; 503 when it does not answer.

use crate::{Central, StatusHandle};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// What the handlers share.
#[derive(Clone)]
pub struct CentralState {
    /// A database connection for reading.
    pub db: Arc<Central>,
    /// The consumer's counters.
    pub status: StatusHandle,
    /// Accepted bearer tokens.
    pub tokens: Arc<Vec<String>>,
    /// `server.wait_target_min`, in seconds.
    pub wait_target_s: f64,
    /// The NATS connection for asking halls to re-send a day, and the subject prefix.
    pub nats: Option<(async_nats::Client, String)>,
}

/// Errors of the API; the body never carries internals.
#[derive(Debug)]
pub enum ApiError {
    /// No or a wrong bearer token.
    Unauthorized,
    /// A bad request, with what is wrong.
    BadRequest(String),
    /// The database failed (logged).
    Internal,
    /// Something outside the centre (a hall) did not answer.
    Unavailable(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "a valid bearer token is required".to_string(),
            ),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the central database failed; see the server log".to_string(),
            ),
        };
        (status, Json(serde_json::json!({ "error": msg }))).into_response()
    }
}

fn internal(e: crate::CentralError) -> ApiError {
    tracing::error!(error = %e, "central API");
    ApiError::Internal
}

/// The bearer token check, as an extractor.
pub struct Authorized;

impl axum::extract::FromRequestParts<CentralState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &CentralState,
    ) -> Result<Self, Self::Rejection> {
        let given = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let ok = state
            .tokens
            .iter()
            .any(|t| !t.is_empty() && bool::from(t.as_bytes().ct_eq(given.as_bytes())));
        if ok {
            Ok(Authorized)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// The API's routes.
pub fn app(state: CentralState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/province/halls", get(halls))
        .route("/api/v1/province/league", get(league))
        .route(
            "/api/v1/province/halls/{site}/completeness",
            get(completeness),
        )
        .route(
            "/api/v1/province/halls/{site}/resend",
            axum::routing::post(resend),
        )
        .with_state(state)
}

async fn healthz(State(s): State<CentralState>) -> Response {
    let st = s.status.get();
    let status = if st.consuming { "ok" } else { "degraded" };
    Json(serde_json::json!({
        "status": status,
        "consuming": st.consuming,
        "applied_total": st.applied_total,
        "rejected_total": st.rejected_total,
    }))
    .into_response()
}

async fn halls(State(s): State<CentralState>, _: Authorized) -> Result<Response, ApiError> {
    Ok(Json(s.db.halls().await.map_err(internal)?).into_response())
}

#[derive(Deserialize)]
struct LeagueQuery {
    month: Option<String>,
}

/// `YYYY-MM` as (year, month).
fn parse_month(m: &str) -> Option<(i32, u32)> {
    let (y, mo) = m.split_once('-')?;
    let y: i32 = y.parse().ok()?;
    let mo: u32 = mo.parse().ok()?;
    ((1970..=9999).contains(&y) && (1..=12).contains(&mo)).then_some((y, mo))
}

async fn league(
    State(s): State<CentralState>,
    _: Authorized,
    Query(q): Query<LeagueQuery>,
) -> Result<Response, ApiError> {
    let (y, m) = match q.month.as_deref() {
        Some(text) => parse_month(text)
            .ok_or_else(|| ApiError::BadRequest(format!("month '{text}' must be YYYY-MM")))?,
        None => {
            use chrono::Datelike;
            let now = chrono::Utc::now();
            (now.year(), now.month())
        }
    };
    let rows = s.db.league(y, m, s.wait_target_s).await.map_err(internal)?;
    Ok(
        Json(serde_json::json!({ "month": format!("{y:04}-{m:02}"), "halls": rows }))
            .into_response(),
    )
}

fn month_or_now(text: Option<&str>) -> Result<(i32, u32), ApiError> {
    match text {
        Some(text) => parse_month(text)
            .ok_or_else(|| ApiError::BadRequest(format!("month '{text}' must be YYYY-MM"))),
        None => {
            use chrono::Datelike;
            let now = chrono::Utc::now();
            Ok((now.year(), now.month()))
        }
    }
}

async fn completeness(
    State(s): State<CentralState>,
    _: Authorized,
    axum::extract::Path(site): axum::extract::Path<String>,
    Query(q): Query<LeagueQuery>,
) -> Result<Response, ApiError> {
    let (y, m) = month_or_now(q.month.as_deref())?;
    let days = s.db.completeness(&site, y, m).await.map_err(internal)?;
    Ok(Json(serde_json::json!({
        "site": site,
        "month": format!("{y:04}-{m:02}"),
        "complete": days.iter().all(|d| d.complete),
        "days": days,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct ResendQuery {
    day: String,
}

async fn resend(
    State(s): State<CentralState>,
    _: Authorized,
    axum::extract::Path(site): axum::extract::Path<String>,
    Query(q): Query<ResendQuery>,
) -> Result<Response, ApiError> {
    if chrono::NaiveDate::parse_from_str(&q.day, "%Y-%m-%d").is_err() {
        return Err(ApiError::BadRequest(format!(
            "day '{}' must be YYYY-MM-DD",
            q.day
        )));
    }
    let Some((client, prefix)) = &s.nats else {
        return Err(ApiError::Internal);
    };
    match crate::completeness::resend_day(client, prefix, &site, &q.day).await {
        Ok(n) => Ok(
            Json(serde_json::json!({ "site": site, "day": q.day, "queued": n })).into_response(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, %site, "re-send request");
            Err(ApiError::Unavailable(format!(
                "hall '{site}' did not answer: it may be offline"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_checked() {
        assert_eq!(parse_month("2026-12"), Some((2026, 12)));
        for bad in ["2026-13", "2026", "26-1x", "-1-01", "2026-00"] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }
}
