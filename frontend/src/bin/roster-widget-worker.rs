//! The `<roster-validator>` web component's validation worker
//! (`roster-worker.js` starts it): the validator and the fixing model, in a
//! module of its own, so that the element's module, which loads with the
//! page, carries no validator, and this one loads when a file is chosen.

fn main() {
    frontend::worker::run();
}
