//! Reading a users.csv row: the file's columns by position, the trimmed
//! cells of a row, and their casts (the full path), where a cell that
//! repeats the value already accepted for its user, class or school is
//! taken as that value.

use std::borrow::Cow;

use super::entities::{ClassAgg, UserAgg};
use super::text::{same_bytes, TextArena};
use super::FILE;
use crate::cells;
use crate::dictionary::{ColumnSpec, Field};
use crate::header::Layout;
use crate::reader::Record;
use crate::records::{Action, Role};
use crate::report::Finding;

/// Columns of users.csv by position in this file's header.
#[derive(Debug)]
pub(super) struct Positions {
    pub(super) columns: Vec<(Field, usize, &'static ColumnSpec)>,
    /// Indexed by `Field as usize`: looked up several times a row.
    by_field: Vec<Option<(usize, &'static ColumnSpec)>>,
    /// `field_bit`s of the columns a row must have a value in.
    pub(super) required: u32,
    /// `field_bit`s of the file's columns.
    pub(super) present: u32,
}

impl Positions {
    pub(super) fn new(layout: &Layout) -> Self {
        let columns: Vec<_> = layout
            .columns
            .iter()
            .enumerate()
            .map(|(i, spec)| (spec.field, i, *spec))
            .collect();
        let mut by_field = vec![None; crate::dictionary::FIELD_COUNT];
        let mut required = 0;
        let mut present = 0;
        for (field, i, spec) in &columns {
            by_field[*field as usize] = Some((*i, *spec));
            present |= field_bit(*field);
            if spec.value_required {
                required |= field_bit(*field);
            }
        }
        Positions {
            columns,
            by_field,
            required,
            present,
        }
    }

    pub(super) fn get(&self, field: Field) -> Option<(usize, &'static ColumnSpec)> {
        self.by_field[field as usize]
    }
}

/// The cells of one row, cast; `None` where blank, absent or invalid.
#[derive(Debug, Default)]
pub(super) struct Row<'a> {
    pub(super) action: Option<Action>,
    pub(super) school_id: Option<&'a str>,
    pub(super) user_id: Option<&'a str>,
    pub(super) role: Option<Role>,
    pub(super) first_name: Option<&'a str>,
    pub(super) last_name: Option<&'a str>,
    pub(super) email: Option<Cow<'a, str>>,
    pub(super) grade: Option<&'static str>,
    pub(super) district_id: Option<&'a str>,
    pub(super) state_id: Option<&'a str>,
    pub(super) class_id: Option<&'a str>,
    pub(super) class_name: Option<&'a str>,
    pub(super) class_grade: Option<&'static str>,
    pub(super) display_name: Option<&'a str>,
    pub(super) primary: Option<bool>,
    /// `field_bit`s of the cells equal to (and taken as) the value already
    /// accepted for the row's user, class or school.
    pub(super) known_fields: u32,
    /// `field_bit`s of the cells cast that are their own canonical value,
    /// and not kept already (for `CastMemo::keep`).
    pub(super) itself_fields: u32,
}

/// Fields of users.csv (the first `Field`s) have a bit in a `u32` mask.
const USERS_FIELD_COUNT: usize = Field::IsPrimaryTeacher as usize + 1;
const _: () = assert!(USERS_FIELD_COUNT <= 32);

pub(super) fn field_bit(field: Field) -> u32 {
    1 << (field as u32 % 32)
}

/// The trimmed cells of one row, by field: each cell is sliced once.
pub(super) struct RowCells<'r> {
    by_field: [Option<(usize, &'r str)>; USERS_FIELD_COUNT],
    /// `field_bit`s of the columns whose cell is blank.
    pub(super) blank: u32,
}

impl<'r> RowCells<'r> {
    pub(super) fn new(positions: &Positions, record: &Record<'r>) -> Self {
        let mut cells = RowCells {
            by_field: [None; USERS_FIELD_COUNT],
            blank: 0,
        };
        for (field, position, _) in &positions.columns {
            if let Some(cell) = cells.by_field.get_mut(*field as usize) {
                let value = cells::cell_value(record.field(*position));
                *cell = Some((*position, value));
                if value.is_empty() {
                    cells.blank |= field_bit(*field);
                } else {
                    cells.blank &= !field_bit(*field);
                }
            }
        }
        cells
    }

    /// The trimmed cell of a column the file has: (position, value).
    #[inline]
    pub(super) fn get(&self, field: Field) -> Option<(usize, &'r str)> {
        self.by_field.get(field as usize).copied().flatten()
    }

    #[inline]
    pub(super) fn value(&self, field: Field) -> Option<&'r str> {
        self.get(field).map(|(_, value)| value)
    }
}

/// The entities a row names that are already known.
#[derive(Debug, Clone, Copy)]
pub(super) struct KnownEntities<'a> {
    pub(super) school_id: Option<&'a str>,
    pub(super) user: Option<&'a UserAgg>,
    pub(super) class: Option<&'a ClassAgg>,
    pub(super) text: &'a TextArena,
}

impl<'a> KnownEntities<'a> {
    /// The canonical value already accepted for `field` (as bytes: it is
    /// only compared), which a cell that repeats it is taken as: `None` when its entity is not known (or the
    /// column is no entity's: action and isPrimaryTeacher are read on
    /// every row), `Some(None)` when the entity has no value there (a
    /// blank cell repeats it). Every column of users.csv is named here.
    #[inline(always)]
    pub(super) fn value(&self, field: Field) -> Option<Option<&'a [u8]>> {
        let text = self.text;
        Some(match field {
            Field::SchoolId => Some(self.school_id?.as_bytes()),
            Field::UserId => Some(self.user?.user_id.as_bytes()),
            Field::UserRole => Some(self.user?.role.as_str().as_bytes()),
            Field::UserFirstName => Some(text.get_bytes(self.user?.first_name())),
            Field::UserLastName => Some(text.get_bytes(self.user?.last_name())),
            Field::UserEmail => Some(text.get_bytes(self.user?.email())),
            Field::UserGrade => self.user?.grade.map(str::as_bytes),
            Field::UserDistrictId => self.user?.district_id().map(|id| text.get_bytes(id)),
            Field::UserStateId => self.user?.state_id().map(|id| text.get_bytes(id)),
            Field::ClassId => Some(self.class?.class_id.as_bytes()),
            Field::ClassName => Some(self.class?.name.as_bytes()),
            Field::ClassGrade => Some(self.class?.grade.as_bytes()),
            Field::ClassDisplayName => self.class?.display_name.as_deref().map(str::as_bytes),
            Field::Action | Field::IsPrimaryTeacher => return None,
            // demographics.csv
            Field::BirthDate
            | Field::Sex
            | Field::AmericanIndianOrAlaskaNative
            | Field::Asian
            | Field::BlackOrAfricanAmerican
            | Field::NativeHawaiianOrOtherPacificIslander
            | Field::White
            | Field::DemographicRaceTwoOrMoreRaces
            | Field::HispanicOrLatinoEthnicity
            | Field::EnglishLanguageLearner
            | Field::Iep
            | Field::Section504
            | Field::GiftedTalented
            | Field::Migrant
            | Field::Homeless
            | Field::FreeReducedLunch
            | Field::HomeLanguage => return None,
        })
    }
}

/// Per column of users.csv, the cell of the last row with an error that
/// was its own canonical value (an identifier, a name, a text, a
/// lower-case email): a cell with the same bytes is taken as it without
/// casting it again. A cast depends on the value only, so this changes
/// nothing but the time. The user of a row with an error does not become
/// known, so its next rows take the full path too, and they follow each
/// other: in a file whose rows fail, most cells repeat the row before. (A
/// clean row's user becomes known: the fast path takes its next rows.)
#[derive(Debug, Default)]
pub(super) struct CastMemo {
    cells: [Vec<u8>; USERS_FIELD_COUNT],
}

impl CastMemo {
    /// Keeps the cells of `fields` (`Row::itself_fields`) of a row.
    pub(super) fn keep(&mut self, positions: &Positions, cells: &RowCells<'_>, fields: u32) {
        for &(field, _, _) in &positions.columns {
            if let (true, Some(value), Some(kept)) = (
                fields & field_bit(field) != 0,
                cells.value(field),
                self.cells.get_mut(field as usize),
            ) {
                kept.clear();
                kept.extend_from_slice(value.as_bytes());
            }
        }
    }
}

/// Casts every present, non-blank cell of a row to its kind (a cell that
/// repeats its known value is taken as it); a problem becomes a finding.
pub(super) fn cast_row<'r>(
    positions: &Positions,
    cells: &RowCells<'r>,
    known: &KnownEntities<'_>,
    row: u64,
    findings: &mut Vec<(usize, Finding)>,
    memo: &CastMemo,
) -> Row<'r> {
    let mut cast = RowCaster {
        positions,
        cells,
        row,
        findings,
        known_fields: 0,
        itself_fields: 0,
        memo,
    };
    let mut text = |field: Field| cast.known_or_cast(field, known);
    let mut row = Row {
        action: text(Field::Action).and_then(|a| Action::parse(&a)),
        school_id: text(Field::SchoolId).and_then(borrowed),
        user_id: text(Field::UserId).and_then(borrowed),
        role: text(Field::UserRole).and_then(|r| Role::parse(&r)),
        first_name: text(Field::UserFirstName).and_then(borrowed),
        last_name: text(Field::UserLastName).and_then(borrowed),
        email: text(Field::UserEmail),
        grade: None,
        district_id: text(Field::UserDistrictId).and_then(borrowed),
        state_id: text(Field::UserStateId).and_then(borrowed),
        class_id: text(Field::ClassId).and_then(borrowed),
        class_name: text(Field::ClassName).and_then(borrowed),
        class_grade: None,
        display_name: text(Field::ClassDisplayName).and_then(borrowed),
        primary: text(Field::IsPrimaryTeacher).and_then(|b| cells::cast_boolean(&b)),
        known_fields: 0,
        itself_fields: 0,
    };
    // Grades are kept as the grade table's own strings (`'static`).
    row.class_grade = cast.grade_or_known(Field::ClassGrade, known.class.map(|c| c.grade));
    // A staff member's grade is not read: cast apart from constraint (the
    // rule for it is a row rule).
    if !row.role.is_some_and(Role::is_staff) {
        row.grade = cast.grade_or_known(Field::UserGrade, known.user.and_then(|u| u.grade));
    }
    row.known_fields = cast.known_fields;
    row.itself_fields = cast.itself_fields;
    row
}

/// Casts the cells of one row; a problem becomes a finding.
struct RowCaster<'a, 'r> {
    positions: &'a Positions,
    cells: &'a RowCells<'r>,
    row: u64,
    findings: &'a mut Vec<(usize, Finding)>,
    /// See `Row::known_fields` and `Row::itself_fields`.
    known_fields: u32,
    itself_fields: u32,
    memo: &'a CastMemo,
}

impl<'r> RowCaster<'_, 'r> {
    /// Casts a present, non-blank cell (unless `CastMemo` has it).
    fn cell(&mut self, field: Field) -> Option<Cow<'r, str>> {
        let (position, value) = self.cells.get(field)?;
        if value.is_empty() {
            return None;
        }
        if same_bytes(self.memo.cells.get(field as usize)?, value.as_bytes()) {
            return Some(Cow::Borrowed(value)); // (kept already)
        }
        let (_, spec) = self.positions.get(field)?;
        match cells::cast(spec.kind, value) {
            Ok(canonical) => {
                if matches!(canonical, Cow::Borrowed(itself) if std::ptr::eq(itself, value)) {
                    self.itself_fields |= field_bit(field);
                }
                Some(canonical)
            }
            Err(problem) => {
                let finding = problem.finding(FILE, self.row, spec.name, value);
                self.findings.push((position, finding));
                None
            }
        }
    }

    /// Whether the cell equals `known`, the canonical value already accepted
    /// for the row's user, class or school: then it is taken as it is. Most
    /// rows repeat those values, and casting them again is most of the work.
    #[inline]
    fn is_known(&mut self, field: Field, known: Option<&[u8]>) -> bool {
        let same = match (known, self.cells.value(field)) {
            (Some(known), Some(value)) => same_bytes(known, value.as_bytes()),
            _ => false,
        };
        if same {
            self.known_fields |= field_bit(field);
        }
        same
    }

    /// A cell: its known value (`KnownEntities::value`), or the cell cast.
    #[inline]
    fn known_or_cast(&mut self, field: Field, known: &KnownEntities<'_>) -> Option<Cow<'r, str>> {
        self.text_or_known(field, known.value(field).flatten())
    }

    /// A text cell: the known value, or the cell cast.
    #[inline]
    fn text_or_known(&mut self, field: Field, known: Option<&[u8]>) -> Option<Cow<'r, str>> {
        if self.is_known(field, known) {
            return self.cells.value(field).map(Cow::Borrowed);
        }
        self.cell(field)
    }

    /// A grade cell: the known grade, or the cell cast.
    #[inline]
    fn grade_or_known(
        &mut self,
        field: Field,
        known: Option<&'static str>,
    ) -> Option<&'static str> {
        if self.is_known(field, known.map(str::as_bytes)) {
            return known;
        }
        self.cell(field).and_then(|g| cells::cast_grade(&g))
    }
}

/// Identifiers, names and text cast to themselves: the canonical value is a
/// slice of the cell.
fn borrowed(canonical: Cow<'_, str>) -> Option<&str> {
    match canonical {
        Cow::Borrowed(value) => Some(value),
        Cow::Owned(_) => None,
    }
}
