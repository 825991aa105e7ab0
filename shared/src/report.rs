//! Findings and reports are values: the product's output, kept apart from
//! operational failures. A finding is an occurrence of a code; its message is
//! rendered from the code table, and the offending value is kept out of the
//! message so that reports can be logged without personal data.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use crate::codes::{CodeInfo, IssueCode, Severity};
use crate::dictionary::FileKind;

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was found.
    pub code: IssueCode,
    /// The code's severity (from the code table).
    pub severity: Severity,
    /// The file it was found in.
    pub file: FileKind,
    /// Spreadsheet row (header = 1); `None` for file and header findings.
    pub row: Option<u64>,
    /// The column's header; `None` for a finding about a whole row or file.
    pub column: Option<Cow<'static, str>>,
    /// The offending value as written, for people fixing the file. Never part
    /// of the message or of the JSON report.
    pub value: Option<String>,
    /// Fills `{detail}` in the code's message template.
    pub detail: Option<String>,
}

impl Finding {
    /// A finding of `code` in `file`, with the code's severity.
    pub fn new(code: IssueCode, file: FileKind) -> Self {
        Finding {
            code,
            severity: code.severity(),
            file,
            row: None,
            column: None,
            value: None,
            detail: None,
        }
    }

    /// A finding on the cell of `column` in `row` of a file, with the value
    /// as written (none for a blank cell).
    pub(crate) fn in_cell(
        code: IssueCode,
        file: FileKind,
        row: u64,
        column: &'static str,
        value: &str,
    ) -> Self {
        let finding = Finding::new(code, file).at_row(row).in_column(column);
        if value.is_empty() {
            finding
        } else {
            finding.with_value(value)
        }
    }

    pub(crate) fn at_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// In the column with this header (fills `{column}`).
    pub fn in_column(mut self, column: impl Into<Cow<'static, str>>) -> Self {
        self.column = Some(column.into());
        self
    }

    /// The offending value, for the person fixing it (never in the message).
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Fills `{detail}` in the code's templates.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    fn render(&self, template: impl Fn(&CodeInfo) -> &'static str) -> String {
        let info = self.code.info();
        info.render(
            template(info),
            self.column.as_deref().unwrap_or("the column"),
            self.detail.as_deref().unwrap_or(""),
        )
    }

    /// The code's message, filled from the finding (no value).
    pub fn message(&self) -> String {
        self.render(|info| info.message)
    }

    /// The code's advice, filled from the finding.
    pub fn how_to_fix(&self) -> String {
        self.render(|info| info.how_to_fix)
    }

    /// "users.csv, row 5, column userEmail" (as far as the location is known).
    pub fn location(&self) -> String {
        let mut location = self.file.file_name().to_string();
        if let Some(row) = self.row {
            location.push_str(&format!(", row {row}"));
        }
        if let Some(column) = &self.column {
            location.push_str(&format!(", column {column}"));
        }
        location
    }

    /// The finding as reports show it.
    pub fn view(&self) -> FindingView {
        FindingView {
            code: self.code,
            severity: self.severity,
            file: self.file,
            row: self.row,
            column: self.column.as_deref().map(String::from),
            message: self.message(),
            how_to_fix: self.how_to_fix(),
            fix: crate::fixes::report_fix(self),
        }
    }
}

/// A finding as the JSON report shows it: no values, message rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingView {
    /// What was found.
    pub code: IssueCode,
    /// Error or warning.
    pub severity: Severity,
    /// The file it was found in.
    pub file: FileKind,
    /// Spreadsheet row (header = 1); `None` for file and header findings.
    pub row: Option<u64>,
    /// The column's header, if it is about one.
    pub column: Option<String>,
    /// The rendered message.
    pub message: String,
    /// The rendered advice.
    pub how_to_fix: String,
    /// The one obvious fix, where it names a value of the contract (a
    /// header's new name, a canonical role or grade); never one made from
    /// the file's value (`fixes::report_fix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(serializer)
    }
}

/// Counts for one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileStats {
    /// How the file was read (`utf-8`, `utf-16le`, ...), once known.
    pub encoding: Option<String>,
    /// Bytes read.
    pub bytes: u64,
    /// Data rows after the header, blank rows included.
    pub rows: u64,
    /// Blank rows (skipped, with a warning).
    pub blank_rows: u64,
    /// Rows with at least one error: held back, never sent.
    pub rows_with_errors: u64,
    /// Rows with at least one warning.
    pub rows_with_warnings: u64,
    /// Non-blank rows without errors.
    pub valid_rows: u64,
    /// The header was accepted (false: the file was refused).
    pub header_accepted: bool,
}

/// What the normalized records contain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityCounts {
    /// Schools the clean rows name.
    pub schools: u64,
    /// Users: students, teachers and administrators.
    pub users: u64,
    /// Students.
    pub students: u64,
    /// Teachers.
    pub teachers: u64,
    /// Administrators.
    pub administrators: u64,
    /// Classes.
    pub classes: u64,
    /// Enrollments: users in classes.
    pub enrollments: u64,
    /// Students with demographics.
    pub demographics: u64,
}

/// Counts of a validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// users.csv.
    pub users_file: FileStats,
    /// demographics.csv, if one was given.
    pub demographics_file: Option<FileStats>,
    /// Findings of severity error, cut or not.
    pub errors: u64,
    /// Findings of severity warning, cut or not.
    pub warnings: u64,
    /// Occurrences per code, exact even where the list of findings was cut.
    pub by_code: BTreeMap<IssueCode, u64>,
    /// Codes whose findings were cut at the cap (the counts stay exact).
    pub truncated_codes: Vec<IssueCode>,
    /// What the records contain.
    pub records: EntityCounts,
}

/// The validator's verdict on an upload.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// No finding of severity error.
    pub valid: bool,
    /// In file, row and column order; capped per code (`Stats::truncated_codes`).
    pub findings: Vec<Finding>,
    /// The counts.
    pub stats: Stats,
}

/// The report as read back from JSON (messages rendered, no values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// No finding of severity error.
    pub valid: bool,
    /// As in `Report`.
    pub findings: Vec<FindingView>,
    /// As in `Report`.
    pub stats: Stats,
}

impl Report {
    /// The report as JSON shows it (messages rendered, no values).
    pub fn view(&self) -> ReportView {
        ReportView {
            valid: self.valid,
            findings: self.findings.iter().map(Finding::view).collect(),
            stats: self.stats.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_has_no_value() {
        let finding = Finding::new(IssueCode::InvalidEmail, FileKind::Users)
            .at_row(7)
            .in_column("userEmail")
            .with_value("secret-marker");
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "invalid-email",
                "severity": "error",
                "file": "users.csv",
                "row": 7,
                "column": "userEmail",
                "message": "userEmail is not a valid email address.",
                "howToFix": "Give one address like name@school.org, at most 254 characters."
            })
        );
        assert!(!json.to_string().contains("secret-marker"));
        assert_eq!(finding.location(), "users.csv, row 7, column userEmail");
    }

    /// A fix naming a contract value is in the JSON; one made from the
    /// cell's value (the repaired email) is not.
    #[test]
    fn json_carries_only_fixes_of_the_contract() {
        let role = Finding::new(IssueCode::InvalidRole, FileKind::Users)
            .at_row(3)
            .in_column("userRole")
            .with_value("Teachers");
        assert_eq!(serde_json::to_value(&role).unwrap()["fix"], "teacher");
        let email = Finding::new(IssueCode::InvalidEmail, FileKind::Users)
            .at_row(4)
            .in_column("userEmail")
            .with_value("ann lee@x.org");
        assert!(
            crate::fixes::suggested_fix(&email).is_some(),
            "the grid has one"
        );
        let json = serde_json::to_value(&email).unwrap();
        assert!(json.get("fix").is_none(), "{json}");
        assert!(!json.to_string().contains("ann"));
    }
}
