//! Staged uploads: the browser sends the clean, normalized users.csv (then
//! demographics.csv) in numbered parts, each gzip-compressed, instead of one
//! JSON body of records. Each part goes straight into the streaming
//! validator kept with the upload, so the server holds the validator's
//! state, never the files; preview and commit then take the same path as
//! the JSON routes.
//!
//! ```text
//! POST   /api/uploads/staged                  {fileName, mode} → 201 {id, maxPartBytes}
//! PUT    /api/uploads/staged/{id}/users/{n}   a slice of users.csv (n = 0, 1, 2…) → {received, nextPart}
//! PUT    /api/uploads/staged/{id}/demographics/{n}   likewise, after every users part
//! POST   /api/uploads/staged/{id}/preview     {changesOffset?, changesLimit?} → the report (422 refused)
//! POST   /api/uploads/staged/{id}/commit      {confirm?, changesOffset?, changesLimit?} → the report
//! DELETE /api/uploads/staged/{id}             → 204
//! ```
//!
//! Each route takes an admin's session, an embed token (from a script) or
//! an upload session (from its page): `Access::Uploader`. An upload
//! session starts one upload only. Staged uploads live in memory (a
//! restart loses them; the browser starts again), belong to the admin,
//! token or session that made them (anyone else gets 404), expire after 30
//! minutes without a request, and a district holds at most two at a time: a
//! third is refused with 429, except that an admin who already holds one
//! has their oldest dropped (a reloaded page starts afresh without waiting
//! half an hour).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post, put};
use axum::Json;
use flate2::read::MultiGzDecoder;
use serde::Serialize;
use shared::{FileKind, Validated, Validator};

use super::pipeline::{self, Planned};
use super::{ChangesPage, CommitRequest, Submission, UploadReport};
use crate::access::{Access, Caller, Credential, Owner};
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
/// A staged upload without a request for this long is dropped.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(30 * 60);
/// Staged uploads a district may hold at once.
pub const PER_DISTRICT: usize = 2;

/// Bytes and parts received of one file.
#[derive(Debug, Default, Clone, Copy)]
struct Received {
    parts: u32,
    bytes: u64,
}

enum Validation {
    /// Parts are still coming.
    Reading(Box<Validator>),
    /// The first preview or commit ended the input; kept for later calls.
    Finished(Box<Validated>),
    /// Between the two, while `finish` runs.
    Finishing,
}

/// One staged upload.
struct Staged {
    submission: Submission,
    validation: Validation,
    users: Received,
    demographics: Received,
    /// The last preview's plan, for the commit (see `Planned`).
    planned: Option<Planned>,
}

struct Entry {
    owner: Owner,
    district_id: i64,
    created: Instant,
    last_used: Mutex<Instant>,
    upload: Arc<tokio::sync::Mutex<Staged>>,
}

impl Entry {
    fn idle(&self) -> Duration {
        lock(&self.last_used).elapsed()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The server's staged uploads, by id.
#[derive(Default)]
pub struct StagedUploads {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl StagedUploads {
    /// Drops what has been idle too long. Runs on every look-up, so no
    /// timer is needed: memory is freed at the next upload request.
    fn sweep(entries: &mut HashMap<String, Arc<Entry>>) {
        entries.retain(|_, entry| entry.idle() < IDLE_EXPIRY);
    }

    fn insert(&self, id: String, owner: Owner, district_id: i64, staged: Staged) -> ApiResult<()> {
        let mut entries = lock(&self.entries);
        Self::sweep(&mut entries);
        let mut district: Vec<(&String, &Arc<Entry>)> = entries
            .iter()
            .filter(|(_, e)| e.district_id == district_id)
            .collect();
        if district.len() >= PER_DISTRICT {
            district.sort_by_key(|(_, e)| e.created);
            let Some((oldest_own, _)) = district.iter().find(|(_, e)| e.owner == owner) else {
                return Err(ApiError::TooMany {
                    code: "too-many-staged-uploads",
                    message: format!(
                        "Your district already has {PER_DISTRICT} uploads in progress; finish or cancel one, or wait until it expires after {} minutes without activity.",
                        IDLE_EXPIRY.as_secs() / 60
                    ),
                });
            };
            let oldest_own = (*oldest_own).clone();
            entries.remove(&oldest_own);
        }
        let now = Instant::now();
        entries.insert(
            id,
            Arc::new(Entry {
                owner,
                district_id,
                created: now,
                last_used: Mutex::new(now),
                upload: Arc::new(tokio::sync::Mutex::new(staged)),
            }),
        );
        Ok(())
    }

    /// The upload, when it is this caller's; 404 otherwise.
    fn get(&self, id: &str, caller: &Caller) -> ApiResult<Arc<Entry>> {
        let mut entries = lock(&self.entries);
        Self::sweep(&mut entries);
        let entry = entries
            .get(id)
            .filter(|e| e.owner == caller.owner() && e.district_id == caller.district_id())
            .ok_or(ApiError::NotFound)?;
        *lock(&entry.last_used) = Instant::now();
        Ok(entry.clone())
    }

    fn remove(&self, id: &str) {
        lock(&self.entries).remove(id);
    }

    /// How many staged uploads are held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    id: String,
    max_part_bytes: usize,
}

/// An upload session starts one upload: it claims this one, or is refused
/// (403 `session-used`) when it has started one already.
async fn claim_session(state: &AppState, caller: &Caller, upload_id: &str) -> ApiResult<()> {
    let Credential::UploadSession { id, .. } = &*caller.credential else {
        return Ok(());
    };
    let claimed = sqlx::query(
        "UPDATE embed_sessions SET staged_upload = $1 WHERE id = $2 AND staged_upload IS NULL",
    )
    .bind(upload_id)
    .bind(id)
    .execute(&state.pool)
    .await?;
    if claimed.rows_affected() == 1 {
        Ok(())
    } else {
        Err(ApiError::SessionUsed)
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<Submission>,
) -> ApiResult<Response> {
    let submission = Submission::new(&request.file_name, request.mode)?;
    pipeline::check_removals(&caller, submission.mode, None)?;
    let options = pipeline::options(&state, &caller).await?;
    let id = random_hex(16);
    claim_session(&state, &caller, &id).await?;
    let staged = Staged {
        submission,
        validation: Validation::Reading(Box::new(Validator::new(options))),
        users: Received::default(),
        demographics: Received::default(),
        planned: None,
    };
    state
        .staged
        .insert(id.clone(), caller.owner(), caller.district_id(), staged)?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id,
            max_part_bytes: MAX_PART_BYTES,
        }),
    )
        .into_response())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

fn encoding_of(headers: &HeaderMap) -> ApiResult<Encoding> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    match value
        .to_str()
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Ok("gzip" | "x-gzip") => Ok(Encoding::Gzip),
        Ok("identity" | "") => Ok(Encoding::Identity),
        _ => Err(ApiError::UnsupportedEncoding(
            "Send parts with Content-Encoding gzip (or none).".into(),
        )),
    }
}

fn part_too_large() -> ApiError {
    ApiError::too_large(
        "part-too-large",
        format!("A part may hold at most {MAX_PART_BYTES} bytes once decompressed; send smaller slices."),
    )
}

/// A part's bytes, decompressed, at most `MAX_PART_BYTES` of them.
fn decode(body: &[u8], encoding: Encoding) -> ApiResult<std::borrow::Cow<'_, [u8]>> {
    match encoding {
        Encoding::Identity if body.len() > MAX_PART_BYTES => Err(part_too_large()),
        Encoding::Identity => Ok(body.into()),
        Encoding::Gzip => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(MAX_PART_BYTES + 1));
            MultiGzDecoder::new(body)
                .take(MAX_PART_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|_| {
                    ApiError::bad_request("invalid-gzip", "The part is not valid gzip data.")
                })?;
            if out.len() > MAX_PART_BYTES {
                return Err(part_too_large());
            }
            Ok(out.into())
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartReceived {
    /// Bytes of this file received so far, decompressed: where the next
    /// slice starts.
    received: u64,
    /// The number the next part of this file must carry.
    next_part: u32,
}

fn file_name(file: FileKind) -> &'static str {
    match file {
        FileKind::Users => "users",
        FileKind::Demographics => "demographics",
    }
}

/// Checks a part's place, decompresses it and feeds it to the validator.
/// A refused part changes nothing: the same part may be sent again.
async fn part(
    state: AppState,
    caller: Caller,
    file: FileKind,
    id: String,
    n: u32,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PartReceived>> {
    let entry = state.staged.get(&id, &caller)?;
    let encoding = encoding_of(&headers)?;
    let mut staged = entry.upload.clone().lock_owned().await;
    if !matches!(staged.validation, Validation::Reading(_)) {
        return Err(ApiError::conflict(
            "upload-finished",
            "This upload has been previewed; its files can no longer change. Start a new upload.",
        ));
    }
    if file == FileKind::Users && staged.demographics.parts > 0 {
        return Err(ApiError::conflict(
            "part-out-of-order",
            "Every users.csv part comes before the first demographics.csv part.",
        ));
    }
    let received = match file {
        FileKind::Users => staged.users,
        FileKind::Demographics => staged.demographics,
    };
    if n != received.parts {
        return Err(ApiError::conflict(
            "part-out-of-order",
            format!(
                "Part {n} of {}.csv is out of order: the next part is {}.",
                file_name(file),
                received.parts
            ),
        ));
    }
    // Decompressing and validating take CPU time: off the async workers.
    let max_rows = state.config.max_rows;
    let outcome = tokio::task::spawn_blocking(move || -> ApiResult<PartReceived> {
        let data = decode(&body, encoding)?;
        let total = staged.users.bytes + staged.demographics.bytes + data.len() as u64;
        if total > MAX_STAGED_BYTES {
            return Err(ApiError::too_large(
                "upload-too-large",
                format!("An upload may hold at most {MAX_STAGED_BYTES} bytes of files."),
            ));
        }
        let Validation::Reading(validator) = &mut staged.validation else {
            unreachable!("checked above, under the same lock");
        };
        validator.push(file, &data);
        pipeline::check_row_limit(validator.progress(), max_rows)?;
        let received = match file {
            FileKind::Users => &mut staged.users,
            FileKind::Demographics => &mut staged.demographics,
        };
        received.parts += 1;
        received.bytes += data.len() as u64;
        Ok(PartReceived {
            received: received.bytes,
            next_part: received.parts,
        })
    })
    .await
    .map_err(anyhow::Error::from)?;
    if let Err(ApiError::TooLarge {
        code: "too-many-rows",
        ..
    }) = &outcome
    {
        // The validator read the rows past the limit: the upload cannot go
        // on, and a new one with a smaller file starts afresh.
        state.staged.remove(&id);
    }
    Ok(Json(outcome?))
}

async fn users_part(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, n)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PartReceived>> {
    part(state, caller, FileKind::Users, id, n, headers, body).await
}

async fn demographics_part(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, n)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PartReceived>> {
    part(state, caller, FileKind::Demographics, id, n, headers, body).await
}

/// The staged upload, its input ended (once: the first preview or commit
/// runs `finish`, later calls reuse the result), locked for the caller.
async fn finished(entry: Arc<Entry>) -> ApiResult<tokio::sync::OwnedMutexGuard<Staged>> {
    let mut staged = entry.upload.clone().lock_owned().await;
    if let Validation::Reading(_) = staged.validation {
        staged = tokio::task::spawn_blocking(move || {
            if let Validation::Reading(validator) =
                std::mem::replace(&mut staged.validation, Validation::Finishing)
            {
                staged.validation = Validation::Finished(Box::new(validator.finish()));
            }
            staged
        })
        .await
        .map_err(anyhow::Error::from)?;
    }
    Ok(staged)
}

/// The caller's staged upload, finished, once the gate is checked again:
/// it may have closed since the upload started (the permissions are
/// checked on every request).
async fn processable(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<tokio::sync::OwnedMutexGuard<Staged>> {
    let entry = state.staged.get(id, caller)?;
    pipeline::options(state, caller).await?;
    finished(entry).await
}

fn validated(validation: &Validation) -> ApiResult<&Validated> {
    match validation {
        Validation::Finished(validated) => Ok(validated),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a staged upload was not finished"
        ))),
    }
}

async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(page): Json<ChangesPage>,
) -> ApiResult<Json<UploadReport>> {
    let mut staged = processable(&state, &caller, &id).await?;
    let Staged {
        validation,
        submission,
        planned,
        ..
    } = &mut *staged;
    let records = pipeline::accepted(validated(validation)?)?;
    let report = pipeline::preview(&state, &caller, records, submission, page, planned).await?;
    Ok(Json(report))
}

async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<CommitRequest>,
) -> ApiResult<Json<UploadReport>> {
    let mut staged = processable(&state, &caller, &id).await?;
    let Staged {
        validation,
        submission,
        planned,
        ..
    } = &mut *staged;
    let records = pipeline::accepted(validated(validation)?)?;
    let report = pipeline::commit(
        &state,
        &caller,
        records,
        submission,
        request.confirm,
        request.page,
        planned,
    )
    .await?;
    // Committed: the upload is done (the history keeps its report). Its
    // records, roster and plan are millions of allocations: freed after
    // the answer, off the async workers.
    let done = (
        planned.take(),
        std::mem::replace(validation, Validation::Finishing),
    );
    drop(staged);
    state.staged.remove(&id);
    tokio::task::spawn_blocking(move || drop(done));
    Ok(Json(report))
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.staged.get(&id, &caller)?;
    state.staged.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Vec<ApiRoute> {
    let part_limit = MAX_PART_BYTES + GZIP_SLACK;
    vec![
        ApiRoute::new(Method::POST, "/api/uploads/staged", post(create), Access::Uploader,
            "Start a staged upload {fileName, mode}: 201 {id, maxPartBytes} (an upload session starts one upload only: 403 session-used; removals need a credential that may remove: 403 removals-not-allowed)"),
        ApiRoute::new(Method::PUT, "/api/uploads/staged/{id}/users/{n}", put(users_part), Access::Uploader,
            "The next slice (n = 0, 1, …) of the clean users.csv, Content-Encoding gzip or identity, at most maxPartBytes decompressed: {received, nextPart} (409 out of order, 413 too large or too many rows)")
            .body_limit(part_limit),
        ApiRoute::new(Method::PUT, "/api/uploads/staged/{id}/demographics/{n}", put(demographics_part), Access::Uploader,
            "The next slice of the clean demographics.csv, after every users.csv part")
            .body_limit(part_limit),
        ApiRoute::new(Method::POST, "/api/uploads/staged/{id}/preview", post(preview), Access::Uploader,
            "{changesOffset?, changesLimit?}: end the input and show what processing would change (422 with the report when the files break the contract)"),
        ApiRoute::new(Method::POST, "/api/uploads/staged/{id}/commit", post(commit), Access::Uploader,
            "{confirm?, changesOffset?, changesLimit?}: process the staged upload in one transaction, with the preview's plan while the roster is unchanged since (409 safety-hold without confirm, 409 roster-busy); the staged upload is then gone"),
        ApiRoute::new(Method::DELETE, "/api/uploads/staged/{id}", delete(cancel), Access::Uploader,
            "Drop a staged upload: 204"),
    ]
}
