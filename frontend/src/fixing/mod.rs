//! The files being fixed, in the worker: each file's bytes as chosen, where
//! its rows lie (`shared::rows`), and the edits, as a list of undoable
//! steps over them. The edited file is never stored whole: `write` streams
//! it, copying every row nobody edited byte for byte, to the validator, to
//! the errors CSV and to the corrected download alike, so what the page
//! counts is what the download holds.
//!
//! Pure: no browser APIs, so its tests run anywhere.

mod resolve;
mod view;

use rustc_hash::{FxHashMap, FxHashSet};
use shared::csv_out::BOM;
use shared::rows::{line_break, read_row, split_rows, unguarded, write_values, RowSpans};
use shared::FileKind;

use crate::protocol::RowId;

pub use view::{Checked, View};

/// One file as chosen.
pub struct Source {
    pub file: FileKind,
    bytes: Vec<u8>,
    spans: RowSpans,
    /// The header's record: the first that is not blank.
    header: Option<usize>,
    /// The header's cells, trimmed.
    names: Vec<String>,
    /// Not UTF-8 as chosen (UTF-16, or rows in Windows-1252): written as
    /// UTF-8 with a BOM.
    transcode: bool,
}

impl Source {
    /// `bytes` are UTF-8 or Windows-1252 in places (a UTF-16 file is
    /// decoded first, and says so with `was_utf16`).
    pub fn new(file: FileKind, bytes: Vec<u8>, was_utf16: bool) -> Source {
        let spans = split_rows(&bytes);
        let transcode = was_utf16 || std::str::from_utf8(&bytes).is_err();
        let mut source = Source {
            file,
            bytes,
            spans,
            header: None,
            names: Vec::new(),
            transcode,
        };
        for index in 0..source.spans.len() {
            let row = read_row(source.raw(index));
            if !row.blank {
                source.header = Some(index);
                source.names = row
                    .cells
                    .iter()
                    .map(|c| c.trim().trim_start_matches('\u{FEFF}').trim().to_string())
                    .collect();
                break;
            }
        }
        source
    }

    fn raw(&self, index: usize) -> &[u8] {
        &self.bytes[self.spans.span(index)]
    }

    /// Records in the file, the header's included.
    pub fn records(&self) -> usize {
        self.spans.len()
    }

    /// The first data row's record.
    fn first_data(&self) -> usize {
        self.header.map_or(self.records(), |h| h + 1)
    }

    /// A row's values as chosen (without the formula guard).
    fn values(&self, id: RowId) -> Vec<String> {
        read_row(self.raw(id as usize))
            .cells
            .iter()
            .map(|c| unguarded(c).to_string())
            .collect()
    }

    /// Whether a row's bytes can hold `text` only as written (a quick test
    /// before reading the row; false when the text may be escaped).
    fn may_contain(&self, id: RowId, text: &str) -> bool {
        if self.transcode || text.contains('"') || text.is_empty() {
            return true;
        }
        memchr::memmem::find(self.raw(id as usize), text.as_bytes()).is_some()
    }
}

/// One undoable step's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New values: (row, column's position, value).
    Cells(Vec<(RowId, usize, String)>),
    Delete(Vec<RowId>),
    Rename {
        column: usize,
        to: String,
    },
    Remove {
        column: usize,
    },
}

impl Change {
    /// How many cells (rows, for a deletion) it changes.
    pub fn size(&self) -> usize {
        match self {
            Change::Cells(cells) => cells.len(),
            Change::Delete(rows) => rows.len(),
            Change::Rename { .. } | Change::Remove { .. } => 1,
        }
    }

    /// What it did, for people.
    pub fn describe(&self) -> String {
        let n = self.size() as u64;
        match self {
            Change::Cells(_) => crate::format::plural(n, "cell changed", "cells changed"),
            Change::Delete(_) => crate::format::plural(n, "row deleted", "rows deleted"),
            Change::Rename { to, .. } => format!("Column renamed to {to}"),
            Change::Remove { .. } => "Column removed".to_string(),
        }
    }
}

struct Step {
    file: FileKind,
    change: Change,
}

/// A file's edits, as the steps so far leave it.
#[derive(Clone, Default)]
struct FileEdits {
    /// Every value of each edited row, by column position.
    rows: FxHashMap<RowId, Vec<String>>,
    /// Deleted rows, in order.
    deleted: Vec<RowId>,
    /// The header now, by column position.
    names: Vec<String>,
    removed: Vec<bool>,
}

impl FileEdits {
    fn of(source: &Source) -> Self {
        FileEdits {
            rows: FxHashMap::default(),
            deleted: Vec::new(),
            names: source.names.clone(),
            removed: vec![false; source.names.len()],
        }
    }

    fn is_deleted(&self, id: RowId) -> bool {
        self.deleted.binary_search(&id).is_ok()
    }
}

/// The files and their edits.
pub struct Document {
    sources: Vec<Source>,
    edits: Vec<FileEdits>,
    history: Vec<Step>,
    undone: Vec<Step>,
    /// Moves on with every change, undo, redo and discard.
    pub revision: u64,
}

impl Document {
    pub fn new(sources: Vec<Source>) -> Self {
        let edits = sources.iter().map(FileEdits::of).collect();
        Document {
            sources,
            edits,
            history: Vec::new(),
            undone: Vec::new(),
            revision: 0,
        }
    }

    pub fn files(&self) -> Vec<FileKind> {
        self.sources.iter().map(|s| s.file).collect()
    }

    fn index(&self, file: FileKind) -> Option<usize> {
        self.sources.iter().position(|s| s.file == file)
    }

    fn parts(&self, file: FileKind) -> Option<(&Source, &FileEdits)> {
        let i = self.index(file)?;
        Some((&self.sources[i], &self.edits[i]))
    }

    /// Data rows of all files.
    pub fn data_rows_total(&self) -> u64 {
        self.sources
            .iter()
            .map(|s| s.records().saturating_sub(s.first_data()) as u64)
            .sum()
    }

    pub fn undo_steps(&self) -> usize {
        self.history.len()
    }

    pub fn redo_steps(&self) -> usize {
        self.undone.len()
    }

    /// A row's values now (edited or as chosen).
    pub fn values(&self, file: FileKind, id: RowId) -> Vec<String> {
        let Some((source, edits)) = self.parts(file) else {
            return Vec::new();
        };
        edits
            .rows
            .get(&id)
            .cloned()
            .unwrap_or_else(|| source.values(id))
    }

    /// One cell's value now.
    pub fn value(&self, file: FileKind, id: RowId, column: usize) -> String {
        let Some((source, edits)) = self.parts(file) else {
            return String::new();
        };
        match edits.rows.get(&id) {
            Some(values) => values.get(column).cloned().unwrap_or_default(),
            None => source
                .values(id)
                .into_iter()
                .nth(column)
                .unwrap_or_default(),
        }
    }

    pub fn is_edited(&self, file: FileKind, id: RowId) -> bool {
        self.parts(file)
            .is_some_and(|(_, edits)| edits.rows.contains_key(&id))
    }

    /// The deleted rows of a file, in order.
    pub fn deleted(&self, file: FileKind) -> &[RowId] {
        self.parts(file).map_or(&[], |(_, e)| &e.deleted)
    }

    pub fn is_deleted(&self, file: FileKind, id: RowId) -> bool {
        self.parts(file)
            .is_some_and(|(_, edits)| edits.is_deleted(id))
    }

    /// The data rows not deleted, in order.
    pub fn data_rows(&self, file: FileKind) -> Vec<RowId> {
        let Some((source, edits)) = self.parts(file) else {
            return Vec::new();
        };
        (source.first_data()..source.records())
            .map(|i| i as RowId)
            .filter(|id| !edits.is_deleted(*id))
            .collect()
    }

    /// A row's number in the file as edited (the first line is row 1).
    pub fn row_number(&self, file: FileKind, id: RowId) -> u64 {
        let deleted_before = self
            .parts(file)
            .map_or(0, |(_, e)| e.deleted.partition_point(|d| *d < id));
        u64::from(id) + 1 - deleted_before as u64
    }

    /// The header now: (position, name) of each column not removed.
    pub fn columns(&self, file: FileKind) -> Vec<(usize, String)> {
        let Some((_, edits)) = self.parts(file) else {
            return Vec::new();
        };
        edits
            .names
            .iter()
            .enumerate()
            .filter(|(i, _)| !edits.removed[*i])
            .map(|(i, name)| (i, name.clone()))
            .collect()
    }

    /// Whether a row may hold `text` (see `Source::may_contain`); an
    /// edited row is always read.
    fn may_contain(&self, file: FileKind, id: RowId, text: &str) -> bool {
        self.parts(file).is_some_and(|(source, edits)| {
            edits.rows.contains_key(&id) || source.may_contain(id, text)
        })
    }

    /// Makes `change` one undoable step; nothing when it changes nothing.
    pub fn apply(&mut self, file: FileKind, change: Change) -> bool {
        if change.size() == 0 || self.index(file).is_none() {
            return false;
        }
        self.apply_step(&Step {
            file,
            change: change.clone(),
        });
        self.history.push(Step { file, change });
        self.undone.clear();
        self.revision += 1;
        true
    }

    fn apply_step(&mut self, step: &Step) {
        let Some(i) = self.index(step.file) else {
            return;
        };
        match &step.change {
            Change::Cells(cells) => {
                for (id, column, value) in cells {
                    if !self.edits[i].rows.contains_key(id) {
                        let values = self.sources[i].values(*id);
                        self.edits[i].rows.insert(*id, values);
                    }
                    let width = self.edits[i].names.len().max(column + 1);
                    if let Some(row) = self.edits[i].rows.get_mut(id) {
                        if row.len() < width {
                            row.resize(width, String::new());
                        }
                        row[*column] = value.clone();
                    }
                }
            }
            Change::Delete(rows) => {
                let deleted = &mut self.edits[i].deleted;
                deleted.extend(rows);
                deleted.sort_unstable();
                deleted.dedup();
            }
            Change::Rename { column, to } => {
                if let Some(name) = self.edits[i].names.get_mut(*column) {
                    name.clone_from(to);
                }
            }
            Change::Remove { column } => {
                if let Some(removed) = self.edits[i].removed.get_mut(*column) {
                    *removed = true;
                }
            }
        }
    }

    /// The edits of the steps still in the history, from the files as chosen.
    fn replay(&mut self) {
        self.edits = self.sources.iter().map(FileEdits::of).collect();
        let history = std::mem::take(&mut self.history);
        for step in &history {
            self.apply_step(step);
        }
        self.history = history;
        self.revision += 1;
    }

    /// Takes back the last step; what it changed.
    pub fn undo(&mut self) -> Option<String> {
        let step = self.history.pop()?;
        let what = step.change.describe();
        self.undone.push(step);
        self.replay();
        Some(format!("Undone: {what}"))
    }

    /// Makes the last undone step again.
    pub fn redo(&mut self) -> Option<String> {
        let step = self.undone.pop()?;
        self.apply_step(&step);
        let what = step.change.describe();
        self.history.push(step);
        self.revision += 1;
        Some(format!("Redone: {what}"))
    }

    /// Back to the files as chosen; the undo list is emptied.
    pub fn discard(&mut self) {
        self.history.clear();
        self.undone.clear();
        self.replay();
    }

    /// Streams the file as edited to `out`: unedited rows byte for byte,
    /// edited ones (and every row, once a column is removed) written for a
    /// person. `decode_1252` turns a row that is not UTF-8 into text, for a
    /// file written as UTF-8.
    pub fn write(
        &self,
        file: FileKind,
        decode_1252: &dyn Fn(&[u8]) -> String,
        out: &mut dyn FnMut(&[u8]),
    ) {
        let Some((source, edits)) = self.parts(file) else {
            return;
        };
        let mut writer = Writer::new(source, out);
        if source.transcode || source.spans.bom_len() > 0 {
            writer.buffer.extend_from_slice(BOM);
        }
        let reshaped = edits.removed.iter().any(|r| *r);
        let renamed = edits.names != source.names;
        let deleted: FxHashSet<RowId> = edits.deleted.iter().copied().collect();
        let kept = |values: &[String]| -> Vec<String> {
            values
                .iter()
                .enumerate()
                .filter(|(i, _)| !edits.removed.get(*i).copied().unwrap_or(false))
                .map(|(_, v)| v.clone())
                .collect()
        };
        for index in 0..source.records() {
            let id = index as RowId;
            let header = Some(index) == source.header;
            let values = if header && (renamed || reshaped) {
                Some(kept(&edits.names))
            } else if index < source.first_data() {
                None
            } else if deleted.contains(&id) {
                writer.skip(index);
                continue;
            } else if let Some(values) = edits.rows.get(&id) {
                Some(kept(values))
            } else if reshaped {
                Some(kept(&source.values(id)))
            } else {
                None
            };
            match values {
                Some(values) => writer.values(index, &values),
                None => writer.raw(index, decode_1252),
            }
        }
        writer.finish();
    }
}

/// Hands the edited file out in pieces of about a mebibyte; runs of
/// unedited rows go out as one slice of the original.
struct Writer<'a> {
    source: &'a Source,
    out: &'a mut dyn FnMut(&[u8]),
    buffer: Vec<u8>,
    /// Records `run..` not written yet, all unedited.
    run: Option<usize>,
}

const PIECE_BYTES: usize = 1 << 20;

impl<'a> Writer<'a> {
    fn new(source: &'a Source, out: &'a mut dyn FnMut(&[u8])) -> Self {
        Writer {
            source,
            out,
            buffer: Vec::with_capacity(PIECE_BYTES + 4096),
            run: None,
        }
    }

    /// Sends the run of unedited rows before `index`.
    fn end_run(&mut self, index: usize) {
        if let Some(start) = self.run.take() {
            let bytes = &self.source.bytes;
            let range = self.source.spans.span(start).start..self.source.spans.span(index - 1).end;
            if !self.buffer.is_empty() {
                (self.out)(&self.buffer);
                self.buffer.clear();
            }
            (self.out)(&bytes[range]);
        }
    }

    fn flush_if_full(&mut self) {
        if self.buffer.len() >= PIECE_BYTES {
            (self.out)(&self.buffer);
            self.buffer.clear();
        }
    }

    fn skip(&mut self, index: usize) {
        self.end_run(index);
    }

    fn raw(&mut self, index: usize, decode_1252: &dyn Fn(&[u8]) -> String) {
        let raw = self.source.raw(index);
        if !self.source.transcode {
            self.run.get_or_insert(index);
            return;
        }
        self.end_run(index);
        match std::str::from_utf8(raw) {
            Ok(_) => self.buffer.extend_from_slice(raw),
            Err(_) => self.buffer.extend_from_slice(decode_1252(raw).as_bytes()),
        }
        self.flush_if_full();
    }

    fn values(&mut self, index: usize, values: &[String]) {
        self.end_run(index);
        let ending = line_break(self.source.raw(index));
        write_values(&mut self.buffer, values.iter().map(String::as_str), ending);
        self.flush_if_full();
    }

    fn finish(mut self) {
        let records = self.source.records();
        self.end_run(records);
        if !self.buffer.is_empty() {
            (self.out)(&self.buffer);
        }
    }
}

#[cfg(test)]
mod tests;
