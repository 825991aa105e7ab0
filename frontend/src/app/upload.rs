//! The Upload page: instructions, the validator, fixing the files in the
//! browser (`frontend::grid`), then processing the clean records
//! (`frontend::process`).

use leptos::prelude::*;

use frontend::api::{self, Target};
use frontend::grid::FixGrid;
use frontend::process::Process;
use frontend::validator_ui::{ValidationSession, ValidatorPanel};

use shared::api::{Activation, School};

/// The worker's loader, written by Trunk next to index.html.
pub const WORKER_URL: &str = "/validator-worker_loader.js";

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
                {move || session.fixing.open.get().then(|| view! { <FixGrid session /> })}
                <Process session target=Ok(Target::own_server()) />
            </section>
        </div>
    }
}
