//! A preview or the report of a processed upload: counts per entity and per
//! school, the changes to existing records, and the server-side findings.

use leptos::prelude::*;

use crate::format::count;
use crate::server_findings::{FindingsPages, ServerFindingsTable};

use shared::api::{ChangeKind, Counts, UploadReport};

#[component]
pub fn CountsTable(counts: Counts, #[prop(into)] caption: String) -> impl IntoView {
    view! {
        <table class="counts-table">
            <caption>{caption}</caption>
            <thead>
                <tr>
                    <th scope="col">"Entity"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Updated"</th>
                    <th scope="col">"No changes"</th>
                    <th scope="col">"Removed or deactivated"</th>
                    <th scope="col">"Errors"</th>
                </tr>
            </thead>
            <tbody>
                {counts.entities().into_iter().map(|(name, t)| view! {
                    <tr data-entity=name.to_lowercase()>
                        <th scope="row">{name}</th>
                        <td data-outcome="created">{count(t.created)}</td>
                        <td data-outcome="updated">{count(t.updated)}</td>
                        <td data-outcome="unchanged">{count(t.unchanged)}</td>
                        <td data-outcome="removed">{count(t.removed)}</td>
                        <td data-outcome="errors">{count(t.errors)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn UploadReportView(
    report: UploadReport,
    /// Link the server's findings CSV (needs a session on the same origin).
    #[prop(default = true)]
    link_findings_csv: bool,
    /// Where a preview's further pages of findings come from.
    #[prop(optional)]
    findings_pages: Option<FindingsPages>,
) -> impl IntoView {
    let title = if report.committed {
        "What changed"
    } else {
        "What processing would change"
    };
    let removed: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Removed)
        .cloned()
        .collect();
    let changed: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Removed)
        .cloned()
        .collect();
    let shown = report.changes.len();
    let findings = report.findings.clone();
    view! {
        <div class="upload-report" data-committed=report.committed.to_string()>
            <CountsTable counts=report.counts caption=title />
            {(!report.per_school.is_empty()).then(|| {
                // A district's hundreds of tables are made when the list is
                // opened, not with every report.
                let per_school = report.per_school.clone();
                let opened = RwSignal::new(false);
                view! {
                    <details class="per-school" on:toggle=move |_| opened.set(true)>
                        <summary>{format!("Per school ({})", per_school.len())}</summary>
                        {move || opened.get().then(|| per_school.iter().map(|(school, counts)| view! {
                            <CountsTable counts=*counts caption=format!("School {school}") />
                        }).collect_view())}
                    </details>
                }
            })}
            {(!changed.is_empty()).then(|| view! {
                <details class="changes" open>
                    <summary>{format!("Changes to records ({} of {})", count(shown as u64), count(report.changes_total as u64))}</summary>
                    <ul>
                        {changed.into_iter().map(|c| view! {
                            <li class:portal-edit=c.overwrites_portal_edit>
                                <strong>{format!("{} {} {}", c.entity, c.key, c.kind)}</strong>
                                {c.overwrites_portal_edit.then_some(" (overwrites a change made in the portal since the last upload)")}
                                <ul>
                                    {c.fields.into_iter().map(|f| view! {
                                        <li>{format!("{}: {} → {}", f.field, f.from.unwrap_or_default(), f.to.unwrap_or_default())}</li>
                                    }).collect_view()}
                                </ul>
                            </li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
            {(!removed.is_empty()).then(|| view! {
                <details class="removals" open>
                    <summary>{format!("Records removed or deactivated ({})", removed.len())}</summary>
                    <ul>
                        {removed.into_iter().map(|c| view! { <li>{format!("{} {}", c.entity, c.key)}</li> }).collect_view()}
                    </ul>
                </details>
            })}
            {(report.findings_total > 0).then(|| view! {
                <ServerFindingsTable first=findings total=report.findings_total pages=findings_pages />
            })}
            {report.upload_id.filter(|_| link_findings_csv && report.findings_total > 0).map(|id| view! {
                <p><a href=format!("/api/uploads/{id}/findings.csv") download>"Download the server's findings (CSV)"</a></p>
            })}
        </div>
    }
}
