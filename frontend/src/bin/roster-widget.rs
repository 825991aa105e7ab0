//! The `<roster-validator>` web component's element: `roster-validator.js`
//! (frontend/widget/) defines the element and calls `mount_validator` with
//! a container in the element's shadow root. This module is what loads with
//! the page; it has no validator (the worker is `roster-widget-worker`,
//! started by `roster-worker.js` when a file is chosen), and the grid and
//! processing come after the first check, in `roster-widget-more`
//! (`frontend::widget`). The UI is the app's own; nothing here knows the app.

use std::sync::Arc;

use frontend::validator_ui::{Stage, ValidationSession, ValidatorPanel};
use frontend::widget::{attribute, dispatch, token_in_page, validated_detail, TOKEN_IN_PAGE};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

fn main() {
    console_error_panic_hook::set_once();
}

/// Mounts the validator in `container` for the element `host`, reading its
/// attributes: `endpoint` (absent: validate only; nothing leaves the page),
/// `session` (an upload session the host's server minted; read again for
/// each upload) and `schools` (known school IDs, comma-separated). An
/// embed token (`token`) is refused: it is shown as an error and never
/// sent. After the first check, `load_more(container, host, worker,
/// summary, names, backlog)` loads and mounts the grid and processing.
#[wasm_bindgen]
pub fn mount_validator(
    container: HtmlElement,
    host: HtmlElement,
    worker_url: String,
    load_more: js_sys::Function,
) {
    let schools: Option<Vec<String>> = attribute(&host, "schools").map(|list| {
        list.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let token_refused = token_in_page(&host);
    let host = Arc::new(send_wrapper::SendWrapper::new(host));
    let more_at = Arc::new(send_wrapper::SendWrapper::new(container.clone()));
    let load_more = Arc::new(send_wrapper::SendWrapper::new(load_more));
    leptos::mount::mount_to(container, move || {
        let session = ValidationSession::new(&worker_url);
        let events = host.clone();
        let loaded = StoredValue::new(false);
        Effect::new(move || match session.stage.get() {
            Stage::Done(summary) => {
                dispatch(&events, "roster-validated", &validated_detail(&summary));
                if !loaded.get_value() {
                    loaded.set_value(true);
                    more(&more_at, &events, &load_more, &session, &summary);
                }
            }
            Stage::Failed(message) => dispatch(
                &events,
                "roster-error",
                &serde_json::json!({ "message": message }),
            ),
            _ => {}
        });
        if token_refused {
            dispatch(
                &host,
                "roster-error",
                &serde_json::json!({ "message": TOKEN_IN_PAGE }),
            );
        }
        view! {
            {token_refused.then(|| view! {
                <p class="form-problem token-in-page" role="alert">{TOKEN_IN_PAGE}</p>
            })}
            <ValidatorPanel
                session
                // The worker's module loads when a file is chosen, not with the page.
                warm_up=false
                disabled=Signal::derive(|| None::<String>)
                known_school_ids=Signal::stored(schools.clone())
            />
        }
    })
    .forget();
}

/// Loads the second module (the grid and processing) after `container`'s
/// panel, handing it the worker, the check just done, and the messages
/// the worker sends while it loads (the module replays them, then marks
/// the backlog `done`).
fn more(
    container: &HtmlElement,
    host: &HtmlElement,
    load_more: &js_sys::Function,
    session: &ValidationSession,
    summary: &frontend::protocol::Summary,
) {
    let (Some(worker), Ok(more)) = (session.worker_handle(), document().create_element("div"))
    else {
        return;
    };
    let backlog = js_sys::Array::new();
    let kept = backlog.clone();
    let keep =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let done = js_sys::Reflect::get(&kept, &"done".into()).is_ok_and(|d| d.is_truthy());
            if !done {
                kept.push(&event.data());
            }
        });
    let _ = worker.add_event_listener_with_callback("message", keep.as_ref().unchecked_ref());
    keep.forget();
    let _ = more.set_attribute("class", "more");
    let _ = container.append_child(&more);
    let summary = serde_json::to_string(summary).unwrap_or_default();
    let names = serde_json::to_string(&session.file_names.get_untracked()).unwrap_or_default();
    let arguments = js_sys::Array::of5(&more, host, &worker, &summary.into(), &names.into());
    arguments.push(&backlog);
    let _ = load_more.apply(&JsValue::NULL, &arguments);
}
