//! The messages between the page and the validation worker.
//!
//! Each message is a plain JS object `{ json, … }`: `json` is one of the
//! enums below as JSON text; files and blobs travel beside it as their own
//! properties (`users`, `demographics`, `blob`), because the browser moves
//! those by reference.

mod fixing;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared::report::Stats;
use shared::{FileKind, Finding};

pub use fixing::*;

/// Findings handed to the page for its table; the counts stay exact and the
/// errors CSV always has every finding.
pub const FINDINGS_TO_PAGE: usize = 100_000;

/// The worker tells the page its progress after about this many bytes.
pub const PROGRESS_BYTES: f64 = 1024.0 * 1024.0;

/// The worker reads a file's first bytes on their own, this many, so the
/// header verdict comes at once.
pub const FIRST_PIECE_BYTES: f64 = 16.0 * 1024.0;

/// Uncompressed bytes of clean CSV per part sent to the server.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// From the page to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ToWorker {
    /// Validate the `users` file (and `demographics`, when given) that come
    /// with the message.
    Validate {
        /// The district's school IDs, so `unknown-school` is caught here.
        #[serde(rename = "knownSchoolIds")]
        known_school_ids: Option<Vec<String>>,
        /// Also answer with the whole report, in the command line's JSON
        /// shape (for the web component's `RosterValidator.validate`).
        #[serde(rename = "fullReport", default)]
        full_report: bool,
    },
    /// Write `users-errors.csv` or `demographics-errors.csv` from the files
    /// last validated.
    ErrorsCsv {
        file: FileKind,
    },
    /// Send the clean records of the last validation to a staged upload
    /// (going on from the parts the server has, when it has some).
    Send(SendRequest),
    /// Open the files last checked for fixing, showing `file`.
    StartFixing {
        file: FileKind,
    },
    /// One undoable change of `file`.
    Edit {
        file: FileKind,
        request: EditRequest,
    },
    /// How many cells (or rows) a change would change; answered with `id`.
    Preview {
        id: u32,
        file: FileKind,
        request: EditRequest,
    },
    Undo,
    Redo,
    /// Back to the files as chosen.
    Discard,
    /// Check the edited files now.
    CheckAgain,
    /// Show the rows of `file` that match `filter` now.
    ShowRows {
        file: FileKind,
        filter: RowFilter,
    },
    /// Rows `start..end` of the view.
    Rows {
        start: usize,
        end: usize,
    },
    /// The corrected file, as the message's `blob`.
    Corrected {
        file: FileKind,
    },
}

/// Where the clean records go: `{endpoint}/api/uploads/staged/{id}/…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// The server's origin, or "" for the page's own.
    pub endpoint: String,
    pub staged_id: String,
    /// Sent as `X-CSRF-Token` (the admin's session) or `Authorization:
    /// Bearer` (the web component's upload session).
    pub csrf_token: Option<String>,
    pub bearer_token: Option<String>,
    /// Going on after a failure: ask the server which parts it has first.
    #[serde(default)]
    pub resume: bool,
}

/// From the worker to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FromWorker {
    /// The worker is listening; messages sent before this may be lost.
    Ready,
    /// A check of newly chosen files has started.
    Validating,
    /// A file's header has been read (sent as soon as it is complete).
    Header(HeaderSummary),
    Progress(ReadProgress),
    Done(Box<Summary>),
    /// The whole report, as `rostergate validate --format json` prints it
    /// (asked for with `fullReport`).
    Report(Box<shared::report::ReportView>),
    /// The errors CSV is the message's `blob`.
    ErrorsCsv {
        file: FileKind,
    },
    SendProgress {
        sent: u64,
        total: u64,
    },
    Sent {
        users_bytes: u64,
        demographics_bytes: u64,
    },
    /// Sending stopped: `message` says why; `resumable` when trying again
    /// can go on from the parts the server has.
    Failed {
        message: String,
        #[serde(default)]
        resumable: bool,
    },
    /// A check of the edited files has started.
    Checking {
        revision: u64,
    },
    /// Where fixing stands.
    Grid(Box<GridState>),
    Rows(GridRows),
    /// How many cells (or rows) the change `id` would change.
    Preview {
        id: u32,
        count: u64,
    },
    /// The corrected file is the message's `blob`.
    Corrected {
        file: FileKind,
    },
}

/// One file's header verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderSummary {
    pub file: FileKind,
    pub accepted: bool,
    /// Every header finding, with its did-you-mean suggestion in the message.
    pub problems: Vec<FindingRow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadProgress {
    pub file: FileKind,
    pub bytes_read: f64,
    pub bytes_total: f64,
    /// Rows of this file read so far.
    pub rows: u64,
    pub elapsed_ms: f64,
}

impl ReadProgress {
    pub fn percent(&self) -> f64 {
        if self.bytes_total > 0.0 {
            (self.bytes_read / self.bytes_total * 100.0).min(100.0)
        } else {
            100.0
        }
    }

    pub fn rows_per_second(&self) -> f64 {
        if self.elapsed_ms > 0.0 {
            self.rows as f64 / (self.elapsed_ms / 1000.0)
        } else {
            0.0
        }
    }
}

/// One row of the findings table. The offending value is shown to the
/// admin who chose the file; it never leaves the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingRow {
    pub code: String,
    pub severity: String,
    pub file: FileKind,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
    pub how_to_fix: String,
    /// The suggested fix (`shared::fixes`): a header's new name, a cell's
    /// new value.
    #[serde(default)]
    pub fix: Option<String>,
}

impl From<&Finding> for FindingRow {
    fn from(finding: &Finding) -> Self {
        FindingRow {
            code: finding.code.as_str().to_string(),
            severity: finding.severity.as_str().to_string(),
            file: finding.file,
            row: finding.row,
            column: finding.column.as_deref().map(String::from),
            value: finding.value.clone(),
            message: finding.message(),
            how_to_fix: finding.how_to_fix(),
            fix: shared::fixes::suggested_fix(finding).map(|fix| fix.value),
        }
    }
}

/// How many findings of one code fell in one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeCount {
    pub code: String,
    pub severity: String,
    pub column: Option<String>,
    pub count: u64,
}

/// The outcome of a validation, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub valid: bool,
    pub stats: Stats,
    /// Findings per code and column, most frequent first.
    pub by_code_column: Vec<CodeCount>,
    /// The first [`FINDINGS_TO_PAGE`] findings.
    pub findings: Vec<FindingRow>,
    /// All findings in the report (errors + warnings, capped per code).
    pub findings_total: usize,
    pub millis: f64,
}

impl Summary {
    pub fn new(report: &shared::Report, millis: f64) -> Self {
        let mut counts: BTreeMap<(&'static str, Option<&str>), (&'static str, u64)> =
            BTreeMap::new();
        for finding in &report.findings {
            let entry = counts
                .entry((finding.code.as_str(), finding.column.as_deref()))
                .or_insert((finding.severity.as_str(), 0));
            entry.1 += 1;
        }
        let mut by_code_column: Vec<CodeCount> = counts
            .into_iter()
            .map(|((code, column), (severity, count))| CodeCount {
                code: code.to_string(),
                severity: severity.to_string(),
                column: column.map(String::from),
                count,
            })
            .collect();
        // Errors before warnings, then the most frequent first.
        by_code_column.sort_by(|a, b| {
            (a.severity != "error", std::cmp::Reverse(a.count))
                .cmp(&(b.severity != "error", std::cmp::Reverse(b.count)))
        });
        Summary {
            valid: report.valid,
            stats: report.stats.clone(),
            by_code_column,
            findings: report
                .findings
                .iter()
                .take(FINDINGS_TO_PAGE)
                .map(FindingRow::from)
                .collect(),
            findings_total: report.findings.len(),
            millis,
        }
    }

    /// Rows of users.csv held back because they have errors.
    pub fn held_back_rows(&self) -> u64 {
        self.stats.users_file.rows_with_errors
            + self
                .stats
                .demographics_file
                .as_ref()
                .map_or(0, |d| d.rows_with_errors)
    }

    /// The header of some file was refused: nothing can be processed.
    pub fn header_refused(&self) -> bool {
        !self.stats.users_file.header_accepted
            || self
                .stats
                .demographics_file
                .as_ref()
                .is_some_and(|d| !d.header_accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::Options;

    const USERS: &str = "action,schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,userDistrictId,userStateId,classId,className,classGrade,classDisplayName,isPrimaryTeacher
,S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,TRUE
,S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,
,S1,U2,student,Cy,Park,not-an-email,05,,,C1,Math,05,,
,S1,U3,student,Di,Ro,also-bad,05,,,C1,Math,05,,
";

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_summary_counts_by_code_and_column_and_keeps_the_value_for_the_page() {
        let validated = shared::validate(USERS.as_bytes(), None, Options::default());
        let summary = Summary::new(&validated.report, 3.0);
        assert!(!summary.valid);
        assert_eq!(
            summary.by_code_column[0],
            CodeCount {
                code: "invalid-email".into(),
                severity: "error".into(),
                column: Some("userEmail".into()),
                count: 2
            }
        );
        let first = &summary.findings[0];
        assert_eq!(first.row, Some(4));
        assert_eq!(first.value.as_deref(), Some("not-an-email"));
        assert_eq!(summary.held_back_rows(), 2);
        assert!(!summary.header_refused());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn messages_round_trip_as_json() {
        let message = ToWorker::Validate {
            known_school_ids: Some(vec!["S1".into()]),
            full_report: false,
        };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"validate","knownSchoolIds":["S1"],"fullReport":false}"#
        );
        // What the web component's JavaScript sends.
        let from_js: ToWorker =
            serde_json::from_str(r#"{"kind":"validate","knownSchoolIds":null,"fullReport":true}"#)
                .unwrap();
        assert_eq!(
            from_js,
            ToWorker::Validate {
                known_school_ids: None,
                full_report: true
            }
        );
        assert_eq!(serde_json::from_str::<ToWorker>(&json).unwrap(), message);
        let progress = ReadProgress {
            file: FileKind::Users,
            bytes_read: 50.0,
            bytes_total: 200.0,
            rows: 1000,
            elapsed_ms: 500.0,
        };
        assert_eq!(progress.percent(), 25.0);
        assert_eq!(progress.rows_per_second(), 2000.0);
    }
}
