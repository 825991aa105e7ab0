//! The rules across the rows of users.csv, once the input has ended
//! (rules 1 to 8 of the contract): each row of a user, class or pair that
//! failed gets the finding (rule 9: only their own rows fail), then the
//! warnings about classes and leading zeros.

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use super::entities::{RowRef, UserAgg, CLASS_FIELDS, PAIR_CONFLICTING, USER_FIELDS};
use super::text::{repeated_hashes, text_hash, TextArena};
use super::{header_name, Entities, FILE, NONE};
use crate::codes::IssueCode;
use crate::dictionary::{Field, LIMITS};
use crate::records::Role;
use crate::report::Finding;
use crate::sink::Sink;

/// Rows listed in a cross-row message before "and N more".
const ROWS_IN_MESSAGE: usize = 5;

/// Names of the fields set in `mask` (bit i = fields[i]).
fn field_names(fields: &[Field], mask: u16) -> Vec<&'static str> {
    fields
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, f)| header_name(*f))
        .collect()
}

fn rows_text(rows: &[u32]) -> String {
    let mut shown: Vec<String> = rows
        .iter()
        .take(ROWS_IN_MESSAGE)
        .map(u32::to_string)
        .collect();
    if rows.len() > ROWS_IN_MESSAGE {
        shown.push(format!("and {} more", rows.len() - ROWS_IN_MESSAGE));
    }
    shown.join(", ")
}

/// The rules across rows; returns which rows failed (by index in `rows`).
pub(super) fn check(entities: &Entities, sink: &mut Sink) -> Vec<bool> {
    let conflicts = ConflictRows::of(entities);
    let shared_secondary = shared_secondary_ids(&entities.users, &entities.user_text);
    let failed_rows = entities
        .rows
        .iter()
        .enumerate()
        .map(|(index, r)| row_findings(entities, &conflicts, &shared_secondary, index, r, sink))
        .collect();
    class_warnings(entities, sink);
    leading_zeros(entities, sink);
    failed_rows
}

/// Rows named in the messages of conflicting enrollments and primary
/// teachers (rules 5 and 6).
struct ConflictRows {
    /// By pair (see `RowRef`).
    pair_rows: FxHashMap<u32, Vec<u32>>,
    /// By class.
    primary_rows: FxHashMap<u32, Vec<u32>>,
}

impl ConflictRows {
    fn of(entities: &Entities) -> Self {
        let Entities {
            rows,
            classes,
            any_conflicting_pair,
            ..
        } = entities;
        let mut pair_rows: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut primary_rows: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        // (Conflicts are rare: most files need no pass over the rows here.)
        let any_primary_conflict = classes.iter().any(|c| c.primary_conflict);
        let conflicts = *any_conflicting_pair || any_primary_conflict;
        let conflicting_rows = if conflicts { &rows[..] } else { &[] };
        for (index, r) in conflicting_rows.iter().enumerate() {
            if r.class == NONE {
                continue;
            }
            let pair = r.pair(index);
            if rows[pair as usize].flags & PAIR_CONFLICTING != 0 {
                pair_rows.entry(pair).or_default().push(r.row);
            }
            if r.primary_teacher() && classes[r.class as usize].primary_conflict {
                primary_rows.entry(r.class).or_default().push(r.row);
            }
        }
        ConflictRows {
            pair_rows,
            primary_rows,
        }
    }
}

/// Secondary IDs are unique among users: (column, other user's first row)
/// per user. Sparse: users rarely share one (a Vec per user would cost 24
/// bytes each).
fn shared_secondary_ids(
    users: &[UserAgg],
    user_text: &TextArena,
) -> FxHashMap<usize, Vec<(Field, u32)>> {
    let mut shared_secondary: FxHashMap<usize, Vec<(Field, u32)>> = FxHashMap::default();
    for field in [Field::UserDistrictId, Field::UserStateId] {
        let ids = users.iter().enumerate().filter_map(|(index, user)| {
            let id = match field {
                Field::UserDistrictId => user.district_id(),
                _ => user.state_id(),
            };
            Some((index, user_text.get(id?)))
        });
        let repeated = repeated_hashes(ids.clone().map(|(_, id)| id));
        if repeated.is_empty() {
            continue;
        }
        let mut first_user_with: FxHashMap<&str, usize> = FxHashMap::default();
        for (index, id) in ids.filter(|(_, id)| repeated.contains(&text_hash(id.as_bytes()))) {
            let user = &users[index];
            match first_user_with.entry(id) {
                Entry::Vacant(entry) => {
                    entry.insert(index);
                }
                Entry::Occupied(entry) => {
                    let first = *entry.get();
                    let first_shared = shared_secondary.entry(first).or_default();
                    if first_shared.iter().all(|(f, _)| *f != field) {
                        first_shared.push((field, user.first_row));
                    }
                    shared_secondary
                        .entry(index)
                        .or_default()
                        .push((field, users[first].first_row));
                }
            }
        }
    }
    shared_secondary
}

/// The findings across rows on one row (of a user, class or pair that
/// failed); whether it got any.
fn row_findings(
    entities: &Entities,
    conflicts: &ConflictRows,
    shared_secondary: &FxHashMap<usize, Vec<(Field, u32)>>,
    index: usize,
    r: &RowRef,
    sink: &mut Sink,
) -> bool {
    let Entities {
        schools,
        users,
        classes,
        other_schools,
        ..
    } = entities;
    let user = &users[r.user as usize];
    let at = |code: IssueCode, field: Field| {
        Finding::new(code, FILE)
            .at_row(u64::from(r.row))
            .in_column(header_name(field))
    };
    let mut failed = false;
    let mut push = |finding: Finding| {
        failed = true;
        sink.push(finding);
    };
    // In the column of the first field that disagrees, naming them all.
    let conflict = |code: IssueCode, fields: &[Field], mask: u16| {
        let names = field_names(fields, mask);
        let first = names.first().copied().unwrap_or(header_name(fields[0]));
        Finding::new(code, FILE)
            .at_row(u64::from(r.row))
            .in_column(first)
            .with_detail(names.join(", "))
    };
    if user.conflicts != 0 {
        push(conflict(
            IssueCode::UserConflict,
            USER_FIELDS,
            user.conflicts,
        ));
    }
    for (field, other_row) in shared_secondary
        .get(&(r.user as usize))
        .into_iter()
        .flatten()
    {
        push(
            at(IssueCode::DuplicateSecondaryId, *field).with_detail(format!(" (row {other_row})")),
        );
    }
    if user.duplicate_email_row != NONE {
        push(
            at(IssueCode::DuplicateEmail, Field::UserEmail)
                .with_detail(format!(" (row {})", user.duplicate_email_row)),
        );
    }
    if user.role == Role::Student && user.has_other_schools {
        let ids: Vec<&str> = std::iter::once(&user.school)
            .chain(other_schools.get(&r.user).into_iter().flatten())
            .map(|s| &*schools.values[*s as usize])
            .collect();
        push(
            at(IssueCode::StudentMultipleSchools, Field::SchoolId)
                .with_detail(format!("schoolIds {}", ids.join(", "))),
        );
    }
    if r.class != NONE {
        let class = &classes[r.class as usize];
        if class.conflicts != 0 {
            push(conflict(
                IssueCode::ClassConflict,
                CLASS_FIELDS,
                class.conflicts,
            ));
        }
        if let Some(involved) = conflicts.pair_rows.get(&r.pair(index)) {
            push(
                at(IssueCode::ConflictingEnrollment, Field::ClassId)
                    .with_detail(rows_text(involved)),
            );
        }
        if r.primary_teacher() {
            if let Some(involved) = conflicts.primary_rows.get(&r.class) {
                push(
                    at(IssueCode::PrimaryTeacherConflict, Field::IsPrimaryTeacher)
                        .with_detail(rows_text(involved)),
                );
            }
        }
    }
    failed
}

/// Rule 7: warnings on the class's first row.
fn class_warnings(entities: &Entities, sink: &mut Sink) {
    for class in &entities.classes {
        if !class.has_plain_rows {
            continue;
        }
        if class.students > LIMITS.students_per_class {
            sink.push(
                Finding::new(IssueCode::ClassSize, FILE)
                    .at_row(u64::from(class.first_row))
                    .in_column(header_name(Field::ClassId))
                    .with_detail(class.students.to_string()),
            );
        }
        if class.teacher_rows == 0 {
            sink.push(
                Finding::new(IssueCode::ClassWithoutTeacher, FILE)
                    .at_row(u64::from(class.first_row))
                    .in_column(header_name(Field::ClassId)),
            );
        }
    }
}

/// Rule 8: identifiers equal once leading zeros are removed.
fn leading_zeros(entities: &Entities, sink: &mut Sink) {
    let Entities {
        schools,
        users,
        user_text,
        classes,
        ..
    } = entities;
    leading_zero_warnings(
        Field::SchoolId,
        schools
            .values
            .iter()
            .map(|v| &**v)
            .zip(schools.first_rows.iter().copied()),
        sink,
    );
    leading_zero_warnings(
        Field::UserId,
        users.iter().map(|u| (&*u.user_id, u.first_row)),
        sink,
    );
    leading_zero_warnings(
        Field::ClassId,
        classes.iter().map(|c| (&*c.class_id, c.first_row)),
        sink,
    );
    leading_zero_warnings(
        Field::UserDistrictId,
        users
            .iter()
            .filter_map(|u| Some((user_text.get(u.district_id()?), u.first_row))),
        sink,
    );
    leading_zero_warnings(
        Field::UserStateId,
        users
            .iter()
            .filter_map(|u| Some((user_text.get(u.state_id()?), u.first_row))),
        sink,
    );
}

/// Rule 8 for one identifier column: distinct values that are equal once
/// leading zeros are removed get one warning each, on their first row.
fn leading_zero_warnings<'a>(
    field: Field,
    values: impl Iterator<Item = (&'a str, u32)> + Clone,
    sink: &mut Sink,
) {
    let stripped = |value: &'a str| value.trim_start_matches('0');
    let repeated = repeated_hashes(values.clone().map(|(value, _)| stripped(value)));
    if repeated.is_empty() {
        return;
    }
    let values =
        values.filter(|(value, _)| repeated.contains(&text_hash(stripped(value).as_bytes())));

    // Most groups have one member: keep it inline, and a Vec only for more.
    type Member<'v> = (&'v str, u32);
    let mut groups: FxHashMap<&str, (Member<'_>, Vec<Member<'_>>)> = FxHashMap::default();
    for (value, row) in values {
        let stripped = value.trim_start_matches('0');
        match groups.entry(stripped) {
            Entry::Occupied(mut group) => group.get_mut().1.push((value, row)),
            Entry::Vacant(group) => {
                group.insert(((value, row), Vec::new()));
            }
        }
    }
    let column = header_name(field);
    let mut involved: Vec<(u32, String)> = Vec::new();
    for (first, more) in groups.values().filter(|(_, more)| !more.is_empty()) {
        let members: Vec<Member<'_>> = std::iter::once(*first)
            .chain(more.iter().copied())
            .collect();
        // Equal values are one value (two users sharing an ID is another
        // rule): keep each distinct value once, at its first row.
        let mut distinct: Vec<Member<'_>> = Vec::with_capacity(members.len());
        for member in members {
            match distinct.iter_mut().find(|(value, _)| *value == member.0) {
                Some(known) => known.1 = known.1.min(member.1),
                None => distinct.push(member),
            }
        }
        if distinct.len() < 2 {
            continue;
        }
        for &(value, row) in &distinct {
            let others: Vec<String> = distinct
                .iter()
                .filter(|(other, _)| *other != value)
                .map(|(_, other_row)| format!("the {column} on row {other_row}"))
                .collect();
            involved.push((row, others.join(" and ")));
        }
    }
    involved.sort();
    for (row, detail) in involved {
        sink.push(
            Finding::new(IssueCode::PossibleLeadingZeroLoss, FILE)
                .at_row(u64::from(row))
                .in_column(column)
                .with_detail(detail),
        );
    }
}
