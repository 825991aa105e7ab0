//! The validator UI: choosing files (drop zone or pickers), progress with a
//! cancel button, header problems (with their fixes), the summary, the
//! findings table, the errors CSV downloads and "Fix in browser". It knows
//! nothing of the app's routing or session; the app's Upload page and the
//! embeddable web component both mount it.

use std::sync::Arc;

use leptos::html;
use leptos::prelude::*;
use shared::FileKind;
use web_sys::File;

use crate::findings_table::FindingsTable;
use crate::format::{count, format_bytes, plural};
use crate::protocol::Summary;
use crate::protocol::{EditRequest, FindingRow};
pub use crate::session::{download_blob, errors_file_name, Sending, Stage, ValidationSession};

/// Which of the dropped files is which.
pub fn sort_dropped(files: Vec<File>) -> Result<(File, Option<File>), String> {
    let (demographics, users): (Vec<File>, Vec<File>) = files
        .into_iter()
        .partition(|f| f.name().to_lowercase().contains("demograph"));
    match (users.len(), demographics.len()) {
        (0, 0) => Err("Choose a users.csv.".into()),
        (0, _) => Err(
            "A demographics.csv is checked together with its users.csv: choose the users.csv too."
                .into(),
        ),
        (1, 0 | 1) => {
            let mut users = users;
            Ok((users.remove(0), demographics.into_iter().next()))
        }
        _ => Err("Choose one users.csv, and at most one demographics.csv with it.".into()),
    }
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The whole validator: pickers, progress, header problems, summary,
/// findings and downloads. `disabled` holds the reason files cannot be
/// chosen (for example the activation gate); `known_school_ids` the
/// district's schools, when known.
#[component]
pub fn ValidatorPanel(
    session: ValidationSession,
    #[prop(into)] disabled: Signal<Option<String>>,
    #[prop(into)] known_school_ids: Signal<Option<Vec<String>>>,
    /// Start the worker at once, so its module is loaded by the time a file
    /// is dropped (the web component waits for the file instead).
    #[prop(default = true)]
    warm_up: bool,
) -> impl IntoView {
    if warm_up {
        session.warm_up();
    }
    let users_input = NodeRef::<html::Input>::new();
    let demographics_input = NodeRef::<html::Input>::new();
    let any_input = NodeRef::<html::Input>::new();
    let dragging = RwSignal::new(false);

    let start = move |users: File, demographics: Option<File>| {
        session.validate(
            &users,
            demographics.as_ref(),
            known_school_ids.get_untracked(),
        );
    };
    let choose = move |files: Vec<File>| match sort_dropped(files) {
        Ok((users, demographics)) => start(users, demographics),
        Err(message) => session.choice_problem.set(Some(message)),
    };
    let from_inputs = move || {
        let users = files_of(users_input.get_untracked().and_then(|i| i.files()));
        let demographics = files_of(demographics_input.get_untracked().and_then(|i| i.files()));
        match (users.into_iter().next(), demographics.into_iter().next()) {
            (Some(users), demographics) => {
                // Cleared, so that choosing the same file again (fixed, or
                // to process it again) is a change too; the status line
                // names the files being checked.
                for input in [users_input, demographics_input] {
                    if let Some(input) = input.get_untracked() {
                        input.set_value("");
                    }
                }
                start(users, demographics)
            }
            (None, Some(_)) => session.choice_problem.set(Some(
                "A demographics.csv is checked together with its users.csv: choose the users.csv too."
                    .into(),
            )),
            (None, None) => {}
        }
    };
    let is_disabled = move || disabled.get().is_some();
    let open_picker = move || {
        if !is_disabled() {
            if let Some(input) = any_input.get_untracked() {
                input.click();
            }
        }
    };

    view! {
        <div class="validator">
            {move || disabled.get().map(|reason| view! {
                <p class="gate-closed" role="note">{reason}</p>
            })}
            <div
                class="drop-zone"
                part="drop-zone"
                class:dragging=move || dragging.get()
                class:disabled=is_disabled
                role="button"
                tabindex=move || if is_disabled() { "-1" } else { "0" }
                aria-disabled=move || is_disabled().to_string()
                aria-describedby="drop-zone-hint"
                on:click=move |_| open_picker()
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "Enter" || ev.key() == " " {
                        ev.prevent_default();
                        open_picker();
                    }
                }
                on:dragover=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(!is_disabled());
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    if !is_disabled() {
                        choose(files_of(ev.data_transfer().and_then(|d| d.files())));
                    }
                }
            >
                <strong>"Drop users.csv here"</strong>
                <span id="drop-zone-hint">
                    " (and demographics.csv with it, if you have one), or press Enter to choose the files."
                </span>
            </div>
            <input
                type="file"
                class="visually-hidden"
                multiple
                accept=".csv,text/csv"
                tabindex="-1"
                aria-hidden="true"
                node_ref=any_input
                on:change=move |_| {
                    let input = any_input.get_untracked();
                    let files = files_of(input.as_ref().and_then(|i| i.files()));
                    if let Some(input) = input {
                        input.set_value("");
                    }
                    choose(files);
                }
            />
            <div class="pickers">
                <div class="field">
                    <label for="users-file">"users.csv"</label>
                    <input
                        type="file"
                        id="users-file"
                        name="users.csv"
                        accept=".csv,text/csv"
                        disabled=is_disabled
                        node_ref=users_input
                        on:change=move |_| from_inputs()
                    />
                </div>
                <div class="field">
                    <label for="demographics-file">"demographics.csv"</label>
                    <input
                        type="file"
                        id="demographics-file"
                        name="demographics.csv"
                        accept=".csv,text/csv"
                        aria-describedby="demographics-hint"
                        disabled=is_disabled
                        node_ref=demographics_input
                        on:change=move |_| from_inputs()
                    />
                    <p id="demographics-hint" class="hint">"Optional; checked together with users.csv."</p>
                </div>
            </div>
            <Status session />
            <HeaderProblems session />
            {move || session.summary().map(|summary| view! { <Results session summary /> })}
        </div>
    }
}

/// The live status line and the progress bar.
#[component]
fn Status(session: ValidationSession) -> impl IntoView {
    let line = move || {
        if let Some(problem) = session.choice_problem.get() {
            return problem;
        }
        match session.stage.get() {
            Stage::Idle => {
                "Choose a users.csv to check it. Your files are checked in this browser; \
                            nothing is sent until you process them."
                    .to_string()
            }
            Stage::Reading(p) => format!(
                "Checking {}: {} rows, {:.0} % ({} of {}), {} rows/s",
                p.file.file_name(),
                count(p.rows),
                p.percent(),
                format_bytes(p.bytes_read),
                format_bytes(p.bytes_total),
                count(p.rows_per_second() as u64)
            ),
            Stage::Done(s) => format!(
                "Checked {} in {:.1} s: {}, {} and {}.",
                session.file_names.get().join(" and "),
                s.millis / 1000.0,
                if s.valid { "valid" } else { "not valid" },
                plural(s.stats.errors, "error", "errors"),
                plural(s.stats.warnings, "warning", "warnings"),
            ),
            Stage::Failed(message) => message,
            Stage::Cancelled => "Check cancelled. Choose a file to start again.".to_string(),
        }
    };
    let reading = move || match session.stage.get() {
        Stage::Reading(p) => Some(p),
        _ => None,
    };
    view! {
        // aria-busy holds the step-by-step progress back from screen readers;
        // they announce the outcome when reading ends.
        <p
            class="status"
            part="status"
            role="status"
            aria-live="polite"
            aria-busy=move || reading().is_some().to_string()
            // For the browser benchmark.
            data-header-ms=move || session.header_ms.get().map(|ms| format!("{ms:.1}"))
            data-validate-ms=move || session.summary().map(|s| format!("{:.1}", s.millis))
            data-stage=move || match session.stage.get() {
                Stage::Idle => "idle",
                Stage::Reading(_) => "reading",
                Stage::Done(_) => "done",
                Stage::Failed(_) => "failed",
                Stage::Cancelled => "cancelled",
            }
        >
            {line}
        </p>
        {move || reading().map(|p| view! {
            <div class="progress-row">
                <progress max="100" value=p.percent() aria-label="Checking progress"></progress>
                <button type="button" class="secondary" on:click=move |_| session.cancel()>"Cancel"</button>
            </div>
        })}
    }
}

/// The header fixes of one problem: "Rename to X" where the validator
/// has a did-you-mean (or the case is wrong), "Remove column" for a column
/// that is not part of the file.
fn header_fixes(session: ValidationSession, file: FileKind, problem: &FindingRow) -> impl IntoView {
    // A column without a header is named "" (the last such column goes).
    let blank = problem.code == "blank-header";
    let name = problem.column.clone().or_else(|| blank.then(String::new))?;
    let rename = problem.fix.clone().map(|to| {
        let request = EditRequest::RenameColumn {
            from: name.clone(),
            to: to.clone(),
        };
        view! {
            <button type="button" class="secondary" on:click=move |_| session.fix_header(file, request.clone())>
                {format!("Rename to {to}")}
            </button>
        }
    });
    let removable = matches!(problem.code.as_str(), "unknown-header" | "duplicate-header") || blank;
    let remove = removable.then(|| {
        let request = EditRequest::RemoveColumn { name: name.clone() };
        let label = if blank {
            "Remove the column without a header".to_string()
        } else {
            format!("Remove column {name}")
        };
        view! {
            <button type="button" class="secondary" aria-label=label
                on:click=move |_| session.fix_header(file, request.clone())>
                "Remove column"
            </button>
        }
    });
    Some(view! { " "{rename}" "{remove} })
}

/// Every header problem, shown as soon as the header is read, with its
/// fixes once the file is read.
#[component]
fn HeaderProblems(session: ValidationSession) -> impl IntoView {
    move || {
        // The fixes need the file read to its end (the worker keeps it then).
        let checked = matches!(session.stage.get(), Stage::Done(_));
        session
            .headers
            .get()
            .into_iter()
            .filter(|h| !h.problems.is_empty())
            .map(|header| {
                let title = if header.accepted {
                    format!("{}: header warnings", header.file.file_name())
                } else {
                    format!(
                        "{} is refused: its header must be fixed first",
                        header.file.file_name()
                    )
                };
                let file = header.file;
                view! {
                    <section class="header-problems" class:refused=!header.accepted role="alert">
                        <h3>{title}</h3>
                        <ul>
                            {header.problems.into_iter().map(|p| view! {
                                <li>
                                    <code>{p.code.clone()}</code>" "{p.message.clone()}
                                    <span class="how-to-fix">" "{p.how_to_fix.clone()}</span>
                                    {checked.then(|| header_fixes(session, file, &p))}
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                }
            })
            .collect_view()
    }
}

#[component]
fn Results(session: ValidationSession, summary: Arc<Summary>) -> impl IntoView {
    let stats = &summary.stats;
    let records = &stats.records;
    let verdict = if summary.header_refused() {
        "The file is refused: fix its header with the fixes above, or in the file and choose it again.".to_string()
    } else if summary.valid {
        "Valid: no errors were found.".to_string()
    } else {
        format!(
            "Not valid: {} with errors will be held back. Fix them and check again, or process the valid rows.",
            plural(summary.held_back_rows(), "row", "rows")
        )
    };
    let has_demographics = stats.demographics_file.is_some();
    let users_errors = stats.users_file.rows_with_errors + stats.users_file.rows_with_warnings > 0
        || summary.findings.iter().any(|f| f.file == FileKind::Users);
    let demographics_errors = summary
        .findings
        .iter()
        .any(|f| f.file == FileKind::Demographics);
    let by_code = summary.by_code_column.clone();
    // The grid opens on the file with errors (users.csv when both have some).
    let users_have_errors = summary
        .findings
        .iter()
        .any(|f| f.file == FileKind::Users && f.severity == "error");
    let fix_first = if !users_have_errors && demographics_errors {
        FileKind::Demographics
    } else {
        FileKind::Users
    };
    view! {
        <section class="results" part="results" aria-labelledby="results-heading">
            <h3 id="results-heading">"Result"</h3>
            <p class="verdict" class:valid=summary.valid class:invalid=!summary.valid data-valid=summary.valid.to_string()>
                {verdict}
            </p>
            <dl class="counts">
                <div><dt>"Rows"</dt><dd>{count(stats.users_file.rows)}</dd></div>
                <div><dt>"Errors"</dt><dd data-count="errors">{count(stats.errors)}</dd></div>
                <div><dt>"Warnings"</dt><dd data-count="warnings">{count(stats.warnings)}</dd></div>
                <div><dt>"Users"</dt><dd data-count="users">{count(records.users)}</dd></div>
                <div><dt>"Classes"</dt><dd data-count="classes">{count(records.classes)}</dd></div>
                <div><dt>"Enrollments"</dt><dd data-count="enrollments">{count(records.enrollments)}</dd></div>
                {has_demographics.then(|| view! {
                    <div><dt>"Demographics"</dt><dd data-count="demographics">{count(records.demographics)}</dd></div>
                })}
            </dl>
            <div class="downloads">
                {(!summary.valid && !session.fixing.open.get_untracked()).then(|| view! {
                    <button type="button" class="primary" on:click=move |_| session.start_fixing(fix_first)>
                        "Fix in browser"
                    </button>
                })}
                {users_errors.then(|| view! {
                    <button type="button" on:click=move |_| session.download_errors_csv(FileKind::Users)>
                        "Download users-errors.csv"
                    </button>
                })}
                {demographics_errors.then(|| view! {
                    <button type="button" on:click=move |_| session.download_errors_csv(FileKind::Demographics)>
                        "Download demographics-errors.csv"
                    </button>
                })}
            </div>
            {(!by_code.is_empty()).then(|| view! {
                <table class="by-code">
                    <caption>"Findings by code and column"</caption>
                    <thead><tr><th scope="col">"Code"</th><th scope="col">"Severity"</th><th scope="col">"Column"</th><th scope="col">"Count"</th></tr></thead>
                    <tbody>
                        {by_code.into_iter().map(|c| view! {
                            <tr class=format!("severity-{}", c.severity)>
                                <td><code>{c.code}</code></td>
                                <td>{c.severity.clone()}</td>
                                <td>{c.column.unwrap_or_else(|| "–".into())}</td>
                                <td>{count(c.count)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(summary.findings_total > 0).then(|| view! { <FindingsTable summary=summary.clone() /> })}
        </section>
    }
}
