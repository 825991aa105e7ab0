//! Signing in and out, sessions and CSRF.
//!
//! A session is a random token in an HttpOnly, SameSite=Strict cookie; the
//! database keeps only its hash. Every state-changing request must also carry
//! the session's CSRF token in the `X-CSRF-Token` header. Failed sign-ins are
//! limited per email address and per client IP address (when the server
//! knows it: `serve` records it; requests made in process may have none).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::Extensions;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use blake2::{Blake2b512, Digest};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::accounts::{load_admin, random_hex, verify_password, AdminAccount};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::server::{Access, ApiRoute, AppState};

pub const SESSION_COOKIE: &str = "rostergate_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
const SESSION_SECONDS: i64 = 12 * 60 * 60;
/// Failed sign-ins allowed per email address within the window.
const MAX_FAILURES: usize = 5;
/// Failed sign-ins allowed per client IP address within the window, over
/// all email addresses: one machine trying many accounts. Higher than per
/// address, since a school's staff may share one address behind NAT.
const MAX_FAILURES_PER_IP: usize = 20;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Verified when the email is unknown, so both cases take as long.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crate::accounts::hash_password(&random_hex(16)).unwrap_or_default())
}

pub(crate) fn token_hash(token: &str) -> String {
    Blake2b512::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keys held before the limiter forgets those without a recent failure.
const SWEEP_AT_KEYS: usize = 1024;

/// Remembers recent failed sign-ins per email address (and per client IP).
/// Only keys with a failure inside the window are kept, so sign-ins with
/// ever new addresses cannot grow it without bound.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl SignInLimiter {
    fn recent(&self, email: &str) -> usize {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = failures.get_mut(email) else {
            return 0;
        };
        list.retain(|t| t.elapsed() < FAILURE_WINDOW);
        list.len()
    }

    fn record_failure(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= SWEEP_AT_KEYS {
            failures.retain(|_, list| {
                list.retain(|t| t.elapsed() < FAILURE_WINDOW);
                !list.is_empty()
            });
        }
        failures
            .entry(email.to_string())
            .or_default()
            .push(Instant::now());
    }

    fn clear(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(email);
    }
}

/// The admin behind a request's session cookie. For requests that change
/// state, the CSRF header must match the session's token.
pub struct CurrentAdmin {
    pub admin: AdminAccount,
    pub csrf_token: String,
    pub(crate) token_hash: String,
}

fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for CurrentAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = cookie_value(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT admin_id, csrf_token FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(&hash)
        .bind(now())
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::Unauthorized)?;
        let admin_id: i64 = row.try_get("admin_id")?;
        let csrf_token: String = row.try_get("csrf_token")?;
        let changes_state = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if changes_state {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(csrf_token.as_str()) {
                return Err(ApiError::Forbidden(
                    "a valid CSRF token on this request (reload the page)",
                ));
            }
        }
        let admin = load_admin(&state.pool, admin_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(CurrentAdmin {
            admin,
            csrf_token,
            token_hash: hash,
        })
    }
}

#[derive(Deserialize)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub admin: AdminAccount,
    pub csrf_token: String,
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("a cookie of hex and ASCII")
}

async fn sign_in(
    State(state): State<AppState>,
    extensions: Extensions,
    Json(request): Json<SignIn>,
) -> ApiResult<Response> {
    let email = request.email.trim().to_lowercase();
    // Keys of one map: an email address cannot start with "ip ".
    let ip = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| format!("ip {}", address.ip()));
    if state.sign_in_limiter.recent(&email) >= MAX_FAILURES
        || ip
            .as_deref()
            .is_some_and(|ip| state.sign_in_limiter.recent(ip) >= MAX_FAILURES_PER_IP)
    {
        return Err(ApiError::TooManyRequests);
    }
    let row = sqlx::query("SELECT id, password_hash FROM admins WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.pool)
        .await?;
    let admin_id = match &row {
        Some(row) => {
            let hash: String = row.try_get("password_hash")?;
            verify_password(&request.password, &hash)
                .then(|| row.try_get::<i64, _>("id"))
                .transpose()?
        }
        None => {
            verify_password(&request.password, dummy_hash());
            None
        }
    };
    let Some(admin_id) = admin_id else {
        state.sign_in_limiter.record_failure(&email);
        if let Some(ip) = &ip {
            state.sign_in_limiter.record_failure(ip);
        }
        return Err(ApiError::SignInFailed);
    };
    state.sign_in_limiter.clear(&email);
    let token = random_hex(32);
    let csrf_token = random_hex(16);
    sqlx::query("INSERT INTO sessions (token_hash, admin_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(admin_id)
        .bind(&csrf_token)
        .bind(now() + SESSION_SECONDS)
        .execute(&state.pool)
        .await?;
    let admin = load_admin(&state.pool, admin_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let mut response = Json(SessionInfo { admin, csrf_token }).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        session_cookie(&token, SESSION_SECONDS, state.config.secure_cookies),
    );
    Ok(response)
}

async fn sign_out(State(state): State<AppState>, current: CurrentAdmin) -> ApiResult<Response> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(&current.token_hash)
        .execute(&state.pool)
        .await?;
    let mut response = Json(serde_json::json!({ "signedOut": true })).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        session_cookie("", 0, state.config.secure_cookies),
    );
    Ok(response)
}

async fn me(current: CurrentAdmin) -> Json<SessionInfo> {
    Json(SessionInfo {
        admin: current.admin,
        csrf_token: current.csrf_token,
    })
}

pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::new(
            Method::POST,
            "/api/auth/sign-in",
            post(sign_in),
            Access::Public,
            "Sign in with {email, password}: sets the session cookie, returns {admin, csrfToken}",
        ),
        ApiRoute::new(
            Method::POST,
            "/api/auth/sign-out",
            post(sign_out),
            Access::Session,
            "End the session",
        ),
        ApiRoute::new(
            Method::GET,
            "/api/auth/me",
            get(me),
            Access::Session,
            "The signed-in admin and the CSRF token",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_forgets_keys_whose_failures_are_old() {
        let limiter = SignInLimiter::default();
        // Checking an address does not remember it.
        assert_eq!(limiter.recent("nobody@x.org"), 0);
        assert!(limiter.failures.lock().unwrap().is_empty());
        let long_ago = Instant::now()
            .checked_sub(FAILURE_WINDOW + Duration::from_secs(1))
            .expect("a clock older than the window");
        {
            let mut failures = limiter.failures.lock().unwrap();
            for i in 0..SWEEP_AT_KEYS {
                failures.insert(format!("old{i}@x.org"), vec![long_ago]);
            }
        }
        limiter.record_failure("recent@x.org");
        limiter.record_failure("recent@x.org");
        let failures = limiter.failures.lock().unwrap();
        assert_eq!(failures.len(), 1, "only the recent key is kept");
        drop(failures);
        assert_eq!(limiter.recent("recent@x.org"), 2);
    }
}
