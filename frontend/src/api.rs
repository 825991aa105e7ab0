//! Calls to the RosterGate API, from the page or from the worker.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

thread_local! {
    /// The session's CSRF token, sent with every request that changes state.
    static CSRF_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub fn set_csrf_token(token: Option<String>) {
    CSRF_TOKEN.with(|t| *t.borrow_mut() = token);
}

pub fn csrf_token() -> Option<String> {
    CSRF_TOKEN.with(|t| t.borrow().clone())
}

/// An answer other than 2xx, or no answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFailure {
    /// 0 when the server could not be reached.
    pub status: u16,
    pub code: String,
    pub message: String,
    /// The whole JSON body (a 422 carries the validation report).
    pub body: Option<serde_json::Value>,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(crate) fn unreachable(error: wasm_bindgen::JsValue) -> ApiFailure {
    let detail = error
        .as_string()
        .or_else(|| {
            js_sys::Reflect::get(&error, &"message".into())
                .ok()?
                .as_string()
        })
        .unwrap_or_default();
    ApiFailure {
        status: 0,
        code: "unreachable".into(),
        message: format!(
            "Could not reach the server. Check your connection and try again. {detail}"
        )
        .trim_end()
        .to_string(),
        body: None,
    }
}

/// `fetch` from the window or from a worker, whichever this is.
pub(crate) async fn fetch(request: &Request) -> Result<Response, ApiFailure> {
    let global = js_sys::global();
    let promise = if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.fetch_with_request(request)
    } else {
        global
            .unchecked_ref::<web_sys::WorkerGlobalScope>()
            .fetch_with_request(request)
    };
    Ok(JsFuture::from(promise)
        .await
        .map_err(unreachable)?
        .unchecked_into())
}

async fn body_json(response: &Response) -> Option<serde_json::Value> {
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    serde_json::from_str(&text).ok()
}

/// The server's `{code, message}` of a failed answer, as a failure.
pub(crate) async fn failure(response: &Response) -> ApiFailure {
    let body = body_json(response).await;
    let field = |name: &str| {
        body.as_ref()
            .and_then(|b| b.get(name))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    ApiFailure {
        status: response.status(),
        code: field("code").unwrap_or_else(|| "http".into()),
        message: field("message").unwrap_or_else(|| {
            format!(
                "The server answered {} {}.",
                response.status(),
                response.status_text()
            )
        }),
        body,
    }
}

/// The message of a failed answer (for the worker, which only reports it).
pub async fn error_message(response: &Response) -> String {
    failure(response).await.message
}

/// Where API calls go and how they prove who sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The server's origin; "" for the page's own (the app).
    pub endpoint: String,
    /// An upload session (`rgs_…`, the web component's), sent as
    /// `Authorization: Bearer`: the host's server mints it for one person,
    /// one upload and the page's origin. Without one the admin's session
    /// cookie and its CSRF token are used. Never an embed token: those stay
    /// on the host's server (the server refuses them from a browser).
    pub upload_session: Option<String>,
}

impl Target {
    /// The app's own server, with the admin's session.
    pub fn own_server() -> Self {
        Target::default()
    }

    /// Whether this is the admin's session on the page's own server (which
    /// may download reports and sees stored values).
    pub fn is_own_session(&self) -> bool {
        self.endpoint.is_empty() && self.upload_session.is_none()
    }
}

/// Sends a request to the page's own server and reads its JSON answer.
pub async fn request<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiFailure> {
    request_to(&Target::default(), method, path, body).await
}

/// Sends a request to `target` and reads its JSON answer.
pub async fn request_to<T: DeserializeOwned>(
    target: &Target,
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiFailure> {
    let headers = Headers::new().map_err(unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let json = serde_json::to_string(body).unwrap_or_default();
        headers
            .set("Content-Type", "application/json")
            .map_err(unreachable)?;
        init.set_body(&json.into());
    }
    if let Some(session) = &target.upload_session {
        headers
            .set("Authorization", &format!("Bearer {session}"))
            .map_err(unreachable)?;
    } else if method != "GET" {
        if let Some(token) = csrf_token() {
            headers.set("X-CSRF-Token", &token).map_err(unreachable)?;
        }
    }
    init.set_headers(&headers);
    let url = format!("{}{path}", target.endpoint);
    let request = Request::new_with_str_and_init(&url, &init).map_err(unreachable)?;
    let response = fetch(&request).await?;
    if !response.ok() {
        return Err(failure(&response).await);
    }
    let body = body_json(&response)
        .await
        .unwrap_or(serde_json::Value::Null);
    serde_json::from_value(body).map_err(|e| ApiFailure {
        status: response.status(),
        code: "unexpected-answer".into(),
        message: format!("The server's answer was not understood: {e}"),
        body: None,
    })
}

/// The waits between tries of a request the server could not answer (no
/// connection, or a 5xx): about 7.5 s in all before giving up.
pub const RETRY_WAITS_MS: [i32; 4] = [500, 1_000, 2_000, 4_000];

impl ApiFailure {
    /// No answer, or the server's own failure: worth trying again.
    pub fn is_transient(&self) -> bool {
        self.status == 0 || self.status >= 500
    }
}

/// Waits `ms` milliseconds, in the page or in a worker.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(set_timeout) = set_timeout {
            let _ = set_timeout.call2(&global, &resolve, &ms.into());
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// `request_to`, tried again after each wait of [`RETRY_WAITS_MS`] while
/// the failure is transient (for requests that may be repeated: asking
/// where an upload stands, its preview, its commit).
pub async fn request_retrying<T: DeserializeOwned>(
    target: &Target,
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiFailure> {
    let mut waits = RETRY_WAITS_MS.iter();
    loop {
        match request_to(target, method, path, body).await {
            Err(failure) if failure.is_transient() => match waits.next() {
                Some(ms) => sleep(*ms).await,
                None => return Err(failure),
            },
            answer => return answer,
        }
    }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    request::<T>("GET", path, None::<&()>).await
}

pub async fn post<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, ApiFailure> {
    request("POST", path, Some(body)).await
}

pub async fn put<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, ApiFailure> {
    request("PUT", path, Some(body)).await
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}
