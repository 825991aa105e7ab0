//! RosterGate's browser app: client-side rendered with Leptos, built by Trunk
//! (`scripts/build-frontend.sh`). For now it checks roster files on the main
//! thread with the shared crate's streaming validator; nothing is uploaded.

mod app;
mod check;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
