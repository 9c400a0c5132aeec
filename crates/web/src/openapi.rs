//! The OpenAPI 3.0 document of `/api/v1`, served at `/api/v1/openapi.json`. Written by hand
//! (no macro crate in the build); the router tests check that every route is in it and every
//! path in it is routed.

use crate::auth::Principal;
use axum::Json;
use serde_json::{Value, json};
use std::sync::OnceLock;

fn err(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(desc: &str, schema: Value) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": schema}}})
}

fn sref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The standard error responses of an authenticated operation, plus `extra`.
fn responses(success: (&str, Value), extra: &[(&str, &str)]) -> Value {
    let mut r = serde_json::Map::new();
    r.insert(success.0.to_string(), success.1);
    r.insert("401".into(), err("Not logged in and no API token"));
    r.insert(
        "403".into(),
        err("Role or token scope not allowed, or CSRF check failed"),
    );
    for (code, desc) in extra {
        r.insert((*code).to_string(), err(desc));
    }
    Value::Object(r)
}

fn query(name: &str, required: bool, schema: Value, desc: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema, "description": desc})
}

fn path_param(name: &str, desc: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "minLength": 1}, "description": desc})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn range_params() -> Vec<Value> {
    let bound = json!({"type": "string", "example": "2026-10-05"});
    vec![
        query(
            "from",
            true,
            bound.clone(),
            "Start: Unix seconds, or a local date YYYY-MM-DD (its start).",
        ),
        query(
            "to",
            true,
            bound,
            "End: Unix seconds, or a local date YYYY-MM-DD (included, to its end).",
        ),
    ]
}

/// The document.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let any = json!({});
    let array_of = |s: Value| json!({"type": "array", "items": s});
    let no_content = json!({"description": "Done"});
    let mut paths = json!({
        "/api/v1/openapi.json": {"get": {
            "summary": "This document", "operationId": "openapi",
            "responses": responses(("200", ok("OpenAPI 3.0 document", json!({"type": "object"}))), &[])
        }},
        "/api/v1/login": {"post": {
            "summary": "Log in; sets the HttpOnly session cookie and returns the CSRF token",
            "operationId": "login", "security": [],
            "requestBody": body(sref("LoginRequest")),
            "responses": {
                "200": ok("Logged in", sref("Me")),
                "400": err("Malformed body"),
                "401": err("Wrong username or password"),
                "403": err("Cross-site request"),
                "415": err("Not JSON"),
                "429": err("Too many failed logins; see Retry-After")
            }
        }},
        "/api/v1/logout": {"post": {
            "summary": "Log out (ends the session)", "operationId": "logout",
            "responses": responses(("204", no_content.clone()), &[("400", "Not a login session")])
        }},
        "/api/v1/me": {"get": {
            "summary": "Who is calling (user and CSRF token, or token scope)", "operationId": "me",
            "responses": responses(("200", ok("The caller", sref("Me"))), &[])
        }},
        "/api/v1/me/password": {"post": {
            "summary": "Change one's own password (ends one's sessions)", "operationId": "changeOwnPassword",
            "requestBody": body(json!({"type": "object", "additionalProperties": false, "required": ["current", "new"],
                "properties": {"current": {"type": "string"}, "new": {"type": "string", "minLength": 8, "maxLength": 256}}})),
            "responses": responses(("204", no_content.clone()), &[("400", "Malformed body or weak password"), ("415", "Not JSON"), ("429", "Too many wrong current passwords (limited like logins)")])
        }},
        "/api/v1/audit": {"get": {
            "summary": "Audit log: who added, changed or deleted users and tokens, newest first (admins)",
            "operationId": "auditLog",
            "parameters": [
                query("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 200}), "At most this many"),
            ],
            "responses": responses(("200", ok("Entries", array_of(json!({"type": "object", "required": ["t", "actor", "action", "target", "detail"], "properties": {
                "t": {"type": "number"}, "actor": {"type": "string"}, "action": {"type": "string"}, "target": {"type": "string"}, "detail": {"type": "string"}}})))), &[("400", "Bad limit")])
        }},
        "/api/v1/state": {"get": {
            "summary": "The hall now (Số người đang chờ, counters, prediction, cameras, today)", "operationId": "state",
            "responses": responses(("200", ok("Hall state", sref("HallState"))), &[])
        }},
        "/api/v1/live": {"get": {
            "summary": "Server-Sent Events: event `state` with the hall state, at once and on every change",
            "operationId": "live",
            "responses": responses(("200", json!({"description": "An event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}})), &[("503", "server.sse_max_clients live streams are open")])
        }},
        "/api/v1/cameras": {"get": {
            "summary": "Cameras with their health", "operationId": "cameras",
            "responses": responses(("200", ok("Cameras", array_of(sref("Camera")))), &[])
        }},
        "/api/v1/cameras/{id}/snapshot": {"get": {
            "summary": "Latest image of a camera with zones and boxes, every person pixelated (logged-in users only)",
            "operationId": "cameraSnapshot",
            "parameters": [path_param("id", "Camera id")],
            "responses": responses(("200", json!({"description": "The image", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}, "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}})), &[("400", "Bad path"), ("404", "No such camera or no image yet")])
        }},
        "/api/v1/zones": {"get": {
            "summary": "Zones of the config", "operationId": "zones",
            "responses": responses(("200", ok("Zones", array_of(sref("Zone")))), &[])
        }},
        "/api/v1/counters": {"get": {
            "summary": "Counters now (Quầy: serving, idle, staff absent; Thời gian phục vụ)", "operationId": "counters",
            "responses": responses(("200", ok("Counters", array_of(sref("CounterState")))), &[])
        }},
        "/api/v1/today": {"get": {
            "summary": "Today's figures and arrivals per hour against a typical day (same weekday, last 4 weeks)",
            "operationId": "today",
            "responses": responses(("200", ok("Today", sref("Today"))), &[])
        }},
        "/api/v1/series": {"get": {
            "summary": "History aggregated over a time range: waits, service, utilisation, queue, flow, uptime, heatmap",
            "operationId": "series",
            "parameters": range_params().into_iter().chain([
                query("period", false, json!({"type": "string", "enum": ["minute", "hour", "day", "month"], "default": "hour"}), "Bucket length (minute: at most 2 days; hour: 93 days; else 400 days)"),
                query("camera", false, json!({"type": "string"}), "Only this camera"),
                query("zone", false, json!({"type": "string"}), "Only this zone"),
                query("counter", false, json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64}), "Only this counter"),
            ]).collect::<Vec<_>>(),
            "responses": responses(("200", ok("Series", sref("Series"))), &[("400", "Bad range or parameter")])
        }},
        "/api/v1/sessions": {"get": {
            "summary": "Zone visits (reviewer and admin)", "operationId": "sessions",
            "parameters": range_params().into_iter().chain([
                query("camera", false, json!({"type": "string"}), "Only this camera"),
                query("zone", false, json!({"type": "string"}), "Only this zone"),
                query("role", false, json!({"type": "string", "enum": ["waiting", "counter", "entrance", "ignore"]}), "Only zones of this role"),
                query("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}), "At most this many, oldest first"),
            ]).collect::<Vec<_>>(),
            "responses": responses(("200", ok("Visits", array_of(sref("Visit")))), &[("400", "Bad range or parameter")])
        }},
        "/api/v1/users": {
            "get": {"summary": "Users (admin)", "operationId": "listUsers",
                "responses": responses(("200", ok("Users", array_of(sref("User")))), &[])},
            "post": {"summary": "Add a user (admin)", "operationId": "createUser",
                "requestBody": body(sref("NewUser")),
                "responses": responses(("201", ok("Added", sref("User"))), &[("400", "Bad name, role or password"), ("409", "Username taken"), ("415", "Not JSON")])}
        },
        "/api/v1/users/{username}": {
            "patch": {"summary": "Change a user's role or password (admin)", "operationId": "updateUser",
                "parameters": [path_param("username", "Login name")],
                "requestBody": body(json!({"type": "object", "additionalProperties": false, "properties": {
                    "role": {"type": "string", "enum": ["viewer", "reviewer", "admin"]},
                    "password": {"type": "string", "minLength": 8, "maxLength": 256}}})),
                "responses": responses(("200", ok("Changed", sref("User"))), &[("400", "Bad value"), ("404", "No such user"), ("415", "Not JSON")])},
            "delete": {"summary": "Delete a user (admin)", "operationId": "deleteUser",
                "parameters": [path_param("username", "Login name")],
                "responses": responses(("204", no_content.clone()), &[("400", "Cannot delete oneself"), ("404", "No such user")])}
        },
        "/api/v1/tokens": {
            "get": {"summary": "API tokens, without secrets (admin)", "operationId": "listTokens",
                "responses": responses(("200", ok("Tokens", array_of(sref("Token")))), &[])},
            "post": {"summary": "Create an API token; the secret is shown only here (admin)", "operationId": "createToken",
                "requestBody": body(json!({"type": "object", "additionalProperties": false, "required": ["name", "scope"], "properties": {
                    "name": {"type": "string"},
                    "scope": {"type": "string", "enum": ["read", "metrics", "tickets", "kiosk", "ratings"]},
                    "counter": {"type": "integer", "minimum": 0, "maximum": 4294967295u64}}})),
                "responses": responses(("201", ok("Created", sref("IssuedToken"))), &[("400", "Bad name or scope"), ("409", "Name taken"), ("415", "Not JSON")])}
        },
        "/api/v1/alerts": {"get": {
            "summary": "Alerts (Cảnh báo), newest first", "operationId": "alerts",
            "parameters": [
                query("state", false, json!({"type": "string", "enum": ["all", "active", "triggered", "acknowledged", "resolved", "unacknowledged"]}), "Lifecycle state"),
                query("from", false, json!({"type": "number"}), "Triggered at or after (Unix seconds)"),
                query("to", false, json!({"type": "number"}), "Triggered before (Unix seconds)"),
                query("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}), "At most this many"),
            ],
            "responses": responses(("200", ok("Alerts", array_of(sref("Alert")))), &[("400", "Bad parameter")])
        }},
        "/api/v1/alerts/{id}": {"get": {
            "summary": "One alert", "operationId": "alert",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}, "description": "Alert id"}],
            "responses": responses(("200", ok("The alert", sref("Alert"))), &[("400", "Bad id"), ("404", "No such alert")])
        }},
        "/api/v1/alerts/{id}/ack": {"post": {
            "summary": "Acknowledge an alert (reviewer and admin); the first acknowledgement is kept", "operationId": "ackAlert",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}, "description": "Alert id"}],
            "requestBody": body(json!({"type": "object", "additionalProperties": false, "properties": {"note": {"type": "string", "maxLength": 1000}}})),
            "responses": responses(("200", ok("Acknowledged now (true) or before (false)", json!({"type": "object", "required": ["acknowledged", "alert"], "properties": {"acknowledged": {"type": "boolean"}, "alert": sref("Alert")}}))), &[("400", "Bad id or note"), ("404", "No such alert"), ("415", "Not JSON")])
        }},
        "/api/v1/tokens/{name}": {"delete": {
            "summary": "Revoke an API token (admin)", "operationId": "deleteToken",
            "parameters": [path_param("name", "Token name")],
            "responses": responses(("204", no_content), &[("404", "No such token")])
        }}
    });
    if let Some(map) = paths.as_object_mut() {
        crate::extra_openapi_paths(map);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "hallwatch",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Live service-quality figures of a one-stop administrative hall. Authenticate with the session cookie from /api/v1/login (and send X-CSRF-Token on POST, PATCH, PUT, DELETE) or with `Authorization: Bearer hwt_...`. Errors are {\"error\": {\"code\", \"message\"}}."
        },
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "hw_session"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                "LoginRequest": {"type": "object", "additionalProperties": false, "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
                "Me": {"type": "object", "required": ["kind", "username"], "properties": {
                    "kind": {"type": "string", "enum": ["user", "token"]},
                    "username": {"type": "string"},
                    "role": {"type": "string", "nullable": true},
                    "scope": {"type": "string", "nullable": true},
                    "csrf_token": {"type": "string", "nullable": true},
                    "expires": {"type": "number", "nullable": true}}},
                "HallState": {"type": "object", "required": ["site", "t", "seq", "waiting_now", "zones", "counters", "cameras", "today"], "properties": {
                    "site": {"type": "string"}, "site_name": {"type": "string"},
                    "t": {"type": "number"}, "seq": {"type": "integer"},
                    "waiting_now": {"type": "integer"}, "waiting_smoothed": {"type": "number"},
                    "zones": {"type": "array", "items": {"type": "object"}},
                    "counters": {"type": "array", "items": sref("CounterState")},
                    "prediction": {"type": "object", "nullable": true},
                    "cameras": {"type": "array", "items": {"type": "object"}},
                    "today": {"type": "object"},
                    "storage": {"type": "object", "description": "The event store: failing, failing_since, pending, dropped, failed, commit_failures, records, batches"},
                    "pipeline": {"type": "object", "description": "Faults survived: detector_errors, detector_panics, analysis_restarts"}}},
                "CounterState": {"type": "object", "required": ["zone", "counter", "activity"], "properties": {
                    "zone": {"type": "string"}, "name": {"type": "string"}, "counter": {"type": "integer"},
                    "activity": {"type": "string", "enum": ["serving", "idle", "staff_absent"]},
                    "serving_for_s": {"type": "number", "nullable": true},
                    "served_today": {"type": "integer"},
                    "mean_service_s": {"type": "number", "nullable": true}}},
                "Camera": {"type": "object", "required": ["id", "name", "enabled"], "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "enabled": {"type": "boolean"},
                    "zones": {"type": "array", "items": {"type": "string"}},
                    "health": {"type": "object", "nullable": true}}},
                "Zone": {"type": "object", "required": ["id", "camera", "role"], "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "camera": {"type": "string"},
                    "role": {"type": "string"}, "counter": {"type": "integer", "nullable": true},
                    "polygon": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                    "staff_polygon": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                    "line": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}}},
                "Today": {"type": "object", "required": ["date", "arrivals_by_hour", "typical_by_hour"], "properties": {
                    "date": {"type": "string"}, "weekday": {"type": "integer"}, "figures": {"type": "object"},
                    "arrivals_by_hour": {"type": "array", "items": {"type": "integer"}},
                    "typical_by_hour": {"type": "array", "items": {"type": "number"}},
                    "typical_days": {"type": "integer"}}},
                "Series": {"type": "object", "required": ["from", "to", "series"], "properties": {
                    "from": {"type": "number"}, "to": {"type": "number"},
                    "series": {"type": "object", "properties": {
                        "waits": {"type": "array", "items": any.clone()}, "service": {"type": "array", "items": any.clone()},
                        "utilisation": {"type": "array", "items": any.clone()}, "queue": {"type": "array", "items": any.clone()},
                        "flow": {"type": "array", "items": any.clone()}, "uptime": {"type": "array", "items": any.clone()},
                        "heatmap": {"type": "array", "items": any}}}}},
                "Visit": {"type": "object", "properties": {
                    "camera": {"type": "string"}, "zone": {"type": "string"}, "role": {"type": "string"},
                    "counter": {"type": "integer"}, "enter": {"type": "number"},
                    "exit": {"type": "number", "nullable": true}, "duration_s": {"type": "number", "nullable": true},
                    "truncated": {"type": "boolean"}}},
                "Alert": {"type": "object", "required": ["id", "rule", "kind", "severity", "triggered", "state"], "properties": {
                    "id": {"type": "integer"}, "site": {"type": "string"}, "rule": {"type": "string"},
                    "kind": {"type": "string"}, "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                    "camera": {"type": "string"}, "zone": {"type": "string"},
                    "counter": {"type": "integer", "nullable": true}, "triggered": {"type": "number"},
                    "value": {"type": "number", "nullable": true}, "peak": {"type": "number", "nullable": true},
                    "message": {"type": "string"}, "acknowledged": {"type": "number", "nullable": true},
                    "ack_by": {"type": "string", "nullable": true}, "ack_note": {"type": "string", "nullable": true},
                    "resolved": {"type": "number", "nullable": true},
                    "state": {"type": "string", "enum": ["triggered", "acknowledged", "resolved"]}}},
                "User": {"type": "object", "required": ["username", "role"], "properties": {
                    "username": {"type": "string"}, "role": {"type": "string", "enum": ["viewer", "reviewer", "admin"]},
                    "created": {"type": "number"}, "disabled": {"type": "boolean"}}},
                "NewUser": {"type": "object", "additionalProperties": false, "required": ["username", "role", "password"], "properties": {
                    "username": {"type": "string", "pattern": "^[A-Za-z0-9._@-]{1,64}$"},
                    "role": {"type": "string", "enum": ["viewer", "reviewer", "admin"]},
                    "password": {"type": "string", "minLength": 8, "maxLength": 256}}},
                "Token": {"type": "object", "required": ["name", "scope"], "properties": {
                    "name": {"type": "string"}, "scope": {"type": "string"},
                    "counter": {"type": "integer", "nullable": true}, "created": {"type": "number"}}},
                "IssuedToken": {"type": "object", "required": ["name", "scope", "secret"], "properties": {
                    "name": {"type": "string"}, "scope": {"type": "string"},
                    "counter": {"type": "integer", "nullable": true}, "created": {"type": "number"},
                    "secret": {"type": "string"}}}
            }
        }
    })
}

pub(crate) async fn serve_document(_: Principal) -> Json<&'static Value> {
    Json(document())
}
