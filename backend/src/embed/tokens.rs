//! Managing embed tokens: create, list and revoke, with System access.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Json;
use shared::api::{CreatedToken, NewToken, TokenStatus, TokenSummary};
use sqlx::Row;

use super::{normalize_origin, TOKEN_PREFIX};
use crate::access::{Access, Admin};
use crate::accounts::random_hex;
use crate::auth::token_hash;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::input::bounded_text;
use crate::server::{ApiRoute, AppState};

pub const MAX_EXPIRES_IN_DAYS: i64 = 365;
pub const MAX_ORIGINS: usize = 20;
const MAX_LABEL_CHARS: usize = 100;
const DAY_SECONDS: i64 = 24 * 60 * 60;

fn checked(request: &NewToken) -> ApiResult<(String, Vec<String>)> {
    let label = bounded_text(
        &request.label,
        "A token's label (where it is used)",
        MAX_LABEL_CHARS,
        "invalid-label",
    )?;
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
                "An allowed origin is not a web origin: write each as https://host or https://host:port, without a path.",
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
    Admin(admin): Admin,
    Json(request): Json<NewToken>,
) -> ApiResult<Response> {
    let (label, allowed_origins) = checked(&request)?;
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let created_at = now();
    let expires_at = created_at + request.expires_in_days * DAY_SECONDS;
    let mut tx = state.pool.begin().await?;
    let row = sqlx::query(
        "INSERT INTO embed_tokens (district_id, created_by, label, token_hash, created_at, expires_at, allow_removals)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(admin.district_id)
    .bind(admin.id)
    .bind(&label)
    .bind(token_hash(&token))
    .bind(created_at)
    .bind(expires_at)
    .bind(i64::from(request.allow_removals))
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
            allow_removals: request.allow_removals,
        }),
    )
        .into_response())
}

async fn list_tokens(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> ApiResult<Json<Vec<TokenSummary>>> {
    let district = admin.district_id;
    let origins = sqlx::query(
        "SELECT o.token_id, o.origin FROM embed_token_origins o JOIN embed_tokens t ON t.id = o.token_id
         WHERE t.district_id = $1 ORDER BY o.origin",
    )
    .bind(district)
    .fetch_all(&state.pool)
    .await?;
    let rows = sqlx::query(
        "SELECT t.id, t.label, a.email, t.created_at, t.expires_at, t.revoked_at, t.allow_removals
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
                (Some(_), _) => TokenStatus::Revoked,
                (None, true) => TokenStatus::Expired,
                (None, false) => TokenStatus::Active,
            },
            allowed_origins,
            allow_removals: row.try_get::<i64, _>("allow_removals")? != 0,
        });
    }
    Ok(Json(tokens))
}

async fn revoke_token(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let exists =
        sqlx::query("SELECT revoked_at FROM embed_tokens WHERE id = $1 AND district_id = $2")
            .bind(id)
            .bind(admin.district_id)
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
            "Create an embed token, a server-side secret, for the staged upload routes and minting upload sessions {label, expiresInDays (1..=365), allowedOrigins, allowRemovals?}: 201 {id, token (shown once), label, createdAt, expiresAt, allowedOrigins, allowRemovals}"),
        ApiRoute::new(Method::GET, "/api/embed/tokens", get(list_tokens), Access::SystemAccess,
            "The district's embed tokens (never the token itself), with their status (active, expired or revoked) and whether they may remove"),
        ApiRoute::new(Method::DELETE, "/api/embed/tokens/{id}", delete(revoke_token), Access::SystemAccess,
            "Revoke an embed token: 204"),
    ]
}
