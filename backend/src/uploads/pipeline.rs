//! The steps every upload takes once its files are in, whichever route
//! brought them (JSON or staged): the gate, validating again, the row limit,
//! the caller's right to remove, loading the stored roster, planning, and
//! applying the plan with its history row in one transaction. No HTTP here:
//! the routes call these.

use std::sync::Arc;
use std::time::Instant;

use shared::csv_out::Audience;
use shared::export::{demographics_csv, users_csv};
use shared::records::Records;
use shared::validator::Progress;
use shared::{FileKind, Options, Validated, Validator};

use super::history::{HistoryEntry, Status};
use super::reconcile::{self, Mode};
use super::report::{report_findings, report_of};
use super::staged::rows as staged_rows;
use super::store::NewRows;
use super::{store, ChangesPage, Submission, UploadReport};
use crate::access::Caller;
use crate::db::{roster_changed_from, roster_version};
use crate::error::{ApiError, ApiResult};
use crate::orgs::{activation, list_schools};
use crate::server::AppState;

/// Whether the caller's district may upload now (the activation gate is
/// open), and the validator options for it (its known school IDs). Every
/// upload starts here, and preview and commit pass here again: the gate
/// may have closed since the upload started.
pub async fn options(state: &AppState, caller: &Caller) -> ApiResult<Options> {
    let schools = list_schools(&state.pool, caller.district_id()).await?;
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

/// The spec's row limit: at most `max_rows` data rows per file, checked as
/// the rows are read (413 `too-many-rows`, naming the limit).
pub fn check_row_limit(progress: Progress, max_rows: u64) -> ApiResult<()> {
    let over = [
        (FileKind::Users, progress.users_rows),
        (FileKind::Demographics, progress.demographics_rows),
    ]
    .into_iter()
    .find(|(_, rows)| *rows > max_rows);
    match over {
        Some((file, _)) => Err(ApiError::too_large(
            "too-many-rows",
            format!(
                "{} has more than {max_rows} data rows, this server's limit per file (--max-rows); split it, for example by school, and upload each part.",
                file.file_name()
            ),
        )),
        None => Ok(()),
    }
}

/// The records of a re-validation, or the 422 refusal with its report.
/// The browser's check is for speed and privacy, not for trust: whatever
/// way records arrive, they pass the same validator again, as files.
pub fn accepted(validated: &Validated) -> ApiResult<&Records> {
    if validated.report.valid {
        Ok(&validated.records)
    } else {
        Err(ApiError::InvalidRecords(Box::new(validated.report.view())))
    }
}

/// The JSON way: the records of one body, written out as the files the
/// browser would send and validated again.
pub async fn revalidate(
    state: &AppState,
    caller: &Caller,
    records: &Records,
) -> ApiResult<Validated> {
    let mut validator = Validator::new(options(state, caller).await?);
    validator.push_users(&users_csv(records, Audience::Program));
    if !records.demographics.is_empty() {
        validator.push_demographics(&demographics_csv(records, Audience::Program));
    }
    check_row_limit(validator.progress(), state.config.max_rows)?;
    Ok(validator.finish())
}

/// What of an upload removes something, if anything: a full sync, or rows
/// with an action (REMOVE-ENROLLMENT, REMOVE-CLASS, DEACTIVATE-USER).
fn removal_asked(mode: Mode, records: Option<&Records>) -> Option<&'static str> {
    if mode == Mode::FullSync {
        return Some("run a full sync");
    }
    let records = records?;
    let has_action = records.users.iter().any(|u| u.deactivate)
        || records.classes.iter().any(|c| c.remove)
        || records.enrollments.iter().any(|e| e.remove);
    has_action.then_some(
        "process rows with an action (REMOVE-ENROLLMENT, REMOVE-CLASS or DEACTIVATE-USER)",
    )
}

/// Refuses what the caller may not remove (403 `removals-not-allowed`):
/// checked when an upload starts (its mode; `records` is None then), and
/// again at preview and commit (the rows' actions too).
pub fn check_removals(caller: &Caller, mode: Mode, records: Option<&Records>) -> ApiResult<()> {
    match removal_asked(mode, records) {
        Some(what) if !caller.may_remove() => Err(ApiError::RemovalsNotAllowed(what)),
        _ => Ok(()),
    }
}

/// A plan, with the stored roster it was made against (at `stored.version`).
/// A staged upload keeps its preview's, so the commit need not load and
/// plan again while nobody has changed the roster since.
pub struct Planned {
    mode: Mode,
    stored: Arc<reconcile::Stored>,
    plan: reconcile::Plan,
}

/// The district's roster at `version`: the one this process holds, or read
/// from the database (then held).
async fn stored_roster(
    state: &AppState,
    district_id: i64,
    version: i64,
) -> ApiResult<Arc<reconcile::Stored>> {
    if let Some(stored) = state.rosters.at_version(district_id, version) {
        return Ok(stored);
    }
    let stored = Arc::new(store::load(&state.typed_pool, district_id).await?);
    state.rosters.keep(district_id, stored.clone());
    Ok(stored)
}

/// The stored roster, and the plan of accepted records against it.
async fn plan_against_stored(
    state: &AppState,
    district_id: i64,
    version: i64,
    records: &Records,
    mode: Mode,
) -> ApiResult<Planned> {
    let started = Instant::now();
    let stored = stored_roster(state, district_id, version).await?;
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

/// After a commit: the roster as written, made in memory from the plan
/// (off the async workers), held for the district's next upload.
fn remember_written(state: &AppState, district_id: i64, planned: Planned, new_rows: NewRows) {
    let rosters = state.rosters.clone();
    // Let go of the held copy first, so the roster is most likely this
    // plan's alone and is changed in place, not copied.
    drop(rosters.forget(district_id));
    tokio::task::spawn_blocking(move || {
        let Planned { stored, plan, .. } = planned;
        let stored = Arc::try_unwrap(stored).unwrap_or_else(|shared| (*shared).clone());
        let written = stored.written(&plan, &new_rows);
        rosters.keep(district_id, Arc::new(written));
        drop(plan);
    });
}

/// Runs seconds of CPU work (planning a million rows) without stalling the
/// other requests queued on this async worker: the multi-threaded runtime
/// hands them to another worker meanwhile. (A current-thread runtime, as in
/// tests, has no other worker: there it just runs.)
pub(crate) fn cpu_heavy<T>(work: impl FnOnce() -> T) -> T {
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
    let version = roster_version(&state.pool, district_id).await?;
    let reusable = match kept.take() {
        Some(planned) if planned.mode == mode && planned.stored.version == version => Some(planned),
        // A stale plan is dropped before the roster is loaded again: one
        // copy of a large roster in memory is enough.
        _ => None,
    };
    let planned = match reusable {
        Some(planned) => planned,
        None => plan_against_stored(state, district_id, version, records, mode).await?,
    };
    Ok(kept.insert(planned))
}

/// What processing accepted records would change (writes nothing to the
/// roster). The plan stays in `kept` for paging and for the commit. A
/// token's or upload session's preview is recorded in the history (its
/// first page: paging through the changes or the findings of the same
/// preview is not another use).
pub async fn preview(
    state: &AppState,
    caller: &Caller,
    records: &Records,
    submission: &Submission,
    page: ChangesPage,
    kept: &mut Option<Planned>,
) -> ApiResult<UploadReport> {
    check_removals(caller, submission.mode, Some(records))?;
    let planned = planned(state, caller.district_id(), records, submission.mode, kept).await?;
    if caller.embed_token().is_some() && page.is_first() {
        let plan = &planned.plan;
        let findings = report_findings(plan);
        HistoryEntry::new(caller, submission, Status::Previewed)
            .with_counts(&plan.counts, &plan.per_school, &findings)
            .insert(&state.pool)
            .await?;
    }
    Ok(report_of(&planned.plan, page, None, caller))
}

/// How often a commit plans again when other writers keep changing the
/// roster under it, before it gives up.
const COMMIT_ATTEMPTS: usize = 3;

/// Processes accepted records in one transaction (unless the safety hold
/// applies and `confirm` is not set) and records the upload in the history.
/// Uses the plan in `kept` while the roster has not changed since it was
/// made; plans again otherwise. `staged` is the staged upload the records
/// came from: marked committed (its parts deleted) in the same transaction,
/// or, when another request committed it meanwhile, its report is answered.
#[allow(clippy::too_many_arguments)]
pub async fn commit(
    state: &AppState,
    caller: &Caller,
    records: &Records,
    submission: &Submission,
    confirm: bool,
    page: ChangesPage,
    kept: &mut Option<Planned>,
    staged: Option<&str>,
) -> ApiResult<UploadReport> {
    check_removals(caller, submission.mode, Some(records))?;
    let district_id = caller.district_id();
    for _ in 0..COMMIT_ATTEMPTS {
        let planned = planned(state, district_id, records, submission.mode, kept).await?;
        let hold = &planned.plan.hold;
        if !hold.is_empty() {
            if !confirm {
                let totals = caller.sees_stored_values();
                let reasons: Vec<String> = hold.iter().map(|r| r.describe(totals)).collect();
                return Err(ApiError::conflict(
                    "safety-hold",
                    format!("Confirm to go ahead: {}.", reasons.join("; ")),
                ));
            }
            if !caller.may_remove() {
                return Err(ApiError::RemovalsNotAllowed("confirm a safety hold"));
            }
        }
        match write(state, caller, submission, planned, staged).await? {
            Written::Committed(upload_id, new_rows) => {
                let report = report_of(&planned.plan, page, Some(upload_id), caller);
                if let Some(planned) = kept.take() {
                    remember_written(state, district_id, planned, new_rows);
                }
                return Ok(report);
            }
            Written::Before(upload_id) => {
                return super::history::committed_report(state, caller, upload_id).await
            }
            // Someone changed the roster since the plan was made.
            Written::RosterChanged => *kept = None,
        }
    }
    Err(ApiError::conflict(
        "roster-busy",
        "The roster kept changing while this upload was being processed; try again.",
    ))
}

/// What `write` did.
enum Written {
    /// The plan is written, as this history entry, with these new rows.
    Committed(i64, NewRows),
    /// Nothing written: another writer changed the roster since the plan.
    RosterChanged,
    /// Nothing written: the staged upload was committed before, as this
    /// history entry.
    Before(i64),
}

/// Writes a plan and its history row in one transaction (and marks the
/// staged upload committed), if the roster is still at the version the
/// plan was made at. A commit that cannot finish (the process stops, the
/// connection drops) rolls back whole: the staged upload can commit again.
async fn write(
    state: &AppState,
    caller: &Caller,
    submission: &Submission,
    planned: &Planned,
    staged: Option<&str>,
) -> ApiResult<Written> {
    let district_id = caller.district_id();
    let started = Instant::now();
    let mut tx = state.pool.begin().await?;
    // First: on SQLite it takes the write lock, on PostgreSQL the district
    // row's lock, so no other writer gets between this check and the commit.
    if !roster_changed_from(&mut *tx, district_id, planned.stored.version).await? {
        return Ok(Written::RosterChanged); // rolled back on drop
    }
    if let Some(staged) = staged {
        if let Some(upload_id) = staged_rows::committed_already(&mut tx, staged).await? {
            return Ok(Written::Before(upload_id));
        }
    }
    let new_rows = store::apply(&mut tx, district_id, &planned.stored, &planned.plan).await?;
    let plan = &planned.plan;
    let findings = report_findings(plan);
    let upload_id = HistoryEntry::new(caller, submission, Status::Committed)
        .with_counts(&plan.counts, &plan.per_school, &findings)
        .insert(&mut *tx)
        .await?;
    if let Some(staged) = staged {
        staged_rows::mark_committed(&mut tx, staged, upload_id).await?;
    }
    tx.commit().await?;
    tracing::info!(
        district = district_id,
        apply_ms = started.elapsed().as_millis() as u64,
        "upload committed"
    );
    Ok(Written::Committed(upload_id, new_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_limit_names_the_file_and_the_limit() {
        let progress = |users_rows, demographics_rows| Progress {
            users_rows,
            demographics_rows,
            ..Progress::default()
        };
        assert!(check_row_limit(progress(10, 10), 10).is_ok());
        for (progress, file) in [
            (progress(11, 0), "users.csv"),
            (progress(3, 11), "demographics.csv"),
        ] {
            let Err(ApiError::TooLarge { code, message }) = check_row_limit(progress, 10) else {
                panic!("over the limit");
            };
            assert_eq!(code, "too-many-rows");
            assert!(
                message.starts_with(file) && message.contains("10 data rows"),
                "{message}"
            );
        }
    }
}
