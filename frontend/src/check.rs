//! Reading the chosen files in slices and feeding them to the shared crate's
//! streaming validator, and the plain summary of the report the page shows.

use shared::{FileKind, Finding, Options, Report, Validated, Validator};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

/// Findings listed in the table; the counts above it stay exact.
pub const FINDINGS_SHOWN: usize = 200;

/// Bytes read from a file per step (the page updates between steps).
const SLICE_BYTES: f64 = 4.0 * 1024.0 * 1024.0;

/// One row of the findings table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub code: &'static str,
    pub severity: &'static str,
    pub file: &'static str,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub message: String,
    pub how_to_fix: String,
}

impl From<&Finding> for FindingRow {
    fn from(finding: &Finding) -> Self {
        FindingRow {
            code: finding.code.as_str(),
            severity: finding.severity.as_str(),
            file: finding.file.file_name(),
            row: finding.row,
            column: finding.column.as_deref().map(String::from),
            message: finding.message(),
            how_to_fix: finding.how_to_fix(),
        }
    }
}

/// What the page shows of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The names of the files as chosen, for the heading.
    pub files: Vec<String>,
    pub valid: bool,
    pub errors: u64,
    pub warnings: u64,
    pub users: u64,
    pub classes: u64,
    pub enrollments: u64,
    /// Findings in the report (the table lists the first [`FINDINGS_SHOWN`]).
    pub findings_total: usize,
    pub findings: Vec<FindingRow>,
    pub millis: f64,
}

impl Summary {
    pub fn new(report: &Report, files: Vec<String>, millis: f64) -> Self {
        let stats = &report.stats;
        Summary {
            files,
            valid: report.valid,
            errors: stats.errors,
            warnings: stats.warnings,
            users: stats.records.users,
            classes: stats.records.classes,
            enrollments: stats.records.enrollments,
            findings_total: report.findings.len(),
            findings: report
                .findings
                .iter()
                .take(FINDINGS_SHOWN)
                .map(FindingRow::from)
                .collect(),
            millis,
        }
    }
}

/// How far reading has come, for the status line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub file: FileKind,
    pub read: f64,
    pub total: f64,
}

/// Reads users.csv and then demographics.csv (each when chosen) slice by
/// slice into one validator, and returns its verdict.
pub async fn validate_files(
    users: Option<File>,
    demographics: Option<File>,
    on_progress: impl Fn(Progress),
) -> Result<Validated, String> {
    validate_in_slices(users, demographics, SLICE_BYTES, on_progress).await
}

async fn validate_in_slices(
    users: Option<File>,
    demographics: Option<File>,
    slice_bytes: f64,
    on_progress: impl Fn(Progress),
) -> Result<Validated, String> {
    let mut validator = Validator::new(Options::default());
    if let Some(file) = &users {
        feed(
            &mut validator,
            FileKind::Users,
            file,
            slice_bytes,
            &on_progress,
        )
        .await?;
    }
    if let Some(file) = &demographics {
        feed(
            &mut validator,
            FileKind::Demographics,
            file,
            slice_bytes,
            &on_progress,
        )
        .await?;
    }
    Ok(validator.finish())
}

async fn feed(
    validator: &mut Validator,
    kind: FileKind,
    file: &File,
    slice_bytes: f64,
    on_progress: &impl Fn(Progress),
) -> Result<(), String> {
    let total = file.size();
    let mut start = 0.0;
    // Push at least once, so that an empty file is reported as empty rather
    // than as not chosen.
    loop {
        let end = (start + slice_bytes).min(total);
        let slice = file
            .slice_with_f64_and_f64(start, end)
            .map_err(|e| read_error(kind, &e))?;
        let buffer = JsFuture::from(slice.array_buffer())
            .await
            .map_err(|e| read_error(kind, &e))?;
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        match kind {
            FileKind::Users => validator.push_users(&bytes),
            FileKind::Demographics => validator.push_demographics(&bytes),
        }
        on_progress(Progress {
            file: kind,
            read: end,
            total,
        });
        if end >= total {
            return Ok(());
        }
        start = end;
    }
}

fn read_error(kind: FileKind, error: &JsValue) -> String {
    let detail = error
        .as_string()
        .or_else(|| {
            js_sys::Reflect::get(error, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "the browser gave no reason".to_string());
    format!(
        "Could not read {}: {detail}. Choose the file again.",
        kind.file_name()
    )
}

/// "12.3 MB", "840 KB", "512 bytes".
pub fn format_bytes(bytes: f64) -> String {
    if bytes >= 1_000_000.0 {
        format!("{:.1} MB", bytes / 1_000_000.0)
    } else if bytes >= 1_000.0 {
        format!("{:.0} KB", bytes / 1_000.0)
    } else if bytes == 1.0 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

// `cargo test -p frontend --target wasm32-unknown-unknown` (in Node, which
// has `File` and `Blob`).
#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use std::cell::RefCell;

    use shared::IssueCode;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    const USERS: &str = "action,schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,userDistrictId,userStateId,classId,className,classGrade,classDisplayName,isPrimaryTeacher
,S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,TRUE
,S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,
,S1,U2,student,Cy,Park,not-an-email,05,,,C1,Math,05,,
";

    fn file(name: &str, bytes: &[u8]) -> File {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        File::new_with_u8_array_sequence(&parts, name).unwrap()
    }

    fn codes(validated: &Validated) -> Vec<IssueCode> {
        validated.report.findings.iter().map(|f| f.code).collect()
    }

    #[wasm_bindgen_test]
    async fn small_slices_give_the_same_report_as_one_push() {
        let whole = shared::validate(USERS.as_bytes(), None, Options::default());
        let last = RefCell::new(None);
        let sliced =
            validate_in_slices(Some(file("users.csv", USERS.as_bytes())), None, 7.0, |p| {
                *last.borrow_mut() = Some(p)
            })
            .await
            .unwrap();
        assert_eq!(sliced.report.findings, whole.report.findings);
        assert_eq!(sliced.report.stats, whole.report.stats);
        assert!(!sliced.report.valid);
        assert!(codes(&sliced).contains(&IssueCode::InvalidEmail));
        assert_eq!(sliced.report.stats.records.classes, 1);
        let last = last.into_inner().unwrap();
        assert_eq!(
            (last.file, last.read),
            (FileKind::Users, USERS.len() as f64)
        );
        assert_eq!(last.total, USERS.len() as f64);
    }

    #[wasm_bindgen_test]
    async fn the_summary_lists_what_the_page_shows() {
        let validated = validate_files(Some(file("users.csv", USERS.as_bytes())), None, |_| {})
            .await
            .unwrap();
        let summary = Summary::new(&validated.report, vec!["users.csv".into()], 1.0);
        assert!(!summary.valid);
        assert_eq!(summary.errors, validated.report.stats.errors);
        assert_eq!(summary.findings_total, validated.report.findings.len());
        let email = summary
            .findings
            .iter()
            .find(|f| f.code == "invalid-email")
            .unwrap();
        assert_eq!(
            (email.severity, email.file, email.row),
            ("error", "users.csv", Some(4))
        );
        assert_eq!(email.column.as_deref(), Some("userEmail"));
    }

    #[wasm_bindgen_test]
    async fn an_empty_file_is_reported_as_empty() {
        let validated = validate_files(Some(file("users.csv", b"")), None, |_| {})
            .await
            .unwrap();
        assert!(!validated.report.valid);
        assert_eq!(codes(&validated), vec![IssueCode::EmptyFile]);
    }

    #[wasm_bindgen_test]
    fn sizes_read_plainly() {
        assert_eq!(format_bytes(0.0), "0 bytes");
        assert_eq!(format_bytes(1.0), "1 byte");
        assert_eq!(format_bytes(840_000.0), "840 KB");
        assert_eq!(format_bytes(12_345_678.0), "12.3 MB");
    }
}
