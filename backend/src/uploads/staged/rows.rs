//! Staged uploads as database rows (migration 0006), so that any server
//! process answers any request of any upload: the upload, its parts as
//! received, the per-district cap, and the sweeper.

use futures_util::TryStreamExt;
pub use shared::api::{Received, UploadState};
use shared::FileKind;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{IDLE_EXPIRY, MAX_STAGED_BYTES, PER_DISTRICT};
use crate::access::{Caller, Credential, Owner};
use crate::db::{now, now_millis};
use crate::error::{ApiError, ApiResult};
use crate::uploads::reconcile::Mode;
use crate::uploads::Submission;

/// An upload stops counting toward the district's cap after this long
/// without a request (another owner may then start one); it stays
/// resumable until it expires.
pub const CAP_IDLE_SECONDS: i64 = 5 * 60;

/// One staged upload as stored.
#[derive(Debug, Clone)]
pub struct StagedRow {
    pub id: String,
    pub submission: Submission,
    pub state: UploadState,
    pub users: Received,
    pub demographics: Received,
    /// The history entry, once committed.
    pub history_id: Option<i64>,
    pub expires_at: i64,
}

impl StagedRow {
    pub fn received(&self, file: FileKind) -> Received {
        match file {
            FileKind::Users => self.users,
            FileKind::Demographics => self.demographics,
        }
    }
}

/// An upload's state as the database spells it.
fn state_key(state: UploadState) -> &'static str {
    match state {
        UploadState::Receiving => "receiving",
        UploadState::Previewed => "previewed",
        UploadState::Committed => "committed",
    }
}

fn state_of(text: &str) -> anyhow::Result<UploadState> {
    Ok(match text {
        "receiving" => UploadState::Receiving,
        "previewed" => UploadState::Previewed,
        "committed" => UploadState::Committed,
        other => anyhow::bail!("a staged upload in the state {other}"),
    })
}

fn owner_key(owner: Owner) -> (&'static str, i64) {
    match owner {
        Owner::Admin(id) => ("admin", id),
        Owner::EmbedToken(id) => ("embed-token", id),
        Owner::UploadSession(id) => ("upload-session", id),
    }
}

fn file_key(file: FileKind) -> &'static str {
    match file {
        FileKind::Users => "users",
        FileKind::Demographics => "demographics",
    }
}

const ROW_COLUMNS: &str = "id, file_name, mode, state, users_parts, users_bytes, demographics_parts, demographics_bytes, history_id, expires_at";

fn row_of(row: &AnyRow) -> ApiResult<StagedRow> {
    let mode: String = row.try_get("mode")?;
    let received = |parts: &str, bytes: &str| -> ApiResult<Received> {
        Ok(Received {
            next_part: row.try_get::<i64, _>(parts)?.try_into().unwrap_or(u32::MAX),
            received: row.try_get::<i64, _>(bytes)?.try_into().unwrap_or(0),
        })
    };
    Ok(StagedRow {
        id: row.try_get("id")?,
        submission: Submission {
            file_name: row.try_get("file_name")?,
            mode: if mode == "full-sync" {
                Mode::FullSync
            } else {
                Mode::Upsert
            },
        },
        state: state_of(&row.try_get::<String, _>("state")?)?,
        users: received("users_parts", "users_bytes")?,
        demographics: received("demographics_parts", "demographics_bytes")?,
        history_id: row.try_get("history_id")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn too_many() -> ApiError {
    ApiError::TooMany {
        code: "too-many-staged-uploads",
        message: format!(
            "Your district already has {PER_DISTRICT} uploads in progress; finish or cancel one, or try again when one has had no activity for {} minutes.",
            CAP_IDLE_SECONDS / 60
        ),
    }
}

/// Deletes an upload and its parts.
async fn delete_upload(connection: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM staged_parts WHERE upload_id = $1")
        .bind(id)
        .execute(&mut *connection)
        .await?;
    sqlx::query("DELETE FROM staged_uploads WHERE id = $1")
        .bind(id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Starts an upload `id` for `caller`, within the district's cap: at most
/// `PER_DISTRICT` uploads that had a request in the last five minutes; when
/// the district is at the cap and the caller holds one of them, the
/// caller's oldest makes way (a reloaded page starts afresh), else 429. An
/// upload session claims its one upload here (403 `session-used` after).
/// Returns when the upload expires.
pub async fn create(
    pool: &AnyPool,
    id: &str,
    caller: &Caller,
    submission: &Submission,
) -> ApiResult<i64> {
    let district_id = caller.district_id();
    let (owner_kind, owner_id) = owner_key(caller.owner());
    let now = now();
    let mut tx = pool.begin().await?;
    // Creating uploads of one district one at a time (a lock of its own, not
    // the district row a long commit holds), so the cap holds across
    // processes.
    sqlx::query(
        "INSERT INTO staged_upload_locks (district_id) VALUES ($1)
         ON CONFLICT (district_id) DO UPDATE SET district_id = excluded.district_id",
    )
    .bind(district_id)
    .execute(&mut *tx)
    .await?;
    let counting = sqlx::query(
        "SELECT id, owner_kind, owner_id FROM staged_uploads
         WHERE district_id = $1 AND state <> 'committed' AND last_used_at > $2 AND expires_at > $3
         ORDER BY created_at, id",
    )
    .bind(district_id)
    .bind(now - CAP_IDLE_SECONDS)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    if counting.len() >= PER_DISTRICT {
        let mut own = None;
        for row in &counting {
            if row.try_get::<String, _>("owner_kind")? == owner_kind
                && row.try_get::<i64, _>("owner_id")? == owner_id
            {
                own = Some(row.try_get::<String, _>("id")?);
                break;
            }
        }
        let own = own.ok_or_else(too_many)?;
        delete_upload(&mut tx, &own).await?;
    }
    if let Credential::UploadSession { id: session, .. } = &*caller.credential {
        let claimed = sqlx::query(
            "UPDATE embed_sessions SET staged_upload = $1 WHERE id = $2 AND staged_upload IS NULL",
        )
        .bind(id)
        .bind(session)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            return Err(ApiError::SessionUsed);
        }
    }
    let expires_at = now + IDLE_EXPIRY.as_secs() as i64;
    sqlx::query(
        "INSERT INTO staged_uploads (id, district_id, admin_id, owner_kind, owner_id, file_name, mode, state,
                                     created_at, last_used_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(district_id)
    .bind(caller.admin.id)
    .bind(owner_kind)
    .bind(owner_id)
    .bind(&submission.file_name)
    .bind(submission.mode.as_str())
    .bind(state_key(UploadState::Receiving))
    .bind(now_millis())
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(expires_at)
}

/// The caller's upload `id`, its expiry moved on (404 when it is another's,
/// in another district, or expired).
pub async fn find(pool: &AnyPool, id: &str, caller: &Caller) -> ApiResult<StagedRow> {
    let (owner_kind, owner_id) = owner_key(caller.owner());
    let now = now();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE staged_uploads SET last_used_at = $1, expires_at = $2
         WHERE id = $3 AND district_id = $4 AND owner_kind = $5 AND owner_id = $6 AND expires_at > $7
         RETURNING {ROW_COLUMNS}"
    )))
    .bind(now)
    .bind(now + IDLE_EXPIRY.as_secs() as i64)
    .bind(id)
    .bind(caller.district_id())
    .bind(owner_kind)
    .bind(owner_id)
    .bind(now)
    .fetch_optional(pool)
    .await?
    .ok_or(ApiError::NotFound)?;
    row_of(&row)
}

/// Stores part `n` of `file` (the bytes as received, `decompressed` long
/// once decompressed), if it is the next one: the file's new totals. A
/// refused part changes nothing, so the same part may be sent again.
pub async fn add_part(
    pool: &AnyPool,
    upload: &StagedRow,
    file: FileKind,
    n: u32,
    bytes: &[u8],
    gzip: bool,
    decompressed: u64,
) -> ApiResult<Received> {
    let refusal = |upload: &StagedRow| -> ApiError {
        if upload.state != UploadState::Receiving {
            return ApiError::conflict(
                "upload-finished",
                "This upload has been previewed; its files can no longer change. Start a new upload.",
            );
        }
        if file == FileKind::Users && upload.demographics.next_part > 0 {
            return ApiError::conflict(
                "part-out-of-order",
                "Every users.csv part comes before the first demographics.csv part.",
            );
        }
        let next = upload.received(file).next_part;
        if n != next {
            return ApiError::conflict(
                "part-out-of-order",
                format!(
                    "Part {n} of {}.csv is out of order: the next part is {next}.",
                    file_key(file)
                ),
            );
        }
        ApiError::too_large(
            "upload-too-large",
            format!("An upload may hold at most {MAX_STAGED_BYTES} bytes of files."),
        )
    };
    let (parts, bytes_column, other_parts) = match file {
        FileKind::Users => ("users_parts", "users_bytes", "demographics_parts = 0"),
        FileKind::Demographics => ("demographics_parts", "demographics_bytes", "1 = 1"),
    };
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE staged_uploads SET {parts} = {parts} + 1, {bytes_column} = {bytes_column} + $1
         WHERE id = $2 AND state = 'receiving' AND {parts} = $3 AND {other_parts}
           AND users_bytes + demographics_bytes + $4 <= $5
         RETURNING {ROW_COLUMNS}"
    )))
    .bind(decompressed as i64)
    .bind(&upload.id)
    .bind(i64::from(n))
    .bind(decompressed as i64)
    .bind(MAX_STAGED_BYTES as i64)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(updated) = updated else {
        // Why, from the row as it is now (another request may have moved it).
        let now = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM staged_uploads WHERE id = $1"
        )))
        .bind(&upload.id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ApiError::NotFound)?;
        return Err(refusal(&row_of(&now)?));
    };
    sqlx::query(
        "INSERT INTO staged_parts (upload_id, file, n, gzip, decompressed_bytes, bytes)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&upload.id)
    .bind(file_key(file))
    .bind(i64::from(n))
    .bind(i64::from(gzip))
    .bind(decompressed as i64)
    .bind(bytes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row_of(&updated)?.received(file))
}

/// Ends the input of an upload (its first preview or commit): no part is
/// taken after.
pub async fn end_input(pool: &AnyPool, id: &str) -> ApiResult<()> {
    sqlx::query(
        "UPDATE staged_uploads SET state = 'previewed' WHERE id = $1 AND state = 'receiving'",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The parts of an upload's file in order, each handed to `each` as it is
/// read (the bytes as received, and whether they are gzip): never all of
/// them in memory at once.
pub async fn for_each_part(
    pool: &AnyPool,
    id: &str,
    file: FileKind,
    mut each: impl FnMut(Vec<u8>, bool) -> ApiResult<()>,
) -> ApiResult<()> {
    let mut rows = sqlx::query(
        "SELECT gzip, bytes FROM staged_parts WHERE upload_id = $1 AND file = $2 ORDER BY n",
    )
    .bind(id)
    .bind(file_key(file))
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        each(row.try_get("bytes")?, row.try_get::<i64, _>("gzip")? != 0)?;
    }
    Ok(())
}

/// Drops an upload and its parts.
pub async fn cancel(pool: &AnyPool, id: &str) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    delete_upload(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// In a commit's transaction, after the roster's lock is taken: whether the
/// upload is still to be committed (another request or process may have
/// committed it meanwhile: then its history entry).
pub async fn committed_already(tx: &mut sqlx::AnyConnection, id: &str) -> ApiResult<Option<i64>> {
    let row = sqlx::query("SELECT state, history_id FROM staged_uploads WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    let state = state_of(&row.try_get::<String, _>("state")?)?;
    Ok(match state {
        UploadState::Committed => row.try_get("history_id")?,
        _ => None,
    })
}

/// In a commit's transaction: the upload is committed as `history_id`; its
/// parts go (the row stays until it expires, for a client that lost the
/// answer).
pub async fn mark_committed(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    history_id: i64,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM staged_parts WHERE upload_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE staged_uploads SET state = 'committed', history_id = $1 WHERE id = $2")
        .bind(history_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Deletes expired uploads and their parts (any process may run it: each
/// statement deletes what is expired, whoever comes first).
pub async fn sweep(pool: &AnyPool) -> sqlx::Result<()> {
    let now = now();
    sqlx::query(
        "DELETE FROM staged_parts WHERE upload_id IN (SELECT id FROM staged_uploads WHERE expires_at <= $1)",
    )
    .bind(now)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM staged_uploads WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}
