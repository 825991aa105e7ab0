//! Uploads: starting a staged upload and sending its parts, the preview
//! and commit report, and the history.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codes::{IssueCode, Severity};
use crate::records::Records;
use crate::report::Finding;

/// How an upload treats what it does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Create and update only; nothing absent is removed.
    #[default]
    Upsert,
    /// Also deactivate the users, and end the enrollments, of the file's
    /// schools that the file does not list.
    FullSync,
}

impl Mode {
    /// Its word in JSON and in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Upsert => "upsert",
            Mode::FullSync => "full-sync",
        }
    }
}

/// Created / updated / unchanged / removed / errors of one entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// New records.
    pub created: u64,
    /// Records whose values change.
    pub updated: u64,
    /// Records as stored already.
    pub unchanged: u64,
    /// Records deactivated or ended.
    pub removed: u64,
    /// Records refused against the stored roster.
    pub errors: u64,
}

impl Tally {
    /// Only "no changes" (the same file processed twice).
    pub fn only_unchanged(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.removed == 0 && self.errors == 0
    }
}

/// The tallies of every entity, overall or of one school.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Schools the file names.
    pub schools: Tally,
    /// Teachers and administrators.
    pub staff: Tally,
    /// Students.
    pub students: Tally,
    /// Classes.
    pub classes: Tally,
    /// Enrollments.
    pub enrollments: Tally,
}

impl Counts {
    /// Each entity's tally, named for people, in the report's order.
    pub fn entities(&self) -> [(&'static str, Tally); 5] {
        [
            ("Schools", self.schools),
            ("Staff", self.staff),
            ("Students", self.students),
            ("Classes", self.classes),
            ("Enrollments", self.enrollments),
        ]
    }

    /// Only "no changes" for every entity.
    pub fn only_unchanged(&self) -> bool {
        self.entities()
            .iter()
            .all(|(_, tally)| tally.only_unchanged())
    }
}

/// A field whose value changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The column's header name.
    pub field: String,
    /// The stored value.
    pub from: Option<String>,
    /// The uploaded value.
    pub to: Option<String>,
}

/// What a change is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeEntity {
    /// A user (its key: the userId).
    User,
    /// A class (its key: the classId).
    Class,
    /// An enrollment (its key: `userId/classId`).
    Enrollment,
}

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A new record.
    Created,
    /// New values.
    Updated,
    /// Deactivated or ended.
    Removed,
}

impl fmt::Display for ChangeEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeEntity::User => "user",
            ChangeEntity::Class => "class",
            ChangeEntity::Enrollment => "enrollment",
        })
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Removed => "removed",
        })
    }
}

/// One record that changes, for the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// User, class or enrollment.
    pub entity: ChangeEntity,
    /// userId, classId, or `userId/classId`.
    pub key: String,
    /// Created, updated or removed.
    pub kind: ChangeKind,
    /// The values that change (for an admin's own session only).
    pub fields: Vec<FieldChange>,
    /// The update would overwrite a value an admin edited in the portal
    /// since the last upload.
    pub overwrites_portal_edit: bool,
}

impl Change {
    /// A change without field values.
    pub fn new(entity: ChangeEntity, key: impl Into<String>, kind: ChangeKind) -> Self {
        Change {
            entity,
            key: key.into(),
            kind,
            fields: Vec::new(),
            overwrites_portal_edit: false,
        }
    }
}

/// A finding against stored data: which record of the caller's own file
/// (`key`: its userId or classId) and what. It carries no stored value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFinding {
    /// The record's key, from the caller's file.
    pub key: String,
    /// What is wrong.
    pub code: IssueCode,
    /// Error or warning.
    pub severity: Severity,
    /// The column.
    pub column: Option<String>,
    /// For people.
    pub message: String,
    /// For people.
    pub how_to_fix: String,
}

impl From<&Finding> for ServerFinding {
    fn from(f: &Finding) -> Self {
        ServerFinding {
            key: f.value.clone().unwrap_or_default(),
            code: f.code,
            severity: f.severity,
            column: f.column.as_deref().map(String::from),
            message: f.message(),
            how_to_fix: f.how_to_fix(),
        }
    }
}

/// The safety hold: the upload would remove more than 10 % of something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Why, for people.
    pub reasons: Vec<String>,
}

/// The preview, and the report of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadReport {
    /// The history entry, after a commit.
    pub upload_id: Option<i64>,
    /// Whether it is committed.
    pub committed: bool,
    /// Overall.
    pub counts: Counts,
    /// By school ID.
    pub per_school: BTreeMap<String, Counts>,
    /// One page of the changes.
    pub changes: Vec<Change>,
    /// Changes over all pages.
    pub changes_total: usize,
    /// One page of the findings against stored data (server-side).
    pub findings: Vec<ServerFinding>,
    /// Findings over all pages.
    #[serde(default)]
    pub findings_total: usize,
    /// The safety hold, when the commit needs `confirm`.
    pub hold: Option<Hold>,
}

/// What an upload is, besides its records: `POST /api/uploads/staged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    /// The file's name, for the history (at most 255 characters).
    pub file_name: String,
    /// Upsert unless asked for a full sync.
    #[serde(default)]
    pub mode: Mode,
}

/// Which page of the change list, and of the findings, a report shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesPage {
    /// Changes to skip.
    #[serde(default)]
    pub changes_offset: usize,
    /// Changes in the page (200 when left out, at most 5,000).
    pub changes_limit: Option<usize>,
    /// Findings to skip.
    #[serde(default)]
    pub findings_offset: usize,
    /// Findings in the page (1,000 when left out, at most 5,000).
    pub findings_limit: Option<usize>,
}

impl ChangesPage {
    /// The report's first page, of changes and of findings.
    pub fn is_first(&self) -> bool {
        self.changes_offset == 0 && self.findings_offset == 0
    }
}

/// A commit: go ahead although the safety hold applies, and a page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitRequest {
    /// Go ahead although the safety hold applies.
    #[serde(default)]
    pub confirm: bool,
    /// The page of changes of the report.
    #[serde(flatten)]
    pub page: ChangesPage,
}

/// The JSON way: the whole upload in one body (`POST /api/uploads/preview`
/// and `/commit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadRequest {
    /// The file's name, for the history.
    pub file_name: String,
    /// Upsert unless asked for a full sync.
    #[serde(default)]
    pub mode: Mode,
    /// Go ahead although the safety hold applies.
    #[serde(default)]
    pub confirm: bool,
    /// The clean records (validated again by the server).
    pub records: Records,
    /// Changes to skip.
    #[serde(default)]
    pub changes_offset: usize,
    /// Changes in the page.
    pub changes_limit: Option<usize>,
}

/// A staged upload, started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedCreated {
    /// For the upload's routes.
    pub id: String,
    /// The largest part, decompressed.
    pub max_part_bytes: usize,
    /// Unix seconds; each request moves it on.
    pub expires_at: i64,
}

/// Bytes and parts of one file a staged upload has received.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Bytes of this file received so far, decompressed: where the next
    /// slice starts.
    pub received: u64,
    /// The number the next part of this file must carry.
    pub next_part: u32,
}

/// Where a staged upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UploadState {
    /// Parts are arriving.
    Receiving,
    /// The first preview ended the input: no more parts.
    Previewed,
    /// Processed: the parts are gone; the history has its report.
    Committed,
}

/// `GET /api/uploads/staged/{id}`: what a client that lost its connection
/// needs to go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Standing {
    /// Receiving, previewed or committed.
    pub state: UploadState,
    /// users.csv so far.
    pub users: Received,
    /// demographics.csv so far.
    pub demographics: Received,
    /// Unix seconds.
    pub expires_at: i64,
    /// The history entry, once committed.
    pub upload_id: Option<i64>,
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryStatus {
    /// The upload was processed.
    Committed,
    /// A token or upload session previewed an upload (nothing stored).
    Previewed,
    /// A host server minted an upload session with its token.
    SessionCreated,
}

impl HistoryStatus {
    /// Its word in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Committed => "committed",
            HistoryStatus::Previewed => "previewed",
            HistoryStatus::SessionCreated => "session-created",
        }
    }
}

/// One entry of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSummary {
    /// Its id.
    pub id: i64,
    /// The admin it was made as (a token's creator for a token).
    pub admin_email: String,
    /// The upload's file name; a minted session's origin.
    pub file_name: String,
    /// Upsert or full sync.
    pub mode: Mode,
    /// Committed, previewed, or session-created.
    pub status: HistoryStatus,
    /// Unix seconds.
    pub created_at: i64,
    /// The embed token or upload session that did it (its token's label);
    /// none for an admin's own session.
    pub credential: Option<String>,
    /// Overall.
    pub counts: Counts,
    /// By school ID.
    pub per_school: BTreeMap<String, Counts>,
    /// Findings against stored data.
    pub findings: Vec<ServerFinding>,
}

impl UploadSummary {
    /// The entry's report: its counts and findings (its page of changes is
    /// gone with the plan it was made from).
    pub fn report(&self) -> UploadReport {
        UploadReport {
            upload_id: Some(self.id),
            committed: self.status == HistoryStatus::Committed,
            counts: self.counts,
            per_school: self.per_school.clone(),
            changes: Vec::new(),
            changes_total: 0,
            findings_total: self.findings.len(),
            findings: self.findings.clone(),
            hold: None,
        }
    }
}
