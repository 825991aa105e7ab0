//! The security headers of every response.
//!
//! The app's Content-Security-Policy allows scripts from this origin only,
//! WebAssembly compilation (`'wasm-unsafe-eval'`), and the inline scripts
//! Trunk writes into `dist/index.html` by their sha256 (read when the server
//! starts), nothing inline besides and nothing from other origins. Leptos
//! sets `style` attributes, so inline style attributes are allowed, inline
//! `<style>` elements are not. The app may not be framed. API answers get a
//! policy that allows nothing at all. The widget's files (`/widget/`) keep
//! their CORS headers (`embed::cors`) for the portals that load them.

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{AppState, Config};

/// The headers, made once when the server starts.
#[derive(Debug)]
pub struct SecurityHeaders {
    app_policy: HeaderValue,
    hsts: Option<HeaderValue>,
}

/// What API answers (JSON, CSV downloads) may do in a browser: nothing.
const API_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// HSTS for a year, when served over HTTPS (`--secure-cookies`).
const HSTS: &str = "max-age=31536000; includeSubDomains";

impl SecurityHeaders {
    /// The policy for the app built in `config.dist` (which may not exist
    /// yet in tests: then no inline script is allowed).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let index = config.dist.join("index.html");
        let hashes = match std::fs::read_to_string(&index) {
            Ok(html) => inline_script_hashes(&html),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => anyhow::bail!("cannot read {}: {error}", index.display()),
        };
        let app_policy = app_policy(&hashes);
        Ok(SecurityHeaders {
            app_policy: HeaderValue::from_str(&app_policy)?,
            hsts: config
                .secure_cookies
                .then(|| HeaderValue::from_static(HSTS)),
        })
    }

    /// The Content-Security-Policy of the app's pages and files.
    pub fn app_policy(&self) -> &str {
        self.app_policy.to_str().unwrap_or_default()
    }
}

fn app_policy(inline_script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_script_hashes {
        script_src.push_str(&format!(" '{hash}'"));
    }
    [
        "default-src 'self'".to_string(),
        format!("script-src {script_src}"),
        "style-src 'self'".to_string(),
        "style-src-attr 'unsafe-inline'".to_string(),
        "img-src 'self' data:".to_string(),
        "font-src 'self'".to_string(),
        "connect-src 'self'".to_string(),
        // The validation worker starts from a one-line blob: module.
        "worker-src 'self' blob:".to_string(),
        "object-src 'none'".to_string(),
        "base-uri 'none'".to_string(),
        "form-action 'self'".to_string(),
        "frame-ancestors 'none'".to_string(),
    ]
    .join("; ")
}

/// `sha256-…` of the text of every `<script>` without `src` in a page.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body_and_rest = &after[open_end + 1..];
        let Some(close) = body_and_rest.find("</script") else {
            break;
        };
        if !tag.contains(" src=") && !tag.contains("\tsrc=") && !tag.contains("\nsrc=") {
            let digest = Sha256::digest(&body_and_rest.as_bytes()[..close]);
            hashes.push(format!(
                "sha256-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_and_rest[close..];
    }
    hashes
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Adds the security headers to every response.
pub async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let widget = request.uri().path().starts_with("/widget/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = if api {
        HeaderValue::from_static(API_POLICY)
    } else {
        state.security_headers.app_policy.clone()
    };
    headers.insert(CONTENT_SECURITY_POLICY, policy);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !widget {
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        );
    }
    if let Some(hsts) = &state.security_headers.hsts {
        headers.insert(STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_others_are_not() {
        let html = r#"<html><head><script type="module" src="/app.js"></script>
<script type="module">import init from '/app.js';init();</script>
<script>x</script></head></html>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2);
        let expected = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"import init from '/app.js';init();"));
        assert_eq!(hashes[0], format!("sha256-{expected}"));
        let policy = app_policy(&hashes);
        assert!(policy.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' '{}'",
            hashes[0]
        )));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains(" 'unsafe-eval'") && !policy.contains("script-src-attr"));
    }
}
