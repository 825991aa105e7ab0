//! Where the passes put their findings: counts per code stay exact, the list
//! itself is capped per code, and each row remembers whether it has an error
//! or a warning (one byte a row) so that row counts are exact too.

use crate::codes::{IssueCode, Severity};
use crate::dictionary::FileKind;
use crate::report::Finding;

const HAS_ERROR: u8 = 1;
const HAS_WARNING: u8 = 2;

#[derive(Debug)]
pub(crate) struct Sink {
    findings: Vec<Finding>,
    counts: Vec<u64>,
    cap_per_code: usize,
    errors: u64,
    warnings: u64,
    /// Per file, per row: `HAS_ERROR | HAS_WARNING`.
    row_flags: [Vec<u8>; 2],
}

fn file_index(file: FileKind) -> usize {
    match file {
        FileKind::Users => 0,
        FileKind::Demographics => 1,
    }
}

/// `IssueCode::ALL` lists the variants in declaration order.
fn code_index(code: IssueCode) -> usize {
    code as usize
}

impl Sink {
    pub fn new(cap_per_code: usize) -> Self {
        Sink {
            findings: Vec::new(),
            counts: vec![0; IssueCode::ALL.len()],
            cap_per_code,
            errors: 0,
            warnings: 0,
            row_flags: [Vec::new(), Vec::new()],
        }
    }

    pub fn push(&mut self, finding: Finding) {
        let count = &mut self.counts[code_index(finding.code)];
        *count += 1;
        match finding.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        if let Some(row) = finding.row {
            let flags = &mut self.row_flags[file_index(finding.file)];
            let row = usize::try_from(row).unwrap_or(usize::MAX);
            if row >= flags.len() && row < usize::MAX {
                flags.resize(row + 1, 0);
            }
            if let Some(flag) = flags.get_mut(row) {
                *flag |= match finding.severity {
                    Severity::Error => HAS_ERROR,
                    Severity::Warning => HAS_WARNING,
                };
            }
        }
        if *count <= self.cap_per_code as u64 {
            self.findings.push(finding);
        }
    }

    /// (rows with errors, rows with warnings) of a file.
    pub fn row_counts(&self, file: FileKind) -> (u64, u64) {
        let flags = &self.row_flags[file_index(file)];
        let errors = flags.iter().filter(|f| *f & HAS_ERROR != 0).count() as u64;
        let warnings = flags.iter().filter(|f| *f & HAS_WARNING != 0).count() as u64;
        (errors, warnings)
    }

    /// (errors, warnings) pushed, cut or not.
    pub fn totals(&self) -> (u64, u64) {
        (self.errors, self.warnings)
    }

    pub fn count(&self, code: IssueCode) -> u64 {
        self.counts[code_index(code)]
    }

    pub fn truncated(&self, code: IssueCode) -> bool {
        self.count(code) > self.cap_per_code as u64
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}
