//! RosterGate's browser app: client-side rendered with Leptos, built by Trunk
//! (`scripts/build-frontend.sh`). Files are validated in a Web Worker
//! (`frontend::worker`); only clean records are sent, and only when the
//! admin processes them.

mod app;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
