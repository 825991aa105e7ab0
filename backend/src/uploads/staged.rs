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
//! Each route takes a session or an embed token (`crate::embed::Uploader`).
//! Staged uploads live in memory (a restart loses them; the browser starts
//! again), belong to the admin or embed token that made them (anyone else gets 404), expire
//! after 30 minutes without a request, and a district holds at most two at
//! a time: a third is refused with 429, except that an admin who already
//! holds one has their oldest dropped (a reloaded page starts afresh
//! without waiting half an hour).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post, put};
use axum::Json;
use flate2::read::MultiGzDecoder;
use serde::Serialize;
use shared::{FileKind, Validated, Validator};

use super::{
    accepted, commit_records, open, preview_records, require_both, ChangesPage, CommitRequest,
    Planned, Submission, UploadReport,
};
use crate::accounts::random_hex;
use crate::embed::{Owner, Uploader};
use crate::error::{ApiError, ApiResult};
use crate::server::{Access, ApiRoute, AppState};

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

    fn insert(&self, owner: Owner, district_id: i64, staged: Staged) -> ApiResult<String> {
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
        let id = random_hex(16);
        let now = Instant::now();
        entries.insert(
            id.clone(),
            Arc::new(Entry {
                owner,
                district_id,
                created: now,
                last_used: Mutex::new(now),
                upload: Arc::new(tokio::sync::Mutex::new(staged)),
            }),
        );
        Ok(id)
    }

    /// The upload, when it is this admin's (or embed token's); 404 otherwise.
    fn get(&self, id: &str, uploader: &Uploader) -> ApiResult<Arc<Entry>> {
        let mut entries = lock(&self.entries);
        Self::sweep(&mut entries);
        let entry = entries
            .get(id)
            .filter(|e| {
                e.owner == uploader.owner && e.district_id == uploader.current.admin.district_id
            })
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

async fn create(
    State(state): State<AppState>,
    uploader: Uploader,
    Json(mut submission): Json<Submission>,
) -> ApiResult<Response> {
    let current = &uploader.current;
    let options = open(&state, current).await?;
    submission.file_name = uploader.history_file_name(&submission.file_name);
    let staged = Staged {
        submission,
        validation: Validation::Reading(Box::new(Validator::new(options))),
        users: Received::default(),
        demographics: Received::default(),
        planned: None,
    };
    let id = state
        .staged
        .insert(uploader.owner, current.admin.district_id, staged)?;
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
    uploader: Uploader,
    file: FileKind,
    id: String,
    n: u32,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PartReceived>> {
    require_both(&uploader.current)?;
    let entry = state.staged.get(&id, &uploader)?;
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
    .map_err(anyhow::Error::from)??;
    Ok(Json(outcome))
}

async fn users_part(
    State(state): State<AppState>,
    uploader: Uploader,
    Path((id, n)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PartReceived>> {
    part(state, uploader, FileKind::Users, id, n, headers, body).await
}

async fn demographics_part(
    State(state): State<AppState>,
    uploader: Uploader,
    Path((id, n)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PartReceived>> {
    part(
        state,
        uploader,
        FileKind::Demographics,
        id,
        n,
        headers,
        body,
    )
    .await
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

/// The uploader's staged upload, finished, once the permissions and the gate
/// are checked again: either may have changed since the upload started.
async fn processable(
    state: &AppState,
    uploader: &Uploader,
    id: &str,
) -> ApiResult<tokio::sync::OwnedMutexGuard<Staged>> {
    let entry = state.staged.get(id, uploader)?;
    open(state, &uploader.current).await?;
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
    uploader: Uploader,
    Path(id): Path<String>,
    Json(page): Json<ChangesPage>,
) -> ApiResult<Json<UploadReport>> {
    let current = &uploader.current;
    let mut staged = processable(&state, &uploader, &id).await?;
    let Staged {
        validation,
        submission,
        planned,
        ..
    } = &mut *staged;
    let records = accepted(validated(validation)?)?;
    let report = preview_records(&state, current, records, submission.mode, page, planned).await?;
    Ok(Json(report))
}

async fn commit(
    State(state): State<AppState>,
    uploader: Uploader,
    Path(id): Path<String>,
    Json(request): Json<CommitRequest>,
) -> ApiResult<Json<UploadReport>> {
    let current = &uploader.current;
    let mut staged = processable(&state, &uploader, &id).await?;
    let Staged {
        validation,
        submission,
        planned,
        ..
    } = &mut *staged;
    let records = accepted(validated(validation)?)?;
    let report = commit_records(
        &state,
        current,
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
    uploader: Uploader,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.staged.get(&id, &uploader)?;
    state.staged.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Vec<ApiRoute> {
    let part_limit = || DefaultBodyLimit::max(MAX_PART_BYTES + GZIP_SLACK);
    vec![
        ApiRoute::new(Method::POST, "/api/uploads/staged", post(create), Access::EmbedToken,
            "Start a staged upload {fileName, mode}: 201 {id, maxPartBytes}"),
        ApiRoute::new(Method::PUT, "/api/uploads/staged/{id}/users/{n}", put(users_part).layer(part_limit()), Access::EmbedToken,
            "The next slice (n = 0, 1, …) of the clean users.csv, Content-Encoding gzip or identity, at most maxPartBytes decompressed: {received, nextPart} (409 out of order, 413 too large)"),
        ApiRoute::new(Method::PUT, "/api/uploads/staged/{id}/demographics/{n}", put(demographics_part).layer(part_limit()), Access::EmbedToken,
            "The next slice of the clean demographics.csv, after every users.csv part"),
        ApiRoute::new(Method::POST, "/api/uploads/staged/{id}/preview", post(preview), Access::EmbedToken,
            "{changesOffset?, changesLimit?}: end the input and show what processing would change (422 with the report when the files break the contract)"),
        ApiRoute::new(Method::POST, "/api/uploads/staged/{id}/commit", post(commit), Access::EmbedToken,
            "{confirm?, changesOffset?, changesLimit?}: process the staged upload in one transaction, with the preview's plan while the roster is unchanged since (409 safety-hold without confirm, 409 roster-busy); the staged upload is then gone"),
        ApiRoute::new(Method::DELETE, "/api/uploads/staged/{id}", delete(cancel), Access::EmbedToken,
            "Drop a staged upload: 204"),
    ]
}
