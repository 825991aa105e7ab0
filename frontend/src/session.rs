//! One validation and its worker, on the page: starting the worker,
//! handing it the files, and turning its messages into signals (the
//! stage, header verdicts, sending, and fixing through `FixSession`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use shared::FileKind;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::fix_session::FixSession;
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

/// Why sending stopped, and whether trying again can go on from the parts
/// the server has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    pub message: String,
    pub resumable: bool,
}

type SentCallback = Box<dyn FnOnce(Result<(), SendFailure>)>;

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
    /// Fixing the files in the browser.
    pub fixing: FixSession,
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
            fixing: FixSession::new(),
            started_at: StoredValue::new(0.0),
            worker_url: StoredValue::new(worker_url.to_string()),
            worker: StoredValue::new_local(None),
            waiting: StoredValue::new_local(None),
            on_sent: StoredValue::new_local(None),
        }
    }

    /// A session that follows another's worker (the web component's second
    /// module): it hears the worker's messages beside the session that
    /// started it, and sends it its own; its last check was `summary`, and
    /// `backlog` holds what the worker said since (replayed here, then
    /// marked `done`).
    pub fn attached(
        worker: Worker,
        summary: Summary,
        file_names: Vec<String>,
        backlog: &js_sys::Array,
    ) -> Self {
        let session = ValidationSession::new("");
        session.stage.set(Stage::Done(Arc::new(summary)));
        session.file_names.set(file_names);
        for message in backlog.iter() {
            session.on_message(message);
        }
        let _ = js_sys::Reflect::set(backlog, &"done".into(), &JsValue::TRUE);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            session.on_message(event.data());
        });
        let _ =
            worker.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        on_message.forget();
        session.worker.set_value(Some(worker));
        session
    }

    /// The worker, once started.
    pub fn worker_handle(&self) -> Option<Worker> {
        self.worker.get_value()
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
        let url = self.worker_url.get_value();
        let (worker, ready) = match take_spare_worker(&url) {
            Some(spare) => spare,
            None => (
                start_module_worker(&url).ok_or_else(|| {
                    "This browser cannot start the validator (Web Workers).".to_string()
                })?,
                false,
            ),
        };
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
        // Until the worker says it is ready, messages wait here.
        self.waiting
            .set_value(if ready { None } else { Some(Vec::new()) });
        Ok(worker)
    }

    pub(crate) fn post(&self, message: &ToWorker, files: &[(&str, &File)]) -> Result<(), String> {
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
        self.fixing.reset();
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
    pub fn send(&self, request: SendRequest, done: impl FnOnce(Result<(), SendFailure>) + 'static) {
        self.sending.set(Sending::Sending { sent: 0, total: 0 });
        self.on_sent.set_value(Some(Box::new(done)));
        if let Err(message) = self.post(&ToWorker::Send(request), &[]) {
            self.finish_sending(Err(SendFailure {
                message,
                resumable: false,
            }));
        }
    }

    fn finish_sending(&self, result: Result<(), SendFailure>) {
        self.sending.set(match &result {
            Ok(()) => Sending::Sent,
            Err(failure) => Sending::Failed(failure.message.clone()),
        });
        if let Some(done) = self.on_sent.try_update_value(Option::take).flatten() {
            done(result);
        }
    }

    fn on_message(&self, data: JsValue) {
        let Some(message) = worker_message(&data) else {
            return;
        };
        if self.fixing.on_message(&message, &data) {
            if matches!(message, FromWorker::Preview { .. }) {
                self.send_preview();
            }
            return;
        }
        match message {
            FromWorker::Ready => self.on_ready(),
            // A check of newly chosen files (a session attached to the
            // worker hears of it only so).
            FromWorker::Validating => {
                if matches!(self.stage.get_untracked(), Stage::Done(_)) {
                    self.headers.set(Vec::new());
                    self.fixing.reset();
                    self.sending.set(Sending::Idle);
                }
            }
            FromWorker::Header(header) => {
                if header.file == FileKind::Users && self.header_ms.get_untracked().is_none() {
                    self.header_ms
                        .set(Some(now_ms() - self.started_at.get_value()));
                }
                // A check of the edited files replaces the verdicts.
                self.headers.update(|h| {
                    h.retain(|known| known.file != header.file);
                    h.push(header)
                });
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
            FromWorker::Failed { message, resumable } => {
                if matches!(self.sending.get_untracked(), Sending::Sending { .. }) {
                    self.finish_sending(Err(SendFailure { message, resumable }));
                } else if self.fixing.open.get_untracked() {
                    self.fixing.checking.set(false);
                    self.fixing.problem.set(Some(message));
                } else {
                    self.stage.set(Stage::Failed(message));
                }
            }
            // Handled by `FixSession::on_message`.
            FromWorker::Checking { .. }
            | FromWorker::Grid(_)
            | FromWorker::Rows(_)
            | FromWorker::Preview { .. }
            | FromWorker::Corrected { .. } => {}
        }
    }
}

/// A message of the worker: its JSON (the `json` field; bytes, if any,
/// travel beside it).
fn worker_message(data: &JsValue) -> Option<FromWorker> {
    let json = js_sys::Reflect::get(data, &"json".into())
        .ok()?
        .as_string()?;
    serde_json::from_str(&json).ok()
}

/// A worker started before any page asked for one, and whether it has said
/// it is ready.
struct SpareWorker {
    url: String,
    worker: Worker,
    ready: Rc<Cell<bool>>,
}

thread_local! {
    static SPARE_WORKER: RefCell<Option<SpareWorker>> = const { RefCell::new(None) };
}

/// Starts the validator's worker as the app starts, for the first check to
/// take: its wasm loads while the admin signs in and picks a file, so the
/// header verdict of a file chosen at once does not wait for it (it waited
/// about 0.1 s when the worker started with the Upload page).
pub fn start_spare_worker(url: &str) {
    let Some(worker) = start_module_worker(url) else {
        return; // the session says so when it needs a worker
    };
    let ready = Rc::new(Cell::new(false));
    let heard = ready.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(FromWorker::Ready) = worker_message(&event.data()) {
            heard.set(true);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    SPARE_WORKER.with(|spare| {
        *spare.borrow_mut() = Some(SpareWorker {
            url: url.to_string(),
            worker,
            ready,
        })
    });
}

/// The spare worker of `url`, once, and whether it is ready. Its handlers
/// are replaced by the caller's before the page hears another message.
fn take_spare_worker(url: &str) -> Option<(Worker, bool)> {
    SPARE_WORKER.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.as_ref()?.url != url {
            return None;
        }
        let SpareWorker { worker, ready, .. } = spare.take()?;
        Some((worker, ready.get()))
    })
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

pub(crate) fn now_ms() -> f64 {
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
