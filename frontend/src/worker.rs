//! The validation worker. It reads the chosen files in slices, feeds them to
//! the schema crate's streaming validator, and tells the page how it goes:
//! the header verdict as soon as a header is complete, progress after every
//! slice, then the summary. It keeps the validated records, so the page can
//! ask it for an errors CSV or to send the clean records to the server; the
//! records never pass through the page.

use std::cell::RefCell;

use js_sys::{Object, Reflect, Uint8Array};
use shared::errors_csv::ErrorsCsvWriter;
use shared::export::{demographics_csv, users_csv};
use shared::{FileKind, Options, Validated, Validator};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, DedicatedWorkerGlobalScope, File, FileReaderSync, Headers, MessageEvent,
    Request, RequestInit, Response,
};

use crate::protocol::{
    FindingRow, FromWorker, HeaderSummary, ReadProgress, SendRequest, Summary, ToWorker,
    FIRST_SLICE_BYTES, PART_BYTES, SLICE_BYTES,
};

/// The files last validated and what came of them.
#[derive(Default)]
struct LastRun {
    users: Option<File>,
    demographics: Option<File>,
    validated: Option<Validated>,
}

thread_local! {
    static LAST_RUN: RefCell<LastRun> = RefCell::new(LastRun::default());
}

#[wasm_bindgen(inline_js = "export async function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}")]
extern "C" {
    /// The browser's own gzip (CompressionStream), so the wasm stays small.
    #[wasm_bindgen(catch)]
    async fn gzip(bytes: &[u8]) -> Result<JsValue, JsValue>;
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Installs the message handler; called from the worker binary's `main`.
pub fn run() {
    console_error_panic_hook::set_once();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(message) = handle(data).await {
                post(&FromWorker::Failed { message }, None);
            }
        });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready, None);
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

async fn handle(data: JsValue) -> Result<(), String> {
    let json = Reflect::get(&data, &"json".into())
        .ok()
        .and_then(|j| j.as_string())
        .ok_or("The worker got a message without instructions.")?;
    let message: ToWorker =
        serde_json::from_str(&json).map_err(|e| format!("The worker did not understand: {e}"))?;
    match message {
        ToWorker::Validate {
            known_school_ids,
            full_report,
        } => {
            let users = file_property(&data, "users");
            let demographics = file_property(&data, "demographics");
            let validated = validate(users.as_ref(), demographics.as_ref(), known_school_ids)?;
            if full_report {
                post(&FromWorker::Report(Box::new(validated.report.view())), None);
            }
            LAST_RUN.with(|last| {
                *last.borrow_mut() = LastRun {
                    users,
                    demographics,
                    validated: Some(validated),
                }
            });
            Ok(())
        }
        ToWorker::ErrorsCsv { file } => {
            let blob = errors_csv(file)?;
            post(&FromWorker::ErrorsCsv { file }, Some(&blob));
            Ok(())
        }
        ToWorker::Send(request) => send(request).await,
    }
}

/// Reads a slice of a file; synchronous reading is allowed in workers and
/// keeps the loop simple.
fn read_slice(
    reader: &FileReaderSync,
    file: &File,
    start: f64,
    end: f64,
    buffer: &mut Vec<u8>,
) -> Result<(), String> {
    let kind = file.name();
    let slice = file
        .slice_with_f64_and_f64(start, end)
        .map_err(|e| format!("Could not read {kind}: {}", describe(&e)))?;
    let array = reader.read_as_array_buffer(&slice).map_err(|e| {
        format!(
            "Could not read {kind}: {}. Choose the file again.",
            describe(&e)
        )
    })?;
    let view = Uint8Array::new(&array);
    buffer.resize(view.length() as usize, 0);
    view.copy_to(buffer);
    Ok(())
}

/// Reads a whole file slice by slice (the first `first_step` bytes, then
/// [`SLICE_BYTES`] at a time), handing each slice and where it ends to
/// `on_slice`. An empty file still gives one empty slice, so it is reported
/// as empty rather than as missing.
fn read_in_slices(
    reader: &FileReaderSync,
    file: &File,
    first_step: f64,
    mut on_slice: impl FnMut(&[u8], f64),
) -> Result<(), String> {
    let total = file.size();
    let mut buffer = Vec::new();
    let mut start = 0.0;
    loop {
        let step = if start == 0.0 {
            first_step
        } else {
            SLICE_BYTES
        };
        let end = (start + step).min(total);
        read_slice(reader, file, start, end, &mut buffer)?;
        on_slice(&buffer, end);
        if end >= total {
            return Ok(());
        }
        start = end;
    }
}

fn validate(
    users: Option<&File>,
    demographics: Option<&File>,
    known_school_ids: Option<Vec<String>>,
) -> Result<Validated, String> {
    let started = js_sys::Date::now();
    let reader = FileReaderSync::new().map_err(|e| describe(&e))?;
    let mut validator = Validator::new(Options {
        known_school_ids,
        ..Options::default()
    });
    for (kind, file) in [
        (FileKind::Users, users),
        (FileKind::Demographics, demographics),
    ] {
        let Some(file) = file else { continue };
        let total = file.size();
        let mut header_told = false;
        read_in_slices(&reader, file, FIRST_SLICE_BYTES, |slice, end| {
            validator.push(kind, slice);
            if !header_told {
                if let Some(verdict) = validator.header(kind) {
                    header_told = true;
                    post(
                        &FromWorker::Header(HeaderSummary {
                            file: kind,
                            accepted: verdict.accepted(),
                            problems: verdict.findings.iter().map(FindingRow::from).collect(),
                        }),
                        None,
                    );
                }
            }
            let progress = validator.progress();
            post(
                &FromWorker::Progress(ReadProgress {
                    file: kind,
                    bytes_read: end,
                    bytes_total: total,
                    rows: match kind {
                        FileKind::Users => progress.users_rows,
                        FileKind::Demographics => progress.demographics_rows,
                    },
                    elapsed_ms: js_sys::Date::now() - started,
                }),
                None,
            );
        })?;
    }
    let validated = validator.finish();
    let summary = Summary::new(&validated.report, js_sys::Date::now() - started);
    post(&FromWorker::Done(Box::new(summary)), None);
    Ok(validated)
}

fn csv_blob(bytes: &[u8]) -> Result<Blob, String> {
    let parts = js_sys::Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| describe(&e))
}

/// Writes the errors CSV of one file in a second pass over the original.
fn errors_csv(kind: FileKind) -> Result<Blob, String> {
    let reader = FileReaderSync::new().map_err(|e| describe(&e))?;
    LAST_RUN.with(|last| {
        let last = last.borrow();
        let validated = last
            .validated
            .as_ref()
            .ok_or("Check a file first: there is no report yet.")?;
        let file = match kind {
            FileKind::Users => last.users.as_ref(),
            FileKind::Demographics => last.demographics.as_ref(),
        }
        .ok_or_else(|| format!("No {} was checked.", kind.file_name()))?;
        let mut writer = ErrorsCsvWriter::new(kind, &validated.report.findings);
        read_in_slices(&reader, file, SLICE_BYTES, |slice, _| writer.push(slice))?;
        csv_blob(&writer.finish())
    })
}

/// Sends the clean records, as the normalized users.csv / demographics.csv
/// that `shared::export` writes, in gzip parts to a staged upload.
async fn send(request: SendRequest) -> Result<(), String> {
    let (users, demographics) = LAST_RUN.with(|last| {
        let last = last.borrow();
        let validated = last
            .validated
            .as_ref()
            .ok_or("Check a file first: there are no records to send.")?;
        let records = &validated.records;
        let demographics = if records.demographics.is_empty() {
            Vec::new()
        } else {
            demographics_csv(records)
        };
        Ok::<_, String>((users_csv(records), demographics))
    })?;
    let total = (users.len() + demographics.len()) as u64;
    let mut sent = 0_u64;
    for (segment, bytes) in [("users", &users), ("demographics", &demographics)] {
        for (index, part) in bytes.chunks(PART_BYTES).enumerate() {
            let compressed = gzip(part)
                .await
                .map_err(|e| format!("Could not compress the records: {}", describe(&e)))?;
            let url = format!(
                "{}/api/uploads/staged/{}/{segment}/{index}",
                request.endpoint, request.staged_id
            );
            put_part(&request, &url, compressed.unchecked_ref()).await?;
            sent += part.len() as u64;
            post(&FromWorker::SendProgress { sent, total }, None);
        }
    }
    post(
        &FromWorker::Sent {
            users_bytes: users.len() as u64,
            demographics_bytes: demographics.len() as u64,
        },
        None,
    );
    Ok(())
}

async fn put_part(request: &SendRequest, url: &str, body: &Uint8Array) -> Result<(), String> {
    let headers = Headers::new().map_err(|e| describe(&e))?;
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|e| describe(&e));
    set("Content-Type", "text/csv; charset=utf-8")?;
    set("Content-Encoding", "gzip")?;
    if let Some(token) = &request.csrf_token {
        set("X-CSRF-Token", token)?;
    }
    if let Some(token) = &request.bearer_token {
        set("Authorization", &format!("Bearer {token}"))?;
    }
    let init = RequestInit::new();
    init.set_method("PUT");
    init.set_headers(&headers);
    init.set_body(body);
    let http = Request::new_with_str_and_init(url, &init).map_err(|e| describe(&e))?;
    let answer = JsFuture::from(scope().fetch_with_request(&http))
        .await
        .map_err(|e| format!("Could not reach the server: {}", describe(&e)))?;
    let response: Response = answer.unchecked_into();
    if response.ok() {
        return Ok(());
    }
    Err(crate::api::error_message(&response).await)
}
