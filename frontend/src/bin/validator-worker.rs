//! The Web Worker that validates roster files off the page's thread (see
//! `frontend::worker`). Trunk builds it as a module worker with a loader
//! script, `validator-worker_loader.js`.

fn main() {
    frontend::worker::run();
}
