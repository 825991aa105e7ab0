//! "Fix in browser": the editable grid of the rows to fix, virtualized (only
//! the rows in view are rendered; the worker sends them as they come into
//! view), with its toolbar, the suggested fixes, the bulk fixes and the
//! details of the cell in focus.
//!
//! Keyboard (ARIA grid pattern): arrows, Home/End and Page Up/Down move
//! the focus; Enter or F2 edits; Escape cancels; Enter saves and moves
//! down; Space on a row's first cell selects it; Ctrl+Z / Ctrl+Y undo and
//! redo. A problem cell has a mark, a border and, for screen readers, its
//! message and how to fix it.

mod bulk;
mod panel;
mod scroll;

use std::sync::Arc;

use leptos::html;
use leptos::prelude::*;
use rustc_hash::FxHashSet;
use wasm_bindgen::{JsCast, JsValue};

use crate::findings_table::ROW_HEIGHT_PX;
use crate::protocol::{CellMark, EditRequest, GridRow, GridState, RowId};
use crate::session::ValidationSession;

/// Rows moved by Page Up / Page Down.
const PAGE_ROWS: usize = 12;

/// The cell being edited: its row, column (place in the file as chosen),
/// where it is in the grid, and the text typed so far.
#[derive(Debug, Clone, PartialEq)]
struct Editing {
    id: RowId,
    position: usize,
    at: (usize, usize),
    draft: String,
}

/// The grid's own state, shared by its parts. Copy: signals only.
#[derive(Clone, Copy)]
pub(crate) struct GridUi {
    session: ValidationSession,
    /// (row in the view, column: 0 the row's head, then the file's columns).
    active: RwSignal<(usize, usize)>,
    editing: RwSignal<Option<Editing>>,
    /// Selected rows, for the fill and delete bulk fixes.
    selected: RwSignal<FxHashSet<RowId>>,
    scroll_top: RwSignal<f64>,
    /// The focus is in the grid (so moving it there again is right).
    has_focus: StoredValue<bool>,
    scroller: NodeRef<html::Div>,
}

impl GridUi {
    fn state(&self) -> Option<Arc<GridState>> {
        self.session.fixing.state.get_untracked()
    }

    /// The row at `index` of the view, if the worker has sent it.
    fn row_at(&self, index: usize) -> Option<GridRow> {
        let rows = self.session.fixing.rows.get()?;
        let offset = index.checked_sub(rows.start)?;
        rows.rows.get(offset).cloned()
    }

    /// Moves the focus to a cell, scrolling it into view.
    fn move_to(&self, row: usize, column: usize) {
        let Some(state) = self.state() else { return };
        let row = row.min(state.view_len.saturating_sub(1));
        let column = column.min(state.columns.len());
        self.active.set((row, column));
        if let Some(scroller) = self.scroller.get_untracked() {
            let len = state.view_len;
            // Rows in view below the first, the header row left out.
            let in_view = (f64::from(scroller.client_height()) / ROW_HEIGHT_PX) as usize;
            let in_view = in_view.saturating_sub(2);
            let first = scroll::first_in_view(f64::from(scroller.scroll_top()), len);
            let wanted = if row < first {
                Some(scroll::scroll_to(row, len))
            } else if row > first + in_view {
                Some(scroll::scroll_to(row - in_view, len))
            } else {
                None
            };
            if let Some(wanted) = wanted {
                scroller.set_scroll_top(wanted as i32);
                self.scroll_top.set(wanted);
            }
        }
    }

    fn begin_edit(&self) {
        let (row, column) = self.active.get_untracked();
        let (Some(state), Some(grid_row)) = (self.state(), self.row_at(row)) else {
            return;
        };
        let Some(spec) = column.checked_sub(1).and_then(|c| state.columns.get(c)) else {
            return;
        };
        self.editing.set(Some(Editing {
            id: grid_row.id,
            position: spec.position,
            at: (row, column),
            draft: grid_row.cells[column - 1].clone(),
        }));
    }

    /// Saves the cell being edited (when it changed); `down` moves on.
    fn save_edit(&self, down: bool) {
        let Some(editing) = self.editing.get_untracked() else {
            return;
        };
        self.editing.set(None);
        let Some(state) = self.state() else { return };
        let original = self
            .row_at(editing.at.0)
            .filter(|r| r.id == editing.id)
            .map(|r| r.cells[editing.at.1 - 1].clone());
        if original.as_deref() != Some(editing.draft.as_str()) {
            self.session.edit(
                state.file,
                EditRequest::SetCell {
                    row: editing.id,
                    column: editing.position,
                    value: editing.draft,
                },
            );
        }
        let (row, column) = editing.at;
        self.move_to(if down { row + 1 } else { row }, column);
    }

    fn toggle_selected(&self, id: RowId) {
        self.selected.update(|selected| {
            if !selected.remove(&id) {
                selected.insert(id);
            }
        });
    }

    /// Keys on a cell of the grid (not while editing one).
    fn on_key(&self, event: &web_sys::KeyboardEvent) {
        if self.editing.get_untracked().is_some() {
            return;
        }
        let (row, column) = self.active.get_untracked();
        match event.key().as_str() {
            "ArrowDown" => self.move_to(row + 1, column),
            "ArrowUp" => self.move_to(row.saturating_sub(1), column),
            "ArrowRight" => self.move_to(row, column + 1),
            "ArrowLeft" => self.move_to(row, column.saturating_sub(1)),
            "Home" if event.ctrl_key() => self.move_to(0, column),
            "End" if event.ctrl_key() => self.move_to(usize::MAX, column),
            "Home" => self.move_to(row, 0),
            "End" => self.move_to(row, usize::MAX),
            "PageDown" => self.move_to(row + PAGE_ROWS, column),
            "PageUp" => self.move_to(row.saturating_sub(PAGE_ROWS), column),
            "Enter" | "F2" if column > 0 => self.begin_edit(),
            " " if column == 0 => {
                if let Some(grid_row) = self.row_at(row) {
                    self.toggle_selected(grid_row.id);
                }
            }
            _ => return,
        }
        event.prevent_default();
    }

    /// Puts the focus back on the active cell (or its editor) once it is
    /// rendered, while the focus is in the grid.
    fn refocus(&self) {
        let ui = *self;
        request_animation_frame(move || {
            if !ui.has_focus.get_value() {
                return;
            }
            let Some(scroller) = ui.scroller.get_untracked() else {
                return;
            };
            let editor = scroller.query_selector(".cell-editor").ok().flatten();
            if let Some(input) = editor.and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                if !is_focused(&input) {
                    let _ = input.focus();
                    // The caret after what is typed, as before a redraw.
                    let end = input.value().encode_utf16().count() as u32;
                    let _ = input.set_selection_range(end, end);
                }
                return;
            }
            let cell = scroller
                .query_selector("[data-active='true']")
                .ok()
                .flatten();
            if let Some(element) = cell.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = element.focus();
            }
        });
    }
}

/// Whether the element has the focus (in its document or shadow root).
fn is_focused(element: &web_sys::HtmlElement) -> bool {
    let root = element.get_root_node();
    let active = js_sys::Reflect::get(&root, &"activeElement".into()).ok();
    let element: &JsValue = element.as_ref();
    active.is_some_and(|a| &a == element)
}

/// The marks of one cell (`position`), or of the whole row (`None`).
fn marks_of(row: &GridRow, position: Option<usize>) -> Vec<CellMark> {
    row.marks
        .iter()
        .filter(|m| m.column == position)
        .cloned()
        .collect()
}

/// What a screen reader hears after a problem cell's value.
fn spoken(marks: &[CellMark]) -> String {
    marks
        .iter()
        .map(|m| {
            format!(
                "{}: {} How to fix: {}",
                if m.severity == "error" {
                    "Error"
                } else {
                    "Warning"
                },
                m.message,
                m.how_to_fix
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn FixGrid(session: ValidationSession) -> impl IntoView {
    let fixing = session.fixing;
    let ui = GridUi {
        session,
        active: RwSignal::new((0, 1)),
        editing: RwSignal::new(None),
        selected: RwSignal::new(FxHashSet::default()),
        scroll_top: RwSignal::new(0.0),
        has_focus: StoredValue::new(false),
        scroller: NodeRef::new(),
    };

    // Rows come from the worker as they come into view, and again after
    // every change or check (new values and marks).
    let wanted = Memo::new(move |_| {
        fixing.state.with(|state| {
            state.as_ref().map(|s| {
                let drawn = scroll::layout(ui.scroll_top.get(), s.view_len);
                ((drawn.start, drawn.end), Arc::as_ptr(s) as usize)
            })
        })
    });
    Effect::new(move || {
        if let Some(((start, end), _)) = wanted.get() {
            session.request_rows(start, end);
        }
    });
    // A new view (filter) starts at the top.
    let filter_key = Memo::new(move |_| {
        fixing
            .state
            .with(|s| s.as_ref().map(|s| (s.file, s.filter.clone())))
    });
    Effect::new(move |previous: Option<Option<_>>| {
        let now = filter_key.get();
        if previous.is_some_and(|p| p != now) {
            ui.scroll_top.set(0.0);
            ui.active.set((0, 1));
            if let Some(scroller) = ui.scroller.get_untracked() {
                scroller.set_scroll_top(0);
            }
        }
        now
    });
    Effect::new(move || {
        ui.active.track();
        ui.editing.track();
        fixing.rows.track();
        ui.refocus();
    });

    let on_section_key = move |event: web_sys::KeyboardEvent| {
        let in_text = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .is_some_and(|input| input.type_() != "checkbox");
        if in_text || !(event.ctrl_key() || event.meta_key()) {
            return;
        }
        match event.key().to_lowercase().as_str() {
            "z" if event.shift_key() => session.redo(),
            "z" => session.undo(),
            "y" => session.redo(),
            _ => return,
        }
        event.prevent_default();
    };

    view! {
        <section
            class="fixing"
            aria-labelledby="fixing-heading"
            on:keydown=on_section_key
            data-revision=move || fixing.state.with(|s| s.as_ref().map(|s| s.revision))
            data-up-to-date=move || fixing.up_to_date().to_string()
            data-change-ms=move || fixing.change_to_counts_ms.get().map(|ms| format!("{ms:.1}"))
        >
            <h3 id="fixing-heading">"Fix in browser"</h3>
            <p class="hint">
                "Edits stay in this browser until you download the corrected file or process it. "
                "Arrows move, Enter or F2 edits, Enter saves and moves down, Escape cancels."
            </p>
            <panel::Toolbar ui />
            <panel::SuggestedFixes ui />
            <Table ui />
            <panel::CellDetails ui />
            <bulk::BulkFixes ui />
        </section>
    }
}

/// The grid itself: the header row, then the rows in view between spacers.
#[component]
fn Table(ui: GridUi) -> impl IntoView {
    let fixing = ui.session.fixing;
    let header = move || {
        fixing.state.get().map(|state| {
            let active_column = ui.active.get().1;
            view! {
                <tr aria-rowindex="1">
                    <th scope="col" class="row-head">"Row"</th>
                    {state.columns.iter().enumerate().map(|(i, c)| view! {
                        <th scope="col" aria-colindex=i + 2 class:active-column=active_column == i + 1>{c.name.clone()}</th>
                    }).collect_view()}
                </tr>
            }
        })
    };
    let body = move || {
        let state = fixing.state.get()?;
        let active = ui.active.get();
        let editing = ui.editing.get();
        let scroll::Layout {
            start,
            end,
            top_px: top,
            bottom_px: bottom,
        } = scroll::layout(ui.scroll_top.get(), state.view_len);
        let rendered = (start..end)
            .map(|index| match ui.row_at(index) {
                Some(row) => view! {
                    <Row ui index row state=state.clone() active editing=editing.clone() />
                }
                .into_any(),
                None => view! {
                    <tr aria-rowindex=index + 2 class="loading" style=format!("height: {ROW_HEIGHT_PX}px")>
                        <td colspan=state.columns.len() + 1>"…"</td>
                    </tr>
                }
                .into_any(),
            })
            .collect_view();
        Some(view! {
            <tr class="spacer" aria-hidden="true" style=format!("height: {top}px")></tr>
            {rendered}
            <tr class="spacer" aria-hidden="true" style=format!("height: {bottom}px")></tr>
        })
    };
    let empty = move || {
        fixing.state.with(|s| {
            s.as_ref().filter(|s| s.view_len == 0).map(|_| view! {
                <p class="grid-empty">"No rows match. Choose another filter above, or show all rows."</p>
            })
        })
    };
    view! {
        <div
            class="grid-scroll"
            node_ref=ui.scroller
            style="max-height: 540px; overflow: auto"
            on:scroll=move |_| {
                if let Some(el) = ui.scroller.get_untracked() {
                    ui.scroll_top.set(f64::from(el.scroll_top()));
                }
            }
            on:focusin=move |_| ui.has_focus.set_value(true)
            on:focusout=move |event: web_sys::FocusEvent| {
                // A cell or editor redrawn away loses the focus without the
                // person moving it.
                let removed = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                    .is_some_and(|node| !node.is_connected());
                if removed {
                    return;
                }
                let inside = event
                    .related_target()
                    .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                    .is_some_and(|node| {
                        ui.scroller.get_untracked().is_some_and(|s| s.contains(Some(&node)))
                    });
                ui.has_focus.set_value(inside);
            }
        >
            <table
                class="fix-grid"
                role="grid"
                aria-label="Rows to fix"
                aria-rowcount=move || fixing.state.with(|s| s.as_ref().map_or(1, |s| s.view_len + 1))
                aria-colcount=move || fixing.state.with(|s| s.as_ref().map_or(1, |s| s.columns.len() + 1))
                on:keydown=move |event: web_sys::KeyboardEvent| ui.on_key(&event)
            >
                <thead>{header}</thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        {empty}
    }
}

/// One row in view.
#[component]
fn Row(
    ui: GridUi,
    index: usize,
    row: GridRow,
    state: Arc<GridState>,
    active: (usize, usize),
    editing: Option<Editing>,
) -> impl IntoView {
    let (active_row, active_column) = active;
    let id = row.id;
    let number = row.number;
    let row_marks = marks_of(&row, None);
    let head_active = active_row == index && active_column == 0;
    let row_problem = row_marks.iter().any(|m| m.severity == "error");
    let cells = state
        .columns
        .iter()
        .enumerate()
        .map(|(c, column)| {
            let marks = marks_of(&row, Some(column.position));
            let is_active = active_row == index && active_column == c + 1;
            let error = marks.iter().any(|m| m.severity == "error");
            let warning = !error && !marks.is_empty();
            let value = row.cells[c].clone();
            let edit_here = editing.as_ref().filter(|e| e.at == (index, c + 1) && e.id == id);
            let content = match edit_here {
                Some(editing) => {
                    let label = format!("{}, row {number}", column.name);
                    view! {
                        <input
                            class="cell-editor"
                            type="text"
                            aria-label=label
                            prop:value=editing.draft.clone()
                            on:input=move |event| {
                                let draft = event_target_value(&event);
                                ui.editing.update_untracked(|e| {
                                    if let Some(e) = e {
                                        e.draft = draft;
                                    }
                                });
                            }
                            on:keydown=move |event: web_sys::KeyboardEvent| {
                                if !matches!(event.key().as_str(), "Enter" | "Escape") {
                                    return;
                                }
                                if event.key() == "Enter" {
                                    ui.save_edit(true);
                                } else {
                                    ui.editing.set(None);
                                }
                                // The focus goes back to the cell before the
                                // editor is redrawn away, so it stays in the
                                // grid (the editor's blur finds nothing to save).
                                let cell = event_target::<web_sys::Element>(&event)
                                    .parent_element()
                                    .and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok());
                                if let Some(cell) = cell {
                                    let _ = cell.focus();
                                }
                                event.prevent_default();
                                event.stop_propagation();
                            }
                            on:blur=move |event| {
                                let connected = event_target::<web_sys::Node>(&event).is_connected();
                                if connected {
                                    ui.save_edit(false);
                                }
                            }
                        />
                    }
                    .into_any()
                }
                None => view! {
                    <span class="value">{value}</span>
                    {(!marks.is_empty()).then(|| view! {
                        <span class="mark" aria-hidden="true">{if error { "!" } else { "?" }}</span>
                        <span class="visually-hidden">{format!(" {}", spoken(&marks))}</span>
                    })}
                }
                .into_any(),
            };
            let title = marks.iter().map(|m| format!("{} {}", m.message, m.how_to_fix)).collect::<Vec<_>>().join("\n");
            view! {
                <td
                    class="cell"
                    class:problem=error
                    class:warning=warning
                    data-row=number
                    data-column=column.name.clone()
                    data-code=marks.first().map(|m| m.code.clone())
                    aria-colindex=c + 2
                    data-active=is_active.to_string()
                    tabindex=if is_active { "0" } else { "-1" }
                    title=(!title.is_empty()).then_some(title)
                    on:click=move |_| ui.active.set((index, c + 1))
                    on:dblclick=move |_| {
                        ui.active.set((index, c + 1));
                        ui.begin_edit();
                    }
                >
                    {content}
                </td>
            }
        })
        .collect_view();
    let selected = Signal::derive(move || ui.selected.with(|s| s.contains(&id)));
    view! {
        <tr
            aria-rowindex=index + 2
            aria-selected=move || selected.get().to_string()
            class:edited=row.edited
            style=format!("height: {ROW_HEIGHT_PX}px")
        >
            <th
                scope="row"
                class="row-head"
                class:problem=row_problem
                aria-colindex="1"
                data-active=head_active.to_string()
                tabindex=if head_active { "0" } else { "-1" }
                on:click=move |_| ui.active.set((index, 0))
            >
                <input
                    type="checkbox"
                    tabindex="-1"
                    aria-label=format!("Select row {number}")
                    prop:checked=move || selected.get()
                    on:change=move |_| ui.toggle_selected(id)
                />
                " "{number}
                {row.edited.then(|| view! { <span class="edited-mark" title="Edited">" ✎"<span class="visually-hidden">" edited"</span></span> })}
                {(!row_marks.is_empty()).then(|| view! {
                    <span class="mark" aria-hidden="true">"!"</span>
                    <span class="visually-hidden">{format!(" {}", spoken(&row_marks))}</span>
                })}
            </th>
            {cells}
        </tr>
    }
}
