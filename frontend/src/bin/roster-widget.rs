//! The `<roster-validator>` web component's wasm. `roster-validator.js`
//! (frontend/widget/) defines the element and calls `mount_validator` with
//! a container in the element's shadow root; `roster-worker.js` runs the
//! validation worker from the same module. The UI is the app's own
//! validator and processing components; nothing here knows the app.

use std::sync::Arc;

use frontend::api::Target;
use frontend::process::Process;
use frontend::protocol::Summary;
use frontend::upload_types::UploadReport;
use frontend::validator_ui::{Stage, ValidationSession, ValidatorPanel};
use leptos::prelude::*;
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

/// Mounts the validator in `container` for the element `host`, reading its
/// attributes: `endpoint` and `token` (absent: validate only; nothing leaves
/// the page) and `schools` (known school IDs, comma-separated).
#[wasm_bindgen]
pub fn mount_validator(container: HtmlElement, host: HtmlElement, worker_url: String) {
    let attribute = |name: &str| {
        host.get_attribute(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let schools: Option<Vec<String>> = attribute("schools").map(|list| {
        list.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let target = attribute("endpoint").map(|endpoint| Target {
        endpoint: endpoint.trim_end_matches('/').to_string(),
        bearer_token: attribute("token"),
    });
    let host = send_wrapper::SendWrapper::new(host);
    leptos::mount::mount_to(container, move || {
        let session = ValidationSession::new(&worker_url);
        let host = Arc::new(host);
        let events = host.clone();
        Effect::new(move || match session.stage.get() {
            Stage::Done(summary) => dispatch(&events, "roster-validated", &validated_detail(&summary)),
            Stage::Failed(message) => {
                dispatch(&events, "roster-error", &serde_json::json!({ "message": message }))
            }
            _ => {}
        });
        let processed = host.clone();
        let failed = host.clone();
        view! {
            <ValidatorPanel
                session
                disabled=Signal::derive(|| None::<String>)
                known_school_ids=Signal::stored(schools.clone())
            />
            {target.clone().map(|target| view! {
                <Process
                    session
                    target
                    on_committed=move |report: UploadReport| {
                        dispatch(&processed, "roster-processed", &serde_json::to_value(&report).unwrap_or_default())
                    }
                    on_failed=move |message: String| {
                        dispatch(&failed, "roster-error", &serde_json::json!({ "message": message }))
                    }
                />
            })}
        }
    })
    .forget();
}
