//! The `<roster-validator>` web component's wasm. `roster-validator.js`
//! (frontend/widget/) defines the element and calls `mount_validator` with
//! a container in the element's shadow root; `roster-worker.js` runs the
//! validation worker from the same module. The UI is the app's own
//! validator and processing components; nothing here knows the app.

use std::sync::Arc;

use frontend::api::Target;
use frontend::process::Process;
use frontend::protocol::Summary;
use frontend::validator_ui::{Stage, ValidationSession, ValidatorPanel};
use leptos::prelude::*;
use shared::api::UploadReport;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

fn main() {
    console_error_panic_hook::set_once();
}

/// The same wasm also runs the component's validation worker
/// (`roster-worker.js`), so a portal downloads one module, not two.
#[wasm_bindgen]
pub fn run_worker() {
    frontend::worker::run();
}

/// Fires `name` on the element, with `detail` (crossing the shadow root).
fn dispatch(host: &HtmlElement, name: &str, detail: &serde_json::Value) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    let detail = js_sys::JSON::parse(&detail.to_string()).unwrap_or(JsValue::NULL);
    init.set_detail(&detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&event);
    }
}

/// `roster-validated`: counts only, never a value from the file.
fn validated_detail(summary: &Summary) -> serde_json::Value {
    let stats = &summary.stats;
    serde_json::json!({
        "valid": summary.valid,
        "headerAccepted": !summary.header_refused(),
        "rows": stats.users_file.rows,
        "validRows": stats.users_file.valid_rows,
        "heldBackRows": summary.held_back_rows(),
        "errors": stats.errors,
        "warnings": stats.warnings,
        "byCode": stats.by_code,
        "records": stats.records,
    })
}

/// Shown (and sent as `roster-error`) when the page holds an embed token.
const TOKEN_IN_PAGE: &str = "This page puts an embed token in the <roster-validator> element. \
Embed tokens stay on the host's server: anyone who opens the page can copy one, so revoke this \
token and issue a new one. The page needs an upload session instead (session=\"…\"), which the \
host's server mints for a person it has signed in (POST /api/embed/sessions). \
Files can still be checked here; nothing is sent.";

/// Shown when processing is asked for without an upload session.
const NO_SESSION: &str = "This page has no upload session for RosterGate (the element's \
session attribute is empty), so nothing can be sent. Sign in to the portal again, or reload \
the page for a new session.";

/// An attribute's value, trimmed; `None` when absent or blank.
fn attribute(host: &HtmlElement, name: &str) -> Option<String> {
    host.get_attribute(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether the page handed the element an embed token (as `token`, or by
/// mistake as `session`): it is never sent, not even to be refused.
fn token_in_page(host: &HtmlElement) -> bool {
    host.has_attribute("token") || attribute(host, "session").is_some_and(|s| s.starts_with("rge_"))
}

/// Where processing goes, read from the element's attributes when "Process
/// file" is pressed, so the host page can set a new `session` for each
/// upload (a session serves one).
fn target_of(host: &HtmlElement, endpoint: &str) -> Result<Target, String> {
    if token_in_page(host) {
        return Err(TOKEN_IN_PAGE.into());
    }
    let session = attribute(host, "session").ok_or_else(|| NO_SESSION.to_string())?;
    Ok(Target {
        endpoint: endpoint.to_string(),
        upload_session: Some(session),
    })
}

/// Mounts the validator in `container` for the element `host`, reading its
/// attributes: `endpoint` (absent: validate only; nothing leaves the page),
/// `session` (an upload session the host's server minted; read again for
/// each upload) and `schools` (known school IDs, comma-separated). An
/// embed token (`token`) is refused: it is shown as an error and never
/// sent.
#[wasm_bindgen]
pub fn mount_validator(container: HtmlElement, host: HtmlElement, worker_url: String) {
    let schools: Option<Vec<String>> = attribute(&host, "schools").map(|list| {
        list.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let token_refused = token_in_page(&host);
    let endpoint = attribute(&host, "endpoint")
        .filter(|_| !token_refused)
        .map(|endpoint| endpoint.trim_end_matches('/').to_string());
    let host = Arc::new(send_wrapper::SendWrapper::new(host));
    leptos::mount::mount_to(container, move || {
        let session = ValidationSession::new(&worker_url);
        let events = host.clone();
        Effect::new(move || match session.stage.get() {
            Stage::Done(summary) => dispatch(&events, "roster-validated", &validated_detail(&summary)),
            Stage::Failed(message) => {
                dispatch(&events, "roster-error", &serde_json::json!({ "message": message }))
            }
            _ => {}
        });
        if token_refused {
            dispatch(&host, "roster-error", &serde_json::json!({ "message": TOKEN_IN_PAGE }));
        }
        let processed = host.clone();
        let failed = host.clone();
        let attributes = host.clone();
        view! {
            {token_refused.then(|| view! {
                <p class="form-problem token-in-page" role="alert">{TOKEN_IN_PAGE}</p>
            })}
            <ValidatorPanel
                session
                disabled=Signal::derive(|| None::<String>)
                known_school_ids=Signal::stored(schools.clone())
            />
            {endpoint.clone().map(|endpoint| {
                let attributes = attributes.clone();
                view! {
                    <Process
                        session
                        target=Signal::derive(move || target_of(&attributes, &endpoint))
                        on_committed=move |report: UploadReport| {
                            dispatch(&processed, "roster-processed", &serde_json::to_value(&report).unwrap_or_default())
                        }
                        on_failed=move |message: String| {
                            dispatch(&failed, "roster-error", &serde_json::json!({ "message": message }))
                        }
                    />
                }
            })}
        }
    })
    .forget();
}
