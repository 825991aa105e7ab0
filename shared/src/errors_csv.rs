//! `users-errors.csv` / `demographics-errors.csv`: the original columns of
//! each row with a problem, then `rowNumber, severity, column, code, message,
//! howToFix, suggestedFix`; one line per problem. The suggested fix may be
//! made from the cell's value (a repaired email): this report is for the
//! person who has the file, made in the browser or by the command line. Rows are not kept by the validator, so
//! the report is written in a second streaming pass over the original file.
//! UTF-8 with BOM, formula-safe.

use crate::csv_out::{write_row, Audience, BOM};
use crate::dictionary::FileKind;
use crate::fixes::suggested_fix;
use crate::reader::{Record, RecordReader};
use crate::report::Finding;

/// Columns added after the original ones.
const REPORT_COLUMNS: &[&str] = &[
    "rowNumber",
    "severity",
    "column",
    "code",
    "message",
    "howToFix",
    "suggestedFix",
];

/// Streaming writer of an errors report.
#[derive(Debug)]
pub struct ErrorsCsvWriter {
    /// This file's findings with a row, in row order.
    by_row: Vec<Finding>,
    next: usize,
    /// File and header findings, written right after the header line.
    file_level: Vec<Finding>,
    reader: RecordReader,
    width: Option<usize>,
    out: Vec<u8>,
}

impl ErrorsCsvWriter {
    /// A writer of `file`'s errors report, for the findings of a validation
    /// (those of other files are left out).
    pub fn new(file: FileKind, findings: &[Finding]) -> Self {
        let mine = findings.iter().filter(|f| f.file == file);
        let file_level: Vec<Finding> = mine.clone().filter(|f| f.row.is_none()).cloned().collect();
        let mut by_row: Vec<Finding> = mine.filter(|f| f.row.is_some()).cloned().collect();
        by_row.sort_by_key(|f| f.row);
        let mut out = Vec::with_capacity(64 * 1024);
        out.extend_from_slice(BOM);
        ErrorsCsvWriter {
            by_row,
            next: 0,
            file_level,
            reader: RecordReader::new(),
            width: None,
            out,
        }
    }

    /// Feeds the next chunk of the original file.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.width.is_some() && self.next == self.by_row.len() {
            return; // every line is written; the rest of the file is not needed
        }
        let mut reader = std::mem::take(&mut self.reader);
        reader.feed(chunk, &mut |record| self.on_record(&record));
        self.reader = reader;
    }

    /// Output written so far (drain it to stream the report out).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Ends the input and returns the rest of the output.
    pub fn finish(mut self) -> Vec<u8> {
        let mut reader = std::mem::take(&mut self.reader);
        // An unterminated quote was reported by the validator already.
        let _ = reader.finish(&mut |record| self.on_record(&record));
        self.write_header(&[]);
        // Findings past the end of what could be read get blank original cells.
        while self.next < self.by_row.len() {
            let finding = self.by_row[self.next].clone();
            self.write_line(&[], &finding);
            self.next += 1;
        }
        self.out
    }

    fn on_record(&mut self, record: &Record<'_>) {
        if self.width.is_none() {
            if record.is_blank() {
                return; // a blank line before the header: its finding follows the header
            }
            let names: Vec<&str> = record.fields().collect();
            self.write_header(&names);
            return;
        }
        let cells: Vec<&str> = record.fields().collect();
        self.write_findings_at(record.row, &cells);
    }

    fn write_header(&mut self, names: &[&str]) {
        if self.width.is_some() {
            return;
        }
        self.width = Some(names.len());
        let header = names
            .iter()
            .map(|n| n.trim_start_matches('\u{FEFF}'))
            .chain(REPORT_COLUMNS.iter().copied());
        write_row(&mut self.out, header, Audience::Person);
        for finding in std::mem::take(&mut self.file_level) {
            self.write_line(&[], &finding);
        }
    }

    fn write_findings_at(&mut self, row: u64, cells: &[&str]) {
        while self.next < self.by_row.len() && self.by_row[self.next].row < Some(row) {
            let finding = self.by_row[self.next].clone();
            self.write_line(&[], &finding);
            self.next += 1;
        }
        while self.next < self.by_row.len() && self.by_row[self.next].row == Some(row) {
            let finding = self.by_row[self.next].clone();
            self.write_line(cells, &finding);
            self.next += 1;
        }
    }

    /// One line: the original cells (as many as the header has), then the finding.
    fn write_line(&mut self, cells: &[&str], finding: &Finding) {
        let width = self.width.unwrap_or(0);
        let original = (0..width).map(|i| cells.get(i).copied().unwrap_or(""));
        let row = finding.row.map(|r| r.to_string()).unwrap_or_default();
        let message = finding.message();
        let how_to_fix = finding.how_to_fix();
        let suggested = suggested_fix(finding)
            .map(|fix| fix.value)
            .unwrap_or_default();
        let report = [
            row.as_str(),
            finding.severity.as_str(),
            finding.column.as_deref().unwrap_or(""),
            finding.code.as_str(),
            message.as_str(),
            how_to_fix.as_str(),
            suggested.as_str(),
        ];
        write_row(&mut self.out, original.chain(report), Audience::Person);
    }
}

/// The errors report of a whole file at once.
pub fn errors_csv(file: FileKind, findings: &[Finding], original: &[u8]) -> Vec<u8> {
    let mut writer = ErrorsCsvWriter::new(file, findings);
    writer.push(original);
    let mut out = writer.take_output();
    out.extend(writer.finish());
    out
}
