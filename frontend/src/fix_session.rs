//! "Fix in browser" on the page: what the worker says about the files being
//! fixed (the grid's state, the rows in view, previews of bulk fixes), and
//! the requests the grid sends it. The files and the edits stay in the
//! worker; nothing here is sent anywhere else.

use std::cell::Cell;
use std::sync::Arc;

use leptos::prelude::*;
use shared::FileKind;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::protocol::{EditRequest, FromWorker, GridRows, GridState, RowFilter, ToWorker};
use crate::session::{download_blob, now_ms, ValidationSession};

thread_local! {
    /// Whether this page holds edits that were neither downloaded nor
    /// processed (for the app's own navigation, which unloads nothing).
    static UNSAVED: Cell<bool> = const { Cell::new(false) };
}

/// What leaving the page would lose, for people.
const LEAVING: &str = "You have edits that were not downloaded or processed. Leave and lose them?";

/// Whether the page may be left: true without unsaved edits, else what
/// the person answers.
pub fn confirm_leaving() -> bool {
    !UNSAVED.with(Cell::get) || window().confirm_with_message(LEAVING).unwrap_or(true)
}

/// A preview asked for, waiting for the worker, or answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewAnswer {
    pub slot: u32,
    pub request: EditRequest,
    pub count: u64,
}

/// Fixing's signals. Copy: signals and stored values only.
#[derive(Clone, Copy)]
pub struct FixSession {
    /// The grid is open: the worker holds the files.
    pub open: RwSignal<bool>,
    pub state: RwSignal<Option<Arc<GridState>>>,
    /// The last rows the worker sent for the view.
    pub rows: RwSignal<Option<Arc<GridRows>>>,
    /// The last answer for each bulk fix's form.
    pub preview: RwSignal<Vec<PreviewAnswer>>,
    /// A request that failed (shown in the grid's status).
    pub problem: RwSignal<Option<String>>,
    /// A check of the edited files is running.
    pub checking: RwSignal<bool>,
    /// Milliseconds from the last change sent to its new counts.
    pub change_to_counts_ms: RwSignal<Option<f64>>,
    change_sent_at: StoredValue<Option<f64>>,
    /// The revision last downloaded or processed.
    saved_revision: RwSignal<u64>,
    /// Previews: one in flight at a time; the latest wanted waits.
    preview_in_flight: StoredValue<bool>,
    preview_wanted: StoredValue<Vec<(u32, FileKind, EditRequest)>>,
    preview_sent: StoredValue<Option<(u32, EditRequest)>>,
    unload_guard: StoredValue<bool>,
}

impl Default for FixSession {
    fn default() -> Self {
        Self::new()
    }
}

impl FixSession {
    pub fn new() -> Self {
        FixSession {
            open: RwSignal::new(false),
            state: RwSignal::new(None),
            rows: RwSignal::new(None),
            preview: RwSignal::new(Vec::new()),
            problem: RwSignal::new(None),
            checking: RwSignal::new(false),
            change_to_counts_ms: RwSignal::new(None),
            change_sent_at: StoredValue::new(None),
            saved_revision: RwSignal::new(0),
            preview_in_flight: StoredValue::new(false),
            preview_wanted: StoredValue::new(Vec::new()),
            preview_sent: StoredValue::new(None),
            unload_guard: StoredValue::new(false),
        }
    }

    /// Back to no fixing (a new file was chosen).
    pub fn reset(&self) {
        self.open.set(false);
        self.state.set(None);
        self.rows.set(None);
        self.preview.set(Vec::new());
        self.problem.set(None);
        self.checking.set(false);
        self.saved_revision.set(0);
        UNSAVED.with(|u| u.set(false));
        self.preview_in_flight.set_value(false);
        self.preview_wanted.set_value(Vec::new());
    }

    /// Edits that were neither downloaded nor processed.
    pub fn unsaved(&self) -> bool {
        self.state.track();
        self.unsaved_untracked()
    }

    fn unsaved_untracked(&self) -> bool {
        self.state.with_untracked(|state| {
            state.as_ref().is_some_and(|s| {
                s.undo_steps > 0 && s.revision != self.saved_revision.get_untracked()
            })
        })
    }

    /// The edits so far are in a download or were processed.
    pub fn saved(&self) {
        if let Some(state) = self.state.get_untracked() {
            self.saved_revision.set(state.revision);
        }
        UNSAVED.with(|u| u.set(false));
    }

    /// Whether the counts on the page are of the files as edited.
    pub fn up_to_date(&self) -> bool {
        !self.checking.get()
            && self
                .state
                .with(|s| s.as_ref().is_none_or(|s| s.revision == s.checked_revision))
    }

    /// Handles a fixing message of the worker; false for any other.
    pub fn on_message(&self, message: &FromWorker, data: &JsValue) -> bool {
        match message {
            FromWorker::Checking { .. } => self.checking.set(true),
            FromWorker::Grid(state) => {
                // Fixing may be started by another module on the same worker.
                // (Set only when it changes: the grid is made anew on a set.)
                if !self.open.get_untracked() {
                    self.open.set(true);
                }
                self.checking.set(false);
                self.problem.set(None);
                self.state.set(Some(Arc::new((**state).clone())));
                let unsaved = self.state.with_untracked(|_| self.unsaved_untracked());
                UNSAVED.with(|u| u.set(unsaved));
            }
            FromWorker::Rows(rows) => self.rows.set(Some(Arc::new(rows.clone()))),
            FromWorker::Preview { id, count } => {
                let sent = self.preview_sent.get_value();
                if let Some((slot, request)) = sent.filter(|(slot, _)| slot == id) {
                    self.preview.update(|answers| {
                        answers.retain(|a| a.slot != slot);
                        answers.push(PreviewAnswer {
                            slot,
                            request,
                            count: *count,
                        });
                    });
                }
                self.preview_in_flight.set_value(false);
            }
            FromWorker::Corrected { file } => {
                if let Ok(blob) = js_sys::Reflect::get(data, &"blob".into()) {
                    download_blob(blob.unchecked_ref(), file.file_name());
                    self.saved();
                }
            }
            FromWorker::Done(_) if self.open.get_untracked() => {
                if let Some(sent) = self.change_sent_at.get_value() {
                    self.change_to_counts_ms.set(Some(now_ms() - sent));
                    self.change_sent_at.set_value(None);
                }
                return false; // the session shows the new summary
            }
            _ => return false,
        }
        true
    }

    /// Asks the page to confirm before it is left with unsaved edits.
    fn guard_unload(&self) {
        if self.unload_guard.get_value() {
            return;
        }
        self.unload_guard.set_value(true);
        let fixing = *self;
        let on_unload = Closure::<dyn FnMut(web_sys::BeforeUnloadEvent)>::new(
            move |event: web_sys::BeforeUnloadEvent| {
                let unsaved = fixing
                    .state
                    .try_with_untracked(|_| fixing.unsaved())
                    .unwrap_or(false);
                if unsaved {
                    event.prevent_default();
                    event.set_return_value(LEAVING);
                }
            },
        );
        let _ = window()
            .add_event_listener_with_callback("beforeunload", on_unload.as_ref().unchecked_ref());
        on_unload.forget();
    }
}

impl ValidationSession {
    /// Opens the files last checked for fixing, in the grid.
    pub fn start_fixing(&self, file: FileKind) {
        if !self.fixing.open.get_untracked() {
            self.fixing.open.set(true);
        }
        self.fixing.guard_unload();
        self.tell(&ToWorker::StartFixing { file });
    }

    fn tell(&self, message: &ToWorker) {
        if let Err(problem) = self.post(message, &[]) {
            self.fixing.problem.set(Some(problem));
        }
    }

    fn changed(&self, message: &ToWorker) {
        self.fixing.change_sent_at.set_value(Some(now_ms()));
        self.tell(message);
    }

    /// One undoable change of `file`.
    pub fn edit(&self, file: FileKind, request: EditRequest) {
        self.changed(&ToWorker::Edit { file, request });
    }

    /// A header fix: opens the files for fixing if need be, changes the
    /// header, and checks the file again from its first byte.
    pub fn fix_header(&self, file: FileKind, request: EditRequest) {
        if !self.fixing.open.get_untracked() {
            self.start_fixing(file);
        }
        self.edit(file, request);
        self.changed(&ToWorker::CheckAgain);
    }

    pub fn undo(&self) {
        self.changed(&ToWorker::Undo);
    }

    pub fn redo(&self) {
        self.changed(&ToWorker::Redo);
    }

    pub fn discard_edits(&self) {
        self.changed(&ToWorker::Discard);
    }

    pub fn check_again(&self) {
        self.changed(&ToWorker::CheckAgain);
    }

    pub fn show_rows(&self, file: FileKind, filter: RowFilter) {
        self.tell(&ToWorker::ShowRows { file, filter });
    }

    pub fn request_rows(&self, start: usize, end: usize) {
        self.tell(&ToWorker::Rows { start, end });
    }

    pub fn download_corrected(&self, file: FileKind) {
        self.tell(&ToWorker::Corrected { file });
    }

    /// Asks how many cells `request` would change, for the form `slot`; a
    /// preview asked for while one is being worked out waits for it.
    pub fn preview(&self, slot: u32, file: FileKind, request: EditRequest) {
        let fixing = self.fixing;
        fixing.preview_wanted.update_value(|wanted| {
            wanted.retain(|(s, _, _)| *s != slot);
            wanted.push((slot, file, request));
        });
        if !fixing.preview_in_flight.get_value() {
            self.send_preview();
        }
    }

    /// Sends the latest preview wanted, once the last is answered.
    pub fn send_preview(&self) {
        let fixing = self.fixing;
        let next = fixing
            .preview_wanted
            .try_update_value(|wanted| (!wanted.is_empty()).then(|| wanted.remove(0)))
            .flatten();
        let Some((slot, file, request)) = next else {
            return;
        };
        fixing.preview_in_flight.set_value(true);
        fixing.preview_sent.set_value(Some((slot, request.clone())));
        self.tell(&ToWorker::Preview {
            id: slot,
            file,
            request,
        });
    }
}
