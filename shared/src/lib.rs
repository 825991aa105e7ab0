//! RosterGate's schema crate: the data dictionary of `users.csv` and
//! `demographics.csv` as data, and the streaming validator that applies it.
//! Pure: no I/O, no async, no web APIs; it compiles to native code and to
//! WebAssembly, so the command line, the browser and the server share it.
#![warn(missing_docs)]

pub mod api;
pub mod cells;
pub mod codes;
pub mod csv_out;
mod demographics;
pub mod dictionary;
pub mod docs;
pub mod errors_csv;
pub mod export;
pub mod fixes;
mod header;
mod reader;
pub mod records;
pub mod report;
pub mod rows;
pub mod sample;
mod sink;
mod users;
pub mod validator;

pub use codes::{IssueCode, Severity};
pub use dictionary::FileKind;
pub use records::Records;
pub use report::{Finding, Report};
pub use validator::{validate, Options, Validated, Validator};
