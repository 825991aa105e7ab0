//! The users.csv passes: row rules while streaming (cells, then rules across
//! the cells of one row), then the rules across rows at the end.
//!
//! Memory: rows are never kept. Each distinct user, class and school is kept
//! once with its canonical values, plus a small fixed-size reference per
//! clean row (user, class, school, action, flags) that the cross-row rules
//! and the normalized records are derived from.
//!
//! - `row`: the file's columns, a row's trimmed cells and their casts;
//! - `row_rules`: the rules within a row, one list that both ways of
//!   checking a row run;
//! - `known_row`: the fast path, for a row that repeats known values;
//! - `entities` and `aggregate`: what a clean row adds to (users, classes,
//!   pairs), and rules 1 to 7 noted as rows come;
//! - `text`: the arena of the users' texts, the indexes and the interner;
//! - `cross_rows`: the rules across rows, at the end;
//! - `records`: the normalized records of the rows without errors.

mod aggregate;
mod cross_rows;
mod entities;
mod known_row;
mod records;
mod row;
mod row_rules;
mod text;

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use self::entities::{ClassAgg, Known, RowRef, UserAgg};
use self::known_row::{LookedUp, Lookup};
use self::row::{cast_row, CastMemo, KnownEntities, Positions, RowCells};
use self::row_rules::{RowContext, RowFacts, RowReport};
use self::text::{Interner, TextArena, TextIndex};
use crate::cells;
use crate::codes::Severity;
use crate::dictionary::{Field, FileKind, ValueKind};
use crate::header::Layout;
use crate::reader::Record;
use crate::records::{Records, Role};
use crate::report::Finding;
use crate::sink::Sink;

const FILE: FileKind = FileKind::Users;
const NONE: u32 = u32::MAX;

fn header_name(field: Field) -> &'static str {
    FILE.columns()
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.name)
        .unwrap_or("")
}

fn u32_row(row: u64) -> u32 {
    u32::try_from(row).unwrap_or(u32::MAX)
}

/// State of the users.csv pass.
#[derive(Debug)]
pub(crate) struct UsersPass {
    positions: Positions,
    known_schools: Option<FxHashSet<String>>,
    /// Whether rows that repeat known values take the fast path
    /// (`known_row`); off only to test that both paths agree.
    fast_path: bool,
    /// What the rules across rows and the records are made from.
    entities: Entities,
    user_index: TextIndex,
    email_index: TextIndex,
    class_index: TextIndex,
    /// The class of the last row that named a known one (see `ClassAgg::next_class`).
    last_class: u32,
    /// (user, class) → the pair (see `RowRef`), only for users with more
    /// than `PAIRS_LISTED` pairs (the others are found on their list).
    many_pairs: FxHashMap<(u32, u32), u32>,
    /// The first rows of pairs (`PAIR_OTHER_VALUES`) whose user and class
    /// values are not the user's and the class's, with a hash of those
    /// that differ (`other_values_hash`, never 0); 0 for all other rows,
    /// which are almost all, so it is kept apart.
    other_values: FxHashMap<u32, u64>,
    /// The user and school of the last row that named known ones.
    last_user: u32,
    last_school: u32,
    /// Users seen only on rows with errors, with their role where valid, so
    /// demographics can tell "held back" from "not in users.csv".
    held_back_roles: FxHashMap<Arc<str>, Option<Role>>,
    row_findings: Vec<(usize, Finding)>,
    /// Cells of the last rows with errors that cast to themselves (see
    /// `CastMemo`).
    cast_memo: CastMemo,
}

/// The users.csv pass's result, for the cross-file rules and the records.
#[derive(Debug, Default)]
pub(crate) struct UsersOutcome {
    pub records: Records,
    /// Every userId the file names, clean or not, with its role where valid
    /// (only when asked for: demographics need it).
    pub roles: FxHashMap<Arc<str>, Option<Role>>,
    pub schools: u64,
}

/// What the streaming pass keeps once the input has ended: the entities
/// and the clean rows, for the rules across rows and the records.
#[derive(Debug, Default)]
struct Entities {
    schools: Interner,
    users: Vec<UserAgg>,
    /// The text of the users' names and IDs.
    user_text: TextArena,
    classes: Vec<ClassAgg>,
    rows: Vec<RowRef>,
    /// How many pairs there are, and whether any has `PAIR_CONFLICTING`.
    pairs: usize,
    any_conflicting_pair: bool,
    /// The schools of a user's clean rows other than its first (rule 3), for
    /// the users with any (`UserAgg::has_other_schools`).
    other_schools: FxHashMap<u32, Vec<u32>>,
}

impl UsersPass {
    pub fn new(layout: &Layout, known_schools: Option<&[String]>, fast_path: bool) -> Self {
        UsersPass {
            positions: Positions::new(layout),
            known_schools: known_schools.map(|s| s.iter().cloned().collect()),
            fast_path,
            entities: Entities::default(),
            user_index: TextIndex::default(),
            email_index: TextIndex::default(),
            class_index: TextIndex::default(),
            last_class: NONE,
            many_pairs: FxHashMap::default(),
            other_values: FxHashMap::default(),
            last_user: NONE,
            last_school: NONE,
            held_back_roles: FxHashMap::default(),
            row_findings: Vec::new(),
            cast_memo: CastMemo::default(),
        }
    }

    /// A row with the wrong number of cells gets no other finding, but its
    /// user, if the userId cell can be read, is held back rather than unknown.
    pub fn note_misshapen_row(&mut self, record: &Record<'_>) {
        let cell = |field: Field| {
            self.positions
                .get(field)
                .filter(|(i, _)| *i < record.len())
                .map(|(i, _)| cells::cell_value(record.field(i)))
        };
        let Some(user_id) = cell(Field::UserId).filter(|id| cells::is_identifier(id)) else {
            return;
        };
        let role = cell(Field::UserRole).and_then(|r| {
            cells::cast(ValueKind::Role, r)
                .ok()
                .and_then(|r| Role::parse(&r))
        });
        self.hold_back(user_id, role);
    }

    /// A user named on a row with errors: held back, unless a clean row has
    /// made it known.
    fn hold_back(&mut self, user_id: &str, role: Option<Role>) {
        if self.find_user(user_id.as_bytes()).is_none() {
            // The key is made (an allocation) only for a user not held yet.
            match self.held_back_roles.get_mut(user_id) {
                Some(known) => *known = known.or(role),
                None => {
                    self.held_back_roles.insert(user_id.into(), role);
                }
            }
        }
    }

    /// The entity of an ID cell's value: what the fast path found for it
    /// (`lookup`) when the value is the whole cell (it reads as written),
    /// else what `find` finds.
    fn found(
        &mut self,
        lookup: Lookup,
        value: Option<&str>,
        find: fn(&mut Self, &[u8]) -> Option<u32>,
    ) -> Option<u32> {
        let value = value?;
        match lookup {
            Some((len, found)) if len == value.len() => found,
            _ => find(self, value.as_bytes()),
        }
    }

    /// Checks one data row (not blank, right number of cells).
    pub fn check_row(&mut self, record: &Record<'_>, sink: &mut Sink) {
        let mut looked_up = LookedUp::default();
        if self.fast_path {
            match self.known_row(record) {
                Ok(repeated) => {
                    self.note_user_school(repeated.user, repeated.school);
                    self.note_class_school(repeated.class, repeated.school);
                    self.enroll(repeated, sink);
                    return;
                }
                Err(lookups) => looked_up = lookups,
            }
        }
        let cells = RowCells::new(&self.positions, record);
        let known = Known {
            school: self.found(
                looked_up.school,
                cells.value(Field::SchoolId),
                Self::find_school,
            ),
            user: self.found(looked_up.user, cells.value(Field::UserId), Self::find_user),
            class: self.found(
                looked_up.class,
                cells.value(Field::ClassId),
                Self::find_class,
            ),
        };
        let entities = KnownEntities {
            school_id: known
                .school
                .map(|s| &*self.entities.schools.values[s as usize]),
            user: known.user.map(|u| &self.entities.users[u as usize]),
            class: known.class.map(|c| &self.entities.classes[c as usize]),
            text: &self.entities.user_text,
        };
        self.row_findings.clear();
        let row = cast_row(
            &self.positions,
            &cells,
            &entities,
            record.row,
            &mut self.row_findings,
            &self.cast_memo,
        );
        let facts = RowFacts {
            role: row.role,
            action: row.action,
            primary: row.primary,
            blank: cells.blank,
            // A known school is known from a row without errors.
            new_school_id: row.school_id.filter(|_| known.school.is_none()),
        };
        let context = RowContext {
            positions: &self.positions,
            known_schools: self.known_schools.as_ref(),
        };
        let mut report = RowReport {
            cells: &cells,
            row: record.row,
            findings: &mut self.row_findings,
        };
        row_rules::check(&facts, &context, &mut report);

        if !self.row_findings.is_empty() {
            // Report in the order of the file's columns.
            self.row_findings.sort_by_key(|(position, _)| *position);
            let has_error = self
                .row_findings
                .iter()
                .any(|(_, f)| f.severity == Severity::Error);
            for (_, finding) in self.row_findings.drain(..) {
                sink.push(finding);
            }
            if has_error {
                if let Some(user_id) = row.user_id {
                    self.hold_back(user_id, row.role);
                }
                self.cast_memo
                    .keep(&self.positions, &cells, row.itself_fields);
                return;
            }
        }
        self.aggregate(record.row, &row, known, sink);
    }

    /// The rules across rows, then the normalized records of the clean rows.
    /// `roles`: whether the outcome needs `roles` (for a demographics.csv).
    pub fn finish(self, sink: &mut Sink, roles: bool) -> UsersOutcome {
        let UsersPass {
            entities,
            held_back_roles,
            many_pairs,
            other_values,
            user_index,
            email_index,
            class_index,
            ..
        } = self;
        // The lookups of the streaming pass are done with: free them before
        // the records are built, when memory peaks.
        drop((
            many_pairs,
            other_values,
            user_index,
            email_index,
            class_index,
        ));
        let failed_rows = cross_rows::check(&entities, sink);
        records::build(entities, failed_rows, roles.then_some(held_back_roles))
    }
}
