//! Processing the clean records of a validation: a staged upload, the
//! worker sends the records in gzip parts, the server's preview, the
//! confirmation (with the safety hold), the commit and the final report.
//! The app processes with the admin's session; the web component with an
//! upload session its host page got from the host's server, on another
//! origin.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiFailure, Target};
use crate::format::{count, format_bytes, plural};
use crate::protocol::SendRequest;
use crate::server_findings::{FindingsPages, SERVER_FINDINGS_PAGE};
use crate::upload_report::UploadReportView;
use crate::validator_ui::{Sending, ValidationSession};
use shared::api::{StagedCreated, UploadReport};

/// Changes fetched per page of the preview (the server's default page).
const CHANGES_PAGE: usize = 200;

/// Where processing stands.
#[derive(Debug, Clone, PartialEq)]
enum Processing {
    Idle,
    Sending,
    Previewing,
    Preview {
        staged_id: String,
        report: UploadReport,
    },
    Committing,
    Committed(UploadReport),
    /// With what "Retry" goes on from, when it can.
    Failed {
        message: String,
        resume: Option<Resume>,
    },
}

/// Where processing goes on after a failure of the connection or of the
/// server.
#[derive(Debug, Clone, PartialEq)]
enum Resume {
    /// Nothing was started yet.
    Start,
    /// Send the parts the server does not have yet, then preview.
    Send(String),
    Preview(String),
    Commit(String, bool),
}

/// How many records the worker holds and will send.
fn records_line(session: &ValidationSession) -> Option<(u64, u64)> {
    let summary = session.summary()?;
    if summary.header_refused() {
        return None;
    }
    let r = &summary.stats.records;
    Some((
        r.users + r.classes + r.enrollments + r.demographics,
        summary.held_back_rows(),
    ))
}

/// `target` is read when "Process file" is pressed (the web component's
/// host page may hand it a new upload session at any time), and an `Err`
/// is shown instead of processing; that one target then serves the whole
/// upload. `on_committed` hears the final report (the web component turns
/// it into its `roster-processed` event).
#[component]
pub fn Process(
    session: ValidationSession,
    #[prop(into)] target: Signal<Result<Target, String>>,
    #[prop(optional, into)] on_committed: Option<Callback<UploadReport>>,
    #[prop(optional, into)] on_failed: Option<Callback<String>>,
) -> impl IntoView {
    // The target of the upload under way.
    let active = StoredValue::new(Target::own_server());
    // Removals (full sync) are for the admin's own session: an upload
    // session never removes, so the web component does not offer them.
    let may_remove = target.with_untracked(|t| t.as_ref().is_ok_and(Target::is_own_session));
    let processing = RwSignal::new(Processing::Idle);
    let full_sync = RwSignal::new(false);
    let confirmed_hold = RwSignal::new(false);

    // A new check starts processing over.
    Effect::new(move || {
        session.stage.track();
        processing.set(Processing::Idle);
        confirmed_hold.set(false);
    });

    let fail = move |message: String, resume: Option<Resume>| {
        if let Some(on_failed) = on_failed {
            on_failed.run(message.clone());
        }
        processing.set(Processing::Failed { message, resume });
    };
    // Refused, or still failing after the retries: "Retry" goes on with
    // `resume` when the failure was the connection's or the server's.
    let refused = move |failure: ApiFailure, resume: Resume| {
        let transient = failure.is_transient();
        fail(refusal_text(&failure), transient.then_some(resume));
    };

    let preview = move |staged_id: String| {
        processing.set(Processing::Previewing);
        spawn_local(async move {
            let path = format!("/api/uploads/staged/{staged_id}/preview");
            let body = serde_json::json!({ "findingsLimit": SERVER_FINDINGS_PAGE });
            let target = active.get_value();
            match api::request_retrying::<UploadReport>(&target, "POST", &path, Some(&body)).await {
                Ok(report) => processing.set(Processing::Preview { staged_id, report }),
                Err(failure) => refused(failure, Resume::Preview(staged_id)),
            }
        });
    };

    // The worker sends the parts; `resume`: it asks the server first which
    // it has, and sends only the others.
    let send_parts = move |staged_id: String, resume: bool| {
        processing.set(Processing::Sending);
        let target = active.get_value();
        // The worker needs an absolute address: its own is a blob URL.
        let endpoint = if target.endpoint.is_empty() {
            window().location().origin().unwrap_or_default()
        } else {
            target.endpoint.clone()
        };
        let request = SendRequest {
            endpoint,
            staged_id: staged_id.clone(),
            csrf_token: if target.upload_session.is_none() {
                api::csrf_token()
            } else {
                None
            },
            bearer_token: target.upload_session.clone(),
            resume,
        };
        session.send(request, move |sent| match sent {
            Ok(()) => preview(staged_id),
            Err(failure) => fail(
                failure.message,
                failure.resumable.then_some(Resume::Send(staged_id)),
            ),
        });
    };

    let start = move || {
        let file_name = session.file_names.get_untracked().join(" + ");
        let mode = if full_sync.get_untracked() {
            "full-sync"
        } else {
            "upsert"
        };
        let target = match target.get_untracked() {
            Ok(target) => target,
            Err(message) => return fail(message, None),
        };
        active.set_value(target.clone());
        processing.set(Processing::Sending);
        spawn_local(async move {
            let body = serde_json::json!({ "fileName": file_name, "mode": mode });
            match api::request_to::<StagedCreated>(
                &target,
                "POST",
                "/api/uploads/staged",
                Some(&body),
            )
            .await
            {
                Ok(staged) => send_parts(staged.id, false),
                Err(failure) => refused(failure, Resume::Start),
            }
        });
    };

    // The preview lists changes a page at a time; the next page is appended.
    let more_changes = move |staged_id: String, offset: usize| {
        spawn_local(async move {
            let path = format!("/api/uploads/staged/{staged_id}/preview");
            let body = serde_json::json!({ "changesOffset": offset, "changesLimit": CHANGES_PAGE });
            match api::request_to::<UploadReport>(&active.get_value(), "POST", &path, Some(&body))
                .await
            {
                Ok(page) => processing.update(|state| {
                    if let Processing::Preview { report, .. } = state {
                        report.changes.extend(page.changes);
                    }
                }),
                Err(failure) => fail(refusal_text(&failure), None),
            }
        });
    };

    let commit = move |staged_id: String, confirm: bool| {
        processing.set(Processing::Committing);
        spawn_local(async move {
            let path = format!("/api/uploads/staged/{staged_id}/commit");
            let staged_id = staged_id.clone();
            let body = serde_json::json!({ "confirm": confirm });
            match api::request_retrying::<UploadReport>(
                &active.get_value(),
                "POST",
                &path,
                Some(&body),
            )
            .await
            {
                Ok(report) => {
                    // The edits made in the browser are in the roster now.
                    session.fixing.saved();
                    if let Some(on_committed) = on_committed {
                        on_committed.run(report.clone());
                    }
                    processing.set(Processing::Committed(report));
                }
                Err(failure) => refused(failure, Resume::Commit(staged_id, confirm)),
            }
        });
    };

    let retry = move |resume: Resume| match resume {
        Resume::Start => start(),
        Resume::Send(staged_id) => send_parts(staged_id, true),
        Resume::Preview(staged_id) => preview(staged_id),
        Resume::Commit(staged_id, confirm) => commit(staged_id, confirm),
    };

    move || {
        let (records, held_back) = records_line(&session)?;
        let busy = !matches!(
            processing.get(),
            Processing::Idle | Processing::Failed { .. }
        );
        let state = processing.get();
        // Only the admin's own session may download the server's findings.
        let with_session = active.with_value(Target::is_own_session);
        Some(view! {
            <section class="process" aria-labelledby="process-heading">
                <h2 id="process-heading">"Process"</h2>
                <p class="process-summary">
                    {format!(
                        "{} will be sent (only the valid, normalized rows). {} held back because of errors.",
                        plural(records, "record", "records"),
                        plural(held_back, "row is", "rows are")
                    )}
                </p>
                {may_remove.then(|| view! {
                    <label class="checkbox">
                        <input type="checkbox" prop:checked=move || full_sync.get()
                            disabled=busy
                            on:change=move |ev| full_sync.set(event_target_checked(&ev)) />
                        " Full sync: also deactivate the users, and end the enrollments, of these schools that the file does not list"
                    </label>
                })}
                <button type="button" class="primary" part="button" disabled=busy || records == 0 on:click=move |_| start()>
                    "Process file"
                </button>
                <div role="status" aria-live="polite" class="process-status">
                    {move || match session.sending.get() {
                        Sending::Sending { sent, total } if matches!(processing.get(), Processing::Sending) => {
                            format!("Sending records: {} of {}…", format_bytes(sent as f64), format_bytes(total as f64))
                        }
                        _ => match processing.get() {
                            Processing::Sending => "Sending records…".to_string(),
                            Processing::Previewing => "Preparing the preview…".to_string(),
                            Processing::Committing => "Applying the changes…".to_string(),
                            Processing::Preview { .. } => "Preview ready: nothing has changed yet.".to_string(),
                            Processing::Committed(r) => format!("Processed: upload {} is in the history.", r.upload_id.unwrap_or_default()),
                            _ => String::new(),
                        },
                    }}
                </div>
                {match state {
                    Processing::Failed { message, resume } => view! {
                        <p class="form-problem" role="alert">{message}</p>
                        {resume.map(|resume| view! {
                            <p class="retry">
                                <button type="button" class="primary" part="button"
                                    on:click=move |_| retry(resume.clone())>
                                    "Retry"
                                </button>
                                " Goes on from where the upload stopped: what the server has is not sent again."
                            </p>
                        })}
                    }.into_any(),
                    Processing::Preview { staged_id, report } => {
                        let hold = report.hold.clone();
                        let needs_confirm = hold.is_some();
                        let shown = report.changes.len();
                        let more = (shown < report.changes_total).then(|| {
                            let staged_id = staged_id.clone();
                            view! {
                                <button type="button" class="secondary"
                                    on:click=move |_| more_changes(staged_id.clone(), shown)>
                                    "Show more changes"
                                </button>
                            }
                        });
                        view! {
                            <UploadReportView report=report.clone() link_findings_csv=with_session
                                findings_pages=FindingsPages { target: active.get_value(), staged_id: staged_id.clone() } />
                            {more}
                            {hold.map(|hold| view! {
                                <div class="hold" role="alert">
                                    <p><strong>"Safety hold: "</strong>{hold.reasons.join("; ")}</p>
                                    <label class="checkbox">
                                        <input type="checkbox" prop:checked=move || confirmed_hold.get()
                                            on:change=move |ev| confirmed_hold.set(event_target_checked(&ev)) />
                                        " I have checked the removals and want to apply them"
                                    </label>
                                </div>
                            })}
                            <button type="button" class="primary"
                                disabled=move || needs_confirm && !confirmed_hold.get()
                                on:click=move |_| commit(staged_id.clone(), needs_confirm)>
                                "Apply changes"
                            </button>
                        }.into_any()
                    }
                    Processing::Committed(report) => view! {
                        <h3>"Report"</h3>
                        <UploadReportView report link_findings_csv=with_session />
                    }.into_any(),
                    _ => ().into_any(),
                }}
            </section>
        })
    }
}

/// The message of a refused request; a 422 lists what failed validation.
fn refusal_text(failure: &ApiFailure) -> String {
    let findings = failure
        .body
        .as_ref()
        .and_then(|b| b.pointer("/report/findings"))
        .and_then(|f| f.as_array());
    match findings {
        Some(list) if !list.is_empty() => format!(
            "{} {} found by the server, for example: {}",
            failure.message,
            count(list.len() as u64),
            list[0]
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
        ),
        _ => failure.message.clone(),
    }
}
