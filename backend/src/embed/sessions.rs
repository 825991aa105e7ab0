//! Minting upload sessions: a host site's server, with its embed token,
//! gets a short-lived credential for one person's page.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use shared::api::{CreatedSession, NewSession};

use super::{normalize_origin, SESSION_PREFIX};
use crate::access::{Access, Caller};
use crate::accounts::random_hex;
use crate::auth::token_hash;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::server::{ApiRoute, AppState};
use crate::uploads::history::HistoryEntry;

/// How long a session lives unless the host asks otherwise, and at most.
const DEFAULT_SESSION_MINUTES: i64 = 15;
const MAX_SESSION_MINUTES: i64 = 60;

async fn mint(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<NewSession>,
) -> ApiResult<Response> {
    let token = caller.embed_token().ok_or(ApiError::InvalidToken(
        "Minting an upload session takes an embed token.",
    ))?;
    let minutes = request
        .expires_in_minutes
        .unwrap_or(DEFAULT_SESSION_MINUTES);
    if !(1..=MAX_SESSION_MINUTES).contains(&minutes) {
        return Err(ApiError::bad_request(
            "invalid-expiry",
            format!("expiresInMinutes must be from 1 to {MAX_SESSION_MINUTES}."),
        ));
    }
    let origin = normalize_origin(&request.origin).ok_or_else(|| {
        ApiError::bad_request(
            "invalid-origin",
            "origin is not a web origin: write it as https://host or https://host:port, without a path.",
        )
    })?;
    let listed = sqlx::query(
        "SELECT 1 AS listed FROM embed_token_origins WHERE token_id = $1 AND origin = $2",
    )
    .bind(token.id)
    .bind(&origin)
    .fetch_optional(&state.pool)
    .await?;
    if listed.is_none() {
        return Err(ApiError::OriginNotAllowed);
    }
    let session = format!("{SESSION_PREFIX}{}", random_hex(32));
    let created_at = now();
    let expires_at = created_at + minutes * 60;
    let mut tx = state.pool.begin().await?;
    sqlx::query(
        "INSERT INTO embed_sessions (token_id, session_hash, origin, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token.id)
    .bind(token_hash(&session))
    .bind(&origin)
    .bind(created_at)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    HistoryEntry::session_created(&caller, &origin)
        .insert(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedSession {
            session,
            expires_at,
        }),
    )
        .into_response())
}

pub fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute::new(
        Method::POST,
        "/api/embed/sessions",
        post(mint),
        Access::EmbedToken,
        "From the host's server, with its embed token (Authorization: Bearer, no Origin): {origin (one of the token's allowed origins), expiresInMinutes (1..=60, default 15)} → 201 {session, expiresAt}: an upload session for one page, one upload, from that origin",
    )]
}
