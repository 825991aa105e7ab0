//! RosterGate's backend crate: the `rostergate` command line and the web
//! server. Thin shells around the `shared` schema crate.

pub mod cli;
pub mod server;
