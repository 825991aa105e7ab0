//! RosterGate's backend crate: the `rostergate` command line and the web
//! server. Thin shells around the `shared` schema crate.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod cli;
pub mod db;
pub mod demo;
pub mod embed;
pub mod error;
pub mod input;
pub mod orgs;
pub mod roster;
pub mod server;
pub mod uploads;
