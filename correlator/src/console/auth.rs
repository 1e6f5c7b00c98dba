//! Who is calling, and may they: sign-in with throttling, browser sessions (cookie +
//! CSRF token), API tokens, roles; and the accounts' own endpoints.
//!
//! - A browser signs in with `POST /api/v1/login`. The session's secret travels only in
//!   a `__Host-gw_session` cookie: `Secure` (HTTPS only), `HttpOnly` (no script reads
//!   it), `SameSite=Strict` (no other site's page sends it), `Path=/`, no `Domain`.
//! - Every change made with a session (any method but GET/HEAD) must carry the
//!   session's CSRF token in `X-CSRF-Token`, and an `Origin`, when the browser sends
//!   one, must be this console's. The page gets the token from the login answer or
//!   `GET /api/v1/session`.
//! - Automations send `Authorization: Bearer gwt_…`. A token has a role at most its
//!   owner's, can expire, and is revoked by an admin; it needs no CSRF token (a browser
//!   never adds it on its own).
//! - Sign-ins are throttled per (account, address) and per address: after
//!   `login_max_failures` failures of an account from one address within 15 minutes
//!   (four times as many from one address over all accounts), further attempts are
//!   refused without checking the password for `login_lockout_secs`, doubled at each
//!   further failure up to an hour. An attempt counts as a failure before its password
//!   is checked (a success takes it back), so a burst of concurrent attempts cannot all
//!   pass the check; and a lock is never of the account alone, so nobody can keep
//!   `admin` out from their own address. At most `login_max_verifications` passwords
//!   are checked at once (argon2id, 19 MiB each): beyond, `503` with `Retry-After`.
//!   Changing one's password is throttled the same way.
//! - A failed sign-in's audit record names the account only when it exists (users type
//!   passwords into the name field).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Extension, Path, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::Console;
use crate::store::accounts::{ApiToken, Role, SessionLimits, User};

pub(crate) const SESSION_COOKIE: &str = "__Host-gw_session";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// How a caller proved who they are.
#[derive(Clone, Debug)]
pub enum Via {
    /// A browser session: its secret (the cookie) and its CSRF token.
    Session {
        /// The session's secret (the cookie).
        secret: String,
        /// The token the page sends back in `X-CSRF-Token`.
        csrf: String,
    },
    /// An API token: its id and name.
    Token {
        /// The token's id.
        id: i64,
        /// The token's name.
        name: String,
    },
}

/// The caller of an API request, set by [`authenticate`].
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// The role this request acts with (a token's may be lower than its user's).
    pub role: Role,
    pub(crate) via: Via,
}

impl Caller {
    /// The name written to the audit log: the user, and the token when one was used.
    pub fn actor(&self) -> String {
        match &self.via {
            Via::Session { .. } => self.user.name.clone(),
            Via::Token { name, .. } => format!("{} (token {name})", self.user.name),
        }
    }

    pub(crate) fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(role.as_str()))
        }
    }
}

/// The peer's address (set by the connection loop).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

/// Failed sign-ins, by account and by address.
#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Failures>>,
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    first_us: i64,
    locked_until_us: i64,
}

const WINDOW_US: i64 = 15 * 60 * 1_000_000;
const MAX_LOCK_US: i64 = 3600 * 1_000_000;

impl Throttle {
    /// One attempt against `keys`, each with its own failure limit: refused with the
    /// seconds left when one of them is locked; otherwise counted as a failure at once,
    /// before the password is checked (so that concurrent attempts cannot all pass),
    /// and taken back by [`Throttle::succeed`]. `max` failures of a key lock it for
    /// `lockout_us`, doubled at each further failure up to an hour.
    pub fn attempt(&self, keys: &[(String, u32)], lockout_us: i64, now_us: i64) -> Result<(), u64> {
        let Ok(mut map) = self.entries.lock() else { return Err(1) };
        let left = keys
            .iter()
            .filter_map(|(k, _)| map.get(k))
            .map(|f| f.locked_until_us - now_us)
            .filter(|left| *left > 0)
            .max();
        if let Some(left) = left {
            return Err((left as u64).div_ceil(1_000_000));
        }
        if map.len() > 100_000 {
            map.retain(|_, f| now_us - f.first_us < WINDOW_US || f.locked_until_us > now_us);
        }
        for (k, max) in keys {
            let f = map.entry(k.clone()).or_insert(Failures {
                count: 0,
                first_us: now_us,
                locked_until_us: 0,
            });
            if now_us - f.first_us > WINDOW_US && f.locked_until_us <= now_us {
                *f = Failures { count: 0, first_us: now_us, locked_until_us: 0 };
            }
            f.count += 1;
            if f.count >= *max {
                let doublings = (f.count - max).min(12);
                f.locked_until_us = now_us + (lockout_us << doublings).min(MAX_LOCK_US);
            }
        }
        Ok(())
    }

    /// The attempt succeeded: the first key's failures are cleared, the others lose the
    /// failure the attempt counted.
    pub fn succeed(&self, keys: &[String]) {
        let Ok(mut map) = self.entries.lock() else { return };
        for (i, k) in keys.iter().enumerate() {
            if i == 0 {
                map.remove(k);
            } else if let Some(f) = map.get_mut(k) {
                f.count = f.count.saturating_sub(1);
                if f.count == 0 {
                    map.remove(k);
                }
            }
        }
    }
}

/// One attempt of `kind` (`login`, `password`) at `name`'s password from `ip`, counted
/// by the throttle before the password is checked: its keys, for
/// [`Throttle::succeed`], or the refusal.
fn attempt(c: &Console, kind: &str, name: &str, ip: &str) -> ApiResult<[String; 2]> {
    let keys = [format!("{kind}:{name}|{ip}"), format!("ip:{ip}")];
    let max = c.cfg.login_max_failures.max(1);
    let limits = [(keys[0].clone(), max), (keys[1].clone(), max.saturating_mul(4))];
    let lockout_us = c.cfg.login_lockout_secs as i64 * 1_000_000;
    c.throttle.attempt(&limits, lockout_us, now_us()).map_err(throttled)?;
    Ok(keys)
}

/// Refused: too many attempts.
fn throttled(secs: u64) -> ApiError {
    ApiError {
        retry_after: Some(secs),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "login_throttled",
            format!("too many failed attempts for this account from this address; try again in {secs} s"),
        )
    }
}

/// Waits (briefly) for a turn to check a password: argon2id takes 19 MiB and a core
/// for a while, so only so many run at once.
async fn verification_turn(c: &Console) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
    let wait = tokio::time::timeout(std::time::Duration::from_secs(2), c.verifications.acquire());
    match wait.await {
        Ok(Ok(p)) => Ok(p),
        _ => Err(ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many sign-ins at once; try again in a second",
            )
        }),
    }
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// API paths open without a caller.
fn public(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("POST", "/api/v1/login") | ("GET", "/api/openapi.json") | ("GET", "/api/v1/health")
    )
}

/// The middleware in front of `/api/`: finds the caller, checks CSRF on changes made
/// with a session, and puts the [`Caller`] in the request's extensions.
pub async fn authenticate(State(c): State<Arc<Console>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !path.starts_with("/api/") || public(req.method(), &path) {
        return next.run(req).await;
    }
    match caller_of(&c, req.method(), req.headers()).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn caller_of(c: &Console, method: &Method, headers: &HeaderMap) -> ApiResult<Caller> {
    if let Some(token) = bearer(headers) {
        let token = token.to_string();
        let found = c.db.write(move |s| s.token_caller(&token)).await?;
        let t = found.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the API token is unknown, expired or revoked",
            )
        })?;
        return Ok(Caller {
            role: t.role,
            user: t.user,
            via: Via::Token { id: t.token_id, name: t.token_name },
        });
    }
    let secret = cookie(headers, SESSION_COOKIE).ok_or_else(ApiError::unauthenticated)?.to_string();
    let limits = c.session_limits();
    let found = {
        let secret = secret.clone();
        c.db.write(move |s| s.session(&secret, limits)).await?
    };
    let session = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the session ended; sign in again",
        )
    })?;
    let changes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !same_secret(sent, &session.csrf) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong X-CSRF-Token",
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            if origin != format!("https://{host}") {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    format!("a change from the origin `{origin}` is refused"),
                ));
            }
        }
    }
    Ok(Caller {
        role: session.user.role,
        user: session.user,
        via: Via::Session { secret, csrf: session.csrf },
    })
}

/// The body of `POST /api/login`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// The user's name.
    pub name: String,
    pub(crate) password: String,
}

/// The signed-in user and the CSRF token of the session.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    /// The user's name.
    pub name: String,
    /// The name shown in the console.
    pub display_name: String,
    /// `viewer`, `analyst` or `admin`.
    pub role: String,
    /// Send it back in `X-CSRF-Token` with every change (session callers only).
    pub csrf: Option<String>,
}

fn session_info(c: &Caller) -> SessionInfo {
    SessionInfo {
        name: c.user.name.clone(),
        display_name: c.user.display_name.clone(),
        role: c.role.as_str().to_string(),
        csrf: match &c.via {
            Via::Session { csrf, .. } => Some(csrf.clone()),
            Via::Token { .. } => None,
        },
    }
}

/// Sign in: sets the session cookie.
#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = SessionInfo), (status = 401, body = super::error::ErrorBody),
              (status = 429, description = "throttled; see Retry-After", body = super::error::ErrorBody)))]
pub async fn login(
    State(c): State<Arc<Console>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Response> {
    let name: String = body.name.trim().chars().take(64).collect();
    let ip = peer.0.ip().to_string();
    let keys = attempt(&c, "login", &name, &ip)?;
    let user = {
        let _turn = verification_turn(&c).await?;
        let (name, password) = (name.clone(), body.password);
        c.db.read(move |s| s.check_login(&name, &password)).await?
    };
    let Some(user) = user else {
        let (typed, ip2) = (name.clone(), ip.clone());
        c.db.write(move |s| {
            // The name only when it is an account's: otherwise it may be a password.
            let actor = match s.user(&typed)? {
                Some(u) => u.name,
                None => "(unknown account)".to_string(),
            };
            s.append_audit_record(
                "login.failed",
                &actor,
                None,
                &serde_json::json!({"address": ip2}),
            )
        })
        .await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_failed",
            "wrong name or password",
        ));
    };
    c.throttle.succeed(&keys);
    let ua =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let limits = c.session_limits();
    let (secret, csrf) = {
        let user = user.clone();
        c.db.write(move |s| s.create_session(&user, &ip, &ua, limits)).await?
    };
    let max_age = limits.lifetime_us / 1_000_000;
    let set = format!(
        "{SESSION_COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    );
    let info = SessionInfo {
        name: user.name.clone(),
        display_name: user.display_name.clone(),
        role: user.role.as_str().into(),
        csrf: Some(csrf),
    };
    Ok(([(header::SET_COOKIE, set)], Json(info)).into_response())
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session", responses((status = 204)))]
pub async fn logout(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    if let Via::Session { secret, .. } = &caller.via {
        let (secret, actor) = (secret.clone(), caller.actor());
        c.db.write(move |s| s.end_session(&secret, &actor)).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/v1/session", tag = "session", responses((status = 200, body = SessionInfo)))]
pub async fn session(Extension(caller): Extension<Caller>) -> Json<SessionInfo> {
    Json(session_info(&caller))
}

/// The body of a password change: the current password and the new one.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub(crate) current: String,
    /// The new password (at least 12 characters).
    pub new: String,
}

/// Changes the caller's own password (ends the caller's other sessions too).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = super::error::ErrorBody)))]
pub async fn change_own_password(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Extension(peer): Extension<Peer>,
    Json(body): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let name = caller.user.name.clone();
    // Throttled as sign-in is: the current password is checked here too.
    let ip = peer.0.ip().to_string();
    let keys = attempt(&c, "password", &name, &ip)?;
    let ok = {
        let _turn = verification_turn(&c).await?;
        let (name, current) = (name.clone(), body.current);
        c.db.read(move |s| s.check_login(&name, &current)).await?
    };
    if ok.is_none() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_failed",
            "the current password is wrong",
        ));
    }
    c.throttle.succeed(&keys);
    c.db.write(move |s| s.set_password(&name, &body.new, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every user (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", responses((status = 200, body = [UserView])))]
pub async fn list_users(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<User>>> {
    caller.require(Role::Admin)?;
    Ok(Json(c.db.read(|s| s.users()).await?))
}

/// A user as the API shows it (the password hash never leaves the store).
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// The user's id.
    pub id: i64,
    /// The sign-in name.
    pub name: String,
    /// The name shown in the console.
    pub display_name: String,
    /// `viewer`, `analyst` or `admin`.
    pub role: String,
    /// A disabled user cannot sign in; their sessions and tokens stop working.
    pub disabled: bool,
    pub(crate) created: String,
    pub(crate) password_changed: String,
}

/// The body of `POST /api/users`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    /// The sign-in name.
    pub name: String,
    /// The name shown in the console.
    #[serde(default)]
    pub display_name: String,
    /// `viewer`, `analyst` or `admin`.
    pub role: String,
    pub(crate) password: String,
}

fn role_of(s: &str) -> ApiResult<Role> {
    Role::parse(s).ok_or_else(|| {
        ApiError::bad_request(format!("unknown role `{s}`: viewer, analyst or admin"))
    })
}

/// Adds a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 422, body = super::error::ErrorBody)))]
pub async fn add_user(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<Option<User>>)> {
    caller.require(Role::Admin)?;
    let role = role_of(&body.role)?;
    let actor = caller.actor();
    let user =
        c.db.write(move |s| {
            s.add_user(&body.name, &body.display_name, role, &body.password, &actor)?;
            s.user(&body.name)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The body of `PATCH /api/users/{name}`: only what is given changes.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    /// The new role.
    pub role: Option<String>,
    /// Disable (or enable) the user.
    pub disabled: Option<bool>,
    pub(crate) password: Option<String>,
}

/// Changes a user's role, password or whether it is disabled (admin).
#[utoipa::path(post, path = "/api/v1/users/{name}", tag = "accounts", request_body = UserChange,
    params(("name" = String, Path)), responses((status = 200, body = UserView), (status = 404, body = super::error::ErrorBody)))]
pub async fn change_user(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Json(body): Json<UserChange>,
) -> ApiResult<Json<Option<User>>> {
    caller.require(Role::Admin)?;
    let role = body.role.as_deref().map(role_of).transpose()?;
    if name == caller.user.name
        && (body.disabled == Some(true) || role.is_some_and(|r| r < Role::Admin))
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            "an admin cannot disable or demote themself (ask another admin)",
        ));
    }
    let actor = caller.actor();
    let user =
        c.db.write(move |s| {
            if let Some(r) = role {
                s.set_user_role(&name, r, &actor)?;
            }
            if let Some(d) = body.disabled {
                s.set_user_disabled(&name, d, &actor)?;
            }
            if let Some(p) = &body.password {
                s.set_password(&name, p, &actor)?;
            }
            s.user(&name)?
                .ok_or_else(|| crate::store::StoreError::NotFound(format!("user `{name}`")))
                .map(Some)
        })
        .await?;
    Ok(Json(user))
}

/// Every API token, revoked ones included (admin). Secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = [TokenView])))]
pub async fn list_tokens(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    caller.require(Role::Admin)?;
    Ok(Json(c.db.read(|s| s.tokens()).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TokenView {
    pub id: i64,
    pub name: String,
    pub user: String,
    pub role: String,
    pub(crate) created: String,
    pub(crate) expires: Option<String>,
    pub(crate) last_used: Option<String>,
    pub revoked: Option<String>,
}

/// The body of `POST /api/tokens`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    /// A name for the token (what it is for).
    pub name: String,
    /// The user the token acts as.
    pub user: String,
    /// At most the user's role.
    pub role: String,
    /// Days until it expires; none: until revoked.
    pub expires_days: Option<u32>,
}

/// The new token's secret: shown once, here.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The token's id.
    pub id: i64,
    pub(crate) token: String,
}

/// Creates an API token (admin).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = super::error::ErrorBody)))]
pub async fn add_token(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    caller.require(Role::Admin)?;
    let role = role_of(&body.role)?;
    let expires = body.expires_days.map(|d| now_us() + d as i64 * 86_400_000_000);
    let actor = caller.actor();
    let (id, token) =
        c.db.write(move |s| s.create_token(&body.name, &body.user, role, expires, &actor)).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { id, token })))
}

/// Revokes an API token (admin).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::error::ErrorBody)))]
pub async fn revoke_token(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let actor = caller.actor();
    c.db.write(move |s| s.revoke_token(id, &actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl Console {
    pub(crate) fn session_limits(&self) -> SessionLimits {
        SessionLimits {
            lifetime_us: self.cfg.session_hours.max(1) as i64 * 3_600_000_000,
            idle_us: self.cfg.idle_minutes.max(1) as i64 * 60_000_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_counts_before_checking_locks_at_the_limit_and_doubles() {
        let t = Throttle::default();
        let keys = [("login:lan|10.0.0.9".to_string(), 3), ("ip:10.0.0.9".to_string(), 12)];
        // Three attempts pass (each counted before its check), the fourth is refused.
        for _ in 0..3 {
            assert_eq!(t.attempt(&keys, 60_000_000, 0), Ok(()));
        }
        assert_eq!(t.attempt(&keys, 60_000_000, 1), Err(60));
        assert_eq!(t.attempt(&keys, 60_000_000, 61_000_000), Ok(()), "expired");
        assert_eq!(t.attempt(&keys, 60_000_000, 61_000_001), Err(120), "doubled");
        // Another address for the same account is not locked.
        let other = [("login:lan|10.0.0.7".to_string(), 3), ("ip:10.0.0.7".to_string(), 12)];
        assert_eq!(t.attempt(&other, 60_000_000, 61_000_002), Ok(()));
        t.succeed(&other.clone().map(|(k, _)| k));
        assert_eq!(t.attempt(&other, 60_000_000, 61_000_003), Ok(()));
    }

    #[test]
    fn cookies_and_secrets() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; __Host-gw_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        assert!(
            same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab")
        );
    }
}
