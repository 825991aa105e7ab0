//! The validation worker. It reads the chosen files as streams, feeds them
//! to the schema crate's streaming validator, and tells the page how it goes:
//! the header verdict as soon as a header is complete, progress every
//! [`PROGRESS_BYTES`], then the summary. It keeps the validated records, so
//! the page can ask it for an errors CSV or to send the clean records to the
//! server; the records never pass through the page. When the page fixes the
//! files, the worker holds them and their edits (`fixing`, `edit`).
//!
//! Messages are handled one at a time, in order (an edit waits for the
//! files to be read), except sending, which runs beside them.

mod edit;
mod send;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Object, Reflect, Uint8Array};
use shared::errors_csv::ErrorsCsvWriter;
use shared::{FileKind, Options, Validated, Validator};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, DedicatedWorkerGlobalScope, File, MessageEvent,
    ReadableStreamDefaultReader,
};

use crate::fixing::{Checked, Document, View};
use crate::protocol::{
    FindingRow, FromWorker, HeaderSummary, ReadProgress, Summary, ToWorker, FIRST_PIECE_BYTES,
    PROGRESS_BYTES,
};

/// The files being fixed, the last check of them, and the rows in view.
struct Fixing {
    document: Document,
    checked: Checked,
    view: View,
}

/// The files last validated and what came of them.
#[derive(Default)]
struct LastRun {
    users: Option<File>,
    demographics: Option<File>,
    known_school_ids: Option<Vec<String>>,
    /// Shared, so an errors CSV being written keeps its report while a new
    /// check replaces this one.
    validated: Option<Rc<Validated>>,
    fixing: Option<Fixing>,
    /// The staged upload being sent and the check its parts come from: a
    /// retry goes on only while that check is still the last.
    sending: Option<(String, Rc<Validated>)>,
}

thread_local! {
    static LAST_RUN: RefCell<LastRun> = RefCell::new(LastRun::default());
    /// Messages waiting their turn, and whether one is being handled.
    static QUEUE: RefCell<VecDeque<(ToWorker, JsValue)>> = const { RefCell::new(VecDeque::new()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Installs the message handler; called from the worker binary's `main`.
pub fn run() {
    console_error_panic_hook::set_once();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        let message = match parse(&data) {
            Ok(message) => message,
            Err(message) => {
                return post(
                    &FromWorker::Failed {
                        message,
                        resumable: false,
                    },
                    None,
                )
            }
        };
        if let ToWorker::Send(request) = message {
            wasm_bindgen_futures::spawn_local(send::send(request));
            return;
        }
        QUEUE.with(|q| q.borrow_mut().push_back((message, data)));
        if !BUSY.with(|b| b.replace(true)) {
            wasm_bindgen_futures::spawn_local(drain());
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready, None);
}

/// Handles the waiting messages in order; once none waits, checks the
/// edited files if an edit is not checked yet and the files are small
/// enough to check after every edit.
async fn drain() {
    loop {
        let Some((message, data)) = QUEUE.with(|q| q.borrow_mut().pop_front()) else {
            if edit::check_if_due() && QUEUE.with(|q| !q.borrow().is_empty()) {
                continue;
            }
            break;
        };
        if let Err(message) = handle(message, data).await {
            post(
                &FromWorker::Failed {
                    message,
                    resumable: false,
                },
                None,
            );
        }
    }
    BUSY.with(|b| b.set(false));
}

fn post(message: &FromWorker, blob: Option<&Blob>) {
    let object = Object::new();
    let json = serde_json::to_string(message).unwrap_or_default();
    let _ = Reflect::set(&object, &"json".into(), &json.into());
    if let Some(blob) = blob {
        let _ = Reflect::set(&object, &"blob".into(), blob);
    }
    let _ = scope().post_message(&object);
}

fn file_property(data: &JsValue, name: &str) -> Option<File> {
    Reflect::get(data, &name.into())
        .ok()?
        .dyn_into::<File>()
        .ok()
}

fn describe(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| Reflect::get(error, &"message".into()).ok()?.as_string())
        .unwrap_or_else(|| "the browser gave no reason".to_string())
}

fn parse(data: &JsValue) -> Result<ToWorker, String> {
    let json = Reflect::get(data, &"json".into())
        .ok()
        .and_then(|j| j.as_string())
        .ok_or("The worker got a message without instructions.")?;
    serde_json::from_str(&json).map_err(|e| format!("The worker did not understand: {e}"))
}

async fn handle(message: ToWorker, data: JsValue) -> Result<(), String> {
    match message {
        ToWorker::Validate {
            known_school_ids,
            full_report,
        } => {
            let users = file_property(&data, "users");
            let demographics = file_property(&data, "demographics");
            // A new check: the last one's records and edits are dropped now,
            // not after this one.
            LAST_RUN.with(|last| *last.borrow_mut() = LastRun::default());
            post(&FromWorker::Validating, None);
            let validated = validate(
                users.as_ref(),
                demographics.as_ref(),
                known_school_ids.clone(),
            )
            .await?;
            if full_report {
                post(&FromWorker::Report(Box::new(validated.report.view())), None);
            }
            LAST_RUN.with(|last| {
                *last.borrow_mut() = LastRun {
                    users,
                    demographics,
                    known_school_ids,
                    validated: Some(Rc::new(validated)),
                    fixing: None,
                    sending: None,
                }
            });
            Ok(())
        }
        ToWorker::ErrorsCsv { file } => {
            let blob = errors_csv(file).await?;
            post(&FromWorker::ErrorsCsv { file }, Some(&blob));
            Ok(())
        }
        ToWorker::Send(request) => {
            send::send(request).await;
            Ok(())
        }
        other => edit::handle(other).await,
    }
}

/// Reads a whole file as a stream, handing each piece and the bytes read so
/// far to `on_piece`. The browser reads ahead while the validator works on
/// the previous piece (FileReaderSync reads and validation took turns: about
/// half a second more on a million rows), and the next piece is asked for
/// before this one is validated (asked for after, a million rows waited
/// about 0.2 s for their pieces). The first [`FIRST_PIECE_BYTES`]
/// come on their own, so the header verdict does not wait for the stream's
/// first piece, which can be megabytes. An empty file still gives one empty
/// piece, so it is reported as empty rather than as missing.
async fn read_in_pieces(file: &File, mut on_piece: impl FnMut(&[u8], f64)) -> Result<(), String> {
    let failed = |error: JsValue| {
        format!(
            "Could not read {}: {}. Choose the file again.",
            file.name(),
            describe(&error)
        )
    };
    let size = file.size();
    let first_end = size.min(FIRST_PIECE_BYTES);
    let mut buffer = Vec::new();
    let mut read = 0.0;
    for (start, end) in [(0.0, first_end), (first_end, size)] {
        if end <= start {
            continue;
        }
        let part = file.slice_with_f64_and_f64(start, end).map_err(failed)?;
        let reader: ReadableStreamDefaultReader = part.stream().get_reader().unchecked_into();
        // The next read is asked for before this piece is validated, so
        // the browser fills it meanwhile.
        let mut pending = JsFuture::from(reader.read());
        loop {
            let result = pending.await.map_err(failed)?;
            let done = Reflect::get(&result, &"done".into())
                .ok()
                .and_then(|done| done.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            pending = JsFuture::from(reader.read());
            let piece: Uint8Array = Reflect::get(&result, &"value".into())
                .map_err(failed)?
                .unchecked_into();
            buffer.resize(piece.length() as usize, 0);
            piece.copy_to(&mut buffer);
            read += buffer.len() as f64;
            on_piece(&buffer, read);
        }
    }
    if read == 0.0 {
        on_piece(&[], 0.0);
    }
    Ok(())
}

/// Posts a file's header verdict once the validator has read the header.
fn tell_header(validator: &Validator, kind: FileKind) -> bool {
    let Some(verdict) = validator.header(kind) else {
        return false;
    };
    post(
        &FromWorker::Header(HeaderSummary {
            file: kind,
            accepted: verdict.accepted(),
            problems: verdict.findings.iter().map(FindingRow::from).collect(),
        }),
        None,
    );
    true
}

fn options(known_school_ids: Option<Vec<String>>) -> Options {
    Options {
        known_school_ids,
        ..Options::default()
    }
}

async fn validate(
    users: Option<&File>,
    demographics: Option<&File>,
    known_school_ids: Option<Vec<String>>,
) -> Result<Validated, String> {
    let started = js_sys::Date::now();
    let mut validator = Validator::new(options(known_school_ids));
    for (kind, file) in [
        (FileKind::Users, users),
        (FileKind::Demographics, demographics),
    ] {
        let Some(file) = file else { continue };
        let total = file.size();
        let mut header_told = false;
        let mut progress_told_at = 0.0;
        read_in_pieces(file, |piece, read| {
            validator.push(kind, piece);
            if !header_told {
                header_told = tell_header(&validator, kind);
            }
            if progress_told_at == 0.0 || read - progress_told_at >= PROGRESS_BYTES || read >= total
            {
                progress_told_at = read;
                let progress = validator.progress();
                post(
                    &FromWorker::Progress(ReadProgress {
                        file: kind,
                        bytes_read: read,
                        bytes_total: total,
                        rows: match kind {
                            FileKind::Users => progress.users_rows,
                            FileKind::Demographics => progress.demographics_rows,
                        },
                        elapsed_ms: js_sys::Date::now() - started,
                    }),
                    None,
                );
            }
        })
        .await?;
    }
    let validated = validator.finish();
    let summary = Summary::new(&validated.report, js_sys::Date::now() - started);
    post(&FromWorker::Done(Box::new(summary)), None);
    Ok(validated)
}

fn csv_blob(parts: &js_sys::Array) -> Result<Blob, String> {
    let options = BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    Blob::new_with_u8_array_sequence_and_options(parts, &options).map_err(|e| describe(&e))
}

/// Writes the errors CSV of one file in a second pass over the original,
/// or over the file as edited.
async fn errors_csv(kind: FileKind) -> Result<Blob, String> {
    edit::check_if_stale();
    let (validated, file) = LAST_RUN.with(|last| {
        let last = last.borrow();
        let validated = last
            .validated
            .clone()
            .ok_or("Check a file first: there is no report yet.")?;
        let file = match kind {
            FileKind::Users => last.users.clone(),
            FileKind::Demographics => last.demographics.clone(),
        }
        .ok_or_else(|| format!("No {} was checked.", kind.file_name()))?;
        Ok::<_, String>((validated, file))
    })?;
    let mut writer = ErrorsCsvWriter::new(kind, &validated.report.findings);
    if !edit::write_edited(kind, &mut |piece| writer.push(piece)) {
        read_in_pieces(&file, |piece, _| writer.push(piece)).await?;
    }
    csv_blob(&js_sys::Array::of1(&Uint8Array::from(&writer.finish()[..])))
}
