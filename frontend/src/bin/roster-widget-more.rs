//! The `<roster-validator>` web component's second module, loaded after
//! the first check: the grid of "Fix in browser" and processing, on the
//! element's worker (`frontend::widget::mount_more`).

use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, Worker};

fn main() {
    console_error_panic_hook::set_once();
}

/// Mounts the grid and processing in `container` (see `frontend::widget`).
#[wasm_bindgen]
pub fn mount_more(
    container: HtmlElement,
    host: HtmlElement,
    worker: Worker,
    summary: String,
    names: String,
    backlog: js_sys::Array,
) {
    frontend::widget::mount_more(container, host, worker, &summary, &names, backlog);
}
