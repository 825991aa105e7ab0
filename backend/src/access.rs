//! Who may call a route, enforced from the route table.
//!
//! Every route in `server::routes` declares its [`Access`]; the router runs
//! [`enforce`] before the handler, which proves the credential, checks the
//! permission and hands the handler a [`Caller`]. Handlers never check
//! permissions themselves: they take a `Caller` (or an [`Admin`]) and can
//! rely on it.
//!
//! Credentials:
//! - an admin's session: the HttpOnly cookie, plus the `X-CSRF-Token`
//!   header on requests that change state;
//! - an embed token (`Authorization: Bearer rge_…`): a server-side secret,
//!   so it is refused on any request that carries an `Origin` header (a
//!   browser); scripts and host servers send none;
//! - an upload session (`Authorization: Bearer rgs_…`): what a host page
//!   gets from its server, minted with the token; staged upload routes only,
//!   only from its own origin, for one upload, until it expires.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, COOKIE, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use crate::accounts::{load_admin, AdminAccount, Permissions};
use crate::auth::{token_hash, SESSION_COOKIE};
use crate::db::now;
use crate::embed::{normalize_origin, SESSION_PREFIX, TOKEN_PREFIX};
use crate::error::{ApiError, ApiResult};
use crate::server::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any signed-in admin.
    Session,
    /// An admin with System access or Enrollment access.
    AnyPermission,
    /// An admin with both System access and Enrollment access.
    BothPermissions,
    /// An admin with System access.
    SystemAccess,
    /// The staged upload routes: an admin with both permissions, an embed
    /// token without `Origin` (a script), or an upload session from its
    /// origin. A token or session acts as the admin who made the token,
    /// who must still have both permissions.
    Uploader,
    /// An embed token, server to server (minting upload sessions).
    EmbedToken,
}

impl Access {
    pub fn describe(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Session => "a session",
            Access::AnyPermission => "System access or Enrollment access",
            Access::BothPermissions => "System access and Enrollment access",
            Access::SystemAccess => "System access",
            Access::Uploader => {
                "System access and Enrollment access, an embed token (Authorization: Bearer, without Origin), or an upload session (Authorization: Bearer, from its origin)"
            }
            Access::EmbedToken => "an embed token (Authorization: Bearer), from a server",
        }
    }

    /// The permissions an admin's session needs here (and that the creator
    /// of a token or session needs); `None` for public routes.
    fn needs(self) -> Option<Needs> {
        match self {
            Access::Public => None,
            Access::Session => Some((|_| true, "a session")),
            Access::AnyPermission => Some((Permissions::any, "System access or Enrollment access")),
            Access::BothPermissions | Access::Uploader | Access::EmbedToken => Some((
                Permissions::both,
                "both System access and Enrollment access",
            )),
            Access::SystemAccess => Some((|p| p.system_access, "System access")),
        }
    }
}

/// A permission check, and what it asks for (for the 403's message).
type Needs = (fn(Permissions) -> bool, &'static str);

/// An embed token, as a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedTokenCaller {
    pub id: i64,
    pub label: String,
    /// Full sync, action rows and confirming a safety hold.
    pub allow_removals: bool,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An admin's own browser session.
    Session {
        token_hash: String,
        csrf_token: String,
    },
    /// An embed token, from a server or script.
    EmbedToken(EmbedTokenCaller),
    /// An upload session, from the page of a host site.
    UploadSession {
        id: i64,
        token: EmbedTokenCaller,
        origin: String,
        /// The staged upload it started, if it has.
        staged_upload: Option<String>,
    },
}

/// Who owns a staged upload: nobody else may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Admin(i64),
    EmbedToken(i64),
    UploadSession(i64),
}

/// The caller of a route that is not public, as `enforce` proved it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The admin the request acts as: the signed-in admin, or the admin
    /// who created the embed token. Their permissions were checked.
    pub admin: AdminAccount,
    pub credential: Arc<Credential>,
}

impl Caller {
    pub fn district_id(&self) -> i64 {
        self.admin.district_id
    }

    pub fn owner(&self) -> Owner {
        match &*self.credential {
            Credential::Session { .. } => Owner::Admin(self.admin.id),
            Credential::EmbedToken(token) => Owner::EmbedToken(token.id),
            Credential::UploadSession { id, .. } => Owner::UploadSession(*id),
        }
    }

    /// The embed token behind the credential, if any.
    pub fn embed_token(&self) -> Option<&EmbedTokenCaller> {
        match &*self.credential {
            Credential::Session { .. } => None,
            Credential::EmbedToken(token) | Credential::UploadSession { token, .. } => Some(token),
        }
    }

    /// Whether responses may carry stored values (field changes, records
    /// the caller did not send): only to an admin's own session. Whoever
    /// holds a token or a session only learns about their own records.
    pub fn sees_stored_values(&self) -> bool {
        matches!(&*self.credential, Credential::Session { .. })
    }

    /// Whether the caller may remove: full sync, rows with an action and
    /// confirming a safety hold. An admin may; a token only when created
    /// with `allowRemovals`; an upload session never.
    pub fn may_remove(&self) -> bool {
        match &*self.credential {
            Credential::Session { .. } => true,
            Credential::EmbedToken(token) => token.allow_removals,
            Credential::UploadSession { .. } => false,
        }
    }

    /// How the history names the credential: `None` for an admin's session.
    pub fn history_label(&self) -> Option<String> {
        match &*self.credential {
            Credential::Session { .. } => None,
            Credential::EmbedToken(token) => Some(format!("embed token \"{}\"", token.label)),
            Credential::UploadSession { token, .. } => {
                Some(format!("upload session of embed token \"{}\"", token.label))
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "a handler takes a Caller on a route whose Access proves none"
            ))
        })
    }
}

/// The admin of an admin-only route (`Access::Session` and the permission
/// levels): the caller, who signed in with their own session.
pub struct Admin(pub AdminAccount);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        Ok(Admin(Caller::from_request_parts(parts, state).await?.admin))
    }
}

/// What `enforce` needs to know of a route.
#[derive(Clone)]
pub struct RouteGuard {
    pub state: AppState,
    pub access: Access,
    /// The largest request body the route takes, in bytes.
    pub body_limit: usize,
}

/// Runs before every API handler: the body limit (from Content-Length,
/// before anything is read), the credential and the permission. Error
/// answers the handler's extractors give in plain text are made JSON.
pub async fn enforce(
    State(guard): State<RouteGuard>,
    mut request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > guard.body_limit as u64) {
        return body_too_large(guard.body_limit).into_response();
    }
    let nul = request
        .uri()
        .path_and_query()
        .is_some_and(|pq| crate::input::has_encoded_nul(pq.as_str()));
    if nul {
        return ApiError::bad_request(
            "invalid-text",
            "The request's path or query holds a NUL character, which no value may hold.",
        )
        .into_response();
    }
    if let Some(needs) = guard.access.needs() {
        match authenticate(
            &guard.state,
            guard.access,
            request.headers(),
            request.method(),
        )
        .await
        {
            Ok(caller) => {
                let (admits, what) = needs;
                if !admits(caller.admin.permissions) {
                    return ApiError::Forbidden(what).into_response();
                }
                request.extensions_mut().insert(caller);
            }
            Err(error) => return error.into_response(),
        }
    }
    let response = next.run(request).await;
    crate::server::json_errors::with_json_body(response, Some(guard.body_limit))
}

/// The 413 of a body over a route's limit, naming the limit.
pub fn body_too_large(limit: usize) -> ApiError {
    ApiError::too_large(
        "body-too-large",
        format!(
            "This request's body is larger than this route takes ({}).{}",
            crate::server::json_errors::describe_bytes(limit),
            if limit >= crate::uploads::MAX_JSON_UPLOAD_BYTES {
                " Send larger files as a staged upload (POST /api/uploads/staged), in parts."
            } else {
                ""
            }
        ),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
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

/// Proves the request's credential for a route of this access.
async fn authenticate(
    state: &AppState,
    access: Access,
    headers: &HeaderMap,
    method: &Method,
) -> ApiResult<Caller> {
    let bearer = bearer(headers);
    match (access, bearer) {
        (Access::Uploader | Access::EmbedToken, Some(secret)) => {
            let origin = headers.get(ORIGIN);
            if let Some(token) = secret.strip_prefix(TOKEN_PREFIX) {
                if origin.is_some() {
                    return Err(ApiError::TokenFromBrowser);
                }
                embed_token_caller(state, token).await
            } else if secret.starts_with(SESSION_PREFIX) && access == Access::Uploader {
                upload_session_caller(state, secret, origin).await
            } else {
                Err(ApiError::InvalidToken(
                    "This credential is not valid here: the staged upload routes take an upload session or an embed token, and minting a session takes an embed token.",
                ))
            }
        }
        (Access::EmbedToken, None) => Err(ApiError::InvalidToken(
            "Send the embed token in the Authorization header (Bearer), from your server.",
        )),
        _ => session_caller(state, headers, method).await,
    }
}

/// The admin behind a request's session cookie. For requests that change
/// state, the CSRF header must match the session's token.
async fn session_caller(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
) -> ApiResult<Caller> {
    let token = cookie_value(headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
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
    let changes_state = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state {
        let sent = headers
            .get(crate::auth::CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        if sent != Some(csrf_token.as_str()) {
            return Err(ApiError::Forbidden(
                "a valid CSRF token on this request (reload the page)",
            ));
        }
    }
    let admin = load_admin(&state.pool, admin_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Caller {
        admin,
        credential: Arc::new(Credential::Session {
            token_hash: hash,
            csrf_token,
        }),
    })
}

const INVALID_TOKEN: &str = "This embed token is not valid; check that it was copied whole.";

/// A live embed token (its hash matches, not revoked, not expired) and the
/// admin it acts as, who must still be in its district.
async fn live_token(
    state: &AppState,
    token_hash: &str,
) -> ApiResult<(EmbedTokenCaller, AdminAccount)> {
    let row = sqlx::query(
        "SELECT id, district_id, created_by, label, expires_at, revoked_at, allow_removals
         FROM embed_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::InvalidToken(INVALID_TOKEN))?;
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
    let district_id: i64 = row.try_get("district_id")?;
    let admin = load_admin(&state.pool, row.try_get("created_by")?)
        .await?
        .filter(|a| a.district_id == district_id)
        .ok_or(ApiError::InvalidToken(INVALID_TOKEN))?;
    let token = EmbedTokenCaller {
        id: row.try_get("id")?,
        label: row.try_get("label")?,
        allow_removals: row.try_get::<i64, _>("allow_removals")? != 0,
    };
    Ok((token, admin))
}

async fn embed_token_caller(state: &AppState, secret: &str) -> ApiResult<Caller> {
    let (token, admin) = live_token(state, &token_hash(&format!("{TOKEN_PREFIX}{secret}"))).await?;
    Ok(Caller {
        admin,
        credential: Arc::new(Credential::EmbedToken(token)),
    })
}

/// An upload session, sent from the page of its origin.
async fn upload_session_caller(
    state: &AppState,
    secret: &str,
    origin: Option<&axum::http::HeaderValue>,
) -> ApiResult<Caller> {
    let row = sqlx::query(
        "SELECT s.id, s.origin, s.expires_at, s.staged_upload, t.token_hash
         FROM embed_sessions s JOIN embed_tokens t ON t.id = s.token_id WHERE s.session_hash = $1",
    )
    .bind(token_hash(secret))
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::InvalidSession(
        "This upload session is not valid; reload the page for a new one.",
    ))?;
    if row.try_get::<i64, _>("expires_at")? <= now() {
        return Err(ApiError::InvalidSession(
            "This upload session has expired; reload the page for a new one.",
        ));
    }
    let session_origin: String = row.try_get("origin")?;
    let sent = origin
        .and_then(|o| o.to_str().ok())
        .and_then(normalize_origin);
    if sent.as_deref() != Some(session_origin.as_str()) {
        return Err(ApiError::OriginNotAllowed);
    }
    // The session lives only as long as its token.
    let (token, admin) = live_token(state, &row.try_get::<String, _>("token_hash")?).await?;
    Ok(Caller {
        admin,
        credential: Arc::new(Credential::UploadSession {
            id: row.try_get("id")?,
            token,
            origin: session_origin,
            staged_upload: row.try_get("staged_upload")?,
        }),
    })
}
