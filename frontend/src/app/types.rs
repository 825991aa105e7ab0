//! The API's JSON as the app reads it (the server's types live in the
//! backend crate, which does not build for the browser).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Admin {
    pub email: String,
    pub district_name: String,
    pub system_access: bool,
    pub enrollment_access: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub admin: Admin,
    pub csrf_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct School {
    pub id: i64,
    pub school_id: Option<String>,
    pub name: String,
    pub low_grade: Option<String>,
    pub high_grade: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchoolInput {
    pub school_id: Option<String>,
    pub name: String,
    pub low_grade: Option<String>,
    pub high_grade: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockingSchool {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activation {
    pub open: bool,
    pub blocking_schools: Vec<BlockingSchool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub items: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterUser {
    pub user_id: String,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub grade: Option<String>,
    pub school_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEdit {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterClass {
    pub class_id: String,
    pub school_id: String,
    pub name: String,
    pub grade: String,
    pub students: i64,
    pub teachers: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub entity: String,
    pub key: String,
    pub kind: String,
    pub fields: Vec<FieldChange>,
    pub overwrites_portal_edit: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFinding {
    pub key: String,
    pub code: String,
    pub severity: String,
    pub column: Option<String>,
    pub message: String,
    pub how_to_fix: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Hold {
    pub reasons: Vec<String>,
}

/// A preview, or the report of a commit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedUpload {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSummary {
    pub id: i64,
    pub admin_email: String,
    pub file_name: String,
    pub mode: String,
    pub status: String,
    pub created_at: i64,
    pub counts: Counts,
    pub per_school: BTreeMap<String, Counts>,
    pub findings: Vec<ServerFinding>,
}
