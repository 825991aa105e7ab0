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
//!   `rosters`: the rosters this process holds, valid for one roster version;
//! - here: the JSON routes (the whole upload in one body); the API's types
//!   are `shared::api`'s.

pub mod history;
pub mod pipeline;
pub mod reconcile;
pub mod report;
pub mod rosters;
pub mod staged;
pub mod store;

use axum::extract::State;
use axum::http::Method;
use axum::routing::post;
use axum::Json;
pub use shared::api::{
    ChangesPage, CommitRequest, ServerFinding, Submission, UploadReport, UploadRequest,
};

use crate::access::{Access, Caller};
use crate::error::ApiResult;
use crate::server::{ApiRoute, AppState};
use reconcile::Mode;

/// The largest body of the JSON upload routes: what fits in memory
/// comfortably. Larger files go through the staged routes, in parts.
pub const MAX_JSON_UPLOAD_BYTES: usize = 64 << 20;

/// A submission with its file name checked (bounded, no control
/// characters): every upload's start.
pub fn checked_submission(file_name: &str, mode: Mode) -> ApiResult<Submission> {
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

fn submission_of(request: &UploadRequest) -> ApiResult<Submission> {
    checked_submission(&request.file_name, request.mode)
}

fn page_of(request: &UploadRequest) -> ChangesPage {
    ChangesPage {
        changes_offset: request.changes_offset,
        changes_limit: request.changes_limit,
        ..ChangesPage::default()
    }
}

async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<UploadRequest>,
) -> ApiResult<Json<UploadReport>> {
    let submission = submission_of(&request)?;
    let validated = pipeline::revalidate(&state, &caller, &request.records).await?;
    let records = pipeline::accepted(&validated)?;
    let report = pipeline::preview(
        &state,
        &caller,
        records,
        &submission,
        page_of(&request),
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
    let submission = submission_of(&request)?;
    let validated = pipeline::revalidate(&state, &caller, &request.records).await?;
    let records = pipeline::accepted(&validated)?;
    let report = pipeline::commit(
        &state,
        &caller,
        records,
        &submission,
        request.confirm,
        page_of(&request),
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
