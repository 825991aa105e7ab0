//! Adding a clean row to the entities: the lookups of known users, classes
//! and schools, and rules 1 to 7 noted as the rows come (what disagrees,
//! which pairs repeat), for the pass across rows to report.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::FxHasher;

use super::entities::{ClassAgg, CleanRow, Known, RowRef, UserAgg};
use super::entities::{PAIRS_LISTED, PAIR_CONFLICTING, PAIR_FIRST, PAIR_OTHER_VALUES};
use super::row::{field_bit, Row};
use super::text::same_bytes;
use super::{u32_row, UsersPass, FILE, NONE};
use crate::cells;
use crate::codes::IssueCode;
use crate::dictionary::Field;
use crate::records::Role;
use crate::report::Finding;
use crate::sink::Sink;

impl UsersPass {
    /// The known class with this classId: the one that followed the last
    /// row's class last time is tried before the index.
    pub(super) fn find_class(&mut self, id: &[u8]) -> Option<u32> {
        let classes = &mut self.entities.classes;
        if let Some(last) = classes.get(self.last_class as usize) {
            let predicted = last.next_class;
            if classes
                .get(predicted as usize)
                .is_some_and(|c| same_bytes(c.class_id.as_bytes(), id))
            {
                self.last_class = predicted;
                return Some(predicted);
            }
        }
        let found = self
            .class_index
            .get(id, |c| classes[c as usize].class_id.as_bytes())?;
        self.class_followed(found);
        Some(found)
    }

    /// Notes that a row of `class` followed a row of the `last_class`.
    pub(super) fn class_followed(&mut self, class: u32) {
        if let Some(last) = self.entities.classes.get_mut(self.last_class as usize) {
            last.next_class = class;
        }
        self.last_class = class;
    }

    /// The known user with this userId. A user's rows usually follow each
    /// other, so the last user found is tried before the index.
    pub(super) fn find_user(&mut self, id: &[u8]) -> Option<u32> {
        if let Some(last) = self.entities.users.get(self.last_user as usize) {
            if same_bytes(last.user_id.as_bytes(), id) {
                return Some(self.last_user);
            }
        }
        let users = &self.entities.users;
        let found = self
            .user_index
            .get(id, |u| users[u as usize].user_id.as_bytes())?;
        self.last_user = found;
        Some(found)
    }

    /// The known school with this schoolId (the last one found first, as for users).
    pub(super) fn find_school(&mut self, id: &[u8]) -> Option<u32> {
        if let Some(last) = self.entities.schools.values.get(self.last_school as usize) {
            if same_bytes(last.as_bytes(), id) {
                return Some(self.last_school);
            }
        }
        let id = std::str::from_utf8(id).ok()?;
        let found = self.entities.schools.index.get(id).copied()?;
        self.last_school = found;
        Some(found)
    }

    /// Adds a clean row to the entities (rules 1-7 are checked as it goes).
    pub(super) fn aggregate(
        &mut self,
        row_number: u64,
        row: &Row<'_>,
        known: Known,
        sink: &mut Sink,
    ) {
        let Some(values) = RequiredValues::of(row) else {
            return; // a clean row has every required value
        };
        let row32 = u32_row(row_number);
        let school = match known.school {
            Some(school) => school,
            None => {
                self.last_school = self.entities.schools.intern(values.school_id, row32);
                self.last_school
            }
        };
        // Whether the row's user (class) values are not the user's (class's).
        let mut user_values_differ = false;
        let user = match known.user {
            Some(user) => {
                user_values_differ = self.compare_user(user, row, &values);
                self.note_user_school(user, school);
                user
            }
            None => self.add_user(row, &values, school, row32),
        };

        let mut class = NONE;
        let mut other_values = 0;
        if let (Some(class_id), Some(class_name), Some(class_grade)) =
            (row.class_id, row.class_name, row.class_grade)
        {
            let mut class_values_differ = false;
            class = match known.class {
                Some(class) => {
                    // The school is a value of the row key of its own.
                    self.note_class_school(class, school);
                    class_values_differ = self.compare_class(class, row, class_name, class_grade);
                    class
                }
                None => {
                    let class = self.entities.classes.len() as u32;
                    self.class_index.insert(class_id.as_bytes(), class);
                    self.entities.classes.push(ClassAgg {
                        class_id: class_id.into(),
                        school,
                        name: class_name.into(),
                        grade: class_grade,
                        display_name: row.display_name.map(Into::into),
                        reads_as_written: [Some(class_name), row.display_name]
                            .into_iter()
                            .flatten()
                            .all(|text| cells::reads_as_itself(text.as_bytes())),
                        first_row: row32,
                        conflicts: 0,
                        has_plain_rows: false,
                        students: 0,
                        teacher_rows: 0,
                        primary_teacher: NONE,
                        primary_conflict: false,
                        next_class: NONE,
                    });
                    self.class_followed(class);
                    class
                }
            };
            other_values = other_values_hash(row, user_values_differ, class_values_differ);
        }
        self.enroll(
            CleanRow {
                row: row_number,
                school,
                user,
                role: values.role,
                class,
                action: row.action,
                primary: row.primary,
                other_values,
            },
            sink,
        );
    }

    /// Notes the known user's values that the row's differ from (rule 1);
    /// whether there are any. A cell taken as the known value needs no
    /// comparing.
    fn compare_user(&mut self, user: u32, row: &Row<'_>, values: &RequiredValues<'_>) -> bool {
        let compare = |field: Field| row.known_fields & field_bit(field) == 0;
        let text = &self.entities.user_text;
        let agg = &mut self.entities.users[user as usize];
        let differs = [
            compare(Field::UserRole) && agg.role != values.role,
            compare(Field::UserFirstName) && text.get(agg.first_name()) != values.first_name,
            compare(Field::UserLastName) && text.get(agg.last_name()) != values.last_name,
            compare(Field::UserEmail) && text.get(agg.email()) != values.email,
            compare(Field::UserGrade) && agg.grade != row.grade,
            compare(Field::UserDistrictId)
                && agg.district_id().map(|id| text.get(id)) != row.district_id,
            compare(Field::UserStateId) && agg.state_id().map(|id| text.get(id)) != row.state_id,
        ];
        let mut any = false;
        for (i, differs) in differs.into_iter().enumerate() {
            if differs {
                agg.conflicts |= 1 << i;
                any = true;
            }
        }
        any
    }

    /// A new user, from its first clean row (rule 3: another user with the
    /// same email is noted on both).
    fn add_user(
        &mut self,
        row: &Row<'_>,
        values: &RequiredValues<'_>,
        school: u32,
        row32: u32,
    ) -> u32 {
        let user = self.entities.users.len() as u32;
        let user_id: Arc<str> = values.user_id.into();
        let mut duplicate_email_row = NONE;
        let (users, text) = (&self.entities.users, &self.entities.user_text);
        let other = self
            .email_index
            .get_or_insert(values.email.as_bytes(), user, |u| {
                text.get_bytes(users[u as usize].email())
            });
        if let Some(other) = other {
            let other = &mut self.entities.users[other as usize];
            if other.duplicate_email_row == NONE {
                other.duplicate_email_row = row32;
            }
            duplicate_email_row = other.first_row;
        }
        self.user_index.insert(user_id.as_bytes(), user);
        self.entities.users.push(UserAgg {
            user_id,
            role: values.role,
            text: self.entities.user_text.push_user([
                Some(values.first_name),
                Some(values.last_name),
                Some(values.email),
                row.district_id,
                row.state_id,
            ]),
            grade: row.grade,
            first_row: row32,
            conflicts: 0,
            school,
            has_other_schools: false,
            duplicate_email_row,
            last_pair: NONE,
            pair_count: 0,
        });
        self.last_user = user;
        user
    }

    /// Notes the known class's values (after its school) that the row's
    /// differ from (rule 2); whether there are any.
    fn compare_class(
        &mut self,
        class: u32,
        row: &Row<'_>,
        class_name: &str,
        class_grade: &str,
    ) -> bool {
        let compare = |field: Field| row.known_fields & field_bit(field) == 0;
        let agg = &mut self.entities.classes[class as usize];
        // CLASS_FIELDS after the school.
        let differs = [
            compare(Field::ClassName) && *agg.name != *class_name,
            compare(Field::ClassGrade) && agg.grade != class_grade,
            compare(Field::ClassDisplayName) && agg.display_name.as_deref() != row.display_name,
        ];
        let mut any = false;
        for (i, differs) in differs.into_iter().enumerate() {
            if differs {
                agg.conflicts |= 1 << (i + 1);
                any = true;
            }
        }
        any
    }

    /// A user's row names `school`: rule 3 (a student has one school).
    pub(super) fn note_user_school(&mut self, user: u32, school: u32) {
        let agg = &mut self.entities.users[user as usize];
        if agg.school != school {
            agg.has_other_schools = true;
            let others = self.entities.other_schools.entry(user).or_default();
            if !others.contains(&school) {
                others.push(school);
            }
        }
    }

    /// A class's row names `school`: rule 2 (rows of a class agree).
    pub(super) fn note_class_school(&mut self, class: u32, school: u32) {
        let agg = &mut self.entities.classes[class as usize];
        if agg.school != school {
            agg.conflicts |= 1; // CLASS_FIELDS[0]
        }
    }

    /// Adds a clean row whose user and class are known now (rules 5-7).
    pub(super) fn enroll(&mut self, clean: CleanRow, sink: &mut Sink) {
        let CleanRow {
            row: row_number,
            school,
            user,
            role,
            class,
            action,
            primary,
            other_values,
        } = clean;
        let row32 = u32_row(row_number);
        // This row's index in `rows`, the pair's name if it begins one.
        let index = self.entities.rows.len() as u32;
        let mut link = NONE;
        let mut flags = 0;
        if class != NONE {
            let plain = action.is_none();
            // Rule 5: one row per (user, class).
            let found = self.find_pair(user, class);
            let new_pair = found.is_none();
            if let Some(pair) = found {
                link = pair;
                let first = self.entities.rows[pair as usize];
                let first_other_values = if first.flags & PAIR_OTHER_VALUES != 0 {
                    self.other_values.get(&pair).copied().unwrap_or(0)
                } else {
                    0
                };
                if first.action == action
                    && first.primary == primary
                    && first.school == school
                    && first_other_values == other_values
                {
                    sink.push(
                        Finding::new(IssueCode::DuplicateRow, FILE)
                            .at_row(row_number)
                            .with_detail(first.row.to_string()),
                    );
                } else {
                    self.entities.rows[pair as usize].flags |= PAIR_CONFLICTING;
                    self.entities.any_conflicting_pair = true;
                }
            } else {
                let agg = &mut self.entities.users[user as usize];
                link = agg.last_pair;
                agg.last_pair = index;
                agg.pair_count += 1;
                flags = PAIR_FIRST;
                self.entities.pairs += 1;
                if other_values != 0 {
                    flags |= PAIR_OTHER_VALUES;
                    self.other_values.insert(index, other_values);
                }
            }

            // Rules 6 and 7 count plain rows only.
            let agg = &mut self.entities.classes[class as usize];
            if plain {
                agg.has_plain_rows = true;
                match role {
                    Role::Student if new_pair => agg.students += 1,
                    Role::Teacher => agg.teacher_rows += 1,
                    _ => {}
                }
                if primary == Some(true) {
                    if agg.primary_teacher == NONE {
                        agg.primary_teacher = user;
                    } else if agg.primary_teacher != user {
                        agg.primary_conflict = true;
                    }
                }
            }
        }

        self.entities.rows.push(RowRef {
            row: row32,
            user,
            class,
            school,
            link,
            action,
            primary,
            flags,
        });
        if flags & PAIR_FIRST != 0 {
            self.list_pair(user, class, index);
        }
    }

    /// The (user, class) pair, if the user has been seen in the class.
    pub(super) fn find_pair(&self, user: u32, class: u32) -> Option<u32> {
        let agg = &self.entities.users[user as usize];
        if agg.pair_count > PAIRS_LISTED {
            return self.many_pairs.get(&(user, class)).copied();
        }
        let mut pair = agg.last_pair;
        while let Some(first) = self.entities.rows.get(pair as usize) {
            if first.class == class {
                return Some(pair);
            }
            pair = first.link;
        }
        None
    }

    /// Puts a new pair, whose first row is in `rows`, in `many_pairs` if
    /// its user has that many.
    pub(super) fn list_pair(&mut self, user: u32, class: u32, pair: u32) {
        let count = self.entities.users[user as usize].pair_count;
        if count == PAIRS_LISTED + 1 {
            // From now on this user's pairs are found in the table: all of them.
            let mut listed = pair;
            while let Some(first) = self.entities.rows.get(listed as usize) {
                self.many_pairs.insert((user, first.class), listed);
                listed = first.link;
            }
        } else if count > PAIRS_LISTED {
            self.many_pairs.insert((user, class), pair);
        }
    }
}

/// The values a clean row has in the required columns.
struct RequiredValues<'a> {
    school_id: &'a str,
    user_id: &'a str,
    role: Role,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
}

impl<'a> RequiredValues<'a> {
    fn of(row: &'a Row<'_>) -> Option<Self> {
        Some(RequiredValues {
            school_id: row.school_id?,
            user_id: row.user_id?,
            role: row.role?,
            first_name: row.first_name?,
            last_name: row.last_name?,
            email: row.email.as_deref()?,
        })
    }
}

/// A hash (for `UsersPass::other_values`) of values that differ from the known ones (never 0).
fn nonzero_hash(values: impl Hash) -> u64 {
    let mut hasher = FxHasher::default();
    values.hash(&mut hasher);
    hasher.finish() | 1 << 63
}

/// `UsersPass::other_values`: the values that differ from the user's and the
/// class's, hashed (the `Option`s keep user and class values apart).
fn other_values_hash(row: &Row<'_>, user_values_differ: bool, class_values_differ: bool) -> u64 {
    if !user_values_differ && !class_values_differ {
        return 0;
    }
    let user_values = user_values_differ.then_some((
        row.role,
        row.first_name,
        row.last_name,
        row.email.as_deref(),
        row.grade,
        row.district_id,
        row.state_id,
    ));
    let class_values =
        class_values_differ.then_some((row.class_name, row.class_grade, row.display_name));
    nonzero_hash((user_values, class_values))
}
