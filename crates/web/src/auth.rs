//! Access control: login sessions (cookies), API tokens, CSRF, login rate limiting, and the
//! extractors routes use to say who may call them.
//!
//! Who is calling is a [`Principal`]: a logged-in [`UserSession`] (cookie) or an API
//! [`TokenPrincipal`] (`Authorization: Bearer hwt_...`). Routes state their rule with an
//! extractor:
//!
//! - [`RequireRole<R>`]: a user whose role is at least `R` ([`role::Viewer`],
//!   [`role::Reviewer`], [`role::Admin`]); for `Viewer` on GET routes a `read` token is also
//!   accepted.
//! - [`RequireUser<R>`]: the same, but only logged-in users (camera images, own password).
//! - [`RequireToken<S>`]: only a token of scope `S` ([`scope::Tickets`], [`scope::Kiosk`],
//!   [`scope::Ratings`], [`scope::Metrics`], [`scope::Read`]).
//! - [`Principal`]: anyone authenticated; decide in the handler.
//!
//! Every extractor checks CSRF for cookie sessions: a POST, PUT, PATCH or DELETE must carry the
//! session's token in `X-CSRF-Token`, and an `Origin` header, when present, must name this
//! host. Session cookies are `HttpOnly; SameSite=Strict` (and `Secure` under HTTPS); token
//! requests carry no ambient credential and need no CSRF token.

use crate::error::{ApiError, ApiJson};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hallwatch_config::ServerConfig;
use hallwatch_store::{Role, TokenScope};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The CSRF header a logged-in browser sends on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Seconds between re-reading a session's user from the store (deleted users, changed
/// passwords and roles take effect within this).
const RECHECK_S: f64 = 30.0;

/// At most this many sessions are kept; the oldest is dropped beyond it.
const MAX_SESSIONS: usize = 10_000;

fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(ApiError::internal)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A logged-in user, as a request sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct UserSession {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// The token state-changing requests must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// When the session ends at the latest, Unix seconds.
    pub expires: f64,
    pub(crate) id: String,
}

/// A machine holding an API token.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenPrincipal {
    /// The token's name.
    pub name: String,
    /// What it may reach.
    pub scope: TokenScope,
    /// Its counter (kiosk tokens).
    pub counter: Option<u32>,
}

/// Who is calling.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// A logged-in user (session cookie).
    User(UserSession),
    /// A machine (API token).
    Token(TokenPrincipal),
}

impl Principal {
    /// The user's role, `None` for tokens.
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User(u) => Some(u.role),
            Principal::Token(_) => None,
        }
    }

    /// Whether this is a token of `scope`.
    pub fn has_scope(&self, scope: TokenScope) -> bool {
        matches!(self, Principal::Token(t) if t.scope == scope)
    }

    /// A name for logs and audit columns (`ack_by`): the username or `token:<name>`.
    pub fn display_name(&self) -> String {
        match self {
            Principal::User(u) => u.username.clone(),
            Principal::Token(t) => format!("token:{}", t.name),
        }
    }
}

#[derive(Clone, Debug)]
struct Session {
    user_id: i64,
    username: String,
    role: Role,
    csrf: String,
    created: f64,
    last_seen: f64,
    stamp: String,
    checked_at: f64,
}

/// The server's login sessions, in memory (a restart logs everyone out).
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    idle_s: f64,
    max_s: f64,
}

impl Sessions {
    pub fn new(cfg: &ServerConfig) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            idle_s: cfg.session_idle_h * 3600.0,
            max_s: cfg.session_max_days * 86_400.0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expires(&self, s: &Session) -> f64 {
        (s.last_seen + self.idle_s).min(s.created + self.max_s)
    }

    fn create(&self, user: &hallwatch_store::User, now: f64) -> Result<UserSession, ApiError> {
        let id = random_hex(32)?;
        let csrf = random_hex(32)?;
        let s = Session {
            user_id: user.id,
            username: user.username.clone(),
            role: user.role,
            csrf: csrf.clone(),
            created: now,
            last_seen: now,
            stamp: user.credential_stamp.clone(),
            checked_at: now,
        };
        let expires = self.expires(&s);
        let mut map = self.lock();
        map.retain(|_, s| now < self.expires(s));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by(|a, b| a.1.last_seen.total_cmp(&b.1.last_seen))
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), s);
        Ok(UserSession {
            username: user.username.clone(),
            role: user.role,
            csrf_token: csrf,
            expires,
            id,
        })
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Whether the session still exists and has not expired (no store check).
    pub fn is_live(&self, id: &str, now: f64) -> bool {
        self.lock().get(id).is_some_and(|s| now < self.expires(s))
    }

    /// How many sessions are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Ends every session of `username` (its password changed or it was deleted here).
    fn remove_user(&self, username: &str) {
        self.lock().retain(|_, s| s.username != username);
    }

    /// `username` changed their own password from session `keep`: that session goes on with
    /// the new credential stamp, every other session of theirs ends.
    fn keep_only(&self, username: &str, keep: &str, stamp: &str) {
        let mut map = self.lock();
        map.retain(|id, s| s.username != username || id == keep);
        if let Some(s) = map.get_mut(keep) {
            s.stamp = stamp.to_string();
        }
    }

    /// The session `id` when valid, touching it; re-reads the user every [`RECHECK_S`].
    async fn get(&self, state: &AppState, id: &str) -> Result<Option<UserSession>, ApiError> {
        let now = state.now();
        let (user_id, stamp, due) = {
            let mut map = self.lock();
            let Some(s) = map.get(id) else {
                return Ok(None);
            };
            if now >= self.expires(s) {
                map.remove(id);
                return Ok(None);
            }
            (s.user_id, s.stamp.clone(), now - s.checked_at >= RECHECK_S)
        };
        if due {
            let user = state
                .db()
                .run(move |st| Ok(st.user_by_id(user_id)?))
                .await?;
            let mut map = self.lock();
            match user {
                Some(u) if !u.disabled && u.credential_stamp == stamp => {
                    if let Some(s) = map.get_mut(id) {
                        s.role = u.role;
                        s.username = u.username;
                        s.checked_at = now;
                    }
                }
                _ => {
                    map.remove(id);
                    return Ok(None);
                }
            }
        }
        let mut map = self.lock();
        let Some(s) = map.get_mut(id) else {
            return Ok(None);
        };
        s.last_seen = now;
        let expires = (s.last_seen + self.idle_s).min(s.created + self.max_s);
        Ok(Some(UserSession {
            username: s.username.clone(),
            role: s.role,
            csrf_token: s.csrf.clone(),
            expires,
            id: id.to_string(),
        }))
    }
}

/// Failed logins per (client address, username), per client address and per account (from
/// any address), in a sliding window.
pub(crate) struct LoginLimiter {
    failures: Mutex<HashMap<(IpAddr, String), Vec<f64>>>,
    per_ip: Mutex<HashMap<IpAddr, Vec<f64>>>,
    per_user: Mutex<HashMap<String, Vec<f64>>>,
    max: usize,
    window_s: f64,
}

impl LoginLimiter {
    pub fn new(cfg: &ServerConfig) -> Self {
        Self {
            failures: Mutex::default(),
            per_ip: Mutex::default(),
            per_user: Mutex::default(),
            max: cfg.login_max_failures as usize,
            window_s: cfg.login_window_s,
        }
    }

    /// Counts a login attempt of `user` from `ip` before its password is hashed, or
    /// `Err(seconds to wait)` when this client may not try this user now. Checking and counting
    /// happen under the same locks, so a burst of parallel attempts cannot all pass the check
    /// before any is counted (each attempt would cost an argon2 hash); a successful login takes
    /// its attempt back ([`Self::succeeded`]). Entries older than the window are pruned once
    /// the maps hold more than [`LIMITER_PRUNE_ABOVE`] keys.
    fn admit(&self, ip: IpAddr, user: &str, now: f64) -> Result<(), u64> {
        let window = self.window_s;
        let wait = |times: &mut Vec<f64>, max: usize| -> Option<u64> {
            times.retain(|t| now - t < window);
            (times.len() >= max).then(|| {
                let oldest = times.iter().copied().fold(f64::INFINITY, f64::min);
                (oldest + window - now).ceil().max(1.0) as u64
            })
        };
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let mut per_user = self.per_user.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > LIMITER_PRUNE_ABOVE {
            failures.retain(|_, v| v.iter().any(|t| now - t < window));
        }
        if per_ip.len() > LIMITER_PRUNE_ABOVE {
            per_ip.retain(|_, v| v.iter().any(|t| now - t < window));
        }
        if per_user.len() > LIMITER_PRUNE_ABOVE {
            per_user.retain(|_, v| v.iter().any(|t| now - t < window));
        }
        let account = user.to_lowercase();
        let key = (ip, account.clone());
        if let Some(w) = failures.get_mut(&key).and_then(|t| wait(t, self.max)) {
            return Err(w);
        }
        let wide = self.max.saturating_mul(4);
        if let Some(w) = per_ip.get_mut(&ip).and_then(|t| wait(t, wide)) {
            return Err(w);
        }
        // Guesses at one account from many addresses (or forged ones) are bounded too.
        if let Some(w) = per_user.get_mut(&account).and_then(|t| wait(t, wide)) {
            return Err(w);
        }
        failures.entry(key).or_default().push(now);
        per_ip.entry(ip).or_default().push(now);
        per_user.entry(account).or_default().push(now);
        Ok(())
    }

    /// A login succeeded: its attempt was no failure, and the user's failures from this
    /// address are forgiven.
    fn succeeded(&self, ip: IpAddr, user: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(ip, user.to_lowercase()));
        if let Some(times) = self
            .per_ip
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&ip)
        {
            times.pop();
        }
        if let Some(times) = self
            .per_user
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&user.to_lowercase())
        {
            times.pop();
        }
    }
}

/// The login limiter prunes entries older than its window once it holds this many keys.
const LIMITER_PRUNE_ABOVE: usize = 10_000;

/// The longest username accepted at login (characters); longer ones are refused before any
/// work, so the limiter's keys stay small.
pub(crate) const MAX_USERNAME_CHARS: usize = 64;

/// Password hashes (argon2id, ~19 MiB each) run at most this many at a time, whatever the
/// number of parallel logins.
pub(crate) const HASH_SLOTS: usize = 2;

/// The session cookie's name: `__Host-` prefixed when cookies are `Secure`.
pub(crate) fn cookie_name(cfg: &ServerConfig) -> &'static str {
    if cfg.cookies_secure() {
        "__Host-hw_session"
    } else {
        "hw_session"
    }
}

fn session_cookie(
    cfg: &ServerConfig,
    value: &str,
    max_age_s: f64,
) -> Result<HeaderValue, ApiError> {
    let mut c = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        cookie_name(cfg),
        max_age_s.max(0.0).floor() as u64
    );
    if cfg.cookies_secure() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).map_err(ApiError::internal)
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client address. The socket's peer, unless that peer is one of `trusted_proxies`: then
/// `X-Forwarded-For` is read from the right (the hop the proxy itself added) past every trusted
/// proxy, and the first address that is not one is the client. Entries a client wrote itself
/// sit further left and are never reached; a header that does not parse leaves the peer.
pub(crate) fn client_ip(
    parts_headers: &HeaderMap,
    ext: &axum::http::Extensions,
    cfg: &ServerConfig,
) -> IpAddr {
    let peer = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    forwarded_client(peer, parts_headers, cfg)
}

fn forwarded_client(peer: IpAddr, headers: &HeaderMap, cfg: &ServerConfig) -> IpAddr {
    if !cfg.is_trusted_proxy(peer) {
        return peer;
    }
    let mut client = peer;
    // Several X-Forwarded-For headers are one list, in order.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            return client;
        };
        client = ip;
        if !cfg.is_trusted_proxy(ip) {
            break;
        }
    }
    client
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cross-site request: an `Origin` header whose host is not this request's `Host`.
fn cross_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    origin == "null" || origin_host != host
}

/// Who is calling, resolved once per request (cached in the request's extensions).
#[derive(Clone)]
struct Resolved(Option<Principal>);

async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    if let Some(r) = parts.extensions.get::<Resolved>() {
        return Ok(r.0.clone());
    }
    let principal = resolve_uncached(parts, state).await?;
    parts.extensions.insert(Resolved(principal.clone()));
    Ok(principal)
}

async fn resolve_uncached(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let secret = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|s| s.trim().to_string())
            .ok_or_else(ApiError::unauthenticated)?;
        let token = state
            .db()
            .run(move |st| Ok(st.token_by_secret(&secret)?))
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        return Ok(Some(Principal::Token(TokenPrincipal {
            name: token.name,
            scope: token.scope,
            counter: token.counter,
        })));
    }
    let cfg = &state.config().server;
    let Some(id) = cookie_value(&parts.headers, cookie_name(cfg)) else {
        return Ok(None);
    };
    let Some(session) = state.inner.sessions.get(state, id).await? else {
        return Ok(None);
    };
    if !is_safe(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if cross_origin(&parts.headers) || !ct_eq(sent, &session.csrf_token) {
            return Err(ApiError::csrf());
        }
    }
    Ok(Some(Principal::User(session)))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        resolve(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// Role markers for [`RequireRole`] and [`RequireUser`].
pub mod role {
    use hallwatch_store::Role;

    /// A minimum role.
    pub trait MinRole: Send + Sync + 'static {
        /// The role.
        const ROLE: Role;
    }
    /// Viewer (supervisor) or above.
    #[derive(Debug)]
    pub struct Viewer;
    /// Reviewer or above.
    #[derive(Debug)]
    pub struct Reviewer;
    /// Admin.
    #[derive(Debug)]
    pub struct Admin;
    impl MinRole for Viewer {
        const ROLE: Role = Role::Viewer;
    }
    impl MinRole for Reviewer {
        const ROLE: Role = Role::Reviewer;
    }
    impl MinRole for Admin {
        const ROLE: Role = Role::Admin;
    }
}

/// Scope markers for [`RequireToken`].
pub mod scope {
    use hallwatch_store::TokenScope;

    /// A token scope.
    pub trait Scope: Send + Sync + 'static {
        /// The scope.
        const SCOPE: TokenScope;
    }
    macro_rules! scope {
        ($name:ident, $v:ident, $doc:literal) => {
            #[doc = $doc]
            #[derive(Debug)]
            pub struct $name;
            impl Scope for $name {
                const SCOPE: TokenScope = TokenScope::$v;
            }
        };
    }
    scope!(Read, Read, "Read-only API.");
    scope!(Metrics, Metrics, "Prometheus `/metrics`.");
    scope!(Tickets, Tickets, "Ticket-system events.");
    scope!(Kiosk, Kiosk, "A rating kiosk.");
    scope!(Ratings, Ratings, "Third-party rating devices.");
}

/// A user with at least role `R`; for `R = Viewer` on GET/HEAD, a `read` token too.
pub struct RequireRole<R: role::MinRole> {
    /// Who is calling.
    pub principal: Principal,
    _r: PhantomData<R>,
}

impl<R: role::MinRole> FromRequestParts<AppState> for RequireRole<R> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = Principal::from_request_parts(parts, state).await?;
        let ok = match &p {
            Principal::User(u) => u.role >= R::ROLE,
            Principal::Token(t) => {
                R::ROLE == Role::Viewer && t.scope == TokenScope::Read && is_safe(&parts.method)
            }
        };
        if !ok {
            return Err(ApiError::forbidden(format!(
                "this needs the {} role",
                R::ROLE.as_str()
            )));
        }
        Ok(Self {
            principal: p,
            _r: PhantomData,
        })
    }
}

/// A logged-in user (never a token) with at least role `R`.
pub struct RequireUser<R: role::MinRole> {
    /// The user.
    pub user: UserSession,
    _r: PhantomData<R>,
}

impl<R: role::MinRole> FromRequestParts<AppState> for RequireUser<R> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::User(u) if u.role >= R::ROLE => Ok(Self {
                user: u,
                _r: PhantomData,
            }),
            Principal::User(_) => Err(ApiError::forbidden(format!(
                "this needs the {} role",
                R::ROLE.as_str()
            ))),
            Principal::Token(_) => Err(ApiError::forbidden("only for logged-in users")),
        }
    }
}

/// An API token of scope `S` (and nothing else).
pub struct RequireToken<S: scope::Scope> {
    /// The token.
    pub token: TokenPrincipal,
    _s: PhantomData<S>,
}

impl<S: scope::Scope> FromRequestParts<AppState> for RequireToken<S> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::Token(t) if t.scope == S::SCOPE => Ok(Self {
                token: t,
                _s: PhantomData,
            }),
            _ => Err(ApiError::forbidden(format!(
                "this needs an API token of scope '{}'",
                S::SCOPE.as_str()
            ))),
        }
    }
}

/// `POST /api/v1/login` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    username: String,
    password: String,
}

/// What login and `GET /api/v1/me` answer.
#[derive(Debug, Serialize)]
pub(crate) struct Me {
    kind: &'static str,
    username: String,
    role: Option<&'static str>,
    scope: Option<&'static str>,
    csrf_token: Option<String>,
    expires: Option<f64>,
}

impl Me {
    fn of(p: &Principal) -> Self {
        match p {
            Principal::User(u) => Me {
                kind: "user",
                username: u.username.clone(),
                role: Some(u.role.as_str()),
                scope: None,
                csrf_token: Some(u.csrf_token.clone()),
                expires: Some(u.expires),
            },
            Principal::Token(t) => Me {
                kind: "token",
                username: t.name.clone(),
                role: None,
                scope: Some(t.scope.as_str()),
                csrf_token: None,
                expires: None,
            },
        }
    }
}

/// The client's address (see [`client_ip`]).
pub(crate) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ClientIp(client_ip(
            &parts.headers,
            &parts.extensions,
            &state.config().server,
        )))
    }
}

/// Runs `f` (which hashes a password) on the store once one of the [`HASH_SLOTS`] is free.
async fn with_hash_slot<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut hallwatch_store::Store) -> Result<T, ApiError> + Send + 'static,
{
    let _slot = state
        .inner
        .hash_slots
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let submitted = state.inner.hashers.submit(Box::new(move |store| {
        let out = match store {
            Ok(s) => f(s),
            Err(e) => Err(ApiError::from(e)),
        };
        let _ = tx.send(out);
    }));
    if !submitted {
        return Err(ApiError::unavailable("the server is stopping"));
    }
    rx.await
        .map_err(|_| ApiError::internal("a password check failed unexpectedly"))?
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let ApiJson(req) = body;
    if cross_origin(&headers) {
        return Err(ApiError::csrf());
    }
    let cfg = &state.config().server;
    let now = state.now();
    if req.username.chars().count() > MAX_USERNAME_CHARS {
        state.metrics().login_failed();
        return Err(ApiError::bad_request(format!(
            "username: at most {MAX_USERNAME_CHARS} characters"
        )));
    }
    let limiter = &state.inner.limiter;
    if let Err(wait) = limiter.admit(ip, &req.username, now) {
        state.metrics().login_failed();
        return Err(ApiError::too_many_requests(
            "too many failed logins; wait before trying again",
            wait,
        ));
    }
    let LoginRequest { username, password } = req;
    let name = username.clone();
    let user = with_hash_slot(&state, move |st| Ok(st.verify_password(&name, &password)?)).await?;
    let Some(user) = user else {
        state.metrics().login_failed();
        tracing::warn!(%ip, user = %username, "failed login");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong username or password",
        ));
    };
    limiter.succeeded(ip, &username);
    let session = state.inner.sessions.create(&user, state.now())?;
    tracing::info!(%ip, user = %user.username, role = %user.role, "login");
    let cookie = session_cookie(cfg, &session.id, session.expires - now)?;
    let me = Me::of(&Principal::User(session));
    let mut resp = axum::Json(me).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    p: Principal,
) -> Result<Response, ApiError> {
    let Principal::User(u) = p else {
        return Err(ApiError::bad_request("tokens have no session to end"));
    };
    state.inner.sessions.remove(&u.id);
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state.config().server, "", 0.0)?,
    );
    Ok(resp)
}

pub(crate) async fn me(p: Principal) -> axum::Json<Me> {
    axum::Json(Me::of(&p))
}

/// `POST /api/v1/me/password` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    current: String,
    new: String,
}

pub(crate) async fn change_own_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    RequireUser { user, .. }: RequireUser<role::Viewer>,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    // A wrong current password is a guess at this account's password: limited like a login,
    // and its hash waits for a slot like one.
    let limiter = &state.inner.limiter;
    if let Err(wait) = limiter.admit(ip, &user.username, state.now()) {
        state.metrics().login_failed();
        return Err(ApiError::too_many_requests(
            "too many wrong passwords; wait before trying again",
            wait,
        ));
    }
    let name = user.username.clone();
    let now = state.now();
    let ok = with_hash_slot(&state, move |st| {
        if st.verify_password(&name, &req.current)?.is_none() {
            return Ok(false);
        }
        let set = st.set_password(&name, &req.new)?;
        if set {
            st.audit(&hallwatch_store::AuditEntry {
                t: now,
                actor: name.clone(),
                action: "password_changed".into(),
                target: name.clone(),
                detail: String::new(),
            })?;
        }
        Ok(set)
    })
    .await?;
    if !ok {
        state.metrics().login_failed();
        tracing::warn!(%ip, user = %user.username, "wrong current password on a password change");
        return Err(ApiError::forbidden("the current password is wrong"));
    }
    limiter.succeeded(ip, &user.username);
    state.inner.sessions.remove_user(&user.username);
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the sessions of `username` held by this server (after an admin deleted the user or
/// changed their password here).
pub(crate) fn end_sessions_of(state: &AppState, username: &str) {
    state.inner.sessions.remove_user(username);
}

/// After `me` changed their own password (new credential `stamp`): their other sessions end,
/// this one goes on.
pub(crate) fn keep_only_session(state: &AppState, me: &UserSession, stamp: &str) {
    state.inner.sessions.keep_only(&me.username, &me.id, stamp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let cfg = ServerConfig {
            trusted_proxies: vec!["10.0.0.5".into(), "192.168.1.0/24".into()],
            ..ServerConfig::default()
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let headers = |v: &[&str]| {
            let mut h = HeaderMap::new();
            for x in v {
                h.append("x-forwarded-for", HeaderValue::from_str(x).unwrap());
            }
            h
        };
        // A client on the LAN forges the header: its own address counts.
        assert_eq!(
            forwarded_client(ip("10.0.0.77"), &headers(&["1.2.3.4"]), &cfg),
            ip("10.0.0.77")
        );
        // Through the proxy: the hop it added (rightmost) is the client; what the client wrote
        // further left is ignored.
        assert_eq!(
            forwarded_client(ip("10.0.0.5"), &headers(&["6.6.6.6, 10.0.0.77"]), &cfg),
            ip("10.0.0.77")
        );
        // Two trusted proxies in a row are walked past.
        assert_eq!(
            forwarded_client(
                ip("10.0.0.5"),
                &headers(&["6.6.6.6, 10.0.0.88", "192.168.1.9"]),
                &cfg
            ),
            ip("10.0.0.88")
        );
        // Garbage or no header: the peer.
        assert_eq!(
            forwarded_client(ip("10.0.0.5"), &headers(&["not-an-ip"]), &cfg),
            ip("10.0.0.5")
        );
        assert_eq!(
            forwarded_client(ip("10.0.0.5"), &headers(&[]), &cfg),
            ip("10.0.0.5")
        );
        // Nothing trusted (the default): the header means nothing.
        assert_eq!(
            forwarded_client(
                ip("10.0.0.5"),
                &headers(&["10.0.0.77"]),
                &ServerConfig::default()
            ),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn one_account_is_throttled_across_addresses() {
        let cfg = ServerConfig {
            login_max_failures: 2,
            login_window_s: 60.0,
            ..ServerConfig::default()
        };
        let l = LoginLimiter::new(&cfg);
        // Eight addresses, one wrong guess each at "admin": 2 x 4 = 8 allowed, the 9th refused.
        for k in 0..8u8 {
            assert!(
                l.admit(IpAddr::from([10, 0, 1, k]), "admin", 0.0).is_ok(),
                "{k}"
            );
        }
        assert_eq!(l.admit(IpAddr::from([10, 0, 2, 1]), "ADMIN", 1.0), Err(59));
        // Other accounts are not affected; the window frees it.
        assert!(l.admit(IpAddr::from([10, 0, 2, 1]), "viewer", 1.0).is_ok());
        assert!(l.admit(IpAddr::from([10, 0, 2, 1]), "admin", 60.5).is_ok());
    }

    #[test]
    fn limiter_blocks_a_pair_after_max_failures_and_frees_it_after_the_window() {
        let cfg = ServerConfig {
            login_max_failures: 3,
            login_window_s: 60.0,
            ..ServerConfig::default()
        };
        let l = LoginLimiter::new(&cfg);
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        for i in 0..3 {
            assert!(l.admit(ip, "lan", 100.0 + f64::from(i)).is_ok());
        }
        assert_eq!(l.admit(ip, "LAN", 103.0), Err(57));
        assert!(
            l.admit(ip, "minh", 103.0).is_ok(),
            "another user is not blocked"
        );
        assert!(l.admit("10.0.0.8".parse().unwrap(), "lan", 103.0).is_ok());
        assert!(l.admit(ip, "lan", 160.5).is_ok(), "the window has passed");
        // A success forgives the pair's failures.
        l.succeeded(ip, "lan");
        assert!(l.admit(ip, "lan", 161.0).is_ok());
    }

    #[test]
    fn one_address_is_limited_across_usernames() {
        let cfg = ServerConfig {
            login_max_failures: 2,
            login_window_s: 60.0,
            ..ServerConfig::default()
        };
        let l = LoginLimiter::new(&cfg);
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        for i in 0..8 {
            assert!(l.admit(ip, &format!("user{i}"), 10.0).is_ok());
        }
        assert!(l.admit(ip, "fresh-name", 11.0).is_err());
    }

    #[test]
    fn the_limiter_forgets_old_entries_once_it_is_large() {
        let cfg = ServerConfig {
            login_max_failures: 5,
            login_window_s: 60.0,
            ..ServerConfig::default()
        };
        let l = LoginLimiter::new(&cfg);
        for i in 0..(LIMITER_PRUNE_ABOVE as u32 + 10) {
            let ip = IpAddr::from([10, 9, (i >> 8) as u8, i as u8]);
            assert!(l.admit(ip, &format!("x{i}"), 0.0).is_ok());
        }
        // An hour later one more attempt prunes every expired entry.
        assert!(l.admit("10.8.0.1".parse().unwrap(), "x", 3600.0).is_ok());
        assert_eq!(l.failures.lock().unwrap().len(), 1);
        assert_eq!(l.per_ip.lock().unwrap().len(), 1);
        assert_eq!(l.per_user.lock().unwrap().len(), 1);
    }

    #[test]
    fn cookies_are_parsed_and_origins_compared() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hw_session=abc; b=2"),
        );
        assert_eq!(cookie_value(&h, "hw_session"), Some("abc"));
        assert_eq!(cookie_value(&h, "hw"), None);
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(!cross_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(!cross_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_origin(&h));
    }
}
