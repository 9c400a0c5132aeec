//! Dashboard users and machine API tokens (tables `users` and `api_tokens`).
//!
//! - Users ([`User`], [`NewUser`]) have a [`Role`]: viewer (supervisor) < reviewer < admin.
//!   Passwords are stored only as argon2id PHC strings (OWASP parameters: 19 MiB, 2 passes,
//!   1 lane) with a random salt; [`Store::verify_password`] spends the same work whether or not
//!   the user exists, so timing does not tell which usernames exist.
//! - API tokens ([`ApiToken`], [`NewToken`]) let machines in: the ticket system, rating
//!   kiosks, third-party rating devices, monitoring. Each has one [`TokenScope`] (and a kiosk
//!   may be tied to a counter). The secret is shown once when created ([`IssuedToken`]); only
//!   its SHA-256 is stored, and [`Store::token_by_secret`] looks tokens up by that hash and
//!   compares in constant time.
//!
//! [`User::credential_stamp`] changes whenever the password changes, so a server holding
//! sessions can end those of a user whose password was changed or who was deleted by another
//! process (the `hallwatch user` command).

use crate::{Store, StoreError};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Longest password accepted (argon2 accepts more; this bounds the work a request can cause).
pub const MAX_PASSWORD_LEN: usize = 256;

/// Prefix of every API token secret, so leaked secrets are easy to recognise and grep for.
pub const TOKEN_PREFIX: &str = "hwt_";

/// What a dashboard user may do; ordered: `Viewer < Reviewer < Admin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A supervisor: watches the hall (live state, cameras, today's figures, alerts).
    Viewer,
    /// Also digs into history (per-person visits) and acknowledges alerts.
    Reviewer,
    /// Also manages users and API tokens.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Reviewer, Role::Admin];

    /// The name stored and used in the API: `viewer`, `reviewer`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role '{s}' (viewer, reviewer or admin)"))
    }
}

/// What an API token may reach. Each scope opens only its own endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenScope {
    /// Read-only API for monitoring and integrations (what a viewer reads, no camera images).
    Read,
    /// Only the Prometheus `/metrics` endpoint.
    Metrics,
    /// Ticket-system events (issued, called, finished, no-show).
    Tickets,
    /// A rating kiosk at a counter (may carry its counter number).
    Kiosk,
    /// Third-party rating devices.
    Ratings,
}

impl TokenScope {
    /// Every scope.
    pub const ALL: [TokenScope; 5] = [
        TokenScope::Read,
        TokenScope::Metrics,
        TokenScope::Tickets,
        TokenScope::Kiosk,
        TokenScope::Ratings,
    ];

    /// The name stored and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Metrics => "metrics",
            TokenScope::Tickets => "tickets",
            TokenScope::Kiosk => "kiosk",
            TokenScope::Ratings => "ratings",
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenScope::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown token scope '{s}' (read, metrics, tickets, kiosk or ratings)")
            })
    }
}

/// A dashboard user (never with its password hash).
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// What the user may do.
    pub role: Role,
    /// When created, Unix seconds.
    pub created: f64,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Changes whenever the password changes (a digest of the stored hash, not the hash).
    pub credential_stamp: String,
}

/// A user to add.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    /// Login name: 1 to 64 of letters, digits, `.`, `_`, `-`, `@`.
    pub username: &'a str,
    /// Role.
    pub role: Role,
    /// The password in clear ([`MIN_PASSWORD_LEN`] to [`MAX_PASSWORD_LEN`] characters); only
    /// its argon2id hash is stored.
    pub password: &'a str,
}

/// An API token (never with its secret).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    /// Row id.
    pub id: i64,
    /// Unique name saying which machine holds it (`kiosk-quay-3`, `he-thong-so-thu-tu`).
    pub name: String,
    /// What it may reach.
    pub scope: TokenScope,
    /// The counter a kiosk token belongs to.
    pub counter: Option<u32>,
    /// When created, Unix seconds.
    pub created: f64,
}

/// A token to create.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    /// Unique name: 1 to 64 of letters, digits, `.`, `_`, `-`, `@`.
    pub name: &'a str,
    /// Scope.
    pub scope: TokenScope,
    /// Counter (kiosk tokens only).
    pub counter: Option<u32>,
}

/// A token just created, with its secret: shown once, never stored.
#[derive(Clone, PartialEq)]
pub struct IssuedToken {
    /// The stored token.
    pub token: ApiToken,
    /// The secret for `Authorization: Bearer ...`: [`TOKEN_PREFIX`] and 64 hex digits.
    pub secret: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &self.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn invalid(what: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::InvalidRecord {
        what,
        detail: detail.into(),
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), StoreError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) {
        return Err(invalid(
            what,
            format!("name {name:?}: use 1 to 64 letters, digits, '.', '_', '-' or '@' (no spaces)"),
        ));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), StoreError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(invalid(
            "password",
            format!("too short: at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(invalid(
            "password",
            format!("too long: at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

fn argon2() -> Result<Argon2<'static>, StoreError> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| invalid("password", format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Io {
        path: "/dev/urandom".into(),
        op: "reading random bytes",
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(buf)
}

thread_local! {
    /// This thread's argon2 working memory (19 MiB), reused by every hash the thread runs.
    /// Allocated afresh per hash, glibc raised its mmap threshold after the first free and kept
    /// later blocks in its heaps, where small allocations split them: a flood of 200 logins,
    /// two hashes at a time, grew the process's peak memory by 170 MiB instead of 38.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs argon2 `ctx` over `password` and `salt` into `out` with this thread's working memory,
/// wiped afterwards (it holds material derived from the password).
fn hash_into(
    ctx: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    BLOCKS.with(|cell| {
        let Ok(mut blocks) = cell.try_borrow_mut() else {
            // Not reentrant in practice; if it ever were, fall back to a fresh buffer.
            return ctx.hash_password_into(password, salt, out);
        };
        let count = ctx.params().block_count();
        if blocks.len() < count {
            blocks.resize(count, argon2::Block::default());
        }
        let result = ctx.hash_password_into_with_memory(password, salt, out, &mut blocks[..count]);
        blocks[..count].fill(argon2::Block::default());
        result
    })
}

/// Hashes `password` with argon2id and a fresh random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    check_password(password)?;
    let salt_bytes = random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| invalid("password", format!("salt: {e}")))?;
    let ctx = argon2()?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    hash_into(&ctx, password.as_bytes(), &salt_bytes, &mut out)
        .map_err(|e| invalid("password", format!("hashing: {e}")))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(ctx.params())
            .map_err(|e| invalid("password", format!("argon2 parameters: {e}")))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| invalid("password", format!("hashing: {e}")))?),
    };
    Ok(phc.to_string())
}

fn verify_hash(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    // The parameters come from the stored string, so older hashes still verify.
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let ctx = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if hash_into(&ctx, password.as_bytes(), salt, &mut out).is_err() {
        return false;
    }
    // Output's equality is constant-time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

/// A hash to verify against when the user does not exist, so both paths cost the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of `s`, as 64 lowercase hex digits.
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn stamp(password_hash: &str) -> String {
    sha256_hex(password_hash)[..16].to_string()
}

type UserRow = (i64, String, String, String, f64, i64);

fn user_from_row(row: UserRow) -> Result<User, StoreError> {
    let (id, username, role, hash, created, disabled) = row;
    let role = role
        .parse()
        .map_err(|e: String| invalid("user", format!("row {id}: {e}")))?;
    Ok(User {
        id,
        username,
        role,
        created,
        disabled: disabled != 0,
        credential_stamp: stamp(&hash),
    })
}

fn token_from_row(
    (id, name, scope, counter, created): (i64, String, String, Option<i64>, f64),
) -> Result<ApiToken, StoreError> {
    let scope = scope
        .parse()
        .map_err(|e: String| invalid("token", format!("row {id}: {e}")))?;
    Ok(ApiToken {
        id,
        name,
        scope,
        counter: counter.and_then(|c| u32::try_from(c).ok()),
        created,
    })
}

const USER_COLS: &str = "id, username, role, password_hash, created, disabled";

impl Store {
    fn user_row(
        &self,
        filter: &str,
        arg: rusqlite::types::Value,
    ) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE {filter}");
        self.conn
            .query_row(&sql, [arg], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()
            .map_err(|e| self.err("reading a user", e))
    }

    /// Adds a user with an argon2id hash of the password. `Ok(None)` when the username is
    /// taken; an invalid name or password is [`StoreError::InvalidRecord`].
    pub fn add_user(&mut self, new: &NewUser<'_>, now: f64) -> Result<Option<User>, StoreError> {
        check_name("user", new.username)?;
        let hash = hash_password(new.password)?;
        let n = self
            .conn
            .execute(
                "INSERT INTO users (username, role, password_hash, created) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (username) DO NOTHING",
                params![new.username, new.role.as_str(), hash, now],
            )
            .map_err(|e| self.err("adding a user", e))?;
        if n == 0 {
            return Ok(None);
        }
        self.user(new.username)
    }

    /// Replaces a user's password. `Ok(false)` when there is no such user.
    pub fn set_password(&mut self, username: &str, password: &str) -> Result<bool, StoreError> {
        let hash = hash_password(password)?;
        let n = self
            .conn
            .execute(
                "UPDATE users SET password_hash = ?2 WHERE username = ?1",
                params![username, hash],
            )
            .map_err(|e| self.err("changing a password", e))?;
        Ok(n > 0)
    }

    /// Changes a user's role. `Ok(false)` when there is no such user.
    pub fn set_role(&mut self, username: &str, role: Role) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE users SET role = ?2 WHERE username = ?1",
                params![username, role.as_str()],
            )
            .map_err(|e| self.err("changing a role", e))?;
        Ok(n > 0)
    }

    /// Deletes a user. `Ok(false)` when there is no such user.
    pub fn delete_user(&mut self, username: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM users WHERE username = ?1", params![username])
            .map_err(|e| self.err("deleting a user", e))?;
        Ok(n > 0)
    }

    /// One user by name.
    pub fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.user_row("username = ?1", username.to_string().into())?
            .map(user_from_row)
            .transpose()
    }

    /// One user by row id.
    pub fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.user_row("id = ?1", id.into())?
            .map(user_from_row)
            .transpose()
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let op = "listing users";
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY username"))
            .map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(|e| self.err(op, e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(user_from_row(row.map_err(|e| self.err(op, e))?)?);
        }
        Ok(out)
    }

    /// The user when `password` is theirs and they are not disabled; `Ok(None)` otherwise.
    /// Costs one argon2id verification whether or not the user exists.
    pub fn verify_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        if password.chars().count() > MAX_PASSWORD_LEN {
            return Ok(None);
        }
        let row = self.user_row("username = ?1", username.to_string().into())?;
        let Some(row) = row else {
            let _ = verify_hash(dummy_hash(), password);
            return Ok(None);
        };
        let ok = verify_hash(&row.3, password);
        let user = user_from_row(row)?;
        Ok((ok && !user.disabled).then_some(user))
    }

    /// Creates an API token with a fresh random secret. `Ok(None)` when the name is taken.
    pub fn create_token(
        &mut self,
        new: &NewToken<'_>,
        now: f64,
    ) -> Result<Option<IssuedToken>, StoreError> {
        check_name("token", new.name)?;
        if new.counter.is_some() && new.scope != TokenScope::Kiosk {
            return Err(invalid("token", "only kiosk tokens belong to a counter"));
        }
        let secret = format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()?));
        let n = self
            .conn
            .execute(
                "INSERT INTO api_tokens (name, scope, counter, token_hash, created) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
                params![
                    new.name,
                    new.scope.as_str(),
                    new.counter.map(i64::from),
                    sha256_hex(&secret),
                    now
                ],
            )
            .map_err(|e| self.err("creating a token", e))?;
        if n == 0 {
            return Ok(None);
        }
        let token = self
            .tokens()?
            .into_iter()
            .find(|t| t.name == new.name)
            .ok_or_else(|| invalid("token", format!("'{}' vanished after insertion", new.name)))?;
        Ok(Some(IssuedToken { token, secret }))
    }

    /// Every token, by name (without secrets).
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let op = "listing tokens";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, name, scope, counter, created FROM api_tokens ORDER BY name",
            )
            .map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(|e| self.err(op, e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(token_from_row(row.map_err(|e| self.err(op, e))?)?);
        }
        Ok(out)
    }

    /// Deletes a token by name; its secret stops working at once. `Ok(false)` when there is
    /// no such token.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM api_tokens WHERE name = ?1", params![name])
            .map_err(|e| self.err("revoking a token", e))?;
        Ok(n > 0)
    }

    /// The token whose secret is `secret`, if any: looked up by SHA-256, then compared in
    /// constant time.
    pub fn token_by_secret(&self, secret: &str) -> Result<Option<ApiToken>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        let hash = sha256_hex(secret);
        let row = self
            .conn
            .prepare_cached(
                "SELECT id, name, scope, counter, created, token_hash FROM api_tokens \
                 WHERE token_hash = ?1",
            )
            .and_then(|mut s| {
                s.query_row([&hash], |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                        r.get::<_, String>(5)?,
                    ))
                })
                .optional()
            })
            .map_err(|e| self.err("looking up a token", e))?;
        match row {
            Some((t, stored)) if constant_time_eq(stored.as_bytes(), hash.as_bytes()) => {
                token_from_row(t).map(Some)
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("hw.db")).unwrap();
        (dir, s)
    }

    #[test]
    fn users_are_added_verified_changed_and_deleted() {
        let (_d, mut s) = store();
        let new = NewUser {
            username: "lan.nguyen",
            role: Role::Reviewer,
            password: "mat-khau-dai",
        };
        let u = s.add_user(&new, 10.0).unwrap().unwrap();
        assert_eq!(u.role, Role::Reviewer);
        assert!(
            s.add_user(&new, 11.0).unwrap().is_none(),
            "a taken name is refused"
        );
        let raw: String = s
            .conn
            .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
            .unwrap();
        assert!(raw.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{raw}");
        assert!(!raw.contains("mat-khau-dai"));
        assert_eq!(
            s.verify_password("lan.nguyen", "mat-khau-dai").unwrap(),
            Some(u.clone())
        );
        assert_eq!(
            s.verify_password("lan.nguyen", "wrong-password").unwrap(),
            None
        );
        assert_eq!(s.verify_password("nobody", "mat-khau-dai").unwrap(), None);
        assert!(s.set_password("lan.nguyen", "mat-khau-moi").unwrap());
        let changed = s.user("lan.nguyen").unwrap().unwrap();
        assert_ne!(changed.credential_stamp, u.credential_stamp);
        assert_eq!(
            s.verify_password("lan.nguyen", "mat-khau-dai").unwrap(),
            None
        );
        assert!(
            s.verify_password("lan.nguyen", "mat-khau-moi")
                .unwrap()
                .is_some()
        );
        assert!(s.set_role("lan.nguyen", Role::Admin).unwrap());
        assert_eq!(s.user_by_id(u.id).unwrap().unwrap().role, Role::Admin);
        assert!(!s.set_password("nobody", "whatever-long").unwrap());
        assert_eq!(s.users().unwrap().len(), 1);
        assert!(s.delete_user("lan.nguyen").unwrap());
        assert!(!s.delete_user("lan.nguyen").unwrap());
        assert!(s.users().unwrap().is_empty());
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verifies with the crate's own verifier (same PHC string, same bytes) ...
        let ours = hash_password("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // ... and a hash made by the crate, with other parameters (an older policy), verifies
        // with ours, on the same thread whose buffer still holds the last hash's size.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"old password!", &salt)
        .unwrap()
        .to_string();
        assert!(verify_hash(&older, "old password!"));
        assert!(!verify_hash(&older, "old password?"));
        assert!(verify_hash(&ours, "correct horse battery"));
        assert!(!verify_hash(&ours, "correct horse batterz"));
        assert!(!verify_hash("$argon2id$v=19$m=19456,t=2,p=1$bad", "x"));
    }

    #[test]
    fn bad_names_and_passwords_are_refused() {
        let (_d, mut s) = store();
        for (username, password) in [
            ("", "long-enough"),
            ("has space", "long-enough"),
            ("ok", "short"),
        ] {
            let err = s
                .add_user(
                    &NewUser {
                        username,
                        role: Role::Viewer,
                        password,
                    },
                    0.0,
                )
                .unwrap_err();
            assert!(matches!(err, StoreError::InvalidRecord { .. }), "{err}");
        }
        assert!(s.users().unwrap().is_empty());
    }

    #[test]
    fn tokens_are_found_by_secret_only_until_revoked() {
        let (_d, mut s) = store();
        let issued = s
            .create_token(
                &NewToken {
                    name: "kiosk-quay-3",
                    scope: TokenScope::Kiosk,
                    counter: Some(3),
                },
                5.0,
            )
            .unwrap()
            .unwrap();
        assert!(issued.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(issued.secret.len(), TOKEN_PREFIX.len() + 64);
        assert!(!format!("{issued:?}").contains(&issued.secret));
        let stored: String = s
            .conn
            .query_row("SELECT token_hash FROM api_tokens", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, sha256_hex(&issued.secret));
        let found = s.token_by_secret(&issued.secret).unwrap().unwrap();
        assert_eq!(found, issued.token);
        assert_eq!(found.counter, Some(3));
        assert_eq!(found.scope, TokenScope::Kiosk);
        let mut wrong = issued.secret.clone();
        wrong.pop();
        wrong.push('x');
        assert_eq!(s.token_by_secret(&wrong).unwrap(), None);
        assert_eq!(s.token_by_secret("not-a-token").unwrap(), None);
        assert!(
            s.create_token(
                &NewToken {
                    name: "kiosk-quay-3",
                    scope: TokenScope::Read,
                    counter: None
                },
                6.0
            )
            .unwrap()
            .is_none()
        );
        assert!(
            s.create_token(
                &NewToken {
                    name: "t2",
                    scope: TokenScope::Read,
                    counter: Some(1)
                },
                6.0
            )
            .is_err()
        );
        assert!(s.revoke_token("kiosk-quay-3").unwrap());
        assert_eq!(s.token_by_secret(&issued.secret).unwrap(), None);
        assert!(s.tokens().unwrap().is_empty());
    }

    #[test]
    fn roles_are_ordered_and_parse() {
        assert!(Role::Viewer < Role::Reviewer && Role::Reviewer < Role::Admin);
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        for s in TokenScope::ALL {
            assert_eq!(s.as_str().parse::<TokenScope>().unwrap(), s);
        }
        assert!("root".parse::<Role>().is_err());
    }
}

/// One change to a user account or API token, for the audit log.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    /// When (Unix seconds).
    pub t: f64,
    /// Who: the admin's username, or `cli:<system user>`.
    pub actor: String,
    /// What: `user_added`, `role_changed`, `password_set`, `password_changed` (by the user),
    /// `user_deleted`, `token_created`, `token_revoked`.
    pub action: String,
    /// Which user or token.
    pub target: String,
    /// More, e.g. `role=admin` or `scope=kiosk counter=3`; never a password or a secret.
    pub detail: String,
}

/// The most entries [`Store::audit_log`] returns at once.
pub const AUDIT_LOG_MAX: usize = 10_000;

impl Store {
    /// Adds `entry` to the audit log.
    pub fn audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        if !entry.t.is_finite() {
            return Err(StoreError::InvalidRecord {
                what: "audit entry",
                detail: format!("time {} is not a finite number", entry.t),
            });
        }
        self.conn
            .prepare_cached(
                "INSERT INTO audit_log (t, actor, action, target, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    entry.t,
                    entry.actor,
                    entry.action,
                    entry.target,
                    entry.detail
                ])
            })
            .map_err(|e| self.err("writing the audit log", e))?;
        Ok(())
    }

    /// The newest `limit` audit entries (at most [`AUDIT_LOG_MAX`]), newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::try_from(limit.min(AUDIT_LOG_MAX)).unwrap_or(0);
        let op = "reading the audit log";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t, actor, action, target, detail FROM audit_log \
                 ORDER BY t DESC, id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(op, e))?;
        let rows = stmt
            .query_map(params![limit], |r| {
                Ok(AuditEntry {
                    t: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    target: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(|e| self.err(op, e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(op, e))
    }
}
