//! What a change the page asks for comes to: the cells it changes, worked
//! out against the files as they are now (a preview counts them; an edit
//! makes them one step). Suggested fixes come from `shared::fixes`.

use shared::fixes::suggested_fix;
use shared::FileKind;

use super::{Change, Checked, Document};
use crate::protocol::{EditRequest, RowId};

/// A number in an identifier column that lost its leading zeros: the
/// value with zeros up to `width` digits.
fn with_leading_zeros(value: &str, width: usize) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty() && trimmed.len() < width && trimmed.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{trimmed:0>width$}"))
}

/// The cell after find and replace, when it changes.
fn replaced(value: &str, find: &str, replace: &str, whole_cell: bool) -> Option<String> {
    let changed = if whole_cell {
        (value.trim() == find.trim()).then(|| replace.to_string())
    } else if find.is_empty() {
        None
    } else {
        value.contains(find).then(|| value.replace(find, replace))
    };
    changed.filter(|new| new != value)
}

impl Document {
    /// The change `request` comes to now (empty when it changes nothing).
    pub fn resolve(&self, file: FileKind, request: &EditRequest, checked: &Checked) -> Change {
        match request {
            EditRequest::SetCell { row, column, value } => {
                let now = self.value(file, *row, *column);
                Change::Cells(if now == *value {
                    Vec::new()
                } else {
                    vec![(*row, *column, value.clone())]
                })
            }
            EditRequest::ReplaceAll {
                column,
                find,
                replace,
                whole_cell,
            } => {
                // Rows whose bytes cannot hold the text are not read.
                let quick = if *whole_cell {
                    find.trim()
                } else {
                    find.as_str()
                };
                self.each_cell(file, *column, Some(quick), |value| {
                    replaced(value, find, replace, *whole_cell)
                })
            }
            EditRequest::Fill {
                column,
                value,
                rows,
            } => Change::Cells(
                rows.iter()
                    .filter(|id| !self.is_deleted(file, **id))
                    .filter(|id| self.value(file, **id, *column) != *value)
                    .map(|id| (*id, *column, value.clone()))
                    .collect(),
            ),
            EditRequest::LeadingZeros { column, width } => {
                self.each_cell(file, *column, None, |value| {
                    with_leading_zeros(value, *width)
                })
            }
            EditRequest::DeleteRows { rows } => {
                let mut rows: Vec<RowId> = rows
                    .iter()
                    .copied()
                    .filter(|id| !self.is_deleted(file, *id))
                    .collect();
                rows.sort_unstable();
                rows.dedup();
                Change::Delete(rows)
            }
            EditRequest::Fix { row, column, code } => {
                self.fixes(file, checked, code, *column, Some(*row))
            }
            EditRequest::FixAll { column, code } => self.fixes(file, checked, code, *column, None),
            EditRequest::RenameColumn { from, to } => self
                .columns(file)
                .into_iter()
                .find(|(_, name)| name == from)
                .filter(|_| from != to && !to.trim().is_empty())
                .map_or(Change::Cells(Vec::new()), |(column, _)| Change::Rename {
                    column,
                    to: to.trim().to_string(),
                }),
            // A duplicate's later copy goes (the first is the one the
            // validator reads).
            EditRequest::RemoveColumn { name } => self
                .columns(file)
                .into_iter()
                .rev()
                .find(|(_, n)| n == name)
                .map_or(Change::Cells(Vec::new()), |(column, _)| Change::Remove {
                    column,
                }),
        }
    }

    /// The cells of one column that `new` changes, in every row not
    /// deleted; with `quick`, only rows whose bytes may hold that text.
    fn each_cell(
        &self,
        file: FileKind,
        column: usize,
        quick: Option<&str>,
        new: impl Fn(&str) -> Option<String>,
    ) -> Change {
        let mut cells = Vec::new();
        for id in self.data_rows(file) {
            if quick.is_some_and(|text| !self.may_contain(file, id, text)) {
                continue;
            }
            if let Some(value) = new(&self.value(file, id, column)) {
                cells.push((id, column, value));
            }
        }
        Change::Cells(cells)
    }

    /// The suggested fixes of the last check's findings of `code` in
    /// `column` (of one row, or all), where the cell still holds the value
    /// the finding is about.
    fn fixes(
        &self,
        file: FileKind,
        checked: &Checked,
        code: &str,
        column: usize,
        only: Option<RowId>,
    ) -> Change {
        let name = self
            .columns(file)
            .into_iter()
            .find(|(position, _)| *position == column)
            .map(|(_, name)| name);
        let mut cells = Vec::new();
        for (id, finding) in checked.row_findings(file) {
            if only.is_some_and(|row| row != id)
                || finding.code.as_str() != code
                || finding.column.as_deref() != name.as_deref()
                || self.is_deleted(file, id)
            {
                continue;
            }
            let Some(fix) = suggested_fix(finding) else {
                continue;
            };
            let now = self.value(file, id, column);
            if now.trim() == finding.value.as_deref().unwrap_or("").trim() && now != fix.value {
                cells.push((id, column, fix.value));
            }
        }
        cells.sort_by_key(|(id, _, _)| *id);
        cells.dedup_by_key(|(id, _, _)| *id);
        Change::Cells(cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bulk_rules() {
        assert_eq!(with_leading_zeros("1234", 6).as_deref(), Some("001234"));
        assert_eq!(with_leading_zeros("001234", 6), None);
        assert_eq!(with_leading_zeros("12a", 6), None);
        assert_eq!(with_leading_zeros("", 6), None);
        assert_eq!(
            replaced("Grade 5", "Grade ", "", false).as_deref(),
            Some("5")
        );
        assert_eq!(replaced("Grade 5", "Grade", "", true), None);
        assert_eq!(
            replaced("pupil", "pupil", "student", true).as_deref(),
            Some("student")
        );
        assert_eq!(replaced("", "", "x", true).as_deref(), Some("x"));
        assert_eq!(replaced("abc", "", "x", false), None);
    }
}
