//! `/api/v1/alerts`: alerts raised by the alert engine (issue 7), read from the store, and
//! their acknowledgement by a reviewer or admin.

use crate::auth::{Principal, RequireRole, role};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use hallwatch_store::{AckOutcome, AlertQuery, AlertRecord, AlertStateFilter};
use serde::Deserialize;
use serde_json::{Value, json};

/// Most alerts one request returns.
const MAX_ALERTS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertParams {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    from: Option<f64>,
    #[serde(default)]
    to: Option<f64>,
    #[serde(default)]
    limit: Option<usize>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
    ApiQuery(p): ApiQuery<AlertParams>,
) -> Result<Json<Vec<AlertRecord>>, ApiError> {
    let mut q = AlertQuery::site(state.config().site.id.clone());
    q.state = match p.state.as_deref() {
        None | Some("all") => None,
        Some("active") => Some(AlertStateFilter::Active),
        Some("triggered") => Some(AlertStateFilter::Triggered),
        Some("acknowledged") => Some(AlertStateFilter::Acknowledged),
        Some("resolved") => Some(AlertStateFilter::Resolved),
        Some("unacknowledged") => Some(AlertStateFilter::Unacknowledged),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "state '{other}': use all, active, triggered, acknowledged, resolved or unacknowledged"
            )));
        }
    };
    for (name, v) in [("from", p.from), ("to", p.to)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(ApiError::bad_request(format!("{name}: not a time")));
        }
    }
    q.from = p.from;
    q.to = p.to;
    let limit = p.limit.unwrap_or(200);
    if !(1..=MAX_ALERTS).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit: 1 to {MAX_ALERTS}")));
    }
    q.limit = Some(limit);
    Ok(Json(state.db().run(move |s| Ok(s.alerts(&q)?)).await?))
}

pub(crate) async fn one(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AlertRecord>, ApiError> {
    let site = state.config().site.id.clone();
    state
        .db()
        .run(move |s| Ok(s.alert(id)?))
        .await?
        .filter(|a| a.site == site)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AckRequest {
    #[serde(default)]
    note: String,
}

pub(crate) async fn ack(
    State(state): State<AppState>,
    RequireRole { principal, .. }: RequireRole<role::Reviewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AckRequest>,
) -> Result<Json<Value>, ApiError> {
    if req.note.chars().count() > 1000 {
        return Err(ApiError::bad_request("note: at most 1000 characters"));
    }
    let who = match &principal {
        Principal::User(u) => u.username.clone(),
        Principal::Token(_) => return Err(ApiError::forbidden("only people acknowledge alerts")),
    };
    let site = state.config().site.id.clone();
    let now = state.now();
    let outcome = state
        .db()
        .run(move |s| {
            if s.alert(id)?.is_none_or(|a| a.site != site) {
                return Ok(AckOutcome::NotFound);
            }
            Ok(s.acknowledge_alert(id, &who, &req.note, now)?)
        })
        .await?;
    match outcome {
        AckOutcome::Acknowledged(a) => Ok(Json(json!({"acknowledged": true, "alert": a}))),
        AckOutcome::AlreadyAcknowledged(a) => Ok(Json(json!({"acknowledged": false, "alert": a}))),
        AckOutcome::NotFound => Err(ApiError::not_found(format!("no alert {id}"))),
    }
}
