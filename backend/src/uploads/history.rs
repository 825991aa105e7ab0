//! The history: every committed upload, and every use of an embed token or
//! upload session (previews and minted sessions too), with who, when, what
//! and the counts. Raw files are never stored.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
pub use shared::api::{HistoryStatus as Status, UploadSummary};
use shared::csv_out::{write_row, Audience};
use sqlx::{Any, Executor, Row};

use super::reconcile::{Counts, Mode};
use super::{ServerFinding, Submission};
use crate::access::{Access, Admin, Caller};
use crate::accounts::AdminAccount;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::server::{ApiRoute, AppState};

/// A row of the history, to write.
pub struct HistoryEntry<'a> {
    district_id: i64,
    admin_id: i64,
    /// The upload's file name; a minted session's origin.
    file_name: &'a str,
    mode: Mode,
    status: Status,
    counts: Counts,
    per_school: Option<&'a BTreeMap<String, Counts>>,
    findings: &'a [ServerFinding],
    credential: Option<String>,
    embed_token_id: Option<i64>,
}

impl<'a> HistoryEntry<'a> {
    /// What `caller` did with an upload.
    pub fn new(caller: &Caller, submission: &'a Submission, status: Status) -> Self {
        Self::of(caller, &submission.file_name, submission.mode, status)
    }

    /// `caller` (an embed token) minted an upload session for `origin`.
    pub fn session_created(caller: &Caller, origin: &'a str) -> Self {
        Self::of(caller, origin, Mode::Upsert, Status::SessionCreated)
    }

    fn of(caller: &Caller, file_name: &'a str, mode: Mode, status: Status) -> Self {
        HistoryEntry {
            district_id: caller.district_id(),
            admin_id: caller.admin.id,
            file_name,
            mode,
            status,
            counts: Counts::default(),
            per_school: None,
            findings: &[],
            credential: caller.history_label(),
            embed_token_id: caller.embed_token().map(|t| t.id),
        }
    }

    pub fn with_counts(
        mut self,
        counts: &Counts,
        per_school: &'a BTreeMap<String, Counts>,
        findings: &'a [ServerFinding],
    ) -> Self {
        self.counts = *counts;
        self.per_school = Some(per_school);
        self.findings = findings;
        self
    }

    /// Writes the row (in the caller's transaction, for a commit); its id.
    pub async fn insert<'c>(self, executor: impl Executor<'c, Database = Any>) -> ApiResult<i64> {
        let empty = BTreeMap::new();
        let per_school = self.per_school.unwrap_or(&empty);
        let row = sqlx::query(
            "INSERT INTO uploads (district_id, admin_id, file_name, mode, status, created_at, counts_json, findings_json, credential, embed_token_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(self.district_id)
        .bind(self.admin_id)
        .bind(self.file_name)
        .bind(self.mode.as_str())
        .bind(self.status.as_str())
        .bind(now())
        .bind(serde_json::to_string(&(&self.counts, per_school)).map_err(anyhow::Error::from)?)
        .bind(serde_json::to_string(self.findings).map_err(anyhow::Error::from)?)
        .bind(self.credential)
        .bind(self.embed_token_id)
        .fetch_one(executor)
        .await?;
        Ok(row.try_get("id")?)
    }
}

fn summary_of(row: &sqlx::any::AnyRow) -> ApiResult<UploadSummary> {
    let counts_json: String = row.try_get("counts_json")?;
    let findings_json: String = row.try_get("findings_json")?;
    let (counts, per_school): (Counts, BTreeMap<String, Counts>) =
        serde_json::from_str(&counts_json).map_err(anyhow::Error::from)?;
    Ok(UploadSummary {
        id: row.try_get("id")?,
        admin_email: row.try_get("email")?,
        file_name: row.try_get("file_name")?,
        mode: parse_word(&row.try_get::<String, _>("mode")?)?,
        status: parse_word(&row.try_get::<String, _>("status")?)?,
        created_at: row.try_get("created_at")?,
        credential: row.try_get("credential")?,
        counts,
        per_school,
        findings: serde_json::from_str(&findings_json).map_err(anyhow::Error::from)?,
    })
}

/// A word the server wrote (a mode, a status) read back as its type.
fn parse_word<T: serde::de::DeserializeOwned>(word: &str) -> ApiResult<T> {
    Ok(
        serde_json::from_value(serde_json::Value::String(word.to_string()))
            .map_err(anyhow::Error::from)?,
    )
}

const UPLOAD_COLUMNS: &str = "u.id, a.email, u.file_name, u.mode, u.status, u.created_at, u.credential, u.counts_json, u.findings_json";

async fn history(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> ApiResult<Json<Vec<UploadSummary>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads u JOIN admins a ON a.id = u.admin_id
         WHERE u.district_id = $1 ORDER BY u.id DESC"
    )))
    .bind(admin.district_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows.iter().map(summary_of).collect::<ApiResult<_>>()?))
}

async fn load_upload(state: &AppState, admin: &AdminAccount, id: i64) -> ApiResult<UploadSummary> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads u JOIN admins a ON a.id = u.admin_id
         WHERE u.id = $1 AND u.district_id = $2"
    )))
    .bind(id)
    .bind(admin.district_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound)?;
    summary_of(&row)
}

/// The report of a committed upload, from its history entry: what a
/// client that lost the commit's answer gets when it commits again (the
/// counts and findings; the page of changes is gone with the plan).
pub async fn committed_report(
    state: &AppState,
    caller: &Caller,
    history_id: i64,
) -> ApiResult<super::UploadReport> {
    Ok(load_upload(state, &caller.admin, history_id)
        .await?
        .report())
}

async fn one(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<UploadSummary>> {
    Ok(Json(load_upload(&state, &admin, id).await?))
}

/// The server-side findings of an upload, as a formula-safe CSV with BOM.
async fn findings_csv(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let upload = load_upload(&state, &admin, id).await?;
    let mut out = Audience::Person.file_start();
    write_row(
        &mut out,
        ["key", "severity", "column", "code", "message", "howToFix"],
        Audience::Person,
    );
    for f in &upload.findings {
        write_row(
            &mut out,
            [
                &f.key,
                f.severity.as_str(),
                f.column.as_deref().unwrap_or(""),
                f.code.as_str(),
                &f.message,
                &f.how_to_fix,
            ],
            Audience::Person,
        );
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"upload-{id}-findings.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::new(Method::GET, "/api/uploads", get(history), Access::AnyPermission,
            "The history: committed uploads, and every use of an embed token or upload session (previews, minted sessions), with the credential's label"),
        ApiRoute::new(Method::GET, "/api/uploads/{id}", get(one), Access::AnyPermission, "One history entry's report"),
        ApiRoute::new(Method::GET, "/api/uploads/{id}/findings.csv", get(findings_csv), Access::AnyPermission,
            "One upload's server-side findings as CSV"),
    ]
}
