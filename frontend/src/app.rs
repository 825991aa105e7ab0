//! The page: what RosterGate does, and a form that checks a users.csv (and
//! optionally a demographics.csv) in the browser.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::File;

use crate::check::{format_bytes, validate_files, Progress, Summary, FINDINGS_SHOWN};

/// Where the check of the chosen files stands.
#[derive(Debug, Clone, PartialEq)]
enum Check {
    /// Nothing chosen yet.
    Idle,
    Reading(Progress),
    Done(Summary),
    Failed(String),
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="site-header">
            <h1>"RosterGate"</h1>
            <p class="tagline">
                "RosterGate checks your district's roster files (users.csv and demographics.csv) "
                "against the roster data dictionary, so that only clean rows are uploaded."
            </p>
        </header>
        <main id="main">
            <CheckFiles />
        </main>
    }
}

/// The first file chosen in a file input, if any.
fn chosen_file(input: NodeRef<html::Input>) -> Option<File> {
    input.get_untracked()?.files()?.get(0)
}

#[component]
fn CheckFiles() -> impl IntoView {
    let users_input = NodeRef::<html::Input>::new();
    let demographics_input = NodeRef::<html::Input>::new();
    let status = RwSignal::new(Check::Idle);
    // Bumped on every new check, so that a slow earlier check that finishes
    // late does not overwrite the result of the files chosen since.
    let generation = StoredValue::new(0_u64);

    let run_check = move || {
        generation.update_value(|g| *g += 1);
        let current = generation.get_value();
        let users = chosen_file(users_input);
        let demographics = chosen_file(demographics_input);
        if users.is_none() && demographics.is_none() {
            status.set(Check::Idle);
            return;
        }
        let files: Vec<String> = users.iter().chain(&demographics).map(File::name).collect();
        let started = js_sys::Date::now();
        spawn_local(async move {
            let is_current = move || generation.get_value() == current;
            let result = validate_files(users, demographics, move |progress| {
                if is_current() {
                    status.set(Check::Reading(progress));
                }
            })
            .await;
            if !is_current() {
                return;
            }
            let millis = js_sys::Date::now() - started;
            status.set(match result {
                Ok(validated) => Check::Done(Summary::new(&validated.report, files, millis)),
                Err(message) => Check::Failed(message),
            });
        });
    };

    let status_line = move || match status.get() {
        Check::Idle => "Choose a users.csv to check it. Your files stay in this browser: \
                        nothing is uploaded."
            .to_string(),
        Check::Reading(p) => format!(
            "Checking {}: {} of {} read…",
            p.file.file_name(),
            format_bytes(p.read),
            format_bytes(p.total)
        ),
        Check::Done(s) => format!(
            "Checked {} in {:.1} s: {}.",
            s.files.join(" and "),
            s.millis / 1000.0,
            if s.valid { "valid" } else { "not valid" }
        ),
        Check::Failed(message) => message,
    };

    view! {
        <section class="check" aria-labelledby="check-heading">
            <h2 id="check-heading">"Check a users.csv"</h2>
            <form
                class="check-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    run_check();
                }
            >
                <div class="field">
                    <label for="users-file">"users.csv"</label>
                    <input
                        type="file"
                        id="users-file"
                        name="users.csv"
                        accept=".csv,text/csv"
                        aria-describedby="users-file-hint"
                        node_ref=users_input
                        on:change=move |_| run_check()
                    />
                    <p id="users-file-hint" class="hint">
                        "Required. The check starts as soon as you choose the file."
                    </p>
                </div>
                <div class="field">
                    <label for="demographics-file">"demographics.csv (optional)"</label>
                    <input
                        type="file"
                        id="demographics-file"
                        name="demographics.csv"
                        accept=".csv,text/csv"
                        aria-describedby="demographics-file-hint"
                        node_ref=demographics_input
                        on:change=move |_| run_check()
                    />
                    <p id="demographics-file-hint" class="hint">
                        "Checked together with users.csv."
                    </p>
                </div>
                <button type="submit">"Check again"</button>
            </form>
            // aria-busy holds the slice-by-slice progress back from screen
            // readers; they announce the outcome once reading ends.
            <p
                class="status"
                role="status"
                aria-live="polite"
                aria-busy=move || matches!(status.get(), Check::Reading(_)).to_string()
            >
                {status_line}
            </p>
            {move || match status.get() {
                Check::Done(summary) => view! { <Results summary /> }.into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
}

#[component]
fn Results(summary: Summary) -> impl IntoView {
    let Summary {
        valid,
        errors,
        warnings,
        users,
        classes,
        enrollments,
        findings_total,
        findings,
        ..
    } = summary;
    let verdict = if valid {
        "Valid: no errors were found."
    } else {
        "Not valid: rows with errors are held back. Fix them and check again."
    };
    let caption = if findings_total > FINDINGS_SHOWN {
        format!("Findings: the first {FINDINGS_SHOWN} of {findings_total}")
    } else {
        format!("Findings ({findings_total})")
    };
    let rows = findings
        .into_iter()
        .map(|f| {
            view! {
                <tr class=format!("severity-{}", f.severity)>
                    <td>{f.severity}</td>
                    <td><code>{f.code}</code></td>
                    <td>{f.file}</td>
                    <td>{f.row.map_or_else(|| "–".to_string(), |r| r.to_string())}</td>
                    <td>{f.column.unwrap_or_else(|| "–".to_string())}</td>
                    <td>{f.message}</td>
                    <td>{f.how_to_fix}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <section class="results" aria-labelledby="results-heading">
            <h3 id="results-heading">"Result"</h3>
            <p class="verdict" class:valid=valid class:invalid=!valid data-valid=valid.to_string()>
                {verdict}
            </p>
            <dl class="counts">
                <div><dt>"Valid"</dt><dd>{if valid { "yes" } else { "no" }}</dd></div>
                <div><dt>"Errors"</dt><dd>{errors}</dd></div>
                <div><dt>"Warnings"</dt><dd>{warnings}</dd></div>
                <div><dt>"Users"</dt><dd>{users}</dd></div>
                <div><dt>"Classes"</dt><dd>{classes}</dd></div>
                <div><dt>"Enrollments"</dt><dd>{enrollments}</dd></div>
            </dl>
            {(findings_total > 0).then(|| view! {
                <div class="table-scroll" role="region" aria-labelledby="findings-caption" tabindex="0">
                    <table class="findings">
                        <caption id="findings-caption">{caption}</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Severity"</th>
                                <th scope="col">"Code"</th>
                                <th scope="col">"File"</th>
                                <th scope="col">"Row"</th>
                                <th scope="col">"Column"</th>
                                <th scope="col">"Problem"</th>
                                <th scope="col">"How to fix"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            })}
        </section>
    }
}
