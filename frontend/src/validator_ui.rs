//! The validator UI: choosing files (drop zone or pickers), progress with a
//! cancel button, header problems, the summary, the findings table and the
//! errors CSV downloads. It knows nothing of the app's routing or session;
//! the app's Upload page and the embeddable web component both mount it.

use std::sync::Arc;

use leptos::html;
use leptos::prelude::*;
use shared::FileKind;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::findings_table::FindingsTable;
use crate::format::{count, format_bytes, plural};
use crate::protocol::{FromWorker, HeaderSummary, ReadProgress, SendRequest, Summary, ToWorker};

/// Where a validation stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Idle,
    Reading(ReadProgress),
    Done(Arc<Summary>),
    Failed(String),
    Cancelled,
}

/// Where sending the clean records stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Sending {
    Idle,
    Sending { sent: u64, total: u64 },
    Sent,
    Failed(String),
}

type SentCallback = Box<dyn FnOnce(Result<(), String>)>;

/// One validation and its worker. Copy: signals and stored values only.
#[derive(Clone, Copy)]
pub struct ValidationSession {
    pub stage: RwSignal<Stage>,
    /// Header verdicts, as soon as each header is read.
    pub headers: RwSignal<Vec<HeaderSummary>>,
    /// Names of the files being checked.
    pub file_names: RwSignal<Vec<String>>,
    /// A message about the files chosen (for example a demographics.csv alone).
    pub choice_problem: RwSignal<Option<String>>,
    pub sending: RwSignal<Sending>,
    /// Milliseconds from choosing the files to the users.csv header verdict.
    pub header_ms: RwSignal<Option<f64>>,
    started_at: StoredValue<f64>,
    worker_url: StoredValue<String>,
    worker: StoredValue<Option<Worker>, LocalStorage>,
    /// Messages for a worker that has not said it is ready yet: a module
    /// worker may drop what arrives while its wasm is still loading.
    waiting: StoredValue<Option<Vec<js_sys::Object>>, LocalStorage>,
    on_sent: StoredValue<Option<SentCallback>, LocalStorage>,
}

impl ValidationSession {
    /// `worker_url`: the worker's loader script (`/validator-worker_loader.js`
    /// in the app).
    pub fn new(worker_url: &str) -> Self {
        ValidationSession {
            stage: RwSignal::new(Stage::Idle),
            headers: RwSignal::new(Vec::new()),
            file_names: RwSignal::new(Vec::new()),
            choice_problem: RwSignal::new(None),
            sending: RwSignal::new(Sending::Idle),
            header_ms: RwSignal::new(None),
            started_at: StoredValue::new(0.0),
            worker_url: StoredValue::new(worker_url.to_string()),
            worker: StoredValue::new_local(None),
            waiting: StoredValue::new_local(None),
            on_sent: StoredValue::new_local(None),
        }
    }

    /// Starts the worker ahead of the first file, so that its wasm is
    /// loaded by the time a file is dropped.
    pub fn warm_up(&self) {
        if let Err(message) = self.worker() {
            self.stage.set(Stage::Failed(message));
        }
    }

    /// The summary of the last finished validation.
    pub fn summary(&self) -> Option<Arc<Summary>> {
        match self.stage.get() {
            Stage::Done(summary) => Some(summary),
            _ => None,
        }
    }

    fn worker(&self) -> Result<Worker, String> {
        if let Some(worker) = self.worker.get_value() {
            return Ok(worker);
        }
        let worker = start_module_worker(&self.worker_url.get_value())
            .ok_or_else(|| "This browser cannot start the validator (Web Workers).".to_string())?;
        let session = *self;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            session.on_message(event.data());
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            session.stage.set(Stage::Failed(
                "The validator stopped unexpectedly. Reload the page and choose the file again."
                    .into(),
            ));
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        self.worker.set_value(Some(worker.clone()));
        self.waiting.set_value(Some(Vec::new()));
        Ok(worker)
    }

    fn post(&self, message: &ToWorker, files: &[(&str, &File)]) -> Result<(), String> {
        let object = js_sys::Object::new();
        let json = serde_json::to_string(message).unwrap_or_default();
        let _ = js_sys::Reflect::set(&object, &"json".into(), &json.into());
        for (name, file) in files {
            let _ = js_sys::Reflect::set(&object, &(*name).into(), file);
        }
        let worker = self.worker()?;
        let queued = self
            .waiting
            .try_update_value(|waiting| match waiting {
                Some(queue) => {
                    queue.push(object.clone());
                    true
                }
                None => false,
            })
            .unwrap_or(false);
        if queued {
            return Ok(());
        }
        worker
            .post_message(&object)
            .map_err(|_| "Could not hand the file to the validator.".to_string())
    }

    /// The worker is listening: hand it what waited.
    fn on_ready(&self) {
        let queued = self.waiting.try_update_value(Option::take).flatten();
        if let (Some(worker), Some(queued)) = (self.worker.get_value(), queued) {
            for message in queued {
                if worker.post_message(&message).is_err() {
                    self.stage.set(Stage::Failed(
                        "Could not hand the file to the validator.".into(),
                    ));
                }
            }
        }
    }

    /// Starts validating; a validation still running is stopped first.
    pub fn validate(
        &self,
        users: &File,
        demographics: Option<&File>,
        known_school_ids: Option<Vec<String>>,
    ) {
        self.started_at.set_value(now_ms());
        self.header_ms.set(None);
        // A check still running is abandoned; an idle worker is reused.
        if matches!(self.stage.get_untracked(), Stage::Reading(_))
            || matches!(self.sending.get_untracked(), Sending::Sending { .. })
        {
            self.stop_worker();
        }
        self.headers.set(Vec::new());
        self.sending.set(Sending::Idle);
        self.choice_problem.set(None);
        self.file_names.set(
            std::iter::once(users)
                .chain(demographics)
                .map(File::name)
                .collect(),
        );
        self.stage.set(Stage::Reading(ReadProgress {
            file: FileKind::Users,
            bytes_read: 0.0,
            bytes_total: users.size(),
            rows: 0,
            elapsed_ms: 0.0,
        }));
        let mut files = vec![("users", users)];
        files.extend(demographics.map(|d| ("demographics", d)));
        let message = ToWorker::Validate {
            known_school_ids,
            full_report: false,
        };
        if let Err(message) = self.post(&message, &files) {
            self.stage.set(Stage::Failed(message));
        }
    }

    /// Stops the validation that is running.
    pub fn cancel(&self) {
        self.stop_worker();
        self.stage.set(Stage::Cancelled);
    }

    fn stop_worker(&self) {
        if let Some(worker) = self.worker.get_value() {
            worker.terminate();
        }
        self.worker.set_value(None);
        self.waiting.set_value(None);
    }

    /// Asks the worker for an errors CSV; the browser downloads it.
    pub fn download_errors_csv(&self, file: FileKind) {
        if let Err(message) = self.post(&ToWorker::ErrorsCsv { file }, &[]) {
            self.stage.set(Stage::Failed(message));
        }
    }

    /// Has the worker send the clean records to a staged upload.
    pub fn send(&self, request: SendRequest, done: impl FnOnce(Result<(), String>) + 'static) {
        self.sending.set(Sending::Sending { sent: 0, total: 0 });
        self.on_sent.set_value(Some(Box::new(done)));
        if let Err(message) = self.post(&ToWorker::Send(request), &[]) {
            self.finish_sending(Err(message));
        }
    }

    fn finish_sending(&self, result: Result<(), String>) {
        self.sending.set(match &result {
            Ok(()) => Sending::Sent,
            Err(message) => Sending::Failed(message.clone()),
        });
        if let Some(done) = self.on_sent.try_update_value(Option::take).flatten() {
            done(result);
        }
    }

    fn on_message(&self, data: JsValue) {
        let Some(json) = js_sys::Reflect::get(&data, &"json".into())
            .ok()
            .and_then(|j| j.as_string())
        else {
            return;
        };
        let Ok(message) = serde_json::from_str::<FromWorker>(&json) else {
            return;
        };
        match message {
            FromWorker::Ready => self.on_ready(),
            FromWorker::Header(header) => {
                if header.file == FileKind::Users {
                    self.header_ms
                        .set(Some(now_ms() - self.started_at.get_value()));
                }
                self.headers.update(|h| h.push(header));
            }
            FromWorker::Progress(progress) => self.stage.set(Stage::Reading(progress)),
            FromWorker::Done(summary) => self.stage.set(Stage::Done(Arc::new(*summary))),
            FromWorker::Report(_) => {} // only the JavaScript API asks for it
            FromWorker::ErrorsCsv { file } => {
                if let Ok(blob) = js_sys::Reflect::get(&data, &"blob".into()) {
                    download_blob(blob.unchecked_ref(), &errors_file_name(file));
                }
            }
            FromWorker::SendProgress { sent, total } => {
                self.sending.set(Sending::Sending { sent, total })
            }
            FromWorker::Sent { .. } => self.finish_sending(Ok(())),
            FromWorker::Failed { message } => {
                if matches!(self.sending.get_untracked(), Sending::Sending { .. }) {
                    self.finish_sending(Err(message));
                } else {
                    self.stage.set(Stage::Failed(message));
                }
            }
        }
    }
}

/// Starts a module worker from a script that may be on another origin (the
/// web component's): browsers only start same-origin worker scripts, so a
/// one-line module made here imports the real one.
fn start_module_worker(url: &str) -> Option<Worker> {
    let href = leptos::prelude::window().location().href().ok()?;
    let absolute = web_sys::Url::new_with_base(url, &href).ok()?.href();
    let source = format!("import {};", serde_json::to_string(&absolute).ok()?);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(
        &js_sys::Array::of1(&source.into()),
        &options,
    )
    .ok()?;
    let blob_url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let worker_options = WorkerOptions::new();
    worker_options.set_type(WorkerType::Module);
    Worker::new_with_options(&blob_url, &worker_options).ok()
}

fn now_ms() -> f64 {
    leptos::prelude::window()
        .performance()
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// `users-errors.csv` / `demographics-errors.csv`.
pub fn errors_file_name(file: FileKind) -> String {
    file.file_name().replace(".csv", "-errors.csv")
}

/// Saves a blob made in the browser under a file name.
pub fn download_blob(blob: &web_sys::Blob, name: &str) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    let document = leptos::prelude::document();
    if let Ok(anchor) = document.create_element("a") {
        let anchor: web_sys::HtmlAnchorElement = anchor.unchecked_into();
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
    }
    // Revoking at once can cancel the download in some browsers.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = leptos::prelude::window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
}

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
) -> impl IntoView {
    session.warm_up();
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

/// Every header problem, shown as soon as the header is read.
#[component]
fn HeaderProblems(session: ValidationSession) -> impl IntoView {
    move || {
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
                view! {
                    <section class="header-problems" class:refused=!header.accepted role="alert">
                        <h3>{title}</h3>
                        <ul>
                            {header.problems.into_iter().map(|p| view! {
                                <li>
                                    <code>{p.code}</code>" "{p.message}
                                    <span class="how-to-fix">" "{p.how_to_fix}</span>
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
        "The file is refused: fix its header and choose it again.".to_string()
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
