//! What the grid shows: the last check's findings by row, the rows that
//! match a filter (kept as they were when the filter was applied), and
//! rows in view with their marks.

use std::rc::Rc;

use rustc_hash::FxHashMap;
use shared::fixes::suggested_fix;
use shared::rows::is_identifier_column;
use shared::{FileKind, Finding, Severity, Validated};

use super::Document;
use crate::protocol::{
    CellMark, CodeRows, FixableCount, GridColumn, GridRow, GridState, RowFilter, RowId,
    AUTO_CHECK_ROWS,
};

/// A check of the files at one revision, its findings by row.
pub struct Checked {
    pub revision: u64,
    pub validated: Rc<Validated>,
    /// Per file (in the document's order): row → its findings' indices.
    marks: Vec<(FileKind, FxHashMap<RowId, Vec<u32>>)>,
}

impl Checked {
    /// Findings of `validated`, a check of `document` as it is now, by row.
    pub fn new(document: &Document, validated: Rc<Validated>) -> Self {
        let mut marks = Vec::new();
        for file in document.files() {
            let deleted = document
                .parts(file)
                .map(|(_, e)| e.deleted.clone())
                .unwrap_or_default();
            let mut by_row: FxHashMap<RowId, Vec<u32>> = FxHashMap::default();
            // Findings come in row order: walk the deleted rows alongside
            // to turn row numbers of the edited file into rows.
            let mut skipped = 0;
            for (index, finding) in validated.report.findings.iter().enumerate() {
                let (true, Some(number)) = (finding.file == file, finding.row) else {
                    continue;
                };
                let mut id = number.saturating_sub(1) as usize + skipped;
                while skipped < deleted.len() && deleted[skipped] as usize <= id {
                    skipped += 1;
                    id += 1;
                }
                by_row.entry(id as RowId).or_default().push(index as u32);
            }
            marks.push((file, by_row));
        }
        Checked {
            revision: document.revision,
            validated,
            marks,
        }
    }

    fn marks(&self, file: FileKind) -> Option<&FxHashMap<RowId, Vec<u32>>> {
        self.marks.iter().find(|(f, _)| *f == file).map(|(_, m)| m)
    }

    /// Every finding on a row of `file`, with its row.
    pub fn row_findings(&self, file: FileKind) -> Vec<(RowId, &Finding)> {
        let findings = &self.validated.report.findings;
        let mut out: Vec<(RowId, &Finding)> = self
            .marks(file)
            .into_iter()
            .flatten()
            .flat_map(|(id, indices)| indices.iter().map(|i| (*id, &findings[*i as usize])))
            .collect();
        out.sort_by_key(|(id, _)| *id);
        out
    }

    fn findings_of(&self, file: FileKind, id: RowId) -> impl Iterator<Item = &Finding> {
        let findings = &self.validated.report.findings;
        self.marks(file)
            .and_then(|m| m.get(&id))
            .into_iter()
            .flatten()
            .map(|i| &findings[*i as usize])
    }
}

/// The rows the grid shows, as they matched the filter when applied.
pub struct View {
    pub file: FileKind,
    pub filter: RowFilter,
    pub rows: Vec<RowId>,
}

impl View {
    /// The rows of `file` that match `filter` in the last check.
    pub fn new(document: &Document, checked: &Checked, file: FileKind, filter: RowFilter) -> Self {
        let rows = match &filter {
            RowFilter::All => document.data_rows(file),
            RowFilter::Errors | RowFilter::Code(_) => {
                let matches = |f: &Finding| match &filter {
                    RowFilter::Code(code) => f.code.as_str() == code,
                    _ => f.severity == Severity::Error,
                };
                let mut rows: Vec<RowId> = checked
                    .marks(file)
                    .into_iter()
                    .flatten()
                    .filter(|(id, _)| !document.is_deleted(file, **id))
                    .filter(|(id, _)| checked.findings_of(file, **id).any(matches))
                    .map(|(id, _)| *id)
                    .collect();
                rows.sort_unstable();
                rows
            }
        };
        View { file, filter, rows }
    }

    /// Deleted rows leave the view at once.
    pub fn drop_deleted(&mut self, document: &Document) {
        self.rows.retain(|id| !document.is_deleted(self.file, *id));
    }
}

impl Document {
    /// Where fixing stands, for the page.
    pub fn grid_state(&self, view: &View, checked: &Checked, last: Option<String>) -> GridState {
        let file = view.file;
        let columns: Vec<GridColumn> = self
            .columns(file)
            .into_iter()
            .map(|(position, name)| GridColumn {
                identifier: is_identifier_column(file, &name),
                position,
                name,
            })
            .collect();
        let position_of = |name: Option<&str>| {
            columns
                .iter()
                .find(|c| Some(c.name.as_str()) == name)
                .map(|c| c.position)
        };
        let mut fixable: FxHashMap<(&str, usize), u64> = FxHashMap::default();
        let mut codes: FxHashMap<&str, u64> = FxHashMap::default();
        let mut last_row = None;
        let mut row_codes: Vec<&str> = Vec::new();
        for (id, finding) in checked.row_findings(file) {
            if last_row != Some(id) {
                row_codes.clear();
                last_row = Some(id);
            }
            if !row_codes.contains(&finding.code.as_str()) {
                row_codes.push(finding.code.as_str());
                *codes.entry(finding.code.as_str()).or_default() += 1;
            }
            if let Some(column) = position_of(finding.column.as_deref()) {
                if suggested_fix(finding).is_some() && !self.is_deleted(file, id) {
                    *fixable.entry((finding.code.as_str(), column)).or_default() += 1;
                }
            }
        }
        let mut fixable: Vec<FixableCount> = fixable
            .into_iter()
            .map(|((code, column), count)| FixableCount {
                code: code.to_string(),
                column,
                count,
            })
            .collect();
        fixable.sort_by(|a, b| (&a.code, a.column).cmp(&(&b.code, b.column)));
        let mut codes: Vec<CodeRows> = codes
            .into_iter()
            .map(|(code, rows)| CodeRows {
                code: code.to_string(),
                rows,
            })
            .collect();
        codes.sort_by(|a, b| a.code.cmp(&b.code));
        GridState {
            file,
            files: self.files(),
            columns,
            filter: view.filter.clone(),
            view_len: view.rows.len(),
            revision: self.revision,
            checked_revision: checked.revision,
            undo_steps: self.undo_steps(),
            redo_steps: self.redo_steps(),
            auto_check: self.data_rows_total() <= AUTO_CHECK_ROWS,
            fixable,
            codes,
            last_change: last,
        }
    }

    /// Rows `start..end` of the view, with their values and marks.
    pub fn grid_rows(
        &self,
        view: &View,
        checked: &Checked,
        start: usize,
        end: usize,
    ) -> Vec<GridRow> {
        let file = view.file;
        let columns = self.columns(file);
        let position_of = |name: Option<&str>| {
            columns
                .iter()
                .find(|(_, n)| Some(n.as_str()) == name)
                .map(|(p, _)| *p)
        };
        let end = end.min(view.rows.len());
        view.rows[start.min(end)..end]
            .iter()
            .map(|&id| {
                let values = self.values(file, id);
                GridRow {
                    id,
                    number: self.row_number(file, id),
                    cells: columns
                        .iter()
                        .map(|(p, _)| values.get(*p).cloned().unwrap_or_default())
                        .collect(),
                    edited: self.is_edited(file, id),
                    marks: checked
                        .findings_of(file, id)
                        .map(|f| CellMark {
                            column: position_of(f.column.as_deref()),
                            code: f.code.as_str().to_string(),
                            severity: f.severity.as_str().to_string(),
                            message: f.message(),
                            how_to_fix: f.how_to_fix(),
                            fix: suggested_fix(f).map(|fix| fix.value),
                        })
                        .collect(),
                }
            })
            .collect()
    }
}
