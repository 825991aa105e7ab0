//! The Upload page: instructions, the validator, then processing the clean
//! records: preview, confirmation, commit and the final report.

use leptos::prelude::*;
use leptos::task::spawn_local;

use frontend::api::{self, ApiFailure};
use frontend::format::{count, format_bytes, plural};
use frontend::protocol::SendRequest;
use frontend::validator_ui::{Sending, ValidationSession, ValidatorPanel};

use super::report::UploadReportView;
use super::types::{Activation, School, StagedUpload, UploadReport};

/// The worker's loader, written by Trunk next to index.html.
pub const WORKER_URL: &str = "/validator-worker_loader.js";

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
    Failed(String),
}

#[component]
pub fn UploadPage() -> impl IntoView {
    let session = ValidationSession::new(WORKER_URL);
    let schools = LocalResource::new(|| api::get::<Vec<School>>("/api/schools"));
    let activation = LocalResource::new(|| api::get::<Activation>("/api/activation"));

    let disabled = Signal::derive(move || match activation.get() {
        None => Some("Checking whether batch upload is open…".to_string()),
        Some(Err(failure)) => Some(failure.message),
        Some(Ok(gate)) if !gate.open => {
            let blocking: Vec<String> = gate
                .blocking_schools
                .iter()
                .map(|s| format!("{} ({})", s.name, s.reason))
                .collect();
            Some(format!(
                "Batch upload is closed until every school has a unique school ID. Blocking: {}. Fix them on the Organizations page.",
                blocking.join("; ")
            ))
        }
        Some(Ok(_)) => None,
    });
    let known_school_ids = Signal::derive(move || {
        schools
            .get()
            .and_then(Result::ok)
            .map(|list| list.into_iter().filter_map(|s| s.school_id).collect())
    });

    view! {
        <h1>"Upload"</h1>
        <div class="upload-layout">
            <aside class="instructions" aria-labelledby="instructions-heading">
                <h2 id="instructions-heading">"How to upload"</h2>
                <ol>
                    <li>"Export users.csv from your student information system: one row per user per class. "
                        "Add demographics.csv if you have one."</li>
                    <li>"Drop the files here. They are checked in this browser; problems are listed with how to fix them."</li>
                    <li>"Fix the rows with errors and check again, or process the valid rows: rows with errors are held back and never sent."</li>
                    <li>"Review the preview, then confirm to apply it."</li>
                </ol>
                <ul class="links">
                    <li><a href="/public/templates/users.csv" download="users.csv">"users.csv template"</a></li>
                    <li><a href="/public/templates/demographics.csv" download="demographics.csv">"demographics.csv template"</a></li>
                    <li><a href="/public/data-dictionary.md">"Data dictionary"</a></li>
                </ul>
            </aside>
            <section class="upload-main" aria-label="Files">
                <ValidatorPanel session disabled known_school_ids />
                <Process session />
            </section>
        </div>
    }
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

#[component]
fn Process(session: ValidationSession) -> impl IntoView {
    let processing = RwSignal::new(Processing::Idle);
    let full_sync = RwSignal::new(false);
    let confirmed_hold = RwSignal::new(false);

    // A new check starts processing over.
    Effect::new(move || {
        session.stage.track();
        processing.set(Processing::Idle);
        confirmed_hold.set(false);
    });

    let fail =
        move |failure: ApiFailure| processing.set(Processing::Failed(refusal_text(&failure)));

    let start = move |_| {
        let file_name = session.file_names.get_untracked().join(" + ");
        let mode = if full_sync.get_untracked() {
            "full-sync"
        } else {
            "upsert"
        };
        processing.set(Processing::Sending);
        spawn_local(async move {
            let body = serde_json::json!({ "fileName": file_name, "mode": mode });
            let staged = match api::post::<StagedUpload>("/api/uploads/staged", &body).await {
                Ok(staged) => staged,
                Err(failure) => return fail(failure),
            };
            let request = SendRequest {
                endpoint: String::new(),
                staged_id: staged.id.clone(),
                csrf_token: api::csrf_token(),
                bearer_token: None,
            };
            session.send(request, move |sent| match sent {
                Err(message) => processing.set(Processing::Failed(message)),
                Ok(()) => {
                    processing.set(Processing::Previewing);
                    spawn_local(async move {
                        let path = format!("/api/uploads/staged/{}/preview", staged.id);
                        match api::post::<UploadReport>(&path, &serde_json::json!({})).await {
                            Ok(report) => processing.set(Processing::Preview {
                                staged_id: staged.id,
                                report,
                            }),
                            Err(failure) => fail(failure),
                        }
                    });
                }
            });
        });
    };

    let commit = move |staged_id: String, confirm: bool| {
        processing.set(Processing::Committing);
        spawn_local(async move {
            let path = format!("/api/uploads/staged/{staged_id}/commit");
            match api::post::<UploadReport>(&path, &serde_json::json!({ "confirm": confirm })).await
            {
                Ok(report) => processing.set(Processing::Committed(report)),
                Err(failure) => fail(failure),
            }
        });
    };

    move || {
        let (records, held_back) = records_line(&session)?;
        let busy = !matches!(processing.get(), Processing::Idle | Processing::Failed(_));
        let state = processing.get();
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
                <label class="checkbox">
                    <input type="checkbox" prop:checked=move || full_sync.get()
                        disabled=busy
                        on:change=move |ev| full_sync.set(event_target_checked(&ev)) />
                    " Full sync: also deactivate the users, and end the enrollments, of these schools that the file does not list"
                </label>
                <button type="button" class="primary" disabled=busy || records == 0 on:click=start>
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
                    Processing::Failed(message) => view! { <p class="form-problem" role="alert">{message}</p> }.into_any(),
                    Processing::Preview { staged_id, report } => {
                        let hold = report.hold.clone();
                        let needs_confirm = hold.is_some();
                        view! {
                            <UploadReportView report=report.clone() />
                            {hold.map(|hold| view! {
                                <div class="hold" role="alert">
                                    <p><strong>"Safety hold: "</strong>{hold.reasons.join("; ")}</p>
                                    <label class="checkbox">
                                        <input type="checkbox" on:change=move |ev| confirmed_hold.set(event_target_checked(&ev)) />
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
                        <UploadReportView report />
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
