//! Processing uploads: the browser sends only clean, normalized records; the
//! server re-validates them with the same schema crate, checks them against
//! the stored roster, and previews or commits the reconciliation.

pub mod reconcile;
pub mod staged;
pub mod store;

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::{Deserialize, Serialize};
use shared::csv_out::{write_row, Audience, BOM};
use shared::export::{demographics_csv, users_csv};
use shared::records::Records;
use shared::{Finding, IssueCode, Severity};
use shared::{Options, Validated, Validator};
use sqlx::Row;

use crate::auth::CurrentAdmin;
use crate::db::{now, roster_changed_from, roster_version};
use crate::error::{ApiError, ApiResult};
use crate::orgs::{activation, list_schools};
use crate::server::{Access, ApiRoute, AppState};
use reconcile::{Change, Counts, Hold, Mode};

/// Largest upload body: records of about 2,000,000 rows.
pub const MAX_UPLOAD_BYTES: usize = 1 << 30;
const DEFAULT_CHANGES_PAGE: usize = 200;

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
    fn submission(&self) -> Submission {
        Submission {
            file_name: self.file_name.clone(),
            mode: self.mode,
        }
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

/// A finding against stored data: which record (`key`: its userId or
/// classId) and what.
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

pub(crate) fn require_both(current: &CurrentAdmin) -> ApiResult<()> {
    if current.admin.permissions.both() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "both System access and Enrollment access",
        ))
    }
}

/// Whether this admin may upload now (both permissions, the activation gate
/// open); the validator options for the district (its known school IDs).
/// Every upload route, JSON or staged, starts here.
pub(crate) async fn open(state: &AppState, current: &CurrentAdmin) -> ApiResult<Options> {
    require_both(current)?;
    let schools = list_schools(&state.pool, current.admin.district_id).await?;
    let gate = activation(&schools);
    if !gate.open {
        return Err(ApiError::conflict(
            "upload-closed",
            format!(
                "Batch upload opens when every school has a unique school ID; {} school(s) block it (see Organizations).",
                gate.blocking_schools.len()
            ),
        ));
    }
    Ok(Options {
        known_school_ids: Some(schools.into_iter().filter_map(|s| s.school_id).collect()),
        ..Options::default()
    })
}

/// The records of a re-validation, or the 422 refusal with its report.
/// The browser's check is for speed and privacy, not for trust: whatever
/// way records arrive, they pass the same validator again, as files.
pub(crate) fn accepted(validated: &Validated) -> ApiResult<&Records> {
    if validated.report.valid {
        Ok(&validated.records)
    } else {
        Err(ApiError::InvalidRecords(Box::new(validated.report.view())))
    }
}

/// The JSON way: the records of one body, written out as the files the
/// browser would send and validated again.
async fn revalidate(
    state: &AppState,
    current: &CurrentAdmin,
    records: &Records,
) -> ApiResult<Validated> {
    let mut validator = Validator::new(open(state, current).await?);
    validator.push_users(&users_csv(records, Audience::Program));
    if !records.demographics.is_empty() {
        validator.push_demographics(&demographics_csv(records, Audience::Program));
    }
    Ok(validator.finish())
}

fn report_of(plan: &reconcile::Plan, page: ChangesPage, upload_id: Option<i64>) -> UploadReport {
    let limit = page.changes_limit.unwrap_or(DEFAULT_CHANGES_PAGE);
    UploadReport {
        upload_id,
        committed: upload_id.is_some(),
        counts: plan.counts,
        per_school: plan.per_school.clone(),
        changes: plan
            .changes
            .iter()
            .skip(page.changes_offset)
            .take(limit)
            .cloned()
            .collect(),
        changes_total: plan.changes.len(),
        findings: plan.findings.iter().map(ServerFinding::from).collect(),
        hold: plan.hold.clone(),
    }
}

/// A plan, with the stored roster it was made against (at `stored.version`).
/// A staged upload keeps its preview's, so the commit need not load and
/// plan again while nobody has changed the roster since.
pub(crate) struct Planned {
    mode: Mode,
    stored: reconcile::Stored,
    plan: reconcile::Plan,
}

/// The stored roster, and the plan of accepted records against it.
async fn plan_against_stored(
    state: &AppState,
    district_id: i64,
    records: &Records,
    mode: Mode,
) -> ApiResult<Planned> {
    let started = Instant::now();
    let stored = store::load(&state.typed_pool, district_id).await?;
    let loaded = started.elapsed();
    let plan = cpu_heavy(|| reconcile::plan(&stored, records, mode));
    tracing::info!(
        district = district_id,
        rows = records.enrollments.len() + records.users.len(),
        load_ms = loaded.as_millis() as u64,
        plan_ms = (started.elapsed() - loaded).as_millis() as u64,
        "upload planned"
    );
    Ok(Planned { mode, stored, plan })
}

/// Runs seconds of CPU work (planning a million rows) without stalling the
/// other requests queued on this async worker: the multi-threaded runtime
/// hands them to another worker meanwhile. (A current-thread runtime, as in
/// tests, has no other worker: there it just runs.)
fn cpu_heavy<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// The plan of accepted records: the `kept` one while the district's roster
/// is still at the version it was made at, else a new one (then kept).
async fn planned<'k>(
    state: &AppState,
    district_id: i64,
    records: &Records,
    mode: Mode,
    kept: &'k mut Option<Planned>,
) -> ApiResult<&'k Planned> {
    let current_version = match kept {
        Some(_) => Some(roster_version(&state.pool, district_id).await?),
        None => None,
    };
    let reusable = match kept.take() {
        Some(planned)
            if planned.mode == mode && Some(planned.stored.version) == current_version =>
        {
            Some(planned)
        }
        // A stale plan is dropped before the roster is loaded again: one
        // copy of a large roster in memory is enough.
        _ => None,
    };
    let planned = match reusable {
        Some(planned) => planned,
        None => plan_against_stored(state, district_id, records, mode).await?,
    };
    Ok(kept.insert(planned))
}

/// What processing accepted records would change (writes nothing). The
/// plan stays in `kept` for paging and for the commit.
pub(crate) async fn preview_records(
    state: &AppState,
    current: &CurrentAdmin,
    records: &Records,
    mode: Mode,
    page: ChangesPage,
    kept: &mut Option<Planned>,
) -> ApiResult<UploadReport> {
    let planned = planned(state, current.admin.district_id, records, mode, kept).await?;
    Ok(report_of(&planned.plan, page, None))
}

/// How often a commit plans again when other writers keep changing the
/// roster under it, before it gives up.
const COMMIT_ATTEMPTS: usize = 3;

/// Processes accepted records in one transaction (unless the safety hold
/// applies and `confirm` is not set) and records the upload in the history.
/// Uses the plan in `kept` while the roster has not changed since it was
/// made; plans again otherwise.
pub(crate) async fn commit_records(
    state: &AppState,
    current: &CurrentAdmin,
    records: &Records,
    submission: &Submission,
    confirm: bool,
    page: ChangesPage,
    kept: &mut Option<Planned>,
) -> ApiResult<UploadReport> {
    let district_id = current.admin.district_id;
    for _ in 0..COMMIT_ATTEMPTS {
        let planned = planned(state, district_id, records, submission.mode, kept).await?;
        if let (Some(hold), false) = (&planned.plan.hold, confirm) {
            return Err(ApiError::conflict(
                "safety-hold",
                format!("Confirm to go ahead: {}.", hold.reasons.join("; ")),
            ));
        }
        if let Some(upload_id) = write(state, current, submission, planned).await? {
            return Ok(report_of(&planned.plan, page, Some(upload_id)));
        }
        // Someone changed the roster since the plan was made.
        *kept = None;
    }
    Err(ApiError::conflict(
        "roster-busy",
        "The roster kept changing while this upload was being processed; try again.",
    ))
}

/// Writes a plan and its history row in one transaction, if the roster is
/// still at the version the plan was made at: the upload's id, or None
/// (nothing written) when another writer came first.
async fn write(
    state: &AppState,
    current: &CurrentAdmin,
    submission: &Submission,
    planned: &Planned,
) -> ApiResult<Option<i64>> {
    let district_id = current.admin.district_id;
    let started = Instant::now();
    let mut tx = state.pool.begin().await?;
    // First: on SQLite it takes the write lock, on PostgreSQL the district
    // row's lock, so no other writer gets between this check and the commit.
    if !roster_changed_from(&mut *tx, district_id, planned.stored.version).await? {
        return Ok(None); // rolled back on drop
    }
    store::apply(&mut tx, district_id, &planned.stored, &planned.plan).await?;
    let plan = &planned.plan;
    let findings: Vec<ServerFinding> = plan.findings.iter().map(ServerFinding::from).collect();
    let row = sqlx::query(
        "INSERT INTO uploads (district_id, admin_id, file_name, mode, status, created_at, counts_json, findings_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(district_id)
    .bind(current.admin.id)
    .bind(submission.file_name.trim())
    .bind(serde_json::to_value(submission.mode).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default())
    .bind("committed")
    .bind(now())
    .bind(serde_json::to_string(&(&plan.counts, &plan.per_school)).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_string(&findings).map_err(anyhow::Error::from)?)
    .fetch_one(&mut *tx)
    .await?;
    let upload_id: i64 = row.try_get("id")?;
    tx.commit().await?;
    tracing::info!(
        district = district_id,
        apply_ms = started.elapsed().as_millis() as u64,
        "upload committed"
    );
    Ok(Some(upload_id))
}

async fn preview(
    State(state): State<AppState>,
    current: CurrentAdmin,
    Json(request): Json<UploadRequest>,
) -> ApiResult<Json<UploadReport>> {
    let validated = revalidate(&state, &current, &request.records).await?;
    let records = accepted(&validated)?;
    let report = preview_records(
        &state,
        &current,
        records,
        request.mode,
        request.page(),
        &mut None,
    )
    .await?;
    Ok(Json(report))
}

async fn commit(
    State(state): State<AppState>,
    current: CurrentAdmin,
    Json(request): Json<UploadRequest>,
) -> ApiResult<Json<UploadReport>> {
    let validated = revalidate(&state, &current, &request.records).await?;
    let records = accepted(&validated)?;
    let report = commit_records(
        &state,
        &current,
        records,
        &request.submission(),
        request.confirm,
        request.page(),
        &mut None,
    )
    .await?;
    Ok(Json(report))
}

/// One upload in the history.
#[derive(Debug, Serialize, Deserialize)]
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

fn summary_of(row: &sqlx::any::AnyRow) -> ApiResult<UploadSummary> {
    let counts_json: String = row.try_get("counts_json")?;
    let findings_json: String = row.try_get("findings_json")?;
    let (counts, per_school): (Counts, BTreeMap<String, Counts>) =
        serde_json::from_str(&counts_json).map_err(anyhow::Error::from)?;
    Ok(UploadSummary {
        id: row.try_get("id")?,
        admin_email: row.try_get("email")?,
        file_name: row.try_get("file_name")?,
        mode: row.try_get("mode")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        counts,
        per_school,
        findings: serde_json::from_str(&findings_json).map_err(anyhow::Error::from)?,
    })
}

const UPLOAD_COLUMNS: &str =
    "u.id, a.email, u.file_name, u.mode, u.status, u.created_at, u.counts_json, u.findings_json";

async fn history(
    State(state): State<AppState>,
    current: CurrentAdmin,
) -> ApiResult<Json<Vec<UploadSummary>>> {
    if !current.admin.permissions.any() {
        return Err(ApiError::Forbidden("System access or Enrollment access"));
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads u JOIN admins a ON a.id = u.admin_id
         WHERE u.district_id = $1 ORDER BY u.id DESC"
    )))
    .bind(current.admin.district_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows.iter().map(summary_of).collect::<ApiResult<_>>()?))
}

async fn load_upload(
    state: &AppState,
    current: &CurrentAdmin,
    id: i64,
) -> ApiResult<UploadSummary> {
    if !current.admin.permissions.any() {
        return Err(ApiError::Forbidden("System access or Enrollment access"));
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads u JOIN admins a ON a.id = u.admin_id
         WHERE u.id = $1 AND u.district_id = $2"
    )))
    .bind(id)
    .bind(current.admin.district_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound)?;
    summary_of(&row)
}

async fn one(
    State(state): State<AppState>,
    current: CurrentAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<UploadSummary>> {
    Ok(Json(load_upload(&state, &current, id).await?))
}

/// The server-side findings of an upload, as a formula-safe CSV with BOM.
async fn findings_csv(
    State(state): State<AppState>,
    current: CurrentAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let upload = load_upload(&state, &current, id).await?;
    let mut out = BOM.to_vec();
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
    let large = || DefaultBodyLimit::max(MAX_UPLOAD_BYTES);
    let mut routes = vec![
        ApiRoute::new(Method::POST, "/api/uploads/preview", post(preview).layer(large()), Access::BothPermissions,
            "Re-validate clean records and show what processing them would change (422 with the report when they break the contract)"),
        ApiRoute::new(Method::POST, "/api/uploads/commit", post(commit).layer(large()), Access::BothPermissions,
            "Process clean records in one transaction (409 safety-hold without confirm)"),
        ApiRoute::new(Method::GET, "/api/uploads", get(history), Access::AnyPermission, "The history of uploads"),
        ApiRoute::new(Method::GET, "/api/uploads/{id}", get(one), Access::AnyPermission, "One upload's report"),
        ApiRoute::new(Method::GET, "/api/uploads/{id}/findings.csv", get(findings_csv), Access::AnyPermission,
            "One upload's server-side findings as CSV"),
    ];
    routes.extend(staged::routes());
    routes
}
