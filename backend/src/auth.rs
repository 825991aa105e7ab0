//! Signing in and out, and the limit on sign-in attempts.
//!
//! A session is a random token in an HttpOnly, SameSite=Strict cookie; the
//! database keeps only its hash. Every state-changing request must also
//! carry the session's CSRF token in the `X-CSRF-Token` header
//! (`access::enforce` checks both).
//!
//! Sign-in attempts are limited per email address and per client IP
//! address (when the server knows it: `serve` records it; requests made in
//! process may have none). Each attempt is counted in the database before
//! its password is checked, in one statement, so any number of parallel
//! attempts, on any number of server processes, gets at most the limit; a
//! success takes its count back. Passwords are checked on blocking threads,
//! a few at a time, never on the async workers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::{Extensions, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use blake2::{Blake2b512, Digest};
use shared::api::{SessionInfo, SignIn};
use shared::dictionary::LIMITS;
use sqlx::{AnyPool, Row};

use crate::access::{Access, Caller, Credential};
use crate::accounts::{load_admin, random_hex, verify_password};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::server::{ApiRoute, AppState};

pub const SESSION_COOKIE: &str = "rostergate_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
const SESSION_SECONDS: i64 = 12 * 60 * 60;
/// The window sign-in attempts are counted in.
pub const SIGN_IN_WINDOW_SECONDS: i64 = 15 * 60;
/// Failed sign-ins allowed per email address within the window.
const MAX_ATTEMPTS_PER_EMAIL: i64 = 5;
/// Failed sign-ins allowed per client IP address within the window, over
/// all email addresses: one machine trying many accounts. Higher than per
/// address, since a school's staff may share one address behind NAT.
const MAX_ATTEMPTS_PER_IP: i64 = 20;
/// The longest password checked; a longer one is refused before hashing.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Verified when the email is unknown, so both cases take as long.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crate::accounts::hash_password(&random_hex(16)).unwrap_or_default())
}

/// The hash the database keeps of a session, token or upload session.
pub fn token_hash(token: &str) -> String {
    Blake2b512::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Counts one sign-in attempt for `key` and returns how many its window
/// holds now (this one included). One statement, so concurrent attempts
/// are counted one after the other; a window older than
/// `SIGN_IN_WINDOW_SECONDS` starts again at one.
async fn count_attempt(pool: &AnyPool, key: &str) -> ApiResult<i64> {
    let now = now();
    let window_over = now - SIGN_IN_WINDOW_SECONDS;
    let row = sqlx::query(
        "INSERT INTO sign_in_limits (limit_key, window_start, attempts) VALUES ($1, $2, 1)
         ON CONFLICT (limit_key) DO UPDATE SET
           attempts = CASE WHEN sign_in_limits.window_start <= $3 THEN 1 ELSE sign_in_limits.attempts + 1 END,
           window_start = CASE WHEN sign_in_limits.window_start <= $4 THEN $5 ELSE sign_in_limits.window_start END
         RETURNING attempts",
    )
    .bind(key)
    .bind(now)
    .bind(window_over)
    .bind(window_over)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get("attempts")?)
}

/// Takes back one counted attempt of `key` (it succeeded, or was not made).
async fn take_back_attempt(pool: &AnyPool, key: &str) -> ApiResult<()> {
    sqlx::query(
        "UPDATE sign_in_limits SET attempts = attempts - 1 WHERE limit_key = $1 AND attempts > 0",
    )
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the attempts of `key` (a successful sign-in to that address).
async fn forget_attempts(pool: &AnyPool, key: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM sign_in_limits WHERE limit_key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("a cookie of hex and ASCII")
}

/// Checks a password against a stored hash on a blocking thread, with at
/// most `AppState::password_hashing` checks at once.
async fn password_matches(
    state: &AppState,
    password: String,
    hash: Option<String>,
) -> ApiResult<bool> {
    let permit = state
        .password_hashing
        .clone()
        .acquire_owned()
        .await
        .map_err(anyhow::Error::from)?;
    let matches = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                verify_password(&password, dummy_hash());
                false
            }
        }
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(matches)
}

/// The admin whose email and password these are, if any (slow on purpose).
async fn check_credentials(
    state: &AppState,
    email: &str,
    password: String,
) -> ApiResult<Option<i64>> {
    let row = sqlx::query("SELECT id, password_hash FROM admins WHERE email = $1")
        .bind(email)
        .fetch_optional(&state.pool)
        .await?;
    let (admin_id, hash) = match &row {
        Some(row) => (
            Some(row.try_get::<i64, _>("id")?),
            Some(row.try_get::<String, _>("password_hash")?),
        ),
        None => (None, None),
    };
    Ok(match password_matches(state, password, hash).await? {
        true => admin_id,
        false => None,
    })
}

async fn sign_in(
    State(state): State<AppState>,
    extensions: Extensions,
    Json(request): Json<SignIn>,
) -> ApiResult<Response> {
    let email = request.email.trim().to_lowercase();
    if email.chars().count() > LIMITS.email_chars {
        return Err(ApiError::bad_request(
            "invalid-email",
            format!(
                "An email address has at most {} characters.",
                LIMITS.email_chars
            ),
        ));
    }
    if request.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_request(
            "invalid-password",
            format!("A password has at most {MAX_PASSWORD_BYTES} bytes."),
        ));
    }
    // Keys of one table: an email address cannot start with "ip ".
    let ip = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| format!("ip {}", address.ip()));
    if count_attempt(&state.pool, &email).await? > MAX_ATTEMPTS_PER_EMAIL {
        return Err(ApiError::TooManyRequests);
    }
    if let Some(ip) = &ip {
        if count_attempt(&state.pool, ip).await? > MAX_ATTEMPTS_PER_IP {
            // Held back by the address, not by this email's own attempts.
            take_back_attempt(&state.pool, &email).await?;
            return Err(ApiError::TooManyRequests);
        }
    }
    let Some(admin_id) = check_credentials(&state, &email, request.password).await? else {
        return Err(ApiError::SignInFailed);
    };
    forget_attempts(&state.pool, &email).await?;
    if let Some(ip) = &ip {
        take_back_attempt(&state.pool, ip).await?;
    }
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

/// The admin's own session behind a request of an `Access::Session` route.
fn own_session(caller: &Caller) -> ApiResult<(&str, &str)> {
    match &*caller.credential {
        Credential::Session {
            token_hash,
            csrf_token,
        } => Ok((token_hash, csrf_token)),
        _ => Err(ApiError::Unauthorized),
    }
}

async fn sign_out(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let (token_hash, _) = own_session(&caller)?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&state.pool)
        .await?;
    let mut response = Json(serde_json::json!({ "signedOut": true })).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        session_cookie("", 0, state.config.secure_cookies),
    );
    Ok(response)
}

async fn me(caller: Caller) -> ApiResult<Json<SessionInfo>> {
    let (_, csrf_token) = own_session(&caller)?;
    Ok(Json(SessionInfo {
        csrf_token: csrf_token.to_string(),
        admin: caller.admin,
    }))
}

pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::new(
            Method::POST,
            "/api/auth/sign-in",
            post(sign_in),
            Access::Public,
            "Sign in with {email, password}: sets the session cookie, returns {admin, csrfToken}; 5 attempts per address and 20 per client address in 15 minutes (429 beyond)",
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
