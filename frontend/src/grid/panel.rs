//! Around the grid: the toolbar (file, filter, undo, redo, discard, check
//! again, the corrected downloads), the status line, the suggested fixes
//! and the details of the cell in focus.

use leptos::prelude::*;
use shared::FileKind;

use super::{marks_of, GridUi};
use crate::format::plural;
use crate::protocol::{EditRequest, GridState, RowFilter};

fn filter_value(filter: &RowFilter) -> String {
    match filter {
        RowFilter::Errors => "errors".into(),
        RowFilter::All => "all".into(),
        RowFilter::Code(code) => format!("code:{code}"),
    }
}

fn filter_of(value: &str) -> RowFilter {
    match value {
        "all" => RowFilter::All,
        "errors" => RowFilter::Errors,
        code => RowFilter::Code(code.trim_start_matches("code:").to_string()),
    }
}

/// The status line: checking, what the last change did, what waits.
fn status_line(state: &GridState, checking: bool, problem: Option<String>) -> String {
    if let Some(problem) = problem {
        return problem;
    }
    if checking {
        return "Checking the edited files…".into();
    }
    let mut line = state.last_change.clone().unwrap_or_default();
    if !line.is_empty() && !line.ends_with('.') {
        line.push('.');
    }
    let waiting = state.revision != state.checked_revision;
    let shown = plural(state.view_len as u64, "row shown", "rows shown");
    if waiting {
        format!("{line} Not checked yet: press Check again for new counts. {shown}.")
    } else {
        format!("{line} The counts are up to date. {shown}.")
    }
    .trim()
    .to_string()
}

#[component]
pub(super) fn Toolbar(ui: GridUi) -> impl IntoView {
    let session = ui.session;
    let fixing = session.fixing;
    let state = move || fixing.state.get();
    let file = move || {
        fixing
            .state
            .with(|s| s.as_ref().map_or(FileKind::Users, |s| s.file))
    };
    let undo_steps = move || {
        fixing
            .state
            .with(|s| s.as_ref().map_or(0, |s| s.undo_steps))
    };
    let redo_steps = move || {
        fixing
            .state
            .with(|s| s.as_ref().map_or(0, |s| s.redo_steps))
    };
    let files = move || {
        fixing
            .state
            .with(|s| s.as_ref().map(|s| s.files.clone()).unwrap_or_default())
    };
    let show = move |filter: RowFilter| session.show_rows(file(), filter);
    view! {
        <div class="grid-toolbar" role="toolbar" aria-label="Fixing">
            {move || (files().len() > 1).then(|| view! {
                <label>
                    "File "
                    <select
                        aria-label="File to fix"
                        prop:value=move || file().file_name()
                        on:change=move |event| {
                            let kind = if event_target_value(&event) == "demographics.csv" {
                                FileKind::Demographics
                            } else {
                                FileKind::Users
                            };
                            session.start_fixing(kind);
                        }
                    >
                        {files().into_iter().map(|f| view! { <option value=f.file_name()>{f.file_name()}</option> }).collect_view()}
                    </select>
                </label>
            })}
            <label>
                "Show "
                <select
                    aria-label="Show rows"
                    prop:value=move || fixing.state.with(|s| s.as_ref().map(|s| filter_value(&s.filter)))
                    on:change=move |event| show(filter_of(&event_target_value(&event)))
                >
                    <option value="errors">"Rows with errors"</option>
                    <option value="all">"All rows"</option>
                    {move || state().map(|s| s.codes.iter().map(|c| view! {
                        <option value=format!("code:{}", c.code)>{format!("Rows with {} ({})", c.code, plural(c.rows, "row", "rows"))}</option>
                    }).collect_view())}
                </select>
            </label>
            <button type="button" class="secondary"
                on:click=move |_| {
                    if let Some(s) = fixing.state.get_untracked() {
                        show(s.filter.clone());
                    }
                }>
                "Apply filter again"
            </button>
            <button type="button" class="secondary" disabled=move || undo_steps() == 0
                aria-keyshortcuts="Control+Z" on:click=move |_| session.undo()>"Undo"</button>
            <button type="button" class="secondary" disabled=move || redo_steps() == 0
                aria-keyshortcuts="Control+Y" on:click=move |_| session.redo()>"Redo"</button>
            <button type="button" class="secondary" disabled=move || undo_steps() == 0
                on:click=move |_| session.discard_edits()>"Discard edits"</button>
            <button type="button" class="secondary" on:click=move |_| session.check_again()>"Check again"</button>
            {move || files().into_iter().map(|f| view! {
                <button type="button" on:click=move |_| session.download_corrected(f)>
                    {format!("Download corrected {}", f.file_name())}
                </button>
            }).collect_view()}
        </div>
        <p class="grid-status" role="status" aria-live="polite">
            {move || state().map(|s| status_line(&s, fixing.checking.get(), fixing.problem.get()))}
        </p>
    }
}

/// One click for every finding with an obvious fix, by code and column.
#[component]
pub(super) fn SuggestedFixes(ui: GridUi) -> impl IntoView {
    let session = ui.session;
    move || {
        let state = session.fixing.state.get()?;
        if state.fixable.is_empty() {
            return None;
        }
        let name_of = |position: usize| {
            state
                .columns
                .iter()
                .find(|c| c.position == position)
                .map_or_else(String::new, |c| c.name.clone())
        };
        let file = state.file;
        Some(view! {
            <div class="suggested-fixes">
                <h4>"Suggested fixes"</h4>
                <ul>
                    {state.fixable.iter().map(|f| {
                        let column = name_of(f.column);
                        let label = format!("Fix all {} {} in {}", f.count, f.code, column);
                        let request = EditRequest::FixAll { column: f.column, code: f.code.clone() };
                        view! {
                            <li>
                                <code>{f.code.clone()}</code>{format!(" in {column}: {}", plural(f.count, "row", "rows"))}" "
                                <button type="button" aria-label=label
                                    on:click=move |_| session.edit(file, request.clone())>
                                    "Fix all"
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        })
    }
}

/// The findings of the cell in focus (or of its row), with their fixes.
#[component]
pub(super) fn CellDetails(ui: GridUi) -> impl IntoView {
    let session = ui.session;
    move || {
        let state = session.fixing.state.get()?;
        let (index, column) = ui.active.get();
        let row = ui.row_at(index)?;
        let position = column
            .checked_sub(1)
            .and_then(|c| state.columns.get(c))
            .map(|c| c.position);
        let marks = marks_of(&row, position);
        let place = match column.checked_sub(1).and_then(|c| state.columns.get(c)) {
            Some(c) => format!("Row {}, {}", row.number, c.name),
            None => format!("Row {}", row.number),
        };
        let file = state.file;
        let id = row.id;
        let items = marks
            .into_iter()
            .map(|mark| {
                let fix_here = mark.fix.clone().zip(position).map(|(value, column)| {
                    let request = EditRequest::Fix { row: id, column, code: mark.code.clone() };
                    view! {
                        <button type="button" on:click=move |_| session.edit(file, request.clone())>
                            {format!("Change to “{value}”")}
                        </button>
                    }
                });
                let all = position.and_then(|column| {
                    state
                        .fixable
                        .iter()
                        .find(|f| f.code == mark.code && f.column == column && f.count > 1)
                        .map(|f| {
                            let request = EditRequest::FixAll { column, code: mark.code.clone() };
                            view! {
                                <button type="button" class="secondary"
                                    on:click=move |_| session.edit(file, request.clone())>
                                    {format!("Fix all {} like this", plural(f.count, "row", "rows"))}
                                </button>
                            }
                        })
                });
                view! {
                    <li class=format!("severity-{}", mark.severity)>
                        <strong>{if mark.severity == "error" { "Error " } else { "Warning " }}</strong>
                        <code>{mark.code.clone()}</code>": "{mark.message.clone()}
                        <span class="how-to-fix">" "{mark.how_to_fix.clone()}</span>
                        " "{fix_here}" "{all}
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="cell-details" aria-label="Cell in focus" role="region">
                <h4>{place}</h4>
                <ul>{items}</ul>
            </div>
        })
    }
}
