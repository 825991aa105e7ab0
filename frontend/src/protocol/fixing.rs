//! The messages of "Fix in browser": the page asks the worker, which holds
//! the files and the list of edits, for the rows in view and for changes;
//! the worker answers with the grid's state, rows and previews. Values
//! from the file travel only between the page and its own worker.

use serde::{Deserialize, Serialize};
use shared::FileKind;

/// A row of a file: its record's index in the file as chosen (0 = the
/// first line). Edits name rows by it, so deleting rows renumbers nothing
/// that an edit or the undo list holds.
pub type RowId = u32;

/// Which rows the grid shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "kebab-case")]
pub enum RowFilter {
    /// Rows with at least one error (the default).
    #[default]
    Errors,
    /// Rows with a finding of this code.
    Code(String),
    /// Every row.
    All,
}

/// One change the page asks for. The worker turns it into cell changes
/// (one undoable step), or, for a preview, counts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EditRequest {
    /// One cell, as typed.
    SetCell {
        row: RowId,
        column: usize,
        value: String,
    },
    /// Find and replace within one column: the text anywhere in a cell, or
    /// (`whole_cell`) only a cell that is exactly that text.
    #[serde(rename_all = "camelCase")]
    ReplaceAll {
        column: usize,
        find: String,
        replace: String,
        whole_cell: bool,
    },
    /// The same value in one column of the selected rows.
    Fill {
        column: usize,
        value: String,
        rows: Vec<RowId>,
    },
    /// Leading zeros back on the numbers of an identifier column, up to
    /// `width` digits.
    LeadingZeros {
        column: usize,
        width: usize,
    },
    DeleteRows {
        rows: Vec<RowId>,
    },
    /// The suggested fix of one finding (`code` in `column`) of one row.
    Fix {
        row: RowId,
        column: usize,
        code: String,
    },
    /// The suggested fix of every finding of `code` in `column`.
    FixAll {
        column: usize,
        code: String,
    },
    /// A header fix: the column headed `from` gets the name `to`.
    RenameColumn {
        from: String,
        to: String,
    },
    /// A header fix: the column headed `name` goes, in every row (of a
    /// duplicated header, the last copy).
    RemoveColumn {
        name: String,
    },
}

/// A column of the file as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridColumn {
    /// Its place in the file as chosen (edits name columns by it).
    pub position: usize,
    /// Its header now.
    pub name: String,
    /// It holds identifiers (leading zeros can be restored).
    pub identifier: bool,
}

/// How many findings of a code in a column have a suggested fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixableCount {
    pub code: String,
    pub column: usize,
    pub count: u64,
}

/// How many rows have findings of a code (for the filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRows {
    pub code: String,
    pub rows: u64,
}

/// Where fixing stands, after every change and every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridState {
    /// The file the grid shows.
    pub file: FileKind,
    /// The files that can be fixed (users.csv, and demographics.csv when
    /// one was checked).
    pub files: Vec<FileKind>,
    pub columns: Vec<GridColumn>,
    pub filter: RowFilter,
    /// Rows in the view: the rows that matched the filter when it was
    /// applied (a fixed row stays until the filter is applied again).
    pub view_len: usize,
    /// Moves on with every change, undo and redo.
    pub revision: u64,
    /// The revision the counts on the page are of.
    pub checked_revision: u64,
    /// Steps that can be undone and redone.
    pub undo_steps: usize,
    pub redo_steps: usize,
    /// Each change is checked at once (files up to `AUTO_CHECK_ROWS`).
    pub auto_check: bool,
    pub fixable: Vec<FixableCount>,
    pub codes: Vec<CodeRows>,
    /// What the last change did, for people ("3 cells changed").
    pub last_change: Option<String>,
}

/// Files with up to this many rows are checked again after every change.
pub const AUTO_CHECK_ROWS: u64 = 200_000;

/// A finding on a row: on one of its cells, or on the whole row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellMark {
    /// The column's place in the file as chosen; none for the whole row.
    pub column: Option<usize>,
    pub code: String,
    pub severity: String,
    pub message: String,
    pub how_to_fix: String,
    /// The suggested fix: the cell's new value.
    pub fix: Option<String>,
}

/// One row in view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridRow {
    pub id: RowId,
    /// Its row number in the file as edited (the header is row 1).
    pub number: u64,
    /// The values, one per column of `GridState::columns`.
    pub cells: Vec<String>,
    pub edited: bool,
    pub marks: Vec<CellMark>,
}

/// Rows `start..` of the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRows {
    pub start: usize,
    pub revision: u64,
    pub rows: Vec<GridRow>,
}
