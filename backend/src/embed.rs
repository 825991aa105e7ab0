//! Embed tokens: another site (a district portal) embeds the upload widget,
//! or a script runs `rostergate push`, without a session.
//!
//! ```text
//! POST   /api/embed/tokens        {label, expiresInDays (1..=365), allowedOrigins: [origin…]}
//!                                 → 201 {id, token, label, createdAt, expiresAt, allowedOrigins}
//! GET    /api/embed/tokens        → [{id, label, createdBy, createdAt, expiresAt, revokedAt, status, allowedOrigins}]
//! DELETE /api/embed/tokens/{id}   → 204 (revoked; the row stays, listed as revoked)
//! ```
//!
//! Managing tokens needs a session with System access. The token is shown
//! once; the database keeps only its hash, like sessions. A token works on
//! the staged upload routes only (`Authorization: Bearer <token>`), and acts
//! as the admin who created it: that admin's permissions apply (an upload
//! needs System and Enrollment access), the upload's history entry names
//! them, and its file name carries the token's label. A request with an
//! `Origin` header must come from one of the token's allowed origins; a
//! request without one (a script, the command line) needs none.
//!
//! CORS: the staged upload routes answer a preflight, and add
//! `Access-Control-Allow-Origin: <origin>`, when some live token lists the
//! origin (the district is not known before the token is checked; the real
//! request then checks the origin against its own token). No credentials.
//! Files under `/widget/` (the web component's module and wasm) are served
//! with `Access-Control-Allow-Origin: *`.

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, ORIGIN, VARY,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use crate::accounts::{load_admin, random_hex};
use crate::auth::{token_hash, CurrentAdmin};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::server::{Access, ApiRoute, AppState};

/// What an embed token starts with, so it is recognisable in a config file.
pub const TOKEN_PREFIX: &str = "rge_";
pub const MAX_EXPIRES_IN_DAYS: i64 = 365;
pub const MAX_ORIGINS: usize = 20;
const MAX_LABEL_CHARS: usize = 100;
const DAY_SECONDS: i64 = 24 * 60 * 60;
/// The paths CORS is answered on (and their sub-paths).
const STAGED_PREFIX: &str = "/api/uploads/staged";
/// Preflight answers may be cached this long, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Who a staged upload belongs to: an admin's session, or an embed token
/// (another admin's session cannot see a token's upload, nor the reverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Admin(i64),
    EmbedToken(i64),
}

/// The caller of an upload route: a session (cookie and CSRF header), or an
/// embed token standing for the admin who created it.
pub struct Uploader {
    /// The admin the upload is made as (the token's creator for a token).
    pub current: CurrentAdmin,
    pub owner: Owner,
    /// The token's label, for the history.
    pub embed_label: Option<String>,
}

impl Uploader {
    /// The file name the history shows: a token's uploads carry its label.
    pub fn history_file_name(&self, file_name: &str) -> String {
        match &self.embed_label {
            Some(label) => format!("{} (embed token \"{label}\")", file_name.trim()),
            None => file_name.to_string(),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// `scheme://host[:port]` in lower case, http or https, without path,
/// query or user info; `None` for anything else (`null`, `*`, a URL).
pub fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, host) = origin.split_once("://")?;
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    (matches!(scheme, "http" | "https") && host_ok).then_some(origin)
}

impl FromRequestParts<AppState> for Uploader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Some(token) = bearer(parts) else {
            let current = CurrentAdmin::from_request_parts(parts, state).await?;
            return Ok(Uploader {
                owner: Owner::Admin(current.admin.id),
                current,
                embed_label: None,
            });
        };
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT id, district_id, created_by, label, expires_at, revoked_at FROM embed_tokens WHERE token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::InvalidToken(
            "This embed token is not valid; check that it was copied whole.",
        ))?;
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Err(ApiError::InvalidToken(
                "This embed token has been revoked; ask your district's administrator for a new one.",
            ));
        }
        if row.try_get::<i64, _>("expires_at")? <= now() {
            return Err(ApiError::InvalidToken(
                "This embed token has expired; ask your district's administrator for a new one.",
            ));
        }
        let token_id: i64 = row.try_get("id")?;
        if let Some(origin) = parts.headers.get(ORIGIN) {
            let origin = origin
                .to_str()
                .ok()
                .and_then(normalize_origin)
                .ok_or(ApiError::OriginNotAllowed)?;
            let listed = sqlx::query(
                "SELECT 1 AS listed FROM embed_token_origins WHERE token_id = $1 AND origin = $2",
            )
            .bind(token_id)
            .bind(&origin)
            .fetch_optional(&state.pool)
            .await?;
            if listed.is_none() {
                return Err(ApiError::OriginNotAllowed);
            }
        }
        let admin = load_admin(&state.pool, row.try_get("created_by")?)
            .await?
            .filter(|a| a.district_id == row.try_get::<i64, _>("district_id").unwrap_or(-1))
            .ok_or(ApiError::InvalidToken(
                "This embed token is not valid; check that it was copied whole.",
            ))?;
        if !admin.permissions.system_access {
            return Err(ApiError::InvalidToken(
                "The administrator who created this embed token no longer has System access; ask for a new token.",
            ));
        }
        Ok(Uploader {
            current: CurrentAdmin {
                admin,
                // No cookie, so no CSRF: the token itself must be sent.
                csrf_token: String::new(),
                token_hash: hash,
            },
            owner: Owner::EmbedToken(token_id),
            embed_label: Some(row.try_get("label")?),
        })
    }
}

/// Whether some live token (any district) lists this normalized origin.
async fn origin_is_live(pool: &AnyPool, origin: &str) -> ApiResult<bool> {
    let row = sqlx::query(
        "SELECT 1 AS live FROM embed_token_origins o JOIN embed_tokens t ON t.id = o.token_id
         WHERE o.origin = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 LIMIT 1",
    )
    .bind(origin)
    .bind(now())
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

fn is_staged_path(path: &str) -> bool {
    path.strip_prefix(STAGED_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// CORS for the embed: the staged upload routes (preflight and responses)
/// for origins some live token lists, and `*` for the widget's files.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/widget/") {
        let mut response = next.run(request).await;
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        headers.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
        return response;
    }
    if !is_staged_path(path) {
        return next.run(request).await;
    }
    let origin = request.headers().get(ORIGIN).cloned();
    let allowed = match origin.as_ref().and_then(|o| o.to_str().ok()) {
        Some(sent) => match normalize_origin(sent) {
            Some(normalized) => match origin_is_live(&state.pool, &normalized).await {
                Ok(live) => live,
                Err(error) => return error.into_response(),
            },
            None => false,
        },
        None => false,
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        if !allowed {
            let mut refused = ApiError::OriginNotAllowed.into_response();
            refused
                .headers_mut()
                .append(VARY, HeaderValue::from_static("origin"));
            return refused;
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, content-encoding"),
        );
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, PUT, DELETE"),
        );
        headers.insert(
            ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.append(VARY, HeaderValue::from_static("origin"));
    if let (true, Some(origin)) = (allowed, origin) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

// Managing tokens.

fn require_system(current: &CurrentAdmin) -> ApiResult<()> {
    if current.admin.permissions.system_access {
        Ok(())
    } else {
        Err(ApiError::Forbidden("System access"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewToken {
    pub label: String,
    pub expires_in_days: i64,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub id: i64,
    /// Shown once: only its hash is stored.
    pub token: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSummary {
    pub id: i64,
    pub label: String,
    /// The email of the admin who created it (and whom it acts as).
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
    pub allowed_origins: Vec<String>,
}

fn checked(request: &NewToken) -> ApiResult<(String, Vec<String>)> {
    let label = request.label.trim().to_string();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(ApiError::bad_request(
            "invalid-label",
            format!(
                "Give the token a label of 1 to {MAX_LABEL_CHARS} characters (where it is used)."
            ),
        ));
    }
    if !(1..=MAX_EXPIRES_IN_DAYS).contains(&request.expires_in_days) {
        return Err(ApiError::bad_request(
            "invalid-expiry",
            format!("expiresInDays must be from 1 to {MAX_EXPIRES_IN_DAYS}."),
        ));
    }
    if request.allowed_origins.len() > MAX_ORIGINS {
        return Err(ApiError::bad_request(
            "invalid-origin",
            format!("A token may list at most {MAX_ORIGINS} origins."),
        ));
    }
    let mut origins = Vec::new();
    for origin in &request.allowed_origins {
        let normalized = normalize_origin(origin).ok_or_else(|| {
            ApiError::bad_request(
                "invalid-origin",
                format!("{origin:?} is not a web origin: write it as https://host or https://host:port, without a path."),
            )
        })?;
        if !origins.contains(&normalized) {
            origins.push(normalized);
        }
    }
    Ok((label, origins))
}

async fn create_token(
    State(state): State<AppState>,
    current: CurrentAdmin,
    Json(request): Json<NewToken>,
) -> ApiResult<Response> {
    require_system(&current)?;
    let (label, allowed_origins) = checked(&request)?;
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let created_at = now();
    let expires_at = created_at + request.expires_in_days * DAY_SECONDS;
    let mut tx = state.pool.begin().await?;
    let row = sqlx::query(
        "INSERT INTO embed_tokens (district_id, created_by, label, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(current.admin.district_id)
    .bind(current.admin.id)
    .bind(&label)
    .bind(token_hash(&token))
    .bind(created_at)
    .bind(expires_at)
    .fetch_one(&mut *tx)
    .await?;
    let id: i64 = row.try_get("id")?;
    for origin in &allowed_origins {
        sqlx::query("INSERT INTO embed_token_origins (token_id, origin) VALUES ($1, $2)")
            .bind(id)
            .bind(origin)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id,
            token,
            label,
            created_at,
            expires_at,
            allowed_origins,
        }),
    )
        .into_response())
}

async fn list_tokens(
    State(state): State<AppState>,
    current: CurrentAdmin,
) -> ApiResult<Json<Vec<TokenSummary>>> {
    require_system(&current)?;
    let district = current.admin.district_id;
    let origins = sqlx::query(
        "SELECT o.token_id, o.origin FROM embed_token_origins o JOIN embed_tokens t ON t.id = o.token_id
         WHERE t.district_id = $1 ORDER BY o.origin",
    )
    .bind(district)
    .fetch_all(&state.pool)
    .await?;
    let rows = sqlx::query(
        "SELECT t.id, t.label, a.email, t.created_at, t.expires_at, t.revoked_at
         FROM embed_tokens t JOIN admins a ON a.id = t.created_by
         WHERE t.district_id = $1 ORDER BY t.id DESC",
    )
    .bind(district)
    .fetch_all(&state.pool)
    .await?;
    let now = now();
    let mut tokens = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        let mut allowed_origins = Vec::new();
        for o in &origins {
            if o.try_get::<i64, _>("token_id")? == id {
                allowed_origins.push(o.try_get("origin")?);
            }
        }
        tokens.push(TokenSummary {
            id,
            label: row.try_get("label")?,
            created_by: row.try_get("email")?,
            created_at: row.try_get("created_at")?,
            expires_at,
            revoked_at,
            status: match (revoked_at, expires_at <= now) {
                (Some(_), _) => "revoked",
                (None, true) => "expired",
                (None, false) => "active",
            },
            allowed_origins,
        });
    }
    Ok(Json(tokens))
}

async fn revoke_token(
    State(state): State<AppState>,
    current: CurrentAdmin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    require_system(&current)?;
    let exists =
        sqlx::query("SELECT revoked_at FROM embed_tokens WHERE id = $1 AND district_id = $2")
            .bind(id)
            .bind(current.admin.district_id)
            .fetch_optional(&state.pool)
            .await?
            .ok_or(ApiError::NotFound)?;
    // Revoking twice changes nothing; the first time is kept.
    if exists.try_get::<Option<i64>, _>("revoked_at")?.is_none() {
        sqlx::query("UPDATE embed_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&state.pool)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::new(Method::POST, "/api/embed/tokens", post(create_token), Access::SystemAccess,
            "Create an embed token for the staged upload routes {label, expiresInDays (1..=365), allowedOrigins}: 201 {id, token (shown once), label, createdAt, expiresAt, allowedOrigins}"),
        ApiRoute::new(Method::GET, "/api/embed/tokens", get(list_tokens), Access::SystemAccess,
            "The district's embed tokens (never the token itself), with their status: active, expired or revoked"),
        ApiRoute::new(Method::DELETE, "/api/embed/tokens/{id}", delete(revoke_token), Access::SystemAccess,
            "Revoke an embed token: 204"),
    ]
}
