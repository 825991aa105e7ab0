//! Embedding RosterGate in another site (a district portal), and pushing
//! files from a script, without an admin's session.
//!
//! ```text
//! POST   /api/embed/tokens        {label, expiresInDays (1..=365), allowedOrigins: [origin…], allowRemovals?}
//!                                 → 201 {id, token, label, createdAt, expiresAt, allowedOrigins, allowRemovals}
//! GET    /api/embed/tokens        → [{id, label, createdBy, createdAt, expiresAt, revokedAt, status, allowedOrigins, allowRemovals}]
//! DELETE /api/embed/tokens/{id}   → 204 (revoked; the row stays, listed as revoked)
//! POST   /api/embed/sessions      Authorization: Bearer <token>, {origin, expiresInMinutes (1..=60, default 15)}
//!                                 → 201 {session, expiresAt}
//! ```
//!
//! An **embed token** (`rge_…`) is a server-side secret of the host site.
//! Managing tokens needs a session with System access; the token is shown
//! once and the database keeps its hash. It works on the staged upload
//! routes from a script (`rostergate push`) or the host's server, and is
//! refused on any request with an `Origin` header: a token that reaches a
//! page is public. It acts as the admin who created it (who must still
//! have both permissions), and removes nothing unless it was created with
//! `allowRemovals`.
//!
//! An **upload session** (`rgs_…`) is what the host's server mints with its
//! token for one person it has signed in, and hands to that person's page
//! (`<roster-validator session="…">`). It works on the staged upload routes
//! only, only with an `Origin` header equal to its origin (one of the
//! token's allowed origins), for one upload, until it expires; it never
//! removes. Sessions are database rows, so any server process accepts them.
//!
//! Whatever the credential, a token's or a session's answers carry no
//! stored value and no key of a record the caller did not send
//! (`uploads::report`), and every use is in the history.
//!
//! CORS: the staged upload routes answer a preflight, and add
//! `Access-Control-Allow-Origin: <origin>`, for any web origin. CORS is not
//! what keeps other sites out: those routes take a bearer credential only
//! (never cookies: no `Allow-Credentials`), a token is refused from any
//! page, and a session checks its own origin. Letting every page read the
//! answers means a host whose token was revoked sees the 401 that says so,
//! not a network error. Files under `/widget/` (the web component's module
//! and wasm) are served with `Access-Control-Allow-Origin: *`.

mod sessions;
mod tokens;

use crate::error::ApiError;
use crate::server::ApiRoute;
use axum::extract::Request;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What an embed token starts with, so it is recognisable in a config file.
pub const TOKEN_PREFIX: &str = "rge_";
/// What an upload session starts with.
pub const SESSION_PREFIX: &str = "rgs_";
/// The paths CORS is answered on (and their sub-paths).
const STAGED_PREFIX: &str = "/api/uploads/staged";
/// Preflight answers may be cached this long, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

pub fn routes() -> Vec<ApiRoute> {
    let mut routes = tokens::routes();
    routes.extend(sessions::routes());
    routes
}

/// `scheme://host[:port]` in lower case, http or https, without path,
/// query or user info; `None` for anything else (`null`, `*`, a URL).
pub fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, host) = origin.split_once("://")?;
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    (matches!(scheme, "http" | "https") && host_ok).then_some(origin)
}

fn is_staged_path(path: &str) -> bool {
    path.strip_prefix(STAGED_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// CORS for the embed: the staged upload routes (preflight and responses)
/// for any web origin, and `*` for the widget's files.
pub async fn cors(request: Request, next: Next) -> Response {
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
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .and_then(normalize_origin)
        .is_some();
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
            HeaderValue::from_static("GET, POST, PUT, DELETE"),
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
