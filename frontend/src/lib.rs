//! RosterGate's browser code. The library holds what does not depend on the
//! app's routing or session, so the app and the embeddable web component
//! share it: the worker protocol, the worker itself, the validator UI, API
//! calls and formatting. The app is the `frontend` binary; the worker is the
//! `validator-worker` binary (both built by Trunk).

pub mod api;
pub mod findings_table;
pub mod fix_session;
pub mod fixing;
pub mod format;
pub mod grid;
pub mod process;
pub mod protocol;
pub mod server_findings;
pub mod session;
pub mod upload_report;
pub mod validator_ui;
pub mod widget;
pub mod worker;
