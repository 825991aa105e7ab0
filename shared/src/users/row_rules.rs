//! The rules within one users.csv row, after its cells are cast: one
//! function per rule, all called from `check`, the one list of them.
//!
//! A row is checked one of two ways. The full path casts its cells and
//! reports what `check` raises. The fast path (`known_row`) takes a row
//! whose every cell repeats a value already accepted for its user, class
//! or school, and skips the casting; it runs the same `check`, on the same
//! facts read from the known values, and falls back to the full path if
//! anything would be raised. So a rule is never left out of the fast path:
//! there is no second list to forget it in. A rule sees only `RowFacts`,
//! which has no default: a fact a new rule needs must be given by both
//! paths. `tests/properties.rs` checks that the two paths agree.

use rustc_hash::FxHashSet;

use super::row::{field_bit, Positions, RowCells};
use super::{header_name, FILE};
use crate::cells;
use crate::codes::IssueCode;
use crate::dictionary::Field;
use crate::records::{Action, Role};
use crate::report::Finding;

/// What the rules within a row look at.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowFacts<'a> {
    /// The cast role, action and isPrimaryTeacher (`None`: blank, absent
    /// or invalid).
    pub(super) role: Option<Role>,
    pub(super) action: Option<Action>,
    pub(super) primary: Option<bool>,
    /// `field_bit`s of the file's columns whose cell is blank.
    pub(super) blank: u32,
    /// The schoolId, if it is valid and not a known school: a school is
    /// known from a row without errors, which `registered_school` passed.
    pub(super) new_school_id: Option<&'a str>,
}

/// What the rules know of the whole file.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowContext<'a> {
    pub(super) positions: &'a Positions,
    pub(super) known_schools: Option<&'a FxHashSet<String>>,
}

impl RowFacts<'_> {
    /// The file has the column and the row's cell in it is blank.
    fn blank(&self, field: Field) -> bool {
        self.blank & field_bit(field) != 0
    }

    /// The file has the column and the row's cell in it is not blank.
    fn given(&self, field: Field, context: &RowContext<'_>) -> bool {
        context.positions.present & !self.blank & field_bit(field) != 0
    }
}

/// Where the rules put what they find.
pub(super) trait Raise {
    /// A finding of `code` (not `missing-value`) on the row's cell in the
    /// column of `field`.
    fn raise(&mut self, code: IssueCode, field: Field, detail: Option<String>);

    /// `missing-value` (`cells::missing_value`): the cell of `field` is
    /// blank and must not be.
    fn missing_value(&mut self, field: Field, detail: &str);
}

/// Every rule within a row, in one list: the full path runs it to report,
/// the fast path to see that a known row raises nothing.
#[inline(always)]
pub(super) fn check(facts: &RowFacts<'_>, context: &RowContext<'_>, raise: &mut impl Raise) {
    required_values(facts, context, raise);
    grade_for_role(facts, context, raise);
    class_columns(facts, context, raise);
    action_needs_class(facts, context, raise);
    primary_teacher_row(facts, context, raise);
    registered_school(facts, context, raise);
}

/// The columns whose `value_required` is set have a value on every row.
fn required_values(facts: &RowFacts<'_>, context: &RowContext<'_>, raise: &mut impl Raise) {
    let missing = facts.blank & context.positions.required;
    if missing == 0 {
        return;
    }
    for (field, _, _) in &context.positions.columns {
        if missing & field_bit(*field) != 0 {
            raise.missing_value(*field, "");
        }
    }
}

/// A student has a grade; a staff member's grade is ignored, with a warning.
fn grade_for_role(facts: &RowFacts<'_>, context: &RowContext<'_>, raise: &mut impl Raise) {
    match facts.role {
        Some(Role::Student) if facts.blank(Field::UserGrade) => {
            raise.missing_value(Field::UserGrade, " for students");
        }
        Some(role) if role.is_staff() && facts.given(Field::UserGrade, context) => {
            raise.raise(IssueCode::GradeIgnoredForStaff, Field::UserGrade, None);
        }
        _ => {}
    }
}

/// A classId needs a className and a classGrade; either of those needs a
/// classId (unless the action needs one: `action_needs_class` says so).
fn class_columns(facts: &RowFacts<'_>, context: &RowContext<'_>, raise: &mut impl Raise) {
    if facts.given(Field::ClassId, context) {
        for field in [Field::ClassName, Field::ClassGrade] {
            if facts.blank(field) {
                raise.missing_value(field, " when classId is set");
            }
        }
    } else if facts.blank(Field::ClassId)
        && (facts.given(Field::ClassName, context) || facts.given(Field::ClassGrade, context))
        && !facts.action.is_some_and(Action::needs_class)
    {
        raise.missing_value(Field::ClassId, " when className or classGrade is set");
    }
}

/// REMOVE-ENROLLMENT and REMOVE-CLASS name the class on the same row.
fn action_needs_class(facts: &RowFacts<'_>, context: &RowContext<'_>, raise: &mut impl Raise) {
    if let Some(action) = facts.action.filter(|a| a.needs_class()) {
        if !facts.given(Field::ClassId, context) {
            let detail = action.as_str().to_string();
            raise.raise(IssueCode::ActionNeedsClass, Field::Action, Some(detail));
        }
    }
}

/// isPrimaryTeacher is TRUE only on a teacher's row with a class.
fn primary_teacher_row(facts: &RowFacts<'_>, context: &RowContext<'_>, raise: &mut impl Raise) {
    let (Some(true), Some(role)) = (facts.primary, facts.role) else {
        return;
    };
    let detail = if role != Role::Teacher {
        format!(" (this row is a {})", role.as_str())
    } else if !facts.given(Field::ClassId, context) {
        " (this row has no classId)".to_string()
    } else {
        return;
    };
    raise.raise(
        IssueCode::PrimaryTeacherNotTeacher,
        Field::IsPrimaryTeacher,
        Some(detail),
    );
}

/// With the district's school IDs known, a row names one of them.
fn registered_school(facts: &RowFacts<'_>, context: &RowContext<'_>, raise: &mut impl Raise) {
    if let (Some(known), Some(school_id)) = (context.known_schools, facts.new_school_id) {
        if !known.contains(school_id) {
            raise.raise(IssueCode::UnknownSchool, Field::SchoolId, None);
        }
    }
}

/// The full path's `Raise`: findings with their cell's position, so that
/// they are reported in the order of the file's columns.
pub(super) struct RowReport<'a, 'r> {
    pub(super) cells: &'a RowCells<'r>,
    pub(super) row: u64,
    pub(super) findings: &'a mut Vec<(usize, Finding)>,
}

impl Raise for RowReport<'_, '_> {
    fn raise(&mut self, code: IssueCode, field: Field, detail: Option<String>) {
        debug_assert_ne!(code, IssueCode::MissingValue, "see missing_value");
        // Every rule is about a column the file has.
        let Some((position, value)) = self.cells.get(field) else {
            return;
        };
        let mut finding = Finding::in_cell(code, FILE, self.row, header_name(field), value);
        finding.detail = detail;
        self.findings.push((position, finding));
    }

    fn missing_value(&mut self, field: Field, detail: &str) {
        if let Some((position, _)) = self.cells.get(field) {
            let finding = cells::missing_value(FILE, self.row, header_name(field), detail);
            self.findings.push((position, finding));
        }
    }
}

/// The fast path's `Raise`: whether `RowReport` would report anything.
#[derive(Debug)]
pub(super) struct Probe {
    /// `Positions::present`: `RowReport` reports on these columns only.
    pub(super) present: u32,
    pub(super) raised: bool,
}

impl Raise for Probe {
    fn raise(&mut self, _: IssueCode, field: Field, _: Option<String>) {
        self.raised |= self.present & field_bit(field) != 0;
    }

    fn missing_value(&mut self, field: Field, _: &str) {
        self.raised |= self.present & field_bit(field) != 0;
    }
}
