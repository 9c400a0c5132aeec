//! The province API, as routes of the hall web app (`hallwatch_web::app_with`): the same
//! login, roles, CSRF checks and headers; the centre's own users and tokens (`hallwatch user` /
//! `hallwatch token` on its data folder).
//!
//! - `GET /api/v1/province/health` (open): `ok`, or `degraded` while the consumer is not
//!   consuming.
//! - `GET /api/v1/province/halls` (viewer, or a `read` token): every hall's progress
//!   ([`crate::HallProgress`]).
//! - `GET /api/v1/province/league?month=YYYY-MM` (viewer): the league table of a local month
//!   ([`crate::league::LeagueRow`]); the current month (UTC) without `month`; `?day=YYYY-MM-DD`
//!   for one local day (today's league).
//! - `GET /api/v1/province/halls/{site}/days?month=YYYY-MM` (viewer): one hall's days
//!   ([`crate::league::HallDay`]), the drill-down.
//! - `GET /api/v1/province/halls/{site}/completeness?month=YYYY-MM` (viewer): each day the hall
//!   sent digests for, checked against the centre's rows.
//! - `POST /api/v1/province/halls/{site}/resend?day=YYYY-MM-DD` (reviewer): asks the hall to
//!   send that day again; 503 when it does not answer.
//! - `POST /api/v1/province/scores-766` (admin), body: the CSV of [`crate::scores`]: each
//!   commune's monthly Decision 766 scores; `{"imported": n}`, or 400 listing every problem
//!   (nothing imported).

use crate::{Central, StatusHandle};
use axum::extract::{Extension, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hallwatch_web::{AppState, RequireRole, role};
use serde::Deserialize;
use std::sync::Arc;

/// What the province handlers share (an extension of the hall app's state).
#[derive(Clone)]
pub struct CentralState {
    /// A database connection for reading.
    pub db: Arc<Central>,
    /// The consumer's counters.
    pub status: StatusHandle,
    /// Waits no longer than this count as on target, seconds.
    pub wait_target_s: f64,
    /// The NATS connection for asking halls to re-send a day, and the subject prefix.
    pub nats: Option<(async_nats::Client, String)>,
}

/// Errors of the province API; the body never carries internals.
#[derive(Debug)]
pub enum ApiError {
    /// A bad request, with what is wrong.
    BadRequest(String),
    /// The database failed (logged).
    Internal,
    /// Something outside the centre (a hall) did not answer.
    Unavailable(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, msg) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the central database failed; see the server log".to_string(),
            ),
        };
        // The hall API's error shape, so the dashboards read both alike.
        (
            status,
            Json(serde_json::json!({ "error": { "code": code, "message": msg } })),
        )
            .into_response()
    }
}

fn internal(e: crate::CentralError) -> ApiError {
    tracing::error!(error = %e, "central API");
    ApiError::Internal
}

/// The province routes, for `hallwatch_web::app_with`.
pub fn routes(state: CentralState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/province/health", get(health))
        .route("/api/v1/province/halls", get(halls))
        .route("/api/v1/province/league", get(league))
        .route("/api/v1/province/halls/{site}/days", get(days))
        .route(
            "/api/v1/province/halls/{site}/completeness",
            get(completeness),
        )
        .route(
            "/api/v1/province/halls/{site}/resend",
            axum::routing::post(resend),
        )
        .route(
            "/api/v1/province/scores-766",
            axum::routing::post(import_scores),
        )
        .layer(Extension(state))
}

async fn import_scores(
    Extension(s): Extension<CentralState>,
    _: RequireRole<role::Admin>,
    body: String,
) -> Result<Response, ApiError> {
    let scores = crate::scores::parse_scores_766(&body)
        .map_err(|errors| ApiError::BadRequest(errors.join("\n")))?;
    match s.db.import_scores_766(&scores, "api").await {
        Ok(n) => Ok(Json(serde_json::json!({ "imported": n })).into_response()),
        Err(crate::scores::ImportError::Invalid(errors)) => {
            Err(ApiError::BadRequest(errors.join("\n")))
        }
        Err(crate::scores::ImportError::Central(e)) => Err(internal(e)),
    }
}

async fn health(Extension(s): Extension<CentralState>) -> Response {
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

async fn halls(
    Extension(s): Extension<CentralState>,
    _: RequireRole<role::Viewer>,
) -> Result<Response, ApiError> {
    Ok(Json(s.db.halls().await.map_err(internal)?).into_response())
}

#[derive(Deserialize)]
struct LeagueQuery {
    month: Option<String>,
    /// One local day instead of a month (`YYYY-MM-DD`): today's league.
    day: Option<String>,
}

/// `YYYY-MM` as (year, month).
fn parse_month(m: &str) -> Option<(i32, u32)> {
    let (y, mo) = m.split_once('-')?;
    let y: i32 = y.parse().ok()?;
    let mo: u32 = mo.parse().ok()?;
    ((1970..=9999).contains(&y) && (1..=12).contains(&mo)).then_some((y, mo))
}

async fn league(
    Extension(s): Extension<CentralState>,
    _: RequireRole<role::Viewer>,
    Query(q): Query<LeagueQuery>,
) -> Result<Response, ApiError> {
    if let Some(day) = q.day.as_deref() {
        let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest(format!("day '{day}' must be YYYY-MM-DD")))?;
        let next = d
            .succ_opt()
            .ok_or_else(|| ApiError::BadRequest(format!("day '{day}' is out of range")))?;
        let rows =
            s.db.league_between(&d.to_string(), &next.to_string(), s.wait_target_s)
                .await
                .map_err(internal)?;
        return Ok(
            Json(serde_json::json!({ "day": d.to_string(), "halls": rows })).into_response(),
        );
    }
    let (y, m) = month_or_now(q.month.as_deref())?;
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
    Extension(s): Extension<CentralState>,
    _: RequireRole<role::Viewer>,
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

async fn days(
    Extension(s): Extension<CentralState>,
    _: RequireRole<role::Viewer>,
    axum::extract::Path(site): axum::extract::Path<String>,
    Query(q): Query<LeagueQuery>,
) -> Result<Response, ApiError> {
    let (y, m) = month_or_now(q.month.as_deref())?;
    let days =
        s.db.hall_days(&site, y, m, s.wait_target_s)
            .await
            .map_err(internal)?;
    Ok(Json(serde_json::json!({
        "site": site,
        "month": format!("{y:04}-{m:02}"),
        "days": days,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct ResendQuery {
    day: String,
}

async fn resend(
    Extension(s): Extension<CentralState>,
    _: RequireRole<role::Reviewer>,
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
