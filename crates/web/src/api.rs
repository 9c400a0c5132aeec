//! The REST handlers of `/api/v1` (besides login, live and the service routes).

use crate::auth::{Principal, RequireRole, RequireUser, end_sessions_of, keep_only_session, role};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, TimeZone, Timelike};
use hallwatch_analytics::{Filter, History, HistoryQuery, Period};
use hallwatch_config::ZoneRole;
use hallwatch_store::{AuditEntry, NewToken, NewUser, Role, SessionQuery, Store, TokenScope};
use serde::Deserialize;
use serde_json::{Value, json};

/// Longest history range one request may aggregate, days.
const MAX_RANGE_DAYS: f64 = 400.0;
/// Most sessions one request returns.
const MAX_SESSIONS: u64 = 10_000;
/// How long the typical day of the overview is reused, seconds.
const TYPICAL_TTL_S: f64 = 600.0;
/// Weeks of history behind the typical day.
const TYPICAL_WEEKS: i64 = 4;

fn role_name(r: ZoneRole) -> &'static str {
    match r {
        ZoneRole::Waiting => "waiting",
        ZoneRole::Counter => "counter",
        ZoneRole::Entrance => "entrance",
        ZoneRole::Ignore => "ignore",
    }
}

/// A JSON response that is never cached (live figures, personal data).
fn no_store(v: impl serde::Serialize) -> Response {
    let mut r = Json(v).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `ok`, or `degraded` with what is wrong: the event store refusing writes, cameras not
/// delivering. Anonymous, so it names no camera; the live state and the log have details.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let p = state.latest_published();
    let hall = &p.state;
    let mut problems = Vec::new();
    if hall.storage.failing {
        problems.push(json!({
            "what": "store",
            "detail": "the event store refuses writes; records wait in memory",
            "pending": hall.storage.pending,
            "dropped": hall.storage.dropped,
            "since": hall.storage.failing_since,
        }));
    }
    if hall.uplink.failing() {
        problems.push(json!({
            "what": "uplink",
            "detail": "the province centre has not acknowledged this hall's facts for over 5 minutes; they wait in the outbox",
            "lag_events": hall.uplink.lag_events,
            "lag_s": hall.uplink.lag_s,
            "connected": hall.uplink.connected,
        }));
    }
    let down = hall
        .cameras
        .iter()
        .filter(|c| {
            c.is_down()
                || matches!(
                    c.state,
                    hallwatch_core::CameraState::Reconnecting { .. }
                        | hallwatch_core::CameraState::Failed
                )
        })
        .count();
    if down > 0 {
        problems.push(json!({
            "what": "cameras",
            "detail": "cameras not delivering frames",
            "count": down,
        }));
    }
    let overloaded = hall.cameras.iter().filter(|c| c.overloaded()).count();
    if overloaded > 0 {
        problems.push(json!({
            "what": "overload",
            "detail": "the detector cannot keep up: cameras drop frames",
            "count": overloaded,
        }));
    }
    let status = if problems.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    no_store(json!({"status": status, "problems": problems}))
}

pub(crate) async fn state_now(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
) -> Response {
    let p = state.latest_published();
    let mut r = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        p.json.to_string(),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub(crate) async fn cameras(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
) -> Response {
    let hall = state.latest();
    let list: Vec<Value> = state
        .config()
        .cameras
        .iter()
        .map(|c| {
            let health = hall.cameras.iter().find(|h| h.camera.as_str() == c.id);
            json!({
                "id": c.id,
                "name": c.name,
                "enabled": c.enabled,
                "zones": state.config().zones.iter().filter(|z| z.camera == c.id).map(|z| z.id.clone()).collect::<Vec<_>>(),
                "health": health,
            })
        })
        .collect();
    no_store(list)
}

pub(crate) async fn snapshot(
    State(state): State<AppState>,
    _: RequireUser<role::Viewer>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    if !state.config().cameras.iter().any(|c| c.id == id) {
        return Err(ApiError::not_found(format!("no camera '{id}'")));
    }
    let source = state
        .snapshot_source()
        .ok_or_else(|| ApiError::not_found(format!("no image of camera '{id}' yet")))?;
    // Pixelating and encoding a picture is CPU work: on a blocking thread, a few at a time.
    let _slot = tokio::time::timeout(crate::state::SLOT_WAIT, state.inner.picture_slots.acquire())
        .await
        .map_err(|_| ApiError::unavailable("too many pictures asked at once; try again shortly"))?
        .map_err(|_| ApiError::unavailable("the server is stopping"))?;
    let camera = id.clone();
    let snap = tokio::task::spawn_blocking(move || source.snapshot(&camera))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no image of camera '{id}' yet")))?;
    let mut r = snap.bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(snap.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("{:.3}", snap.t)) {
        h.insert("x-frame-time", v);
    }
    Ok(r)
}

pub(crate) async fn zones(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
) -> Json<Value> {
    let list: Vec<Value> = state
        .config()
        .zones
        .iter()
        .map(|z| {
            json!({
                "id": z.id,
                "name": z.name,
                "camera": z.camera,
                "role": role_name(z.role),
                "counter": (z.role == ZoneRole::Counter).then_some(z.counter),
                "polygon": z.polygon,
                "staff_polygon": z.staff_polygon,
                "line": z.line,
            })
        })
        .collect();
    Json(Value::Array(list))
}

pub(crate) async fn counters(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
) -> Response {
    no_store(&state.latest().counters)
}

/// A time bound: Unix seconds, or a local date `YYYY-MM-DD` (its start for `from`, its end for
/// `to`).
fn parse_bound(s: &str, end_of_day: bool, tz: chrono_tz::Tz, what: &str) -> Result<f64, ApiError> {
    if let Ok(v) = s.parse::<f64>() {
        if v.is_finite() && v.abs() < 1e11 {
            return Ok(v);
        }
        return Err(ApiError::bad_request(format!("{what}: {s} is not a time")));
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!(
            "{what}: '{s}' is neither Unix seconds nor a date YYYY-MM-DD"
        ))
    })?;
    let date = if end_of_day {
        date.succ_opt()
            .ok_or_else(|| ApiError::bad_request(format!("{what}: date out of range")))?
    } else {
        date
    };
    local_midnight(date, tz)
        .ok_or_else(|| ApiError::bad_request(format!("{what}: date out of range")))
}

/// Unix time of local midnight starting `date` in `tz`.
pub(crate) fn local_midnight(date: NaiveDate, tz: chrono_tz::Tz) -> Option<f64> {
    let naive = date.and_hms_opt(0, 0, 0)?;
    let t = tz.from_local_datetime(&naive).earliest()?;
    Some(t.timestamp() as f64)
}

/// The site's time zone (checked by the config loader; Asia/Ho_Chi_Minh if it were not).
pub(crate) fn site_tz(state: &AppState) -> chrono_tz::Tz {
    state
        .config()
        .site
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
}

fn range(state: &AppState, from: &str, to: &str) -> Result<(f64, f64), ApiError> {
    let tz = site_tz(state);
    let from = parse_bound(from, false, tz, "from")?;
    let to = parse_bound(to, true, tz, "to")?;
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeriesParams {
    from: String,
    to: String,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    camera: Option<String>,
    #[serde(default)]
    zone: Option<String>,
    #[serde(default)]
    counter: Option<u32>,
}

pub(crate) async fn series(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
    ApiQuery(q): ApiQuery<SeriesParams>,
) -> Result<Response, ApiError> {
    let (from, to) = range(&state, &q.from, &q.to)?;
    let (period, max_days) = match q.period.as_deref().unwrap_or("hour") {
        "minute" => (Period::Minute, 2.0),
        "hour" => (Period::Hour, 93.0),
        "day" => (Period::Day, MAX_RANGE_DAYS),
        "month" => (Period::Month, MAX_RANGE_DAYS),
        other => {
            return Err(ApiError::bad_request(format!(
                "period '{other}': use minute, hour, day or month"
            )));
        }
    };
    if to - from > max_days * 86_400.0 {
        return Err(ApiError::bad_request(format!(
            "a {} series covers at most {max_days} days",
            q.period.as_deref().unwrap_or("hour")
        )));
    }
    let config = std::sync::Arc::new(state.config().clone());
    let hq = HistoryQuery {
        from,
        to,
        period,
        filter: Filter {
            camera: q.camera,
            zone: q.zone,
            counter: q.counter,
        },
    };
    let body = state
        .db()
        .run(move |store| {
            let history = History::new(store, &config).map_err(ApiError::internal)?;
            let series = history.series(&hq).map_err(ApiError::internal)?;
            Ok(json!({"from": from, "to": to, "series": series.to_json()}))
        })
        .await?;
    Ok(no_store(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionParams {
    from: String,
    to: String,
    #[serde(default)]
    camera: Option<String>,
    #[serde(default)]
    zone: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    limit: Option<u64>,
}

pub(crate) async fn sessions(
    State(state): State<AppState>,
    _: RequireRole<role::Reviewer>,
    ApiQuery(q): ApiQuery<SessionParams>,
) -> Result<Response, ApiError> {
    let (from, to) = range(&state, &q.from, &q.to)?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=MAX_SESSIONS).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit: 1 to {MAX_SESSIONS}")));
    }
    let mut sq = SessionQuery::new(state.config().site.id.clone(), from, to).limit(limit);
    if let Some(c) = q.camera {
        sq = sq.camera(c.as_str());
    }
    if let Some(z) = q.zone {
        sq = sq.zone(z);
    }
    if let Some(r) = q.role {
        sq = sq.role(match r.as_str() {
            "waiting" => ZoneRole::Waiting,
            "counter" => ZoneRole::Counter,
            "entrance" => ZoneRole::Entrance,
            "ignore" => ZoneRole::Ignore,
            other => {
                return Err(ApiError::bad_request(format!(
                    "role '{other}': use waiting, counter, entrance or ignore"
                )));
            }
        });
    }
    let rows = state
        .db()
        .run(move |store| {
            Ok(store
                .sessions(&sq)?
                .into_iter()
                .map(|s| {
                    json!({
                        "camera": s.camera.as_str(),
                        "zone": s.zone,
                        "role": role_name(s.role),
                        "counter": s.counter,
                        "enter": s.enter,
                        "exit": s.exit,
                        "duration_s": s.exit.map(|x| (x - s.enter).max(0.0)),
                        "truncated": s.truncated,
                    })
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(no_store(rows))
}

/// Arrivals per local hour on the same weekday of the last [`TYPICAL_WEEKS`] weeks, averaged
/// over the days that had any arrival.
async fn typical_day(state: &AppState, today: NaiveDate) -> Result<(Vec<f64>, usize), ApiError> {
    let key = today.to_string();
    let now = state.now();
    if let Some((k, at, v)) = state
        .inner
        .typical
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        && *k == key
        && now - at < TYPICAL_TTL_S
    {
        let days = v.last().copied().unwrap_or(0.0) as usize;
        return Ok((v[..24].to_vec(), days));
    }
    let tz = site_tz(state);
    let site = state.config().site.id.clone();
    let days: Vec<(f64, f64)> = (1..=TYPICAL_WEEKS)
        .filter_map(|w| {
            let d = today.checked_sub_days(chrono::Days::new((7 * w) as u64))?;
            Some((local_midnight(d, tz)?, local_midnight(d.succ_opt()?, tz)?))
        })
        .collect();
    let (hours, n) = state
        .db()
        .run(move |store| {
            let mut sum = [0.0; 24];
            let mut n = 0usize;
            for (from, to) in days {
                let q = SessionQuery::new(site.clone(), from, to).role(ZoneRole::Waiting);
                let rows = store.sessions(&q)?;
                if rows.is_empty() {
                    continue;
                }
                n += 1;
                for s in rows {
                    if let Some(t) = tz.timestamp_opt(s.enter as i64, 0).single() {
                        sum[t.hour() as usize] += 1.0;
                    }
                }
            }
            let avg = sum
                .iter()
                .map(|v| if n > 0 { v / n as f64 } else { 0.0 })
                .collect::<Vec<_>>();
            Ok((avg, n))
        })
        .await?;
    let mut cached = hours.clone();
    cached.push(n as f64);
    *state
        .inner
        .typical
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some((key, now, cached));
    Ok((hours, n))
}

pub(crate) async fn today(
    State(state): State<AppState>,
    _: RequireRole<role::Viewer>,
) -> Result<Response, ApiError> {
    let hall = state.latest();
    let tz = site_tz(&state);
    let now = state.now();
    let today = tz
        .timestamp_opt(now as i64, 0)
        .single()
        .map(|t| t.date_naive())
        .ok_or_else(|| ApiError::internal("clock out of range"))?;
    let (typical, days) = typical_day(&state, today).await?;
    let mut arrivals = hall.today.arrivals_by_hour.clone();
    arrivals.resize(24, 0);
    Ok(no_store(json!({
        "date": today.to_string(),
        "weekday": today.weekday().number_from_monday(),
        "figures": hall.today,
        "arrivals_by_hour": arrivals,
        "typical_by_hour": typical,
        "typical_days": days,
    })))
}

pub(crate) async fn metrics(
    State(state): State<AppState>,
    p: Principal,
) -> Result<Response, ApiError> {
    let allowed = p.has_scope(TokenScope::Metrics) || p.role() == Some(Role::Admin);
    if !allowed {
        return Err(ApiError::forbidden(
            "metrics need an admin login or a token of scope 'metrics'",
        ));
    }
    let text = state
        .metrics()
        .render(&state.latest(), state.inner.sessions.len());
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

fn user_json(u: &hallwatch_store::User) -> Value {
    json!({"username": u.username, "role": u.role.as_str(), "created": u.created, "disabled": u.disabled})
}

fn token_json(t: &hallwatch_store::ApiToken) -> Value {
    json!({"name": t.name, "scope": t.scope.as_str(), "counter": t.counter, "created": t.created})
}

pub(crate) async fn list_users(
    State(state): State<AppState>,
    _: RequireUser<role::Admin>,
) -> Result<Response, ApiError> {
    let users = state.db().run(|s| Ok(s.users()?)).await?;
    Ok(no_store(users.iter().map(user_json).collect::<Vec<_>>()))
}

/// Writes one line of the audit log (on the connection of the change it records).
fn audit(
    s: &mut Store,
    t: f64,
    actor: &str,
    action: &str,
    target: &str,
    detail: String,
) -> Result<(), ApiError> {
    s.audit(&AuditEntry {
        t,
        actor: actor.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        detail,
    })?;
    Ok(())
}

/// `GET /api/v1/audit`: who changed which account or token, newest first (admins).
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    _: RequireUser<role::Admin>,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(200);
    if limit == 0 || limit > hallwatch_store::AUDIT_LOG_MAX {
        return Err(ApiError::bad_request(format!(
            "limit: between 1 and {}",
            hallwatch_store::AUDIT_LOG_MAX
        )));
    }
    let entries = state.db().run(move |s| Ok(s.audit_log(limit)?)).await?;
    Ok(no_store(
        entries
            .iter()
            .map(|e| {
                json!({"t": e.t, "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail})
            })
            .collect::<Vec<_>>(),
    ))
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    #[serde(default)]
    limit: Option<usize>,
}

fn parse_role(s: &str) -> Result<Role, ApiError> {
    s.parse::<Role>().map_err(ApiError::bad_request)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    username: String,
    role: String,
    password: String,
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    RequireUser { user: me, .. }: RequireUser<role::Admin>,
    ApiJson(req): ApiJson<CreateUser>,
) -> Result<Response, ApiError> {
    let role = parse_role(&req.role)?;
    let now = state.now();
    let created = state
        .db()
        .run(move |s| {
            let added = s.add_user(
                &NewUser {
                    username: &req.username,
                    role,
                    password: &req.password,
                },
                now,
            )?;
            if added.is_some() {
                audit(
                    s,
                    now,
                    &me.username,
                    "user_added",
                    &req.username,
                    format!("role={role}"),
                )?;
            }
            Ok(added)
        })
        .await?
        .ok_or_else(|| ApiError::conflict("that username is taken"))?;
    Ok((StatusCode::CREATED, no_store(user_json(&created))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUser {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

pub(crate) async fn update_user(
    State(state): State<AppState>,
    RequireUser { user: me, .. }: RequireUser<role::Admin>,
    ApiPath(username): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> Result<Response, ApiError> {
    let role = req.role.as_deref().map(parse_role).transpose()?;
    if role.is_some_and(|r| r != Role::Admin) && username == me.username {
        return Err(ApiError::bad_request("you cannot lower your own role"));
    }
    let name = username.clone();
    let password_changed = req.password.is_some();
    let now = state.now();
    let actor = me.username.clone();
    let found = state
        .db()
        .run(move |s| {
            let Some(before) = s.user(&name)? else {
                return Ok(None);
            };
            if let Some(p) = &req.password {
                s.set_password(&name, p)?;
                audit(s, now, &actor, "password_set", &name, String::new())?;
            }
            if let Some(r) = role {
                s.set_role(&name, r)?;
                if r != before.role {
                    audit(
                        s,
                        now,
                        &actor,
                        "role_changed",
                        &name,
                        format!("{} -> {r}", before.role),
                    )?;
                }
            }
            Ok(s.user(&name)?)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user '{username}'")))?;
    if password_changed {
        if username == me.username {
            keep_only_session(&state, &me, &found.credential_stamp);
        } else {
            end_sessions_of(&state, &username);
        }
    }
    Ok(no_store(user_json(&found)))
}

pub(crate) async fn delete_user(
    State(state): State<AppState>,
    RequireUser { user: me, .. }: RequireUser<role::Admin>,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if username == me.username {
        return Err(ApiError::bad_request("you cannot delete yourself"));
    }
    let name = username.clone();
    let now = state.now();
    let actor = me.username.clone();
    let deleted = state
        .db()
        .run(move |s| {
            let deleted = s.delete_user(&name)?;
            if deleted {
                audit(s, now, &actor, "user_deleted", &name, String::new())?;
            }
            Ok(deleted)
        })
        .await?;
    if !deleted {
        return Err(ApiError::not_found(format!("no user '{username}'")));
    }
    end_sessions_of(&state, &username);
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    _: RequireUser<role::Admin>,
) -> Result<Response, ApiError> {
    let tokens = state.db().run(|s| Ok(s.tokens()?)).await?;
    Ok(no_store(tokens.iter().map(token_json).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    name: String,
    scope: String,
    #[serde(default)]
    counter: Option<u32>,
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    RequireUser { user: me, .. }: RequireUser<role::Admin>,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<Response, ApiError> {
    let scope: TokenScope = req.scope.parse().map_err(ApiError::bad_request)?;
    let now = state.now();
    let issued = state
        .db()
        .run(move |s| {
            let issued = s.create_token(
                &NewToken {
                    name: &req.name,
                    scope,
                    counter: req.counter,
                },
                now,
            )?;
            if issued.is_some() {
                let counter = req
                    .counter
                    .map(|c| format!(" counter={c}"))
                    .unwrap_or_default();
                audit(
                    s,
                    now,
                    &me.username,
                    "token_created",
                    &req.name,
                    format!("scope={scope}{counter}"),
                )?;
            }
            Ok(issued)
        })
        .await?
        .ok_or_else(|| ApiError::conflict("a token of that name exists"))?;
    let mut body = token_json(&issued.token);
    body["secret"] = Value::String(issued.secret);
    Ok((StatusCode::CREATED, no_store(body)).into_response())
}

pub(crate) async fn delete_token(
    State(state): State<AppState>,
    RequireUser { user: me, .. }: RequireUser<role::Admin>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let n = name.clone();
    let now = state.now();
    let revoked = state
        .db()
        .run(move |s| {
            let revoked = s.revoke_token(&n)?;
            if revoked {
                audit(s, now, &me.username, "token_revoked", &n, String::new())?;
            }
            Ok(revoked)
        })
        .await?;
    if !revoked {
        return Err(ApiError::not_found(format!("no token '{name}'")));
    }
    Ok(StatusCode::NO_CONTENT)
}
