//! What both modules of the `<roster-validator>` web component share: its
//! host element's attributes and events, and the second module's view.
//!
//! The element's module (`roster-widget`) loads with the page and holds
//! the pickers, the status, the header problems and the results; it has
//! no validator (the worker, `roster-widget-worker`, loads when a file is
//! chosen). After the first check it loads `roster-widget-more`: the grid
//! of "Fix in browser" and processing, which listen to the same worker.

use std::sync::Arc;

use leptos::prelude::*;
use shared::api::UploadReport;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, Worker};

use crate::api::Target;
use crate::grid::FixGrid;
use crate::process::Process;
use crate::protocol::Summary;
use crate::session::ValidationSession;

/// Fires `name` on the element, with `detail` (crossing the shadow root).
pub fn dispatch(host: &HtmlElement, name: &str, detail: &serde_json::Value) {
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
pub fn validated_detail(summary: &Summary) -> serde_json::Value {
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
pub const TOKEN_IN_PAGE: &str = "This page puts an embed token in the <roster-validator> element. \
Embed tokens stay on the host's server: anyone who opens the page can copy one, so revoke this \
token and issue a new one. The page needs an upload session instead (session=\"…\"), which the \
host's server mints for a person it has signed in (POST /api/embed/sessions). \
Files can still be checked here; nothing is sent.";

/// Shown when processing is asked for without an upload session.
const NO_SESSION: &str = "This page has no upload session for RosterGate (the element's \
session attribute is empty), so nothing can be sent. Sign in to the portal again, or reload \
the page for a new session.";

/// An attribute's value, trimmed; `None` when absent or blank.
pub fn attribute(host: &HtmlElement, name: &str) -> Option<String> {
    host.get_attribute(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether the page handed the element an embed token (as `token`, or by
/// mistake as `session`): it is never sent, not even to be refused.
pub fn token_in_page(host: &HtmlElement) -> bool {
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

/// The element's `endpoint`, unless the page put an embed token in it.
pub fn endpoint_of(host: &HtmlElement) -> Option<String> {
    attribute(host, "endpoint")
        .filter(|_| !token_in_page(host))
        .map(|endpoint| endpoint.trim_end_matches('/').to_string())
}

/// Mounts the second module's view in `container`: the grid (once fixing
/// starts) and, with an `endpoint`, processing; both follow the element's
/// `worker`, whose last check was `summary` (JSON) of the files `names`,
/// and which sent the messages of `backlog` while this module loaded.
pub fn mount_more(
    container: HtmlElement,
    host: HtmlElement,
    worker: Worker,
    summary: &str,
    names: &str,
    backlog: js_sys::Array,
) {
    let Ok(summary) = serde_json::from_str::<Summary>(summary) else {
        return;
    };
    let names: Vec<String> = serde_json::from_str(names).unwrap_or_default();
    let endpoint = endpoint_of(&host);
    let host = Arc::new(send_wrapper::SendWrapper::new(host));
    leptos::mount::mount_to(container, move || {
        let session = ValidationSession::attached(worker, summary, names, &backlog);
        let processed = host.clone();
        let failed = host.clone();
        let attributes = host.clone();
        view! {
            {move || session.fixing.open.get().then(|| view! { <FixGrid session /> })}
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
