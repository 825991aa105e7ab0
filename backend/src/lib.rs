//! RosterGate's backend crate: the `rostergate` command line (and, with the
//! next issue, the server). Thin shells around the `shared` schema crate.

pub mod cli;
