//! The report of a preview or commit, and what of it a caller may see.
//!
//! An admin's own session sees the whole plan: every change with its field
//! values before and after, a full sync's removals of stored records, and
//! the safety hold with the roster's totals. Whoever holds an embed token
//! or an upload session only learns about the records they sent: each
//! change's key (from their own file) and kind, with no field values; no
//! record the file does not list; the hold's rule without the totals.
//! Counts, and the findings (whose messages carry no stored value), stay.

use super::reconcile::{Change, Hold, Plan};
use super::{ChangesPage, ServerFinding, UploadReport};
use crate::access::Caller;

/// Changes in one page of a report unless the caller asks for another size.
pub const DEFAULT_CHANGES_PAGE: usize = 200;
/// The most changes, or findings, one page may hold.
pub const MAX_CHANGES_PAGE: usize = 5_000;
/// Findings in one page of a report unless the caller asks for another size.
pub const DEFAULT_FINDINGS_PAGE: usize = 1_000;

/// The findings of a plan, as the report and the history carry them.
pub fn report_findings(plan: &Plan) -> Vec<ServerFinding> {
    plan.findings.iter().map(ServerFinding::from).collect()
}

/// The report of `plan` for `caller`: one page of its changes, and the
/// stored upload's id after a commit.
pub fn report_of(
    plan: &Plan,
    page: ChangesPage,
    upload_id: Option<i64>,
    caller: &Caller,
) -> UploadReport {
    let full = caller.sees_stored_values();
    let changes: &[Change] = if full {
        &plan.changes
    } else {
        &plan.changes[..plan.listed_changes.min(plan.changes.len())]
    };
    let limit = page
        .changes_limit
        .unwrap_or(DEFAULT_CHANGES_PAGE)
        .min(MAX_CHANGES_PAGE);
    let page_of_changes = changes
        .iter()
        .skip(page.changes_offset)
        .take(limit)
        .map(|change| {
            if full {
                change.clone()
            } else {
                key_and_kind(change)
            }
        })
        .collect();
    UploadReport {
        upload_id,
        committed: upload_id.is_some(),
        counts: plan.counts,
        per_school: plan.per_school.clone(),
        changes: page_of_changes,
        changes_total: changes.len(),
        findings: plan
            .findings
            .iter()
            .skip(page.findings_offset)
            .take(
                page.findings_limit
                    .unwrap_or(DEFAULT_FINDINGS_PAGE)
                    .min(MAX_CHANGES_PAGE),
            )
            .map(ServerFinding::from)
            .collect(),
        findings_total: plan.findings.len(),
        hold: (!plan.hold.is_empty()).then(|| Hold {
            reasons: plan.hold.iter().map(|r| r.describe(full)).collect(),
        }),
    }
}

/// A change as a token or session may see it: which of its own records,
/// and whether it is created, updated or removed.
fn key_and_kind(change: &Change) -> Change {
    Change::new(change.entity, change.key.clone(), change.kind)
}
