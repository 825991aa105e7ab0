//! The streaming validator: feed byte chunks of users.csv (and then, if
//! there is one, demographics.csv) as they arrive; the header verdict is
//! available as soon as the header is read, the progress as rows complete,
//! and `finish` runs the rules across rows and files and returns the report
//! and the normalized records. The command line, the browser worker and the
//! server all run this same code.

use rustc_hash::FxHashMap;

use crate::codes::IssueCode;
use crate::demographics::DemographicsPass;
use crate::dictionary::FileKind;
use crate::header::check_header;
pub use crate::header::HeaderVerdict;
use crate::reader::{Record, RecordReader};
use crate::records::{Records, Role};
use crate::report::{EntityCounts, FileStats, Finding, Report, Stats};
use crate::sink::Sink;
use crate::users::UsersPass;

/// Findings kept per code by default; counts stay exact beyond it.
const DEFAULT_MAX_FINDINGS_PER_CODE: usize = 100_000;
/// Rows named in the encoding warning before "and N more".
const ENCODING_ROWS_SHOWN: usize = 10;

/// How to validate an upload.
#[derive(Debug, Clone)]
pub struct Options {
    /// The district's school IDs, when known: rows naming another school get
    /// `unknown-school`.
    pub known_school_ids: Option<Vec<String>>,
    /// Cap on the findings listed per code (the counts stay exact).
    pub max_findings_per_code: usize,
    /// Whether a users.csv row that only repeats known values skips the
    /// casting (always but in the test that both ways agree).
    #[doc(hidden)]
    pub fast_path: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            known_school_ids: None,
            max_findings_per_code: DEFAULT_MAX_FINDINGS_PER_CODE,
            fast_path: true,
        }
    }
}

/// How far the validator has read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of users.csv read.
    pub users_bytes: u64,
    /// Rows of users.csv after the header.
    pub users_rows: u64,
    /// Bytes of demographics.csv read.
    pub demographics_bytes: u64,
    /// Rows of demographics.csv after the header.
    pub demographics_rows: u64,
}

#[derive(Debug)]
enum Pass {
    Users(Box<UsersPass>),
    Demographics(DemographicsPass),
}

/// One file being read.
#[derive(Debug)]
struct FileState {
    file: FileKind,
    reader: RecordReader,
    header: Option<HeaderVerdict>,
    pass: Option<Pass>,
    started: bool,
    rows: u64,
    blank_rows: u64,
    data_rows: u64,
    windows_1252_rows: Vec<u64>,
    windows_1252_count: u64,
}

impl FileState {
    fn new(file: FileKind) -> Self {
        FileState {
            file,
            reader: RecordReader::new(),
            header: None,
            pass: None,
            started: false,
            rows: 0,
            blank_rows: 0,
            data_rows: 0,
            windows_1252_rows: Vec::new(),
            windows_1252_count: 0,
        }
    }

    fn on_record(&mut self, record: Record<'_>, options: &Options, sink: &mut Sink) {
        if record.windows_1252 {
            self.windows_1252_count += 1;
            if self.windows_1252_rows.len() < ENCODING_ROWS_SHOWN {
                self.windows_1252_rows.push(record.row);
            }
        }
        let blank = record.is_blank();
        let Some(header) = &self.header else {
            if blank {
                return; // blank lines before the header are skipped
            }
            let verdict = check_header(self.file, &record);
            for finding in &verdict.findings {
                sink.push(finding.clone());
            }
            self.pass = verdict.layout.as_ref().map(|layout| match self.file {
                FileKind::Users => Pass::Users(Box::new(UsersPass::new(
                    layout,
                    options.known_school_ids.as_deref(),
                    options.fast_path,
                ))),
                FileKind::Demographics => Pass::Demographics(DemographicsPass::new(layout)),
            });
            self.header = Some(verdict);
            return;
        };
        self.rows += 1;
        let Some(pass) = &mut self.pass else {
            return; // the header was refused: rows are not considered
        };
        if blank {
            self.blank_rows += 1;
            sink.push(Finding::new(IssueCode::BlankRow, self.file).at_row(record.row));
            return;
        }
        self.data_rows += 1;
        let expected = header.names.len();
        if record.len() != expected {
            let (code, detail) = if record.len() > expected {
                (
                    IssueCode::ExtraCell,
                    format!("{} cells, more than the {expected} headers", record.len()),
                )
            } else {
                (
                    IssueCode::MissingCell,
                    format!("{} cells, fewer than the {expected} headers", record.len()),
                )
            };
            sink.push(
                Finding::new(code, self.file)
                    .at_row(record.row)
                    .with_detail(detail),
            );
            if let Pass::Users(users) = pass {
                users.note_misshapen_row(&record);
            }
            return;
        }
        match pass {
            Pass::Users(users) => users.check_row(&record, sink),
            Pass::Demographics(demographics) => demographics.check_row(&record, sink),
        }
    }

    /// File-level verdicts at the end of input; `true` when the file's rows count.
    fn finish(&mut self, options: &Options, sink: &mut Sink) -> bool {
        let mut reader = std::mem::take(&mut self.reader);
        let result = reader.finish(&mut |record| self.on_record(record, options, sink));
        self.reader = reader;
        if self.windows_1252_count > 0 {
            let mut rows: Vec<String> = self.windows_1252_rows.iter().map(u64::to_string).collect();
            let shown = rows.len() as u64;
            if self.windows_1252_count > shown {
                rows.push(format!("and {} more", self.windows_1252_count - shown));
            }
            let detail = if self.windows_1252_count == 1 {
                format!("Row {} was", rows.join(", "))
            } else {
                format!(
                    "{} rows ({}) were",
                    self.windows_1252_count,
                    rows.join(", ")
                )
            };
            sink.push(Finding::new(IssueCode::EncodingWindows1252, self.file).with_detail(detail));
        }
        if let Err(unterminated) = result {
            sink.push(
                Finding::new(IssueCode::MalformedCsv, self.file).with_detail(format!(
                    "a quoted value that begins on line {} is never closed",
                    unterminated.line
                )),
            );
            return false;
        }
        let empty = match &self.header {
            None if self.reader.bytes_read() == 0 => Some("no bytes"),
            None => Some("only blank lines"),
            Some(header) if header.accepted() && self.data_rows == 0 => {
                Some("a header but no data rows")
            }
            _ => None,
        };
        if let Some(detail) = empty {
            sink.push(Finding::new(IssueCode::EmptyFile, self.file).with_detail(detail));
            return false;
        }
        self.header.as_ref().is_some_and(HeaderVerdict::accepted)
    }

    fn stats(&self, sink: &Sink) -> FileStats {
        let (rows_with_errors, rows_with_warnings) = sink.row_counts(self.file);
        FileStats {
            encoding: self.reader.encoding().map(|e| e.label().to_string()),
            bytes: self.reader.bytes_read(),
            rows: self.rows,
            blank_rows: self.blank_rows,
            rows_with_errors,
            rows_with_warnings,
            valid_rows: self.data_rows.saturating_sub(rows_with_errors),
            header_accepted: self.header.as_ref().is_some_and(HeaderVerdict::accepted),
        }
    }
}

/// What `finish` returns: the report, and the records of the clean rows.
#[derive(Debug, Clone, Default)]
pub struct Validated {
    /// The findings and counts.
    pub report: Report,
    /// The normalized records of the rows without errors.
    pub records: Records,
}

/// The streaming validator of one upload.
#[derive(Debug)]
pub struct Validator {
    options: Options,
    sink: Sink,
    users: FileState,
    demographics: FileState,
}

impl Validator {
    /// A validator of one upload.
    pub fn new(options: Options) -> Self {
        Validator {
            sink: Sink::new(options.max_findings_per_code),
            options,
            users: FileState::new(FileKind::Users),
            demographics: FileState::new(FileKind::Demographics),
        }
    }

    /// Feeds the next chunk of a file.
    pub fn push(&mut self, file: FileKind, chunk: &[u8]) {
        let Validator {
            options,
            sink,
            users,
            demographics,
            ..
        } = self;
        let state = match file {
            FileKind::Users => users,
            FileKind::Demographics => demographics,
        };
        state.started = true;
        let mut reader = std::mem::take(&mut state.reader);
        reader.feed(chunk, &mut |record| state.on_record(record, options, sink));
        state.reader = reader;
    }

    /// Feeds the next chunk of users.csv.
    pub fn push_users(&mut self, chunk: &[u8]) {
        self.push(FileKind::Users, chunk);
    }

    /// Feeds the next chunk of demographics.csv.
    pub fn push_demographics(&mut self, chunk: &[u8]) {
        self.push(FileKind::Demographics, chunk);
    }

    /// The header verdict of a file, once its header has been read.
    pub fn header(&self, file: FileKind) -> Option<&HeaderVerdict> {
        match file {
            FileKind::Users => self.users.header.as_ref(),
            FileKind::Demographics => self.demographics.header.as_ref(),
        }
    }

    /// How far each file has been read.
    pub fn progress(&self) -> Progress {
        Progress {
            users_bytes: self.users.reader.bytes_read(),
            users_rows: self.users.rows,
            demographics_bytes: self.demographics.reader.bytes_read(),
            demographics_rows: self.demographics.rows,
        }
    }

    /// Ends the input: file verdicts, rules across rows and files, records.
    pub fn finish(mut self) -> Validated {
        let options = self.options.clone();
        let users_started = self.users.started;
        let demographics_started = self.demographics.started;
        // Nothing given at all is an empty users.csv, not an empty report.
        let users_ok =
            (users_started || !demographics_started) && self.users.finish(&options, &mut self.sink);
        if demographics_started && !users_started {
            self.sink.push(Finding::new(
                IssueCode::DemographicsWithoutUsers,
                FileKind::Demographics,
            ));
        }
        let demographics_ok = demographics_started
            && users_started
            && self.demographics.finish(&options, &mut self.sink);

        let mut records = Records::default();
        let mut schools = 0;
        let mut roles: FxHashMap<std::sync::Arc<str>, Option<Role>> = FxHashMap::default();
        let demographics_pass =
            demographics_ok && matches!(self.demographics.pass, Some(Pass::Demographics(_)));
        if let (true, Some(Pass::Users(pass))) = (users_ok, self.users.pass.take()) {
            let outcome = pass.finish(&mut self.sink, demographics_pass);
            records = outcome.records;
            schools = outcome.schools;
            roles = outcome.roles;
        }
        if let (true, true, Some(Pass::Demographics(pass))) =
            (users_ok, demographics_ok, self.demographics.pass.take())
        {
            let clean: rustc_hash::FxHashSet<&str> =
                records.users.iter().map(|u| &*u.user_id).collect();
            records.demographics = pass.finish(&roles, |id| clean.contains(id), &mut self.sink);
        }

        let (errors, warnings) = self.sink.totals();
        let mut by_code = std::collections::BTreeMap::new();
        let mut truncated_codes = Vec::new();
        for &code in IssueCode::ALL {
            let count = self.sink.count(code);
            if count > 0 {
                by_code.insert(code, count);
            }
            if self.sink.truncated(code) {
                truncated_codes.push(code);
            }
        }
        // One pass over the user records for the three counts.
        let mut role_counts = [0u64; 3];
        for user in &records.users {
            role_counts[user.role as usize] += 1;
        }
        let count_role = |role: Role| role_counts[role as usize];
        let stats = Stats {
            users_file: self.users.stats(&self.sink),
            demographics_file: demographics_started.then(|| self.demographics.stats(&self.sink)),
            errors,
            warnings,
            by_code,
            truncated_codes,
            records: EntityCounts {
                schools,
                users: records.users.len() as u64,
                students: count_role(Role::Student),
                teachers: count_role(Role::Teacher),
                administrators: count_role(Role::Administrator),
                classes: records.classes.len() as u64,
                enrollments: records.enrollments.len() as u64,
                demographics: records.demographics.len() as u64,
            },
        };
        let mut findings = self.sink.into_findings();
        // File and header findings first, then by row; stable keeps column order.
        findings.sort_by_key(|f| (f.file, f.row));
        Validated {
            report: Report {
                valid: errors == 0,
                findings,
                stats,
            },
            records,
        }
    }
}

/// Validates whole files at once.
pub fn validate(users: &[u8], demographics: Option<&[u8]>, options: Options) -> Validated {
    let mut validator = Validator::new(options);
    validator.push_users(users);
    if let Some(demographics) = demographics {
        validator.push_demographics(demographics);
    }
    validator.finish()
}
