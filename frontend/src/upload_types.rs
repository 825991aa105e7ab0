//! The server's answers about uploads (previews and reports), as the app
//! and the web component read them. The server's own types live in the
//! backend crate, which does not build for the browser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub schools: Tally,
    pub staff: Tally,
    pub students: Tally,
    pub classes: Tally,
    pub enrollments: Tally,
}

impl Counts {
    pub fn entities(&self) -> [(&'static str, Tally); 5] {
        [
            ("Schools", self.schools),
            ("Staff", self.staff),
            ("Students", self.students),
            ("Classes", self.classes),
            ("Enrollments", self.enrollments),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub entity: String,
    pub key: String,
    pub kind: String,
    pub fields: Vec<FieldChange>,
    pub overwrites_portal_edit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFinding {
    pub key: String,
    pub code: String,
    pub severity: String,
    pub column: Option<String>,
    pub message: String,
    pub how_to_fix: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    pub reasons: Vec<String>,
}

/// A preview, or the report of a commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadReport {
    pub upload_id: Option<i64>,
    pub committed: bool,
    pub counts: Counts,
    pub per_school: BTreeMap<String, Counts>,
    pub changes: Vec<Change>,
    pub changes_total: usize,
    pub findings: Vec<ServerFinding>,
    pub hold: Option<Hold>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedUpload {
    pub id: String,
}
