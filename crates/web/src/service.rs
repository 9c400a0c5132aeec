//! Service-quality routes: ticket-system events, rating kiosks and rating devices, what they
//! stored, ticket-vs-camera waits, and the monthly review for reviewers.
//!
//! - `POST /api/v1/tickets/events` (token scope `tickets`): one event or an array of events
//!   ([`hallwatch_service::TicketEventInput`]); each is validated by
//!   [`hallwatch_service::Intake`] and upserted, so a resend changes nothing.
//! - `POST /api/v1/ratings` (token scope `kiosk` or `ratings`): one rating
//!   ([`hallwatch_service::RatingInput`]), rate-limited per token with `[service]
//!   rating_rate_per_min` / `rating_burst`; a kiosk token bound to a counter rates only that
//!   counter; a repeated `client_id` is stored once.
//! - `GET /api/v1/tickets`, `GET /api/v1/ratings`, `GET /api/v1/service/waits` (logged in):
//!   a time range's tickets with waits, ratings, and ticket-vs-camera waits.
//! - `GET /api/v1/service/today` (logged in): today's tickets (issued, called, served, no-show,
//!   still waiting), ticket-measured waits and service times, and satisfaction (Mức độ hài lòng)
//!   by level, for the live overview.
//! - `GET /api/v1/reports/{month}` (reviewer): the monthly review as JSON, HTML, PDF or XLSX.

use crate::api::{local_midnight, site_tz};
use crate::auth::{Principal, RequireRole, RequireToken, role, scope};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, TimeZone};
use hallwatch_service::{
    DurationStats, Intake, Invalid, RateLimiter, RatingInput, RatingSource, TicketEventInput,
    fusion,
};
use hallwatch_store::{RatingLevel, TokenScope, Upsert};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Most ticket events in one request.
const MAX_EVENTS: usize = 1000;
/// Longest range of the list endpoints, days.
const MAX_RANGE_DAYS: f64 = 366.0;

/// The routes (full paths, e.g. `/api/v1/tickets/events`).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets/events", post(ticket_events))
        .route("/api/v1/tickets", get(list_tickets))
        .route("/api/v1/ratings", post(post_rating).get(list_ratings))
        .route("/api/v1/service/waits", get(waits))
        .route("/api/v1/service/today", get(service_today))
        .route("/api/v1/reports/{month}", get(report))
}

fn intake(state: &AppState) -> Result<Intake, ApiError> {
    Intake::from_config(state.config()).map_err(ApiError::internal)
}

fn invalid(e: Invalid) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
}

fn upsert_name(u: Upsert) -> &'static str {
    match u {
        Upsert::Inserted => "inserted",
        Upsert::Updated => "updated",
        Upsert::Unchanged => "unchanged",
    }
}

/// Applies one event: the stored ticket's result, or the error as JSON.
fn apply_one(
    store: &mut hallwatch_store::Store,
    site: &str,
    intake: &Intake,
    v: Value,
    now: f64,
) -> Result<Value, ApiError> {
    let input: TicketEventInput =
        serde_json::from_value(v).map_err(|e| ApiError::bad_request(format!("event: {e}")))?;
    let ev = intake.ticket_event(&input, now).map_err(invalid)?;
    let result = store.apply_ticket_event(site, &ev)?;
    let t = store.ticket(site, &ev.day, &ev.number)?;
    Ok(json!({
        "day": ev.day,
        "number": ev.number,
        "result": upsert_name(result),
        "wait_s": t.as_ref().and_then(|t| t.wait_s()),
        "service_s": t.as_ref().and_then(|t| t.service_s()),
    }))
}

async fn ticket_events(
    State(state): State<AppState>,
    _token: RequireToken<scope::Tickets>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let intake = intake(&state)?;
    let site = state.config().site.id.clone();
    let now = state.now();
    state
        .db()
        .run(move |store| match body {
            Value::Array(items) => {
                if items.len() > MAX_EVENTS {
                    return Err(ApiError::bad_request(format!(
                        "at most {MAX_EVENTS} events per request"
                    )));
                }
                // Each event on its own: one bad event does not lose the others.
                let results: Vec<Value> = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| match apply_one(store, &site, &intake, v, now) {
                        Ok(r) => r,
                        Err(e) => json!({"index": i, "error": e.body()["error"].clone()}),
                    })
                    .collect();
                Ok(Json(json!({ "results": results })).into_response())
            }
            v @ Value::Object(_) => {
                Ok(Json(apply_one(store, &site, &intake, v, now)?).into_response())
            }
            _ => Err(ApiError::bad_request(
                "send one event object or an array of them",
            )),
        })
        .await
}

async fn post_rating(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<RatingInput>,
) -> Result<Response, ApiError> {
    let token = match principal {
        Principal::Token(t) if matches!(t.scope, TokenScope::Kiosk | TokenScope::Ratings) => t,
        _ => {
            return Err(ApiError::forbidden(
                "this needs an API token of scope 'kiosk' or 'ratings'",
            ));
        }
    };
    let now = state.now();
    {
        let mut guard = state
            .inner
            .rating_limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let limiter =
            guard.get_or_insert_with(|| RateLimiter::for_ratings(&state.config().service));
        if let Err(wait) = limiter.check(&token.name, now) {
            return Err(ApiError::too_many_requests(
                format!("too many ratings from '{}'; try again shortly", token.name),
                wait.ceil() as u64,
            ));
        }
    }
    let source = RatingSource {
        device: token.name.clone(),
        counter: token.counter,
    };
    let rating = intake(&state)?
        .rating(&input, &source, now)
        .map_err(invalid)?;
    let site = state.config().site.id.clone();
    let stored = state
        .db()
        .run(move |store| Ok(store.insert_rating(&site, &rating)?))
        .await?;
    let status = if stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"stored": stored, "duplicate": !stored})),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeParams {
    from: String,
    to: String,
}

fn bound(state: &AppState, s: &str, end: bool, what: &str) -> Result<f64, ApiError> {
    if let Ok(v) = s.parse::<f64>() {
        if v.is_finite() && v.abs() < 1e11 {
            return Ok(v);
        }
        return Err(ApiError::bad_request(format!("{what}: {s} is not a time")));
    }
    let tz = site_tz(state);
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end { d.succ_opt() } else { Some(d) })
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{what}: '{s}' is neither Unix seconds nor a date YYYY-MM-DD"
            ))
        })?;
    local_midnight(date, tz)
        .ok_or_else(|| ApiError::bad_request(format!("{what}: date out of range")))
}

fn range(state: &AppState, q: &RangeParams) -> Result<(f64, f64), ApiError> {
    let from = bound(state, &q.from, false, "from")?;
    let to = bound(state, &q.to, true, "to")?;
    if to <= from {
        return Err(ApiError::bad_request("'to' must be after 'from'"));
    }
    if to - from > MAX_RANGE_DAYS * 86_400.0 {
        return Err(ApiError::bad_request(format!(
            "the range is longer than {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
}

async fn list_tickets(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    let (from, to) = range(&state, &q)?;
    let site = state.config().site.id.clone();
    let rows = state
        .db()
        .run(move |store| Ok(store.tickets(&site, from, to)?))
        .await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|t| {
            json!({
                "day": t.day, "number": t.number, "service": t.service, "issued": t.issued,
                "called": t.called, "counter": t.counter, "finished": t.finished,
                "no_show": t.no_show, "wait_s": t.wait_s(), "service_s": t.service_s(),
                "source": t.source,
            })
        })
        .collect();
    Ok(Json(Value::Array(rows)).into_response())
}

async fn list_ratings(
    State(state): State<AppState>,
    RequireRole { principal, .. }: RequireRole<role::Viewer>,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    // Citizens' own words are for reviewers and admins only; viewers and read tokens see the
    // scores.
    let comments = matches!(
        principal.role(),
        Some(hallwatch_store::Role::Reviewer | hallwatch_store::Role::Admin)
    );
    let (from, to) = range(&state, &q)?;
    let site = state.config().site.id.clone();
    let rows = state
        .db()
        .run(move |store| Ok(store.ratings(&site, from, to)?))
        .await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "t": r.t, "counter": r.counter, "ticket": r.ticket, "level": r.level.as_str(),
                "score": r.score, "scale_max": r.scale_max,
                "comment": if comments { Some(r.comment.as_str()) } else { None },
                "device": r.device,
            })
        })
        .collect();
    Ok(Json(Value::Array(rows)).into_response())
}

async fn waits(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    let (from, to) = range(&state, &q)?;
    let site = state.config().site.id.clone();
    let target = state.config().hall.wait_target_min * 60.0;
    let tz = intake(&state)?.tz();
    let (total, days) = state
        .db()
        .run(move |store| {
            Ok((
                fusion::compare_waits(store, &site, from, to, target)?,
                fusion::compare_waits_by_day(store, &site, tz, from, to, target)?,
            ))
        })
        .await?;
    let days: Vec<Value> = days
        .into_iter()
        .map(|(day, c)| json!({"day": day, "waits": c}))
        .collect();
    Ok(Json(json!({"total": total, "days": days})).into_response())
}

/// Today's ticket and rating figures (local day of the site, from local midnight to now).
async fn service_today(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
) -> Result<Response, ApiError> {
    let tz = site_tz(&state);
    let now = state.now();
    let date = tz
        .timestamp_opt(now as i64, 0)
        .single()
        .map(|t| t.date_naive())
        .ok_or_else(|| ApiError::internal("clock out of range"))?;
    let from = local_midnight(date, tz)
        .ok_or_else(|| ApiError::internal("local midnight out of range"))?;
    let site = state.config().site.id.clone();
    let target = state.config().hall.wait_target_min * 60.0;
    let (tickets, ratings) = state
        .db()
        .run(move |store| {
            Ok((
                store.tickets(&site, from, now + 1.0)?,
                store.ratings(&site, from, now + 1.0)?,
            ))
        })
        .await?;
    let (waits, service) = fusion::ticket_durations(&tickets);
    let count =
        |f: &dyn Fn(&hallwatch_store::Ticket) -> bool| tickets.iter().filter(|t| f(t)).count();
    let level = |l: RatingLevel| ratings.iter().filter(|r| r.level == l).count();
    let satisfied = ratings.iter().filter(|r| r.level.is_satisfied()).count();
    Ok(Json(json!({
        "date": date.to_string(),
        "tickets": {
            "issued": tickets.len(),
            "called": count(&|t| t.called.is_some()),
            "served": count(&|t| t.finished.is_some()),
            "no_show": count(&|t| t.no_show.is_some()),
            "waiting": count(&|t| t.called.is_none() && t.no_show.is_none()),
        },
        "wait": DurationStats::of(&waits, target),
        "service": DurationStats::of(&service, target),
        "wait_target_s": target,
        "ratings": {
            "count": ratings.len(),
            "very_satisfied": level(RatingLevel::VerySatisfied),
            "satisfied": level(RatingLevel::Satisfied),
            "dissatisfied": level(RatingLevel::Dissatisfied),
            "satisfied_share": if ratings.is_empty() { None } else { Some(satisfied as f64 / ratings.len() as f64) },
        },
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    hall: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    _: RequireRole<role::Reviewer>,
    ApiPath(month): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    use hallwatch_report::{Lang, Month, OutputFormat, ReportRequest, Scope};
    let m = Month::parse(&month)
        .ok_or_else(|| ApiError::bad_request(format!("'{month}' is not a month YYYY-MM")))?;
    let lang = match q.lang.as_deref() {
        None => Lang::Vi,
        Some(l) => Lang::parse(l)
            .ok_or_else(|| ApiError::bad_request(format!("lang '{l}': use vi or en")))?,
    };
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    let config = Arc::new(state.config().clone());
    let hall = q.hall.clone().unwrap_or_else(|| config.site.id.clone());
    let now = state.now();
    let out = if format == "json" {
        None
    } else {
        Some(OutputFormat::parse(&format).ok_or_else(|| {
            ApiError::bad_request(format!("format '{format}': use json, html, pdf or xlsx"))
        })?)
    };
    // Files take seconds of CPU each: a few at a time, the others wait their turn (or 503).
    let _slot = match out {
        None => None,
        Some(_) => Some(
            tokio::time::timeout(crate::state::SLOT_WAIT, state.inner.render_slots.acquire())
                .await
                .map_err(|_| {
                    ApiError::unavailable("other reports are being rendered; try again shortly")
                })?
                .map_err(|_| ApiError::unavailable("the server is stopping"))?,
        ),
    };
    let (bytes, content_type) = state
        .db()
        .run(move |store| {
            let known =
                hallwatch_report::halls(store, &config, &Scope::All).map_err(ApiError::internal)?;
            if !known.contains(&hall) {
                return Err(ApiError::not_found(format!("no hall '{hall}'")));
            }
            let Some(f) = out else {
                let r = hallwatch_report::build(store, &config, &hall, m, lang, now)
                    .map_err(ApiError::internal)?;
                let body = serde_json::to_vec(&json!({"report": r, "kpis": kpis_json(&r)}))
                    .map_err(ApiError::internal)?;
                return Ok((body, "application/json"));
            };
            let dir = tempfile::tempdir().map_err(ApiError::internal)?;
            let mut req = ReportRequest::new(m, dir.path(), now);
            req.scope = Scope::Hall(hall);
            req.formats = vec![f];
            req.lang = lang;
            let files = hallwatch_report::generate(store, &config, &req, &mut |_, _, _| {})
                .map_err(ApiError::internal)?;
            let path = files
                .first()
                .ok_or_else(|| ApiError::internal("the report produced no file"))?;
            let body = std::fs::read(path).map_err(ApiError::internal)?;
            let ct = match f {
                OutputFormat::Html => "text/html; charset=utf-8",
                OutputFormat::Pdf => "application/pdf",
                OutputFormat::Xlsx => {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                }
            };
            Ok((body, ct))
        })
        .await?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if format != "json" {
        let name = format!(
            "attachment; filename=\"hallwatch-{}-{month}.{format}\"",
            q.hall.as_deref().unwrap_or(&state.config().site.id)
        );
        if let Ok(v) = HeaderValue::from_str(&name) {
            resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(resp)
}

fn kpis_json(r: &hallwatch_report::HallReport) -> Value {
    Value::Array(
        r.kpis()
            .into_iter()
            .map(|k| {
                json!({
                    "key": k.key, "label": k.label, "current": k.current,
                    "previous": k.previous,
                    "unit": match k.unit {
                        hallwatch_report::Unit::Count => "count",
                        hallwatch_report::Unit::Minutes => "seconds",
                        hallwatch_report::Unit::Share => "share",
                    },
                })
            })
            .collect(),
    )
}

/// Adds the routes' OpenAPI path items to `paths`.
pub(crate) fn openapi_paths(paths: &mut Map<String, Value>) {
    let time = json!({"oneOf": [{"type": "number"}, {"type": "string"}]});
    let event = json!({"type": "object", "additionalProperties": false, "required": ["event", "number"], "properties": {
        "event": {"type": "string", "enum": ["issued", "called", "finished", "no_show"]},
        "number": {"type": "string", "minLength": 1, "maxLength": 64},
        "service": {"type": "string", "maxLength": 200},
        "counter": {"type": "integer", "minimum": 1, "maximum": 999},
        "t": time.clone(),
        "day": {"type": "string", "format": "date"}}});
    let error = json!({"description": "Error", "content": {"application/json": {"schema": {"type": "object"}}}});
    let ok_json =
        |d: &str| json!({"description": d, "content": {"application/json": {"schema": {}}}});
    let range = json!([
        {"name": "from", "in": "query", "required": true, "schema": {"type": "string"}, "description": "Unix seconds or YYYY-MM-DD (local)"},
        {"name": "to", "in": "query", "required": true, "schema": {"type": "string"}, "description": "Unix seconds or YYYY-MM-DD (included)"}
    ]);
    let list = |summary: &str, id: &str| {
        json!({"get": {
            "summary": summary, "operationId": id, "parameters": range.clone(),
            "responses": {"200": ok_json("Rows"), "400": error.clone(), "401": error.clone(), "403": error.clone()}
        }})
    };
    paths.insert("/api/v1/tickets/events".into(), json!({"post": {
        "summary": "Ticket-system events: issued, called, finished, no-show (token scope tickets)",
        "operationId": "ticketEvents",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [event.clone(), {"type": "array", "maxItems": MAX_EVENTS, "items": event}]}}}},
        "responses": {"200": ok_json("Stored (per event for an array)"), "400": error.clone(), "401": error.clone(), "403": error.clone(), "415": error.clone(), "422": error.clone()}
    }}));
    let mut ratings = list("Ratings in a range (logged in)", "listRatings");
    if let Some(o) = ratings.as_object_mut() {
        o.insert("post".into(), json!({
            "summary": "A citizen rating from a kiosk or rating device (token scope kiosk or ratings; rate-limited per token)",
            "operationId": "postRating",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                "level": {"type": "string", "enum": ["very_satisfied", "satisfied", "dissatisfied"]},
                "score": {"type": "integer", "minimum": 1},
                "scale_max": {"type": "integer", "minimum": 2, "maximum": 10},
                "counter": {"type": "integer", "minimum": 1, "maximum": 999},
                "ticket": {"type": "string", "maxLength": 64},
                "t": time,
                "comment": {"type": "string", "maxLength": 500},
                "client_id": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"}}}}}},
            "responses": {"201": ok_json("Stored"), "200": ok_json("Already stored (same client_id)"), "400": error.clone(), "401": error.clone(), "403": error.clone(), "415": error.clone(), "422": error.clone(), "429": error.clone()}
        }));
    }
    paths.insert("/api/v1/ratings".into(), ratings);
    paths.insert(
        "/api/v1/tickets".into(),
        list(
            "Tickets in a range with waits and service times (logged in)",
            "listTickets",
        ),
    );
    paths.insert(
        "/api/v1/service/waits".into(),
        list(
            "Ticket-measured beside camera-measured waits, total and per day (logged in)",
            "serviceWaits",
        ),
    );
    paths.insert("/api/v1/service/today".into(), json!({"get": {
        "summary": "Today's tickets, ticket-measured waits and service times, and satisfaction by level (logged in)",
        "operationId": "serviceToday",
        "responses": {"200": ok_json("Today's service figures"), "401": error.clone(), "403": error.clone()}
    }}));
    paths.insert("/api/v1/reports/{month}".into(), json!({"get": {
        "summary": "The monthly service-quality review (reviewer): JSON, HTML, PDF or XLSX",
        "operationId": "monthlyReport",
        "parameters": [
            {"name": "month", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
            {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "html", "pdf", "xlsx"]}},
            {"name": "hall", "in": "query", "required": false, "schema": {"type": "string"}},
            {"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["vi", "en"]}}
        ],
        "responses": {"200": {"description": "The review", "content": {
            "application/json": {"schema": {}}, "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}},
            "400": error.clone(), "401": error.clone(), "403": error.clone(), "404": error}
    }}));
}
