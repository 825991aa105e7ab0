//! One error type for the API and one place that maps it to a status code.
//! 4xx bodies are JSON `{code, message}`; internal and database errors are
//! logged and never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared::api::{ErrorBody, RefusedRecords};
use shared::report::ReportView;

#[derive(Debug)]
pub enum ApiError {
    /// No valid session.
    Unauthorized,
    /// The email or password is wrong.
    SignInFailed,
    /// Signed in, but without the permission the route needs.
    Forbidden(&'static str),
    /// An `Authorization: Bearer` embed token that is unknown, expired or
    /// revoked (401 `invalid-token`); the message says which.
    InvalidToken(&'static str),
    /// A valid embed token used from a web origin it does not list, or an
    /// upload session from another origin than its own (403).
    OriginNotAllowed,
    /// An embed token on a request with an `Origin` header: a browser sent
    /// a server-side secret (403 `token-from-browser`).
    TokenFromBrowser,
    /// An upload session that is unknown or expired (401); the message
    /// says which.
    InvalidSession(&'static str),
    /// Removing needs a credential that may remove (403
    /// `removals-not-allowed`); the message says what was asked.
    RemovalsNotAllowed(&'static str),
    /// An upload session that has started its one upload already (403).
    SessionUsed,
    /// Not found, or in another district (which is not to be revealed).
    NotFound,
    /// The request is malformed or breaks a rule.
    BadRequest { code: &'static str, message: String },
    /// The request conflicts with stored data.
    Conflict { code: &'static str, message: String },
    /// Too many sign-in attempts; try again later.
    TooManyRequests,
    /// The server is busy (the database is locked by a long write): 503
    /// with `Retry-After`.
    Busy,
    /// Too many of something else at once (429).
    TooMany { code: &'static str, message: String },
    /// A body, or what it decompresses to, is larger than allowed (413).
    TooLarge { code: &'static str, message: String },
    /// A `Content-Encoding` the route does not take (415).
    UnsupportedEncoding(String),
    /// Re-validation refused the records: 422 whose body carries the report.
    InvalidRecords(Box<ReportView>),
    /// Anything else: logged, answered with a generic 500.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::TooLarge {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::InvalidRecords(report) => {
                let refused = RefusedRecords {
                    code: "invalid-records".to_string(),
                    message: "The records do not pass validation; nothing was stored.".to_string(),
                    report: *report,
                };
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response();
            }
            ApiError::TooMany { code, message } => (StatusCode::TOO_MANY_REQUESTS, code, message),
            ApiError::TooLarge { code, message } => (StatusCode::PAYLOAD_TOO_LARGE, code, message),
            ApiError::UnsupportedEncoding(message) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-encoding",
                message,
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in first.".to_string(),
            ),
            ApiError::SignInFailed => (
                StatusCode::UNAUTHORIZED,
                "sign-in-failed",
                "The email address or the password is wrong.".to_string(),
            ),
            ApiError::Forbidden(needs) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("Your account does not have {needs}."),
            ),
            ApiError::InvalidToken(message) => (
                StatusCode::UNAUTHORIZED,
                "invalid-token",
                message.to_string(),
            ),
            ApiError::OriginNotAllowed => (
                StatusCode::FORBIDDEN,
                "origin-not-allowed",
                "This credential may not be used from this web page's origin: an upload session works only from the origin it was made for, and an embed token only for its allowed origins.".to_string(),
            ),
            ApiError::TokenFromBrowser => (
                StatusCode::FORBIDDEN,
                "token-from-browser",
                "An embed token is a server-side secret and is refused from a web page. Mint an upload session on the host's server (POST /api/embed/sessions with the token) and give the page that session instead; revoke and reissue any token that was published in a page.".to_string(),
            ),
            ApiError::InvalidSession(message) => (
                StatusCode::UNAUTHORIZED,
                "invalid-session",
                message.to_string(),
            ),
            ApiError::RemovalsNotAllowed(what) => (
                StatusCode::FORBIDDEN,
                "removals-not-allowed",
                format!("This credential may not remove anything, so it cannot {what}. An upload session never can; an embed token can when an administrator with System access creates it with allowRemovals."),
            ),
            ApiError::SessionUsed => (
                StatusCode::FORBIDDEN,
                "session-used",
                "This upload session has started its one upload already; the host page needs a new session for another upload.".to_string(),
            ),
            ApiError::Busy => {
                let body = ErrorBody {
                    code: "busy".to_string(),
                    message: "The database is busy with another write; try again in a few seconds.".to_string(),
                };
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "5")],
                    Json(body),
                )
                    .into_response();
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found.".to_string()),
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message),
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, code, message),
            ApiError::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many sign-in attempts; wait a few minutes and try again.".to_string(),
            ),
            ApiError::Internal(error) => {
                tracing::error!("internal error: {error:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on the server; it has been logged.".to_string(),
                )
            }
        };
        let body = ErrorBody {
            code: code.to_string(),
            message,
        };
        (status, Json(body)).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if is_busy(&error) {
            tracing::warn!("database busy: {error}");
            return ApiError::Busy;
        }
        ApiError::Internal(error.into())
    }
}

/// The database could not take the request in time: SQLite's lock stayed
/// taken past the busy timeout (SQLITE_BUSY and SQLITE_LOCKED, with their
/// extended codes), or no connection of the pool came free.
pub fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(database) => {
            database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
                && database
                    .code()
                    .and_then(|code| code.parse::<u32>().ok())
                    .is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        _ => false,
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError::Internal(error)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
