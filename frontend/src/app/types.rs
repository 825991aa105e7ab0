//! The API's JSON as the app reads it (the server's types live in the
//! backend crate, which does not build for the browser).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use frontend::upload_types::*;

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

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSummary {
    pub id: i64,
    pub admin_email: String,
    pub file_name: String,
    pub mode: String,
    /// `committed`, `previewed` (an embed token's or upload session's
    /// preview) or `session-created` (then `file_name` is its origin).
    pub status: String,
    pub created_at: i64,
    /// The embed token or upload session that did it, by its token's
    /// label; none for an admin's own session.
    #[serde(default)]
    pub credential: Option<String>,
    pub counts: Counts,
    pub per_school: BTreeMap<String, Counts>,
    pub findings: Vec<ServerFinding>,
}
