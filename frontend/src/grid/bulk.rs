//! Bulk fixes: find and replace within a column, fill a column for the
//! selected rows, leading zeros back in an identifier column, delete the
//! selected rows. Each says how many cells (or rows) it will change before
//! it applies; the worker counts them against the files as they are now.

use leptos::prelude::*;

use super::GridUi;
use crate::format::plural;
use crate::protocol::{EditRequest, GridColumn};

/// A bulk fix's form: its preview slot, title and what it asks for.
#[derive(Clone, Copy)]
struct Form {
    slot: u32,
    ui: GridUi,
    /// The bulk fixes are open (counting is left for then: it reads
    /// every row).
    open: RwSignal<bool>,
}

impl Form {
    /// Keeps the preview of `request` fresh: again after every change.
    fn watch(&self, request: Memo<Option<EditRequest>>) {
        let Form { slot, ui, open } = *self;
        let fixing = ui.session.fixing;
        Effect::new(move || {
            let revision = fixing
                .state
                .with(|s| s.as_ref().map(|s| (s.file, s.revision)));
            if !open.get() {
                return;
            }
            if let (Some((file, _)), Some(request)) = (revision, request.get()) {
                ui.session.preview(slot, file, request);
            }
        });
    }

    /// "N cells will change", once counted for `request` as it is now.
    fn count_line(&self, request: Memo<Option<EditRequest>>, rows: bool) -> impl IntoView {
        let Form { slot, ui, .. } = *self;
        move || {
            let request = request.get()?;
            let answer = ui.session.fixing.preview.with(|answers| {
                answers
                    .iter()
                    .find(|a| a.slot == slot && a.request == request)
                    .cloned()
            });
            Some(match answer {
                Some(answer) if rows => {
                    plural(answer.count, "row will be deleted", "rows will be deleted")
                }
                Some(answer) => plural(answer.count, "cell will change", "cells will change"),
                None => "Counting…".to_string(),
            })
        }
    }

    /// Applies `request` (when it changes something).
    fn apply(&self, request: Memo<Option<EditRequest>>) {
        let fixing = self.ui.session.fixing;
        let file = fixing.state.with_untracked(|s| s.as_ref().map(|s| s.file));
        if let (Some(file), Some(request)) = (file, request.get_untracked()) {
            self.ui.session.edit(file, request);
        }
    }

    fn changes_nothing(&self, request: Memo<Option<EditRequest>>) -> bool {
        let slot = self.slot;
        let request = request.get();
        request.is_none()
            || self.ui.session.fixing.preview.with(|answers| {
                answers
                    .iter()
                    .any(|a| a.slot == slot && Some(&a.request) == request.as_ref() && a.count == 0)
            })
    }
}

impl Form {
    /// "N cells will change", then the button that applies `request`.
    fn footer(&self, request: Memo<Option<EditRequest>>, button: &'static str) -> impl IntoView {
        let form = *self;
        view! {
            <p class="preview" aria-live="polite">{form.count_line(request, false)}</p>
            <button type="button" disabled=move || form.changes_nothing(request) on:click=move |_| form.apply(request)>
                {button}
            </button>
        }
    }
}

/// A labelled `<select>` of the columns `only` keeps, into `column`.
fn column_select(
    ui: GridUi,
    label: &'static str,
    column: RwSignal<Option<usize>>,
    only: fn(&GridColumn) -> bool,
) -> impl IntoView {
    view! {
        <label>{label}" "
            <select on:change=move |e| column.set(event_target_value(&e).parse().ok())>
                {column_options(ui, only)}
            </select>
        </label>
    }
}

/// The `<option>`s of the columns; `only` keeps some.
fn column_options(ui: GridUi, only: fn(&GridColumn) -> bool) -> impl IntoView {
    move || {
        ui.session.fixing.state.get().map(|state| {
            state
                .columns
                .iter()
                .filter(|c| only(c))
                .map(|c| view! { <option value=c.position.to_string()>{c.name.clone()}</option> })
                .collect_view()
        })
    }
}

/// The first column a select shows, until one is chosen.
fn first_column(ui: GridUi, only: fn(&GridColumn) -> bool) -> Option<usize> {
    ui.session.fixing.state.with(|s| {
        s.as_ref()
            .and_then(|s| s.columns.iter().find(|c| only(c)).map(|c| c.position))
    })
}

#[component]
pub(super) fn BulkFixes(ui: GridUi) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <details class="bulk-fixes" on:toggle=move |e| {
            let details: web_sys::HtmlDetailsElement = event_target(&e);
            open.set(details.open());
        }>
            <summary>"Bulk fixes"</summary>
            <ReplaceAll ui open />
            <FillSelected ui open />
            <LeadingZeros ui open />
            <DeleteSelected ui open />
        </details>
    }
}

#[component]
fn ReplaceAll(ui: GridUi, open: RwSignal<bool>) -> impl IntoView {
    let form = Form { slot: 1, ui, open };
    let column = RwSignal::new(None::<usize>);
    let find = RwSignal::new(String::new());
    let replace = RwSignal::new(String::new());
    let whole_cell = RwSignal::new(false);
    let request = Memo::new(move |_| {
        let column = column.get().or_else(|| first_column(ui, |_| true))?;
        (whole_cell.get() || !find.get().is_empty()).then(|| EditRequest::ReplaceAll {
            column,
            find: find.get(),
            replace: replace.get(),
            whole_cell: whole_cell.get(),
        })
    });
    form.watch(request);
    view! {
        <fieldset class="bulk">
            <legend>"Find and replace"</legend>
            {column_select(ui, "Column", column, |_| true)}
            <label>"Find " <input type="text" on:input=move |e| find.set(event_target_value(&e)) /></label>
            <label>"Replace with " <input type="text" on:input=move |e| replace.set(event_target_value(&e)) /></label>
            <label class="checkbox">
                <input type="checkbox" on:change=move |e| whole_cell.set(event_target_checked(&e)) />
                " Whole cell only"
            </label>
            {form.footer(request, "Replace all")}
        </fieldset>
    }
}

#[component]
fn FillSelected(ui: GridUi, open: RwSignal<bool>) -> impl IntoView {
    let form = Form { slot: 2, ui, open };
    let column = RwSignal::new(None::<usize>);
    let value = RwSignal::new(String::new());
    let request = Memo::new(move |_| {
        let column = column.get().or_else(|| first_column(ui, |_| true))?;
        let rows: Vec<_> = ui.selected.with(|s| s.iter().copied().collect());
        (!rows.is_empty()).then(|| EditRequest::Fill {
            column,
            value: value.get(),
            rows,
        })
    });
    form.watch(request);
    view! {
        <fieldset class="bulk">
            <legend>"Fill a column for the selected rows"</legend>
            {column_select(ui, "Column to fill", column, |_| true)}
            <label>"Value " <input type="text" on:input=move |e| value.set(event_target_value(&e)) /></label>
            <p class="preview" aria-live="polite">
                {move || ui.selected.with(|s| s.is_empty()).then_some("Select rows first (the box in each row's first cell, or Space).")}
                {form.count_line(request, false)}
            </p>
            <button type="button" disabled=move || form.changes_nothing(request) on:click=move |_| form.apply(request)>
                "Fill selected rows"
            </button>
        </fieldset>
    }
}

#[component]
fn LeadingZeros(ui: GridUi, open: RwSignal<bool>) -> impl IntoView {
    let form = Form { slot: 3, ui, open };
    let column = RwSignal::new(None::<usize>);
    let width = RwSignal::new(6_usize);
    let request = Memo::new(move |_| {
        let column = column
            .get()
            .or_else(|| first_column(ui, |c| c.identifier))?;
        Some(EditRequest::LeadingZeros {
            column,
            width: width.get(),
        })
    });
    form.watch(request);
    view! {
        <fieldset class="bulk">
            <legend>"Restore leading zeros"</legend>
            {column_select(ui, "Identifier column", column, |c| c.identifier)}
            <label>"Width (digits) "
                <input type="number" min="1" max="64" prop:value=move || width.get().to_string()
                    on:input=move |e| width.set(event_target_value(&e).parse().unwrap_or(1).clamp(1, 64)) />
            </label>
            {form.footer(request, "Restore leading zeros")}
        </fieldset>
    }
}

#[component]
fn DeleteSelected(ui: GridUi, open: RwSignal<bool>) -> impl IntoView {
    let form = Form { slot: 4, ui, open };
    let request = Memo::new(move |_| {
        let rows: Vec<_> = ui.selected.with(|s| s.iter().copied().collect());
        (!rows.is_empty()).then_some(EditRequest::DeleteRows { rows })
    });
    form.watch(request);
    view! {
        <fieldset class="bulk">
            <legend>"Delete the selected rows"</legend>
            <p class="preview" aria-live="polite">{form.count_line(request, true)}</p>
            <button type="button" class="danger" disabled=move || form.changes_nothing(request)
                on:click=move |_| {
                    form.apply(request);
                    ui.selected.set(Default::default());
                }>
                "Delete selected rows"
            </button>
        </fieldset>
    }
}
