//! Fixing in the worker: reading the files into memory once, the page's
//! edits, checking the edited files (after every edit for files up to
//! `AUTO_CHECK_ROWS`, else when asked), the rows in view and the corrected
//! download. Nothing here leaves the browser.

use std::rc::Rc;

use js_sys::Uint8Array;
use shared::{FileKind, Validator};
use web_sys::{File, TextDecoder};

use super::{csv_blob, options, post, read_in_pieces, tell_header, Fixing, LAST_RUN};
use crate::fixing::{Checked, Document, Source, View};
use crate::protocol::{FromWorker, GridRows, RowFilter, Summary, ToWorker};

/// Text of a row that is not UTF-8, read as Windows-1252 (as the validator
/// reads it), for a file written as UTF-8.
fn decode_1252(bytes: &[u8]) -> String {
    TextDecoder::new_with_label("windows-1252")
        .and_then(|decoder| decoder.decode_with_u8_array(bytes))
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

/// A file's bytes, UTF-16 decoded to UTF-8 (and whether it was UTF-16).
async fn load(file: &File) -> Result<(Vec<u8>, bool), String> {
    let mut bytes = Vec::with_capacity(file.size() as usize);
    read_in_pieces(file, |piece, _| bytes.extend_from_slice(piece)).await?;
    let utf16 = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => Some("utf-16le"),
        Some([0xFE, 0xFF]) => Some("utf-16be"),
        _ => None,
    };
    let Some(label) = utf16 else {
        return Ok((bytes, false));
    };
    let text = TextDecoder::new_with_label(label)
        .and_then(|decoder| decoder.decode_with_u8_array(&bytes))
        .map_err(|_| format!("Could not read {} as {label}.", file.name()))?;
    Ok((text.into_bytes(), true))
}

/// Reads the files last checked into memory and opens them for fixing.
async fn start(file: FileKind) -> Result<(), String> {
    let opened = LAST_RUN.with(|last| {
        let mut last = last.borrow_mut();
        let Some(fixing) = last.fixing.as_mut() else {
            return false;
        };
        // Open already: the grid shows another file.
        fixing.view = View::new(&fixing.document, &fixing.checked, file, RowFilter::Errors);
        true
    });
    if !opened {
        let (users, demographics, validated) = LAST_RUN.with(|last| {
            let last = last.borrow();
            (
                last.users.clone(),
                last.demographics.clone(),
                last.validated.clone(),
            )
        });
        let (Some(users), Some(validated)) = (users, validated) else {
            return Err("Check a file first: there is nothing to fix.".into());
        };
        let mut sources = Vec::new();
        for (kind, chosen) in [
            (FileKind::Users, Some(users)),
            (FileKind::Demographics, demographics),
        ] {
            if let Some(chosen) = chosen {
                let (bytes, utf16) = load(&chosen).await?;
                sources.push(Source::new(kind, bytes, utf16));
            }
        }
        let document = Document::new(sources);
        // The last check is of the files as chosen: it is revision 0's.
        let checked = Checked::new(&document, validated);
        let view = View::new(&document, &checked, file, RowFilter::Errors);
        LAST_RUN.with(|last| {
            last.borrow_mut().fixing = Some(Fixing {
                document,
                checked,
                view,
            })
        });
    }
    // Nothing to show among the rows with errors (a refused header):
    // every row.
    with_fixing(|fixing| {
        if fixing.view.rows.is_empty() {
            fixing.view = View::new(&fixing.document, &fixing.checked, file, RowFilter::All);
        }
    });
    post_grid(None);
    Ok(())
}

fn with_fixing<R>(f: impl FnOnce(&mut Fixing) -> R) -> Option<R> {
    LAST_RUN.with(|last| last.borrow_mut().fixing.as_mut().map(f))
}

fn post_grid(last_change: Option<String>) {
    let state = with_fixing(|fixing| {
        fixing
            .document
            .grid_state(&fixing.view, &fixing.checked, last_change)
    });
    if let Some(state) = state {
        post(&FromWorker::Grid(Box::new(state)), None);
    }
}

/// Rows that undoing or discarding brought back come back into view.
fn restore_into_view(fixing: &mut Fixing, deleted_before: &[crate::protocol::RowId]) {
    let file = fixing.view.file;
    let rows = &mut fixing.view.rows;
    let back: Vec<_> = deleted_before
        .iter()
        .filter(|id| !fixing.document.is_deleted(file, **id))
        .collect();
    if back.is_empty() {
        return;
    }
    rows.extend(back);
    rows.sort_unstable();
    rows.dedup();
}

/// Undo, redo or discard, keeping the view (but for rows brought back).
fn step_back_or_forth(message: &ToWorker) -> Option<String> {
    with_fixing(|fixing| {
        let file = fixing.view.file;
        let deleted = fixing.document.deleted(file).to_vec();
        let what = match message {
            ToWorker::Undo => fixing.document.undo(),
            ToWorker::Redo => fixing.document.redo(),
            _ => {
                fixing.document.discard();
                Some("Edits discarded: the files are as chosen.".to_string())
            }
        };
        fixing.view.drop_deleted(&fixing.document);
        restore_into_view(fixing, &deleted);
        what
    })
    .flatten()
}

pub async fn handle(message: ToWorker) -> Result<(), String> {
    match message {
        ToWorker::StartFixing { file } => return start(file).await,
        ToWorker::Edit { file, request } => {
            let what = with_fixing(|fixing| {
                let change = fixing.document.resolve(file, &request, &fixing.checked);
                let what = if change.size() == 0 {
                    "Nothing to change.".to_string()
                } else {
                    change.describe()
                };
                if fixing.document.apply(file, change) {
                    fixing.view.drop_deleted(&fixing.document);
                }
                what
            })
            .ok_or("Open the files for fixing first.")?;
            post_grid(Some(what));
        }
        ToWorker::Preview { id, file, request } => {
            let count = with_fixing(|fixing| {
                fixing
                    .document
                    .resolve(file, &request, &fixing.checked)
                    .size() as u64
            });
            post(
                &FromWorker::Preview {
                    id,
                    count: count.unwrap_or(0),
                },
                None,
            );
        }
        ToWorker::Undo | ToWorker::Redo | ToWorker::Discard => {
            let what = step_back_or_forth(&message);
            post_grid(what);
        }
        ToWorker::CheckAgain => {
            check();
        }
        ToWorker::ShowRows { file, filter } => {
            with_fixing(|fixing| {
                fixing.view = View::new(&fixing.document, &fixing.checked, file, filter);
            });
            post_grid(None);
        }
        ToWorker::Rows { start, end } => {
            let rows = with_fixing(|fixing| GridRows {
                start,
                revision: fixing.document.revision,
                rows: fixing
                    .document
                    .grid_rows(&fixing.view, &fixing.checked, start, end),
            });
            if let Some(rows) = rows {
                post(&FromWorker::Rows(rows), None);
            }
        }
        ToWorker::Corrected { file } => {
            let parts = js_sys::Array::new();
            if !write_edited(file, &mut |piece| {
                parts.push(&Uint8Array::from(piece));
            }) {
                return Err("Open the files for fixing first.".into());
            }
            post(&FromWorker::Corrected { file }, Some(&csv_blob(&parts)?));
        }
        ToWorker::Validate { .. } | ToWorker::ErrorsCsv { .. } | ToWorker::Send(_) => {}
    }
    Ok(())
}

/// Streams the file as edited to `out`; false when nothing is being fixed.
pub fn write_edited(file: FileKind, out: &mut dyn FnMut(&[u8])) -> bool {
    LAST_RUN.with(|last| {
        let last = last.borrow();
        let Some(fixing) = &last.fixing else {
            return false;
        };
        fixing.document.write(file, &decode_1252, out);
        true
    })
}

/// Checks the edited files if an edit is not checked yet and the files
/// are checked after every edit; whether it checked.
pub fn check_if_due() -> bool {
    let due = with_fixing(|fixing| {
        let state = &fixing.document;
        state.revision != fixing.checked.revision
            && state.data_rows_total() <= crate::protocol::AUTO_CHECK_ROWS
    });
    if due == Some(true) {
        check();
        true
    } else {
        false
    }
}

/// Checks the edited files if an edit is not checked yet (before the
/// errors CSV or sending, which must be of the files as edited).
pub fn check_if_stale() {
    if with_fixing(|f| f.document.revision != f.checked.revision) == Some(true) {
        check();
    }
}

/// Validates the files as edited, from their first byte: the page gets the
/// header verdicts, the summary and the grid's new marks.
fn check() {
    let started = js_sys::Date::now();
    let outcome = LAST_RUN.with(|last| {
        let mut last = last.borrow_mut();
        let known = last.known_school_ids.clone();
        let fixing = last.fixing.as_mut()?;
        let document = &fixing.document;
        post(
            &FromWorker::Checking {
                revision: document.revision,
            },
            None,
        );
        let mut validator = Validator::new(options(known));
        for file in document.files() {
            let mut told = false;
            document.write(file, &decode_1252, &mut |piece| {
                validator.push(file, piece);
                if !told {
                    told = tell_header(&validator, file);
                }
            });
            if !told {
                validator.push(file, &[]);
                tell_header(&validator, file);
            }
        }
        let validated = Rc::new(validator.finish());
        fixing.checked = Checked::new(document, validated.clone());
        last.validated = Some(validated.clone());
        Some(validated)
    });
    let Some(validated) = outcome else {
        return;
    };
    let summary = Summary::new(&validated.report, js_sys::Date::now() - started);
    post(&FromWorker::Done(Box::new(summary)), None);
    post_grid(None);
}
