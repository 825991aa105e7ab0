//! Staged uploads: the browser sends the clean, normalized users.csv (then
//! demographics.csv) in numbered parts, each gzip-compressed, instead of one
//! JSON body of records. The parts are stored as they arrive (`rows`), so
//! any server process answers any request of an upload, and a restart or a
//! lost connection loses nothing: the client asks where the upload stands
//! and goes on from the next part. The first preview ends the input and
//! streams the parts back through the validator; preview and commit then
//! take the same path as the JSON routes (`pipeline`).
//!
//! ```text
//! POST   /api/uploads/staged                  {fileName, mode} → 201 {id, maxPartBytes, expiresAt}
//! GET    /api/uploads/staged/{id}             → {state, users: {received, nextPart}, demographics: {…}, expiresAt, uploadId}
//! PUT    /api/uploads/staged/{id}/users/{n}   a slice of users.csv (n = 0, 1, 2…) → {received, nextPart}
//! PUT    /api/uploads/staged/{id}/demographics/{n}   likewise, after every users part
//! POST   /api/uploads/staged/{id}/preview     {changesOffset?, changesLimit?} → the report (422 refused)
//! POST   /api/uploads/staged/{id}/commit      {confirm?, changesOffset?, changesLimit?} → the report
//! DELETE /api/uploads/staged/{id}             → 204
//! ```
//!
//! Each route takes an admin's session, an embed token (from a script) or
//! an upload session (from its page): `Access::Uploader`. An upload
//! session starts one upload only. An upload belongs to the admin, token or
//! session that started it (anyone else gets 404) and expires 30 minutes
//! after its last request. A district has at most two uploads in progress
//! (a third is refused with 429, except that the caller's own oldest makes
//! way; one idle for five minutes stops counting). A committed upload's
//! parts are deleted; committing it again answers its report (for a client
//! that lost the first answer).

mod cache;
mod parts;
pub mod rows;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Json;
use shared::api::{StagedCreated, Standing};
use shared::{FileKind, Options, Validator};

pub use cache::free_later;
pub use cache::StagedCache;
use cache::{Entry, Kept, Reading};
use parts::{decode, Encoding};
use rows::{Received, StagedRow, UploadState};

use super::pipeline::{self, cpu_heavy};
use super::{history, ChangesPage, CommitRequest, Submission, UploadReport};
use crate::access::{Access, Caller};
use crate::accounts::random_hex;
use crate::error::{ApiError, ApiResult};
use crate::server::{ApiRoute, AppState};

/// The largest part, before compression and after: a bigger decompressed
/// part is refused (413), so a small gzip bomb cannot fill the memory.
pub const MAX_PART_BYTES: usize = 8 << 20;
/// What gzip may add to an incompressible part.
const GZIP_SLACK: usize = 64 << 10;
/// The largest upload, decompressed, over all its parts (about 2,000,000 rows).
pub const MAX_STAGED_BYTES: u64 = 1 << 30;
/// A staged upload without a request for this long expires.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(30 * 60);
/// Staged uploads a district may have in progress at once.
pub const PER_DISTRICT: usize = 2;

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<Submission>,
) -> ApiResult<Response> {
    let submission = super::checked_submission(&request.file_name, request.mode)?;
    pipeline::check_removals(&caller, submission.mode, None)?;
    pipeline::options(&state, &caller).await?;
    let id = random_hex(16);
    let expires_at = rows::create(&state.pool, &id, &caller, &submission).await?;
    Ok((
        StatusCode::CREATED,
        Json(StagedCreated {
            id,
            max_part_bytes: MAX_PART_BYTES,
            expires_at,
        }),
    )
        .into_response())
}

async fn standing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Standing>> {
    let upload = rows::find(&state.pool, &id, &caller).await?;
    Ok(Json(Standing {
        state: upload.state,
        users: upload.users,
        demographics: upload.demographics,
        expires_at: upload.expires_at,
        upload_id: upload.history_id,
    }))
}

/// Checks a part's place, decompresses it to check it, and stores it as it
/// came. A refused part changes nothing: the same part may be sent again.
async fn part(
    state: AppState,
    caller: Caller,
    file: FileKind,
    id: String,
    n: u32,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Received>> {
    let upload = rows::find(&state.pool, &id, &caller).await?;
    let encoding = Encoding::of(&headers)?;
    // Decompressing takes CPU time: off the async workers.
    let checked = body.clone();
    let data = tokio::task::spawn_blocking(move || -> ApiResult<Vec<u8>> {
        Ok(decode(&checked, encoding)?.into_owned())
    })
    .await
    .map_err(anyhow::Error::from)??;
    let received = rows::add_part(
        &state.pool,
        &upload,
        file,
        n,
        &body,
        encoding == Encoding::Gzip,
        data.len() as u64,
    )
    .await?;
    read_ahead(&state, &caller, &upload, file, n, data).await;
    Ok(Json(received))
}

/// Feeds a stored part to the validator this process keeps for the upload
/// (made with its first part), so the preview need not read the parts back.
/// The part is answered once the validator has read the part before (so at
/// most one part waits for it) and reads this one on a blocking thread while
/// the client sends the next. It gives up (and the preview reads the parts
/// from the database) when a part went to another process, or at any
/// failure: it is only a head start.
async fn read_ahead(
    state: &AppState,
    caller: &Caller,
    upload: &StagedRow,
    file: FileKind,
    n: u32,
    data: Vec<u8>,
) {
    let expected = |parts: (u32, u32)| match file {
        FileKind::Users => parts == (n, 0),
        FileKind::Demographics => parts == (upload.users.next_part, n),
    };
    let kept = match state.staged.take(&upload.id) {
        Some(Entry::Feeding(feeding)) => feeding.await.ok().flatten().map(Entry::Reading),
        other => other,
    };
    let mut reading = match kept {
        Some(Entry::Reading(reading)) if expected(reading.parts) => reading,
        Some(other) => return free_later(other),
        None if file == FileKind::Users && n == 0 => {
            let Ok(options) = pipeline::options(state, caller).await else {
                return;
            };
            Reading {
                schools: options.known_school_ids.clone(),
                validator: Box::new(Validator::new(options)),
                parts: (0, 0),
            }
        }
        None => return,
    };
    let max_rows = state.config.max_rows;
    let feeding = tokio::task::spawn_blocking(move || {
        reading.validator.push(file, &data);
        match file {
            FileKind::Users => reading.parts.0 += 1,
            FileKind::Demographics => reading.parts.1 += 1,
        }
        // Over the row limit: the preview finds it reading the parts.
        pipeline::check_row_limit(reading.validator.progress(), max_rows)
            .ok()
            .map(|()| reading)
    });
    state.staged.keep(&upload.id, Entry::Feeding(feeding));
}

async fn users_part(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, n)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Received>> {
    part(state, caller, FileKind::Users, id, n, headers, body).await
}

async fn demographics_part(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, n)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Received>> {
    part(state, caller, FileKind::Demographics, id, n, headers, body).await
}

/// The upload's files, validated: what this process kept of them, or the
/// parts read back from the database through the validator (the first time
/// ends the input). Over the row limit, the upload is dropped (413).
async fn validated(state: &AppState, upload: &StagedRow, options: Options) -> ApiResult<Kept> {
    let all_parts = (upload.users.next_part, upload.demographics.next_part);
    let kept = match state.staged.take(&upload.id) {
        // The validator may still be reading the last part.
        Some(Entry::Feeding(feeding)) => feeding.await.ok().flatten().map(Entry::Reading),
        other => other,
    };
    match kept {
        Some(Entry::Kept(kept)) => return Ok(*kept),
        // Every part went through this process's validator, made with the
        // district's schools as they are: finish it.
        Some(Entry::Reading(reading))
            if reading.parts == all_parts && reading.schools == options.known_school_ids =>
        {
            rows::end_input(&state.pool, &upload.id).await?;
            let validated = cpu_heavy(|| reading.validator.finish());
            return Ok(Kept {
                validated: std::sync::Arc::new(validated),
                planned: None,
            });
        }
        Some(stale) => free_later(stale),
        None => {}
    }
    rows::end_input(&state.pool, &upload.id).await?;
    let mut validator = Validator::new(options);
    let max_rows = state.config.max_rows;
    for file in [FileKind::Users, FileKind::Demographics] {
        let read = rows::for_each_part(&state.pool, &upload.id, file, |bytes, gzip| {
            let encoding = if gzip {
                Encoding::Gzip
            } else {
                Encoding::Identity
            };
            cpu_heavy(|| -> ApiResult<()> {
                validator.push(file, &decode(&bytes, encoding)?);
                pipeline::check_row_limit(validator.progress(), max_rows)
            })
        })
        .await;
        if let Err(error) = read {
            if let ApiError::TooLarge { .. } = error {
                // The file is over the limit: the upload cannot go on.
                rows::cancel(&state.pool, &upload.id).await?;
            }
            return Err(error);
        }
    }
    let validated = cpu_heavy(|| validator.finish());
    Ok(Kept {
        validated: std::sync::Arc::new(validated),
        planned: None,
    })
}

/// The caller's upload, to preview or commit: the gate is checked again (it
/// may have closed since the upload started; the permissions are checked
/// on every request).
async fn processable(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(StagedRow, Options)> {
    let upload = rows::find(&state.pool, id, caller).await?;
    let options = pipeline::options(state, caller).await?;
    Ok((upload, options))
}

fn already_committed() -> ApiError {
    ApiError::conflict(
        "upload-committed",
        "This upload has been processed; its report is in the history. Start a new upload.",
    )
}

async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(page): Json<ChangesPage>,
) -> ApiResult<Json<UploadReport>> {
    let (upload, options) = processable(&state, &caller, &id).await?;
    if upload.state == UploadState::Committed {
        return Err(already_committed());
    }
    let mut kept = validated(&state, &upload, options).await?;
    let validated = kept.validated.clone();
    let report = match pipeline::accepted(&validated) {
        Ok(records) => {
            pipeline::preview(
                &state,
                &caller,
                records,
                &upload.submission,
                page,
                &mut kept.planned,
            )
            .await
        }
        Err(refused) => Err(refused),
    };
    state.staged.keep(&id, Entry::Kept(Box::new(kept)));
    Ok(Json(report?))
}

async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<CommitRequest>,
) -> ApiResult<Json<UploadReport>> {
    let (upload, options) = processable(&state, &caller, &id).await?;
    if let (UploadState::Committed, Some(history_id)) = (upload.state, upload.history_id) {
        return Ok(Json(
            history::committed_report(&state, &caller, history_id).await?,
        ));
    }
    let mut kept = validated(&state, &upload, options).await?;
    let validated = kept.validated.clone();
    let committed = match pipeline::accepted(&validated) {
        Ok(records) => {
            pipeline::commit(
                &state,
                &caller,
                records,
                &upload.submission,
                request.confirm,
                request.page,
                &mut kept.planned,
                Some(&id),
            )
            .await
        }
        Err(refused) => Err(refused),
    };
    match committed {
        Ok(report) => {
            // Committed: its records, roster and plan are freed after the
            // answer, off the async workers.
            state.staged.forget(&id);
            free_later((kept, validated));
            Ok(Json(report))
        }
        Err(error) => {
            state.staged.keep(&id, Entry::Kept(Box::new(kept)));
            Err(error)
        }
    }
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    rows::find(&state.pool, &id, &caller).await?;
    rows::cancel(&state.pool, &id).await?;
    state.staged.forget(&id);
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Vec<ApiRoute> {
    let part_limit = MAX_PART_BYTES + GZIP_SLACK;
    vec![
        ApiRoute::new(Method::POST, "/api/uploads/staged", post(create), Access::Uploader,
            "Start a staged upload {fileName, mode}: 201 {id, maxPartBytes, expiresAt} (an upload session starts one upload only: 403 session-used; removals need a credential that may remove: 403 removals-not-allowed; 429 with two uploads in progress)"),
        ApiRoute::new(Method::GET, "/api/uploads/staged/{id}", get(standing), Access::Uploader,
            "Where the upload stands, to go on after a lost connection: {state (receiving, previewed, committed), users: {received, nextPart}, demographics: {received, nextPart}, expiresAt, uploadId}"),
        ApiRoute::new(Method::PUT, "/api/uploads/staged/{id}/users/{n}", put(users_part), Access::Uploader,
            "The next slice (n = 0, 1, …) of the clean users.csv, Content-Encoding gzip or identity, at most maxPartBytes decompressed: {received, nextPart} (409 out of order, 413 too large)")
            .body_limit(part_limit),
        ApiRoute::new(Method::PUT, "/api/uploads/staged/{id}/demographics/{n}", put(demographics_part), Access::Uploader,
            "The next slice of the clean demographics.csv, after every users.csv part")
            .body_limit(part_limit),
        ApiRoute::new(Method::POST, "/api/uploads/staged/{id}/preview", post(preview), Access::Uploader,
            "{changesOffset?, changesLimit?}: end the input and show what processing would change (422 with the report when the files break the contract, 413 too-many-rows over the row limit)"),
        ApiRoute::new(Method::POST, "/api/uploads/staged/{id}/commit", post(commit), Access::Uploader,
            "{confirm?, changesOffset?, changesLimit?}: process the staged upload in one transaction, with the preview's plan while the roster is unchanged since (409 safety-hold without confirm, 409 roster-busy); committing a committed upload again answers its report"),
        ApiRoute::new(Method::DELETE, "/api/uploads/staged/{id}", delete(cancel), Access::Uploader,
            "Drop a staged upload and its parts: 204"),
    ]
}
