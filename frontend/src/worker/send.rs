//! Sending the clean records to a staged upload: the normalized users.csv
//! and demographics.csv that `shared::export` writes, in gzip parts of
//! [`PART_BYTES`]. A lost connection or a 5xx is tried again after each of
//! `api::RETRY_WAITS_MS`, going on from the part the server says it needs
//! next (`GET /api/uploads/staged/{id}`), so no stored part is sent twice;
//! when the waits run out the page offers "Retry", which does the same.

use std::rc::Rc;

use js_sys::Uint8Array;
use shared::api::{Received, Standing, UploadState};
use shared::csv_out::Audience;
use shared::export::{demographics_csv, users_csv};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Headers, Request, RequestInit};

use super::{describe, edit, post, LAST_RUN};
use crate::api::{self, ApiFailure, Target, RETRY_WAITS_MS};
use crate::protocol::{FromWorker, SendRequest, PART_BYTES};

#[wasm_bindgen(inline_js = "export function start_gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer().then((buffer) => new Uint8Array(buffer));
}")]
extern "C" {
    /// The browser's own gzip (CompressionStream), so the wasm stays small.
    /// It starts at once (the bytes are copied before it returns) and the
    /// promise gives the compressed bytes.
    fn start_gzip(bytes: &[u8]) -> js_sys::Promise;
}

/// The compressed bytes of a part whose gzip was started.
async fn compressed(gzip: js_sys::Promise) -> Result<Uint8Array, ApiFailure> {
    wasm_bindgen_futures::JsFuture::from(gzip)
        .await
        .map(JsCast::unchecked_into)
        .map_err(|e| ApiFailure {
            status: 400,
            code: "gzip".into(),
            message: format!("Could not compress the records: {}", describe(&e)),
            body: None,
        })
}

/// Why sending stopped, and whether "Retry" can go on.
struct Stopped {
    message: String,
    resumable: bool,
}

impl From<ApiFailure> for Stopped {
    fn from(failure: ApiFailure) -> Self {
        Stopped {
            resumable: failure.is_transient(),
            message: failure.message,
        }
    }
}

/// Sends the records of the last check, and tells the page how it went.
pub async fn send(request: SendRequest) {
    let message = match send_parts(&request).await {
        Ok((users_bytes, demographics_bytes)) => FromWorker::Sent {
            users_bytes,
            demographics_bytes,
        },
        Err(stopped) => FromWorker::Failed {
            message: stopped.message,
            resumable: stopped.resumable,
        },
    };
    post(&message, None);
}

fn target(request: &SendRequest) -> Target {
    Target {
        endpoint: request.endpoint.clone(),
        upload_session: request.bearer_token.clone(),
    }
}

/// The parts the server has of each file (none, for a new upload).
async fn ask_standing(request: &SendRequest) -> Result<Option<Standing>, ApiFailure> {
    let path = format!("/api/uploads/staged/{}", request.staged_id);
    api::request_retrying::<Standing>(&target(request), "GET", &path, None::<&()>)
        .await
        .map(Some)
}

fn next_part(standing: &Standing, segment: &str) -> usize {
    let received: Received = match segment {
        "users" => standing.users,
        _ => standing.demographics,
    };
    received.next_part as usize
}

async fn send_parts(request: &SendRequest) -> Result<(u64, u64), Stopped> {
    // The records sent are those of the files as edited, checked.
    edit::check_if_stale();
    let (users, demographics) = LAST_RUN.with(|last| {
        let mut last = last.borrow_mut();
        let validated = last.validated.clone().ok_or(Stopped {
            message: "Check a file first: there are no records to send.".into(),
            resumable: false,
        })?;
        // A retry sends the rest of the same records, or nothing: parts of
        // two checks would not fit together.
        let same = last
            .sending
            .as_ref()
            .is_some_and(|(id, sent)| *id == request.staged_id && Rc::ptr_eq(sent, &validated));
        if request.resume && !same {
            return Err(Stopped {
                message: "The files changed since this upload started (an edit was checked), \
                          so the parts already sent no longer fit. Process the files again."
                    .into(),
                resumable: false,
            });
        }
        last.sending = Some((request.staged_id.clone(), validated.clone()));
        let records = &validated.records;
        let demographics = if records.demographics.is_empty() {
            Vec::new()
        } else {
            demographics_csv(records, Audience::Program)
        };
        Ok::<_, Stopped>((users_csv(records, Audience::Program), demographics))
    })?;
    let sizes = (users.len() as u64, demographics.len() as u64);
    let mut standing = if request.resume {
        ask_standing(request).await?
    } else {
        None
    };
    if standing
        .as_ref()
        .is_some_and(|s| s.state != UploadState::Receiving)
    {
        return Ok(sizes); // every part is in: the upload was previewed
    }
    let total = sizes.0 + sizes.1;
    for (segment, bytes) in [("users", &users), ("demographics", &demographics)] {
        let parts: Vec<&[u8]> = bytes.chunks(PART_BYTES).collect();
        let mut index = standing.as_ref().map_or(0, |s| next_part(s, segment));
        let mut waits = RETRY_WAITS_MS.iter();
        // The next part is compressed while this one is sent and stored.
        let mut ahead: Option<(usize, js_sys::Promise)> = None;
        while index < parts.len() {
            let gzip = match ahead.take() {
                Some((prepared, gzip)) if prepared == index => gzip,
                _ => start_gzip(parts[index]),
            };
            ahead = parts
                .get(index + 1)
                .map(|next| (index + 1, start_gzip(next)));
            let sent = match compressed(gzip).await {
                Ok(body) => put_part(request, segment, index, &body).await,
                Err(failure) => Err(failure),
            };
            match sent {
                Ok(received) => index = received.next_part as usize,
                Err(failure) if failure.is_transient() || failure.code == "part-out-of-order" => {
                    let Some(ms) = waits.next() else {
                        return Err(failure.into());
                    };
                    api::sleep(*ms).await;
                    // The part may be stored though its answer was lost.
                    standing = ask_standing(request).await?;
                    index = standing.as_ref().map_or(index, |s| next_part(s, segment));
                    continue;
                }
                Err(failure) => {
                    return Err(Stopped {
                        message: failure.message,
                        resumable: false,
                    })
                }
            }
            let sent: usize = parts[..index.min(parts.len())]
                .iter()
                .map(|p| p.len())
                .sum();
            let before = if segment == "users" { 0 } else { sizes.0 };
            post(
                &FromWorker::SendProgress {
                    sent: before + sent as u64,
                    total,
                },
                None,
            );
        }
    }
    Ok(sizes)
}

async fn put_part(
    request: &SendRequest,
    segment: &str,
    index: usize,
    compressed: &Uint8Array,
) -> Result<Received, ApiFailure> {
    let url = format!(
        "{}/api/uploads/staged/{}/{segment}/{index}",
        request.endpoint, request.staged_id
    );
    let headers = Headers::new().map_err(api::unreachable)?;
    let set = |name: &str, value: &str| headers.set(name, value).map_err(api::unreachable);
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
    init.set_body(compressed);
    let http = Request::new_with_str_and_init(&url, &init).map_err(api::unreachable)?;
    let response = api::fetch(&http).await?;
    if !response.ok() {
        return Err(api::failure(&response).await);
    }
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(api::unreachable)?)
        .await
        .map_err(api::unreachable)?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| ApiFailure {
        status: response.status(),
        code: "unexpected-answer".into(),
        message: format!("The server's answer was not understood: {e}"),
        body: None,
    })
}
