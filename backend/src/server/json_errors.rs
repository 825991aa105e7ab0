//! Every API error answer is JSON `{code, message}`, axum's own included.
//!
//! axum's extractors reject malformed paths, queries and bodies in plain
//! text, and their texts repeat parts of the input (a serde message quotes
//! the value it could not read). Such answers are replaced here by a fixed
//! message per status, which echoes nothing the client sent.

use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use shared::api::ErrorBody;

/// `n` bytes for people: "64 MiB", "8 KiB", "300 bytes".
pub fn describe_bytes(n: usize) -> String {
    const KIB: usize = 1 << 10;
    const MIB: usize = 1 << 20;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The response as it is when it is not an error or already JSON; else the
/// same status and headers with a JSON body. `body_limit` is the route's
/// (for the message of a 413), when the route is known.
pub fn with_json_body(response: Response, body_limit: Option<usize>) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let limit = body_limit
        .map(|n| format!(" ({})", describe_bytes(n)))
        .unwrap_or_default();
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => (
            "bad-request",
            "The request is malformed: check its path, query and body against /api/openapi.json."
                .to_string(),
        ),
        StatusCode::NOT_FOUND => ("not-found", "Not found.".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "This route does not take this method (the Allow header lists those it takes)."
                .to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body-too-large",
            format!("This request's body is larger than this route takes{limit}."),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported-media-type",
            "Send the body as JSON, with Content-Type: application/json.".to_string(),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "invalid-body",
            "The request body is not the JSON this route takes (see /api/openapi.json)."
                .to_string(),
        ),
        _ if status.is_server_error() => (
            "internal",
            "Something went wrong on the server; it has been logged.".to_string(),
        ),
        _ => (
            "refused",
            "The request was refused (see /api/openapi.json).".to_string(),
        ),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = serde_json::to_string(&ErrorBody {
        code: code.to_string(),
        message,
    })
    .unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// The answer to an `/api/…` path that no route has.
pub fn unknown_api_path() -> Response {
    let response = Response::builder()
        .status(StatusCode::NOT_FOUND)
        .body(Body::empty())
        .unwrap_or_default();
    with_json_body(response, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_as_people_write_them() {
        for (n, text) in [
            (64 << 20, "64 MiB"),
            (1 << 20, "1 MiB"),
            ((8 << 20) + (64 << 10), "8256 KiB"),
            (300, "300 bytes"),
        ] {
            assert_eq!(describe_bytes(n), text);
        }
    }
}
