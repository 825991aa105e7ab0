//! Processing uploads: the browser sends only clean, normalized records; the
//! server re-validates them with the same schema crate, checks them against
//! the stored roster, and previews or commits the reconciliation.
//!
//! - `pipeline`: the steps every upload takes once its files are in (the
//!   gate, validating again, the removal rights, load, plan, apply), with
//!   no HTTP in it;
//! - `report`: the preview and commit report, and what of it each
//!   credential may see;
//! - `history`: the history of uploads (and of every use of an embed token
//!   or upload session), its routes and the findings CSV;
//! - `staged`: the staged upload routes (files in gzip parts);
//! - `reconcile`: the planner; `store`: loading the roster and applying a plan;
//! - here: the API types and the JSON routes (the whole upload in one body).

pub mod history;
pub mod pipeline;
pub mod reconcile;
pub mod report;
pub mod staged;
pub mod store;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::Method;
use axum::routing::post;
use axum::Json;
use serde::{Deserialize, Serialize};
use shared::records::Records;
use shared::{Finding, IssueCode, Severity};

use crate::access::{Access, Caller};
use crate::error::ApiResult;
use crate::server::{ApiRoute, AppState};
use reconcile::{Change, Counts, Hold, Mode};

/// The largest body of the JSON upload routes: what fits in memory
/// comfortably. Larger files go through the staged routes, in parts.
pub const MAX_JSON_UPLOAD_BYTES: usize = 64 << 20;

/// The JSON way: the whole upload in one body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadRequest {
    pub file_name: String,
    #[serde(default)]
    pub mode: Mode,
    /// Go ahead although the safety hold applies.
    #[serde(default)]
    pub confirm: bool,
    pub records: Records,
    #[serde(default)]
    pub changes_offset: usize,
    pub changes_limit: Option<usize>,
}

impl UploadRequest {
    fn submission(&self) -> ApiResult<Submission> {
        Submission::new(&self.file_name, self.mode)
    }

    fn page(&self) -> ChangesPage {
        ChangesPage {
            changes_offset: self.changes_offset,
            changes_limit: self.changes_limit,
        }
    }
}

/// What an upload is, besides its records: the history shows the file name.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub file_name: String,
    #[serde(default)]
    pub mode: Mode,
}

impl Submission {
    /// A submission with its file name checked (bounded, no control
    /// characters).
    pub fn new(file_name: &str, mode: Mode) -> ApiResult<Submission> {
        Ok(Submission {
            file_name: crate::input::bounded_text(
                file_name,
                "fileName",
                crate::input::MAX_FILE_NAME_CHARS,
                "invalid-file-name",
            )?,
            mode,
        })
    }
}

/// Which page of the change list a report shows.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesPage {
    #[serde(default)]
    pub changes_offset: usize,
    pub changes_limit: Option<usize>,
}

/// What a commit adds to a page: go ahead although the safety hold applies.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitRequest {
    #[serde(default)]
    pub confirm: bool,
    #[serde(flatten)]
    pub page: ChangesPage,
}

/// A finding against stored data: which record of the caller's file
/// (`key`: its userId or classId) and what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServerFinding {
    pub key: String,
    pub code: IssueCode,
    pub severity: Severity,
    pub column: Option<String>,
    pub message: String,
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

/// The preview, and the report of a commit.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadReport {
    /// The stored upload, after a commit.
    pub upload_id: Option<i64>,
    pub committed: bool,
    pub counts: Counts,
    pub per_school: BTreeMap<String, Counts>,
    pub changes: Vec<Change>,
    pub changes_total: usize,
    /// Findings against stored data (server-side).
    pub findings: Vec<ServerFinding>,
    pub hold: Option<Hold>,
}

async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<UploadRequest>,
) -> ApiResult<Json<UploadReport>> {
    let submission = request.submission()?;
    let validated = pipeline::revalidate(&state, &caller, &request.records).await?;
    let records = pipeline::accepted(&validated)?;
    let report = pipeline::preview(
        &state,
        &caller,
        records,
        &submission,
        request.page(),
        &mut None,
    )
    .await?;
    Ok(Json(report))
}

async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<UploadRequest>,
) -> ApiResult<Json<UploadReport>> {
    let submission = request.submission()?;
    let validated = pipeline::revalidate(&state, &caller, &request.records).await?;
    let records = pipeline::accepted(&validated)?;
    let report = pipeline::commit(
        &state,
        &caller,
        records,
        &submission,
        request.confirm,
        request.page(),
        &mut None,
        None,
    )
    .await?;
    Ok(Json(report))
}

pub fn routes() -> Vec<ApiRoute> {
    let mut routes = vec![
        ApiRoute::new(Method::POST, "/api/uploads/preview", post(preview), Access::BothPermissions,
            "Re-validate clean records and show what processing them would change (422 with the report when they break the contract); bodies up to 64 MiB, larger files go through the staged routes")
            .body_limit(MAX_JSON_UPLOAD_BYTES),
        ApiRoute::new(Method::POST, "/api/uploads/commit", post(commit), Access::BothPermissions,
            "Process clean records in one transaction (409 safety-hold without confirm); bodies up to 64 MiB")
            .body_limit(MAX_JSON_UPLOAD_BYTES),
    ];
    routes.extend(history::routes());
    routes.extend(staged::routes());
    routes
}
