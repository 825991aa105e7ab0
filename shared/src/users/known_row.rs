//! The fast path: a row that only repeats what is known, as almost every
//! row of a users.csv does, is added without casting its cells.

use super::entities::CleanRow;
use super::row::{field_bit, KnownEntities};
use super::row_rules::{self, Probe, RowContext, RowFacts};
use super::text::same_bytes;
use super::UsersPass;
use crate::dictionary::Field;
use crate::reader::Record;

/// A lookup of `known_row`: the length of the cell looked up as it is
/// written, and what it found.
pub(super) type Lookup = Option<(usize, Option<u32>)>;

/// What `known_row` looked up of the schoolId, userId and classId of a row
/// it left to the full path, which takes each answer for a cell that reads
/// as it is written (its value is as long as the cell).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct LookedUp {
    pub(super) school: Lookup,
    pub(super) user: Lookup,
    pub(super) class: Lookup,
}

impl UsersPass {
    /// The row, when it only repeats what is known, as almost every row of
    /// a users.csv does: its school, user and class are known, their values
    /// read as they are written (`UserText::reads_as_written`: a known `'=x`
    /// does not, as a cell `'=x` reads as `=x`), and each cell is exactly
    /// (untrimmed) the value already accepted for its column
    /// (`KnownEntities::value`), blank where there is none; the action is
    /// blank, isPrimaryTeacher blank, TRUE or FALSE. The full path would take
    /// each such cell as the known value (`RowCaster::is_known`) and find the
    /// row's values equal to the user's and the class's, so the casting and
    /// the comparing (`aggregate`) are skipped; the rules within the row run
    /// on the same facts (`row_rules::check`). `Err` for any other row, and
    /// for one that a rule would raise anything on: it takes the full path,
    /// where every finding is made (with what was looked up: `LookedUp`).
    /// Cells are compared as bytes.
    pub(super) fn known_row(&mut self, record: &Record<'_>) -> Result<CleanRow, LookedUp> {
        let [school_id, user_id, class_id] =
            [Field::SchoolId, Field::UserId, Field::ClassId].map(|field| {
                self.positions
                    .get(field)
                    .map(|(i, _)| record.field_bytes(i))
            });
        let mut looked_up = LookedUp::default();
        let school_id = school_id.ok_or(looked_up)?;
        let school = self.find_school(school_id);
        looked_up.school = Some((school_id.len(), school));
        let school = school.ok_or(looked_up)?;
        let user_id = user_id.ok_or(looked_up)?;
        let user = self.find_user(user_id);
        looked_up.user = Some((user_id.len(), user));
        let user = user.ok_or(looked_up)?;
        let class_id = class_id.ok_or(looked_up)?;
        let class = self.find_class(class_id);
        looked_up.class = Some((class_id.len(), class));
        let class = class.ok_or(looked_up)?;
        let school_id = &*self.entities.schools.values[school as usize];
        let agg = &self.entities.users[user as usize];
        let class_agg = &self.entities.classes[class as usize];
        if !agg.text.reads_as_written || !class_agg.reads_as_written {
            return Err(looked_up);
        }
        let known = KnownEntities {
            school_id: Some(school_id),
            user: Some(agg),
            class: Some(class_agg),
            text: &self.entities.user_text,
        };
        // Columns the file does not have are blank on every row, the rows
        // that made the entities known included.
        let mut blank = 0;
        let mut primary = None;
        for &(field, position, _) in &self.positions.columns {
            let cell = record.field_bytes(position);
            if cell.is_empty() {
                blank |= field_bit(field);
            }
            let repeats = match known.value(field) {
                Some(Some(value)) => same_bytes(cell, value),
                Some(None) => cell.is_empty(),
                // Read here in their canonical words only.
                None if field == Field::IsPrimaryTeacher => match cell {
                    b"" => true,
                    b"TRUE" => {
                        primary = Some(true);
                        true
                    }
                    b"FALSE" => {
                        primary = Some(false);
                        true
                    }
                    _ => false,
                },
                None => field == Field::Action && cell.is_empty(),
            };
            if !repeats {
                return Err(looked_up);
            }
        }
        // A school is known only from a row without errors, so it passed
        // the known-schools rule (`registered_school`).
        debug_assert!(self
            .known_schools
            .as_ref()
            .is_none_or(|known| known.contains(school_id)));
        let facts = RowFacts {
            role: Some(agg.role),
            action: None,
            primary,
            blank,
            new_school_id: None,
        };
        let context = RowContext {
            positions: &self.positions,
            known_schools: self.known_schools.as_ref(),
        };
        let mut probe = Probe {
            present: self.positions.present,
            raised: false,
        };
        row_rules::check(&facts, &context, &mut probe);
        if probe.raised {
            return Err(looked_up);
        }
        Ok(CleanRow {
            row: record.row,
            school,
            user,
            role: agg.role,
            class,
            action: None,
            primary,
            // The values are the user's and the class's.
            other_values: 0,
        })
    }
}
