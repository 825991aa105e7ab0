//! The users.csv passes: row rules while streaming (cells, then rules across
//! the cells of one row), then the rules across rows at the end.
//!
//! Memory: rows are never kept. Each distinct user, class and school is kept
//! once with its canonical values, plus a small fixed-size reference per
//! clean row (user, class, school, action, flags) that the cross-row rules
//! and the normalized records are derived from.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use crate::cells::{self, CellProblem};
use crate::codes::{IssueCode, Severity};
use crate::dictionary::{ColumnSpec, Field, FileKind};
use crate::header::Layout;
use crate::reader::Record;
use crate::records::{Action, ClassRecord, EnrollmentRecord, Records, Role, UserRecord};
use crate::report::Finding;
use crate::sink::Sink;

const FILE: FileKind = FileKind::Users;
const NONE: u32 = u32::MAX;
/// Rows listed in a cross-row message before "and N more".
const ROWS_IN_MESSAGE: usize = 5;
pub const MAX_STUDENTS_PER_CLASS: u32 = 80;

/// Fields that rows of one user must agree on (rule 1), in message order.
const USER_FIELDS: &[Field] = &[
    Field::UserRole,
    Field::UserFirstName,
    Field::UserLastName,
    Field::UserEmail,
    Field::UserGrade,
    Field::UserDistrictId,
    Field::UserStateId,
];
/// Fields that rows of one class must agree on (rule 2).
const CLASS_FIELDS: &[Field] = &[
    Field::SchoolId,
    Field::ClassName,
    Field::ClassGrade,
    Field::ClassDisplayName,
];

fn header_name(field: Field) -> &'static str {
    FILE.columns()
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.name)
        .unwrap_or("")
}

/// Names of the fields set in `mask` (bit i = fields[i]).
fn field_names(fields: &[Field], mask: u16) -> Vec<&'static str> {
    fields
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, f)| header_name(*f))
        .collect()
}

fn u32_row(row: u64) -> u32 {
    u32::try_from(row).unwrap_or(u32::MAX)
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

#[derive(Debug)]
struct UserAgg {
    user_id: Arc<str>,
    role: Role,
    /// First and last name, email, district and state ID.
    text: UserText,
    grade: Option<&'static str>,
    first_row: u32,
    /// USER_FIELDS that disagreed between rows.
    conflicts: u16,
    /// Schools of the user's clean rows (interned indices): the first, and
    /// whether there are others (rarely: they are in `UsersPass::other_schools`).
    school: u32,
    has_other_schools: bool,
    /// Another user with the same email (its first row), if any.
    duplicate_email_row: u32,
    /// The user's last pair (the head of its list, see `RowRef::link`)
    /// and how many pairs the user has.
    last_pair: u32,
    pair_count: u32,
}

// 80 bytes on 64-bit targets (176 before the texts and other schools were
// made compact): users are up to a third of the rows.
const _: () = assert!(std::mem::size_of::<UserAgg>() <= 80);

impl UserAgg {
    fn first_name(&self) -> TextRef {
        self.text.get(0).unwrap_or(TextRef { start: 0, end: 0 })
    }

    fn last_name(&self) -> TextRef {
        self.text.get(1).unwrap_or(TextRef { start: 0, end: 0 })
    }

    fn email(&self) -> TextRef {
        self.text.get(2).unwrap_or(TextRef { start: 0, end: 0 })
    }

    fn district_id(&self) -> Option<TextRef> {
        self.text.get(3)
    }

    fn state_id(&self) -> Option<TextRef> {
        self.text.get(4)
    }
}

/// Where a user's five texts (first and last name, email, district and
/// state ID) are in a `TextArena`: end to end from `start`, each ending
/// `ends[i]` bytes after it. Users are as many as a third of the rows, and
/// this takes 19 bytes where five `TextRef`s took 96.
#[derive(Debug, Clone, Copy)]
struct UserText {
    start: usize,
    ends: [u16; 5],
    /// Bit `i`: text `i` is absent (a blank ID; it then ends where the one
    /// before it does).
    absent: u8,
}

// A user's texts are cast values, whose lengths have these bounds: all five
// end to end fit a `u16`.
const _: () = assert!(3 * cells::MAX_NAME_CHARS * 4 + cells::MAX_EMAIL_LEN < u16::MAX as usize);

impl UserText {
    fn get(&self, i: usize) -> Option<TextRef> {
        let end = *self.ends.get(i)?;
        if self.absent & (1 << i) != 0 {
            return None;
        }
        let begin = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(TextRef {
            start: self.start + usize::from(begin),
            end: self.start + usize::from(end),
        })
    }
}

/// Where a value is in a `TextArena`.
#[derive(Debug, Clone, Copy)]
struct TextRef {
    start: usize,
    end: usize,
}

/// Values kept end to end in one buffer: one allocation for all users'
/// names and IDs rather than several per user.
#[derive(Debug, Default)]
struct TextArena {
    text: String,
}

impl TextArena {
    /// A user's texts, end to end (see `UserText`).
    fn push_user(&mut self, values: [Option<&str>; 5]) -> UserText {
        let start = self.text.len();
        let mut ends = [0; 5];
        let mut absent = 0;
        let mut total: u16 = 0;
        for (i, value) in values.into_iter().enumerate() {
            if let Some(value) = value {
                debug_assert!(
                    value.len() <= usize::from(u16::MAX - total),
                    "cast values are short"
                );
                // Cut at a char boundary, were the bound ever broken: no panic.
                let mut len = value.len().min(usize::from(u16::MAX - total));
                while !value.is_char_boundary(len) {
                    len -= 1;
                }
                self.text.push_str(&value[..len]);
                total += len as u16;
            } else {
                absent |= 1 << i;
            }
            ends[i] = total;
        }
        UserText {
            start,
            ends,
            absent,
        }
    }

    fn get(&self, value: TextRef) -> &str {
        &self.text[value.start..value.end]
    }

    /// `get` as bytes, for comparing (no `str` slicing).
    #[inline]
    fn get_bytes(&self, value: TextRef) -> &[u8] {
        &self.text.as_bytes()[value.start..value.end]
    }
}

/// An index of texts kept elsewhere (IDs, emails), by their hash: entries
/// are 16 bytes, and growing the table reads no text (with the texts as
/// keys, each would be read again at random). A text whose hash another
/// text already has goes to a second table keyed by the text itself.
#[derive(Debug, Default)]
struct TextIndex {
    by_hash: FxHashMap<u64, u32>,
    collided: FxHashMap<Box<[u8]>, u32>,
}

impl TextIndex {
    /// The value of `text`; `text_of` gives the text of a value.
    #[inline]
    fn get<'t>(&self, text: &[u8], text_of: impl Fn(u32) -> &'t [u8]) -> Option<u32> {
        match self.by_hash.get(&text_hash(text)) {
            Some(&value) if same_bytes(text_of(value), text) => Some(value),
            _ if self.collided.is_empty() => None,
            _ => self.collided.get(text).copied(),
        }
    }

    /// The value of `text` if it is in the index, else `None` after adding
    /// it with `value` (one hash and one probe rather than two each).
    fn get_or_insert<'t>(
        &mut self,
        text: &[u8],
        value: u32,
        text_of: impl Fn(u32) -> &'t [u8],
    ) -> Option<u32> {
        match self.by_hash.entry(text_hash(text)) {
            Entry::Occupied(entry) if same_bytes(text_of(*entry.get()), text) => Some(*entry.get()),
            Entry::Occupied(_) => match self.collided.get(text) {
                Some(&found) => Some(found),
                None => {
                    self.collided.insert(text.into(), value);
                    None
                }
            },
            Entry::Vacant(entry) => {
                entry.insert(value);
                None
            }
        }
    }

    /// Adds a text that is not in the index.
    fn insert(&mut self, text: &[u8], value: u32) {
        match self.by_hash.entry(text_hash(text)) {
            Entry::Vacant(entry) => {
                entry.insert(value);
            }
            Entry::Occupied(_) => {
                self.collided.insert(text.into(), value);
            }
        }
    }
}

#[derive(Debug)]
struct ClassAgg {
    class_id: Arc<str>,
    school: u32,
    name: Box<str>,
    grade: &'static str,
    display_name: Option<Box<str>>,
    first_row: u32,
    /// CLASS_FIELDS that disagreed between rows.
    conflicts: u16,
    /// Rules 6 and 7 count rows with a blank action only.
    has_plain_rows: bool,
    students: u32,
    teacher_rows: u32,
    primary_teacher: u32,
    primary_conflict: bool,
    /// The class of the row that last followed a row of this class: rows
    /// follow each other in the same order of classes for each student of
    /// a section, so it is usually the next row's class.
    next_class: u32,
}

/// Entities a row names that are already known (looked up once per row).
#[derive(Debug, Clone, Copy)]
struct Known {
    school: Option<u32>,
    user: Option<u32>,
    class: Option<u32>,
}

/// A clean row once its school, user and class are known (`class` is
/// `NONE` for a row without one), for `UsersPass::enroll`.
#[derive(Debug, Clone, Copy)]
struct CleanRow {
    row: u64,
    school: u32,
    user: u32,
    role: Role,
    class: u32,
    action: Option<Action>,
    primary: Option<bool>,
    /// See `UsersPass::other_values`.
    other_values: u64,
}

/// A clean row, by reference. The row that begins a (user, class) pair
/// (rule 5) also holds the pair's state, and a pair is named by that row's
/// index in `UsersPass::rows`: pairs are nearly as many as rows, so a
/// separate state per pair would double the memory per row. 24 bytes.
#[derive(Debug, Clone, Copy)]
struct RowRef {
    row: u32,
    user: u32,
    class: u32,
    school: u32,
    /// `NONE` for a row without a class. Otherwise, on the row that begins
    /// its pair (`PAIR_FIRST`): the user's pair begun before this one
    /// (`NONE` for the first), so each user's pairs form a list and finding
    /// a pair needs no hash table; on a later row: the pair.
    link: u32,
    action: Option<Action>,
    /// As in the cell (part of the pair's key, with `action` and `school`).
    primary: Option<bool>,
    /// `PAIR_FIRST`, `PAIR_CONFLICTING`, `PAIR_OTHER_VALUES`.
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<RowRef>() == 24);

/// The row begins its (user, class) pair.
const PAIR_FIRST: u8 = 1;
/// A later row of the pair has other values than its first row (rule 5).
const PAIR_CONFLICTING: u8 = 2;
/// The pair's first row has an entry in `UsersPass::other_values`.
const PAIR_OTHER_VALUES: u8 = 4;

impl RowRef {
    /// The row's pair (an index into `UsersPass::rows`), if it has a class.
    fn pair(&self, index: usize) -> u32 {
        if self.flags & PAIR_FIRST != 0 {
            index as u32
        } else {
            self.link
        }
    }

    /// A primary teacher's row counts for rule 7 only with a blank action.
    fn primary_teacher(&self) -> bool {
        self.primary == Some(true) && self.action.is_none()
    }
}

/// Pairs listed per user before the user's pairs also go into a hash table
/// (a user with many classes would make the walk long).
const PAIRS_LISTED: u32 = 24;

/// Columns of users.csv by position in this file's header.
#[derive(Debug)]
struct Positions {
    columns: Vec<(Field, usize, &'static ColumnSpec)>,
    /// Indexed by `Field as usize`: looked up several times a row.
    by_field: Vec<Option<(usize, &'static ColumnSpec)>>,
    /// `field_bit`s of the columns a row must have a value in.
    required: u32,
}

impl Positions {
    fn new(layout: &Layout) -> Self {
        let columns: Vec<_> = layout
            .columns
            .iter()
            .enumerate()
            .map(|(i, spec)| (spec.field, i, *spec))
            .collect();
        let mut by_field = vec![None; crate::dictionary::FIELD_COUNT];
        let mut required = 0;
        for (field, i, spec) in &columns {
            by_field[*field as usize] = Some((*i, *spec));
            if spec.value_required {
                required |= field_bit(*field);
            }
        }
        Positions {
            columns,
            by_field,
            required,
        }
    }

    fn get(&self, field: Field) -> Option<(usize, &'static ColumnSpec)> {
        self.by_field[field as usize]
    }
}

/// The cells of one row, cast; `None` where blank, absent or invalid.
#[derive(Debug, Default)]
struct Row<'a> {
    action: Option<Action>,
    school_id: Option<&'a str>,
    user_id: Option<&'a str>,
    role: Option<Role>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    email: Option<Cow<'a, str>>,
    grade: Option<&'static str>,
    district_id: Option<&'a str>,
    state_id: Option<&'a str>,
    class_id: Option<&'a str>,
    class_name: Option<&'a str>,
    class_grade: Option<&'static str>,
    display_name: Option<&'a str>,
    primary: Option<bool>,
    /// `field_bit`s of the cells equal to (and taken as) the value already
    /// accepted for the row's user, class or school.
    known_fields: u32,
}

#[derive(Debug, Default)]
struct Interner {
    values: Vec<Box<str>>,
    first_rows: Vec<u32>,
    index: FxHashMap<Box<str>, u32>,
}

impl Interner {
    fn intern(&mut self, value: &str, row: u32) -> u32 {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(value.into());
        self.first_rows.push(row);
        self.index.insert(value.into(), i);
        i
    }
}

/// State of the users.csv pass.
#[derive(Debug)]
pub(crate) struct UsersPass {
    positions: Positions,
    known_schools: Option<FxHashSet<String>>,
    schools: Interner,
    users: Vec<UserAgg>,
    /// The text of the users' names and IDs.
    user_text: TextArena,
    user_index: TextIndex,
    email_index: TextIndex,
    classes: Vec<ClassAgg>,
    class_index: TextIndex,
    /// The class of the last row that named a known one (see `ClassAgg::next_class`).
    last_class: u32,
    /// (user, class) → the pair (see `RowRef`), only for users with more
    /// than `PAIRS_LISTED` pairs (the others are found on their list).
    many_pairs: FxHashMap<(u32, u32), u32>,
    rows: Vec<RowRef>,
    /// How many pairs there are, and whether any has `PAIR_CONFLICTING`.
    pairs: usize,
    any_conflicting_pair: bool,
    /// The first rows of pairs (`PAIR_OTHER_VALUES`) whose user and class
    /// values are not the user's and the class's, with a hash of those
    /// that differ (`other_values_hash`, never 0); 0 for all other rows,
    /// which are almost all, so it is kept apart.
    other_values: FxHashMap<u32, u64>,
    /// The schools of a user's clean rows other than its first (rule 3), for
    /// the users with any (`UserAgg::has_other_schools`).
    other_schools: FxHashMap<u32, Vec<u32>>,
    /// The user and school of the last row that named known ones.
    last_user: u32,
    last_school: u32,
    /// Users seen only on rows with errors, with their role where valid, so
    /// demographics can tell "held back" from "not in users.csv".
    held_back_roles: FxHashMap<Arc<str>, Option<Role>>,
    row_findings: Vec<(usize, Finding)>,
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

impl UsersPass {
    pub fn new(layout: &Layout, known_schools: Option<&[String]>) -> Self {
        UsersPass {
            positions: Positions::new(layout),
            known_schools: known_schools.map(|s| s.iter().cloned().collect()),
            schools: Interner::default(),
            users: Vec::new(),
            user_text: TextArena::default(),
            user_index: TextIndex::default(),
            email_index: TextIndex::default(),
            classes: Vec::new(),
            class_index: TextIndex::default(),
            last_class: NONE,
            many_pairs: FxHashMap::default(),
            pairs: 0,
            any_conflicting_pair: false,
            other_values: FxHashMap::default(),
            other_schools: FxHashMap::default(),
            rows: Vec::new(),
            last_user: NONE,
            last_school: NONE,
            held_back_roles: FxHashMap::default(),
            row_findings: Vec::new(),
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
            cells::cast(crate::dictionary::ValueKind::Role, r)
                .ok()
                .and_then(|r| Role::parse(&r))
        });
        if self.find_user(user_id.as_bytes()).is_none() {
            let known = self.held_back_roles.entry(user_id.into()).or_insert(role);
            *known = known.or(role);
        }
    }

    /// Checks one data row (not blank, right number of cells).
    pub fn check_row(&mut self, record: &Record<'_>, sink: &mut Sink) {
        if let Some(repeated) = self.repeated_row(record) {
            self.note_user_school(repeated.user, repeated.school);
            self.note_class_school(repeated.class, repeated.school);
            self.enroll(repeated, sink);
            return;
        }
        let row_number = record.row;
        let cells = RowCells::new(&self.positions, record);
        let known = Known {
            school: cells
                .value(Field::SchoolId)
                .and_then(|id| self.find_school(id.as_bytes())),
            user: cells
                .value(Field::UserId)
                .and_then(|id| self.find_user(id.as_bytes())),
            class: cells
                .value(Field::ClassId)
                .and_then(|id| self.find_class(id.as_bytes())),
        };
        let user = known.user.map(|u| &self.users[u as usize]);
        let class = known.class.map(|c| &self.classes[c as usize]);
        let school_id = known.school.map(|s| &*self.schools.values[s as usize]);
        let text = &self.user_text;
        self.row_findings.clear();
        let mut cast = RowCaster {
            positions: &self.positions,
            cells: &cells,
            row: row_number,
            findings: &mut self.row_findings,
            known_fields: 0,
        };

        // Cells: cast every present, non-blank value to its kind.
        let mut row = Row {
            action: cast.cell(Field::Action).and_then(|a| Action::parse(&a)),
            school_id: cast
                .text_or_known(Field::SchoolId, school_id)
                .and_then(borrowed),
            user_id: cast
                .text_or_known(Field::UserId, user.map(|u| &*u.user_id))
                .and_then(borrowed),
            role: cast
                .text_or_known(Field::UserRole, user.map(|u| u.role.as_str()))
                .and_then(|r| Role::parse(&r)),
            first_name: cast
                .text_or_known(Field::UserFirstName, user.map(|u| text.get(u.first_name())))
                .and_then(borrowed),
            last_name: cast
                .text_or_known(Field::UserLastName, user.map(|u| text.get(u.last_name())))
                .and_then(borrowed),
            email: cast.text_or_known(Field::UserEmail, user.map(|u| text.get(u.email()))),
            grade: None,
            district_id: cast
                .text_or_known(
                    Field::UserDistrictId,
                    user.and_then(|u| Some(text.get(u.district_id()?))),
                )
                .and_then(borrowed),
            state_id: cast
                .text_or_known(
                    Field::UserStateId,
                    user.and_then(|u| Some(text.get(u.state_id()?))),
                )
                .and_then(borrowed),
            class_id: cast
                .text_or_known(Field::ClassId, class.map(|c| &*c.class_id))
                .and_then(borrowed),
            class_name: cast
                .text_or_known(Field::ClassName, class.map(|c| &*c.name))
                .and_then(borrowed),
            class_grade: cast.grade_or_known(Field::ClassGrade, class.map(|c| c.grade)),
            display_name: cast
                .text_or_known(
                    Field::ClassDisplayName,
                    class.and_then(|c| c.display_name.as_deref()),
                )
                .and_then(borrowed),
            primary: cast
                .cell(Field::IsPrimaryTeacher)
                .and_then(|b| cells::cast_boolean(&b)),
            known_fields: 0,
        };
        // The grade's rule depends on the role: cast apart from constraint.
        if !row.role.is_some_and(Role::is_staff) {
            row.grade = cast.grade_or_known(Field::UserGrade, user.and_then(|u| u.grade));
        } else if let Some((position, value)) =
            cells.get(Field::UserGrade).filter(|(_, v)| !v.is_empty())
        {
            cast.findings.push((
                position,
                Finding::new(IssueCode::GradeIgnoredForStaff, FILE)
                    .at_row(row_number)
                    .in_column(header_name(Field::UserGrade))
                    .with_value(value),
            ));
        }
        row.known_fields = cast.known_fields;

        // Required values, and rules across the cells of the row.
        let missing = cells.blank & cast.positions.required;
        if missing != 0 {
            for (field, _, _) in &cast.positions.columns {
                if missing & field_bit(*field) != 0 {
                    cast.require(*field, "");
                }
            }
        }
        if row.role == Some(Role::Student) {
            cast.require(Field::UserGrade, " for students");
        }
        let class_blank = cells.value(Field::ClassId).is_none_or(str::is_empty);
        let action_needs_class = row.action.is_some_and(Action::needs_class);
        if class_blank {
            let class_details_given = [Field::ClassName, Field::ClassGrade]
                .iter()
                .any(|f| cells.value(*f).is_some_and(|v| !v.is_empty()));
            if class_details_given && !action_needs_class {
                cast.require(Field::ClassId, " when className or classGrade is set");
            }
        } else {
            cast.require(Field::ClassName, " when classId is set");
            cast.require(Field::ClassGrade, " when classId is set");
        }
        if let (true, Some(action), Some((position, value))) =
            (class_blank, row.action, cells.get(Field::Action))
        {
            if action.needs_class() {
                cast.findings.push((
                    position,
                    Finding::new(IssueCode::ActionNeedsClass, FILE)
                        .at_row(row_number)
                        .in_column(header_name(Field::Action))
                        .with_value(value)
                        .with_detail(action.as_str()),
                ));
            }
        }
        if row.primary == Some(true) {
            if let (Some(role), Some((position, value))) =
                (row.role, cells.get(Field::IsPrimaryTeacher))
            {
                if role != Role::Teacher || class_blank {
                    let detail = if role != Role::Teacher {
                        format!(" (this row is a {})", role.as_str())
                    } else {
                        " (this row has no classId)".to_string()
                    };
                    cast.findings.push((
                        position,
                        Finding::new(IssueCode::PrimaryTeacherNotTeacher, FILE)
                            .at_row(row_number)
                            .in_column(header_name(Field::IsPrimaryTeacher))
                            .with_value(value)
                            .with_detail(detail),
                    ));
                }
            }
        }
        if let (Some(known), Some(school_id), Some((position, _))) = (
            &self.known_schools,
            row.school_id,
            cells.get(Field::SchoolId),
        ) {
            if !known.contains(school_id) {
                cast.findings.push((
                    position,
                    Finding::new(IssueCode::UnknownSchool, FILE)
                        .at_row(row_number)
                        .in_column(header_name(Field::SchoolId))
                        .with_value(school_id),
                ));
            }
        }

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
                    if self.find_user(user_id.as_bytes()).is_none() {
                        let known = self
                            .held_back_roles
                            .entry(user_id.into())
                            .or_insert(row.role);
                        *known = known.or(row.role);
                    }
                }
                return;
            }
        }
        self.aggregate(row_number, &row, known, sink);
    }

    /// The row, when it only repeats what is known, as almost every row of
    /// a users.csv does: its school, user and class are known, and each of
    /// their cells is exactly (untrimmed) the canonical value already
    /// accepted for them. Every such cell would be taken as the known value
    /// (`RowCaster::is_known`) and every value would equal the user's and
    /// the class's, so the row would have no finding of its own: casting,
    /// the row rules and the comparing in `aggregate` are skipped. `None`
    /// for any other row, which takes the full path; every finding is made
    /// there. Cells are compared as bytes (no `str` slicing).
    fn repeated_row(&mut self, record: &Record<'_>) -> Option<CleanRow> {
        let cell = |field: Field| {
            self.positions
                .get(field)
                .map(|(i, _)| record.field_bytes(i))
        };
        let [action, school_id, user_id, role, first_name, last_name, email, grade, district_id, state_id, class_id, class_name, class_grade, display_name, primary] =
            [
                Field::Action,
                Field::SchoolId,
                Field::UserId,
                Field::UserRole,
                Field::UserFirstName,
                Field::UserLastName,
                Field::UserEmail,
                Field::UserGrade,
                Field::UserDistrictId,
                Field::UserStateId,
                Field::ClassId,
                Field::ClassName,
                Field::ClassGrade,
                Field::ClassDisplayName,
                Field::IsPrimaryTeacher,
            ]
            .map(cell);
        if !is_blank_or_absent(action) {
            return None; // the action rules
        }
        let primary = match primary {
            None | Some(b"") => None,
            Some(b"TRUE") => Some(true),
            Some(b"FALSE") => Some(false),
            Some(_) => return None,
        };
        let school = self.find_school(school_id?)?;
        // A school is known only from a row without errors, so it passed
        // the known-schools rule (`UnknownSchool`).
        debug_assert!(self
            .known_schools
            .as_ref()
            .is_none_or(|known| known.contains(&*self.schools.values[school as usize])));
        let user = self.find_user(user_id?)?;
        let class = self.find_class(class_id?)?;

        let text = &self.user_text;
        let agg = &self.users[user as usize];
        let user_repeated = is_known_value(role, Some(agg.role.as_str().as_bytes()))
            && is_known_value(first_name, Some(text.get_bytes(agg.first_name())))
            && is_known_value(last_name, Some(text.get_bytes(agg.last_name())))
            && is_known_value(email, Some(text.get_bytes(agg.email())))
            // A staff member has no grade (a blank cell), a student one.
            && is_known_value(grade, agg.grade.map(str::as_bytes))
            && (agg.role != Role::Student || agg.grade.is_some())
            && is_known_value(district_id, agg.district_id().map(|id| text.get_bytes(id)))
            && is_known_value(state_id, agg.state_id().map(|id| text.get_bytes(id)))
            // Only a teacher may be a class's primary teacher.
            && (primary != Some(true) || agg.role == Role::Teacher);
        let class_agg = &self.classes[class as usize];
        let class_repeated = is_known_value(class_name, Some(class_agg.name.as_bytes()))
            && is_known_value(class_grade, Some(class_agg.grade.as_bytes()))
            && is_known_value(
                display_name,
                class_agg.display_name.as_deref().map(str::as_bytes),
            );
        if !user_repeated || !class_repeated {
            return None;
        }
        Some(CleanRow {
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

    /// The known class with this classId: the one that followed the last
    /// row's class last time is tried before the index.
    fn find_class(&mut self, id: &[u8]) -> Option<u32> {
        let classes = &mut self.classes;
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
    fn class_followed(&mut self, class: u32) {
        if let Some(last) = self.classes.get_mut(self.last_class as usize) {
            last.next_class = class;
        }
        self.last_class = class;
    }

    /// The known user with this userId. A user's rows usually follow each
    /// other, so the last user found is tried before the index.
    fn find_user(&mut self, id: &[u8]) -> Option<u32> {
        if let Some(last) = self.users.get(self.last_user as usize) {
            if same_bytes(last.user_id.as_bytes(), id) {
                return Some(self.last_user);
            }
        }
        let users = &self.users;
        let found = self
            .user_index
            .get(id, |u| users[u as usize].user_id.as_bytes())?;
        self.last_user = found;
        Some(found)
    }

    /// The known school with this schoolId (the last one found first, as for users).
    fn find_school(&mut self, id: &[u8]) -> Option<u32> {
        if let Some(last) = self.schools.values.get(self.last_school as usize) {
            if same_bytes(last.as_bytes(), id) {
                return Some(self.last_school);
            }
        }
        let id = std::str::from_utf8(id).ok()?;
        let found = self.schools.index.get(id).copied()?;
        self.last_school = found;
        Some(found)
    }

    /// Adds a clean row to the entities (rules 1-7 are checked as it goes).
    fn aggregate(&mut self, row_number: u64, row: &Row<'_>, known: Known, sink: &mut Sink) {
        // A clean row has every required value.
        let (
            Some(school_id),
            Some(user_id),
            Some(role),
            Some(first_name),
            Some(last_name),
            Some(email),
        ) = (
            row.school_id,
            row.user_id,
            row.role,
            row.first_name,
            row.last_name,
            row.email.as_deref(),
        )
        else {
            return;
        };
        let row32 = u32_row(row_number);
        let school = match known.school {
            Some(school) => school,
            None => {
                self.last_school = self.schools.intern(school_id, row32);
                self.last_school
            }
        };
        // A cell taken as the known value needs no comparing.
        let compare = |field: Field| row.known_fields & field_bit(field) == 0;

        // Whether the row's user (class) values are not the user's (class's).
        let mut user_values_differ = false;
        let user = match known.user {
            Some(user) => {
                let text = &self.user_text;
                let agg = &mut self.users[user as usize];
                let differs = [
                    compare(Field::UserRole) && agg.role != role,
                    compare(Field::UserFirstName) && text.get(agg.first_name()) != first_name,
                    compare(Field::UserLastName) && text.get(agg.last_name()) != last_name,
                    compare(Field::UserEmail) && text.get(agg.email()) != email,
                    compare(Field::UserGrade) && agg.grade != row.grade,
                    compare(Field::UserDistrictId)
                        && agg.district_id().map(|id| text.get(id)) != row.district_id,
                    compare(Field::UserStateId)
                        && agg.state_id().map(|id| text.get(id)) != row.state_id,
                ];
                for (i, differs) in differs.into_iter().enumerate() {
                    if differs {
                        agg.conflicts |= 1 << i;
                        user_values_differ = true;
                    }
                }
                self.note_user_school(user, school);
                user
            }
            None => {
                let user = self.users.len() as u32;
                let user_id: Arc<str> = user_id.into();
                let mut duplicate_email_row = NONE;
                let (users, text) = (&self.users, &self.user_text);
                let other = self.email_index.get_or_insert(email.as_bytes(), user, |u| {
                    text.get_bytes(users[u as usize].email())
                });
                if let Some(other) = other {
                    let other = &mut self.users[other as usize];
                    if other.duplicate_email_row == NONE {
                        other.duplicate_email_row = row32;
                    }
                    duplicate_email_row = other.first_row;
                }
                self.user_index.insert(user_id.as_bytes(), user);
                self.users.push(UserAgg {
                    user_id,
                    role,
                    text: self.user_text.push_user([
                        Some(first_name),
                        Some(last_name),
                        Some(email),
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
                    let agg = &mut self.classes[class as usize];
                    // CLASS_FIELDS after the school.
                    let differs = [
                        compare(Field::ClassName) && *agg.name != *class_name,
                        compare(Field::ClassGrade) && agg.grade != class_grade,
                        compare(Field::ClassDisplayName)
                            && agg.display_name.as_deref() != row.display_name,
                    ];
                    for (i, differs) in differs.into_iter().enumerate() {
                        if differs {
                            agg.conflicts |= 1 << (i + 1);
                            class_values_differ = true;
                        }
                    }
                    class
                }
                None => {
                    let class = self.classes.len() as u32;
                    self.class_index.insert(class_id.as_bytes(), class);
                    self.classes.push(ClassAgg {
                        class_id: class_id.into(),
                        school,
                        name: class_name.into(),
                        grade: class_grade,
                        display_name: row.display_name.map(Into::into),
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
                role,
                class,
                action: row.action,
                primary: row.primary,
                other_values,
            },
            sink,
        );
    }

    /// A user's row names `school`: rule 3 (a student has one school).
    fn note_user_school(&mut self, user: u32, school: u32) {
        let agg = &mut self.users[user as usize];
        if agg.school != school {
            agg.has_other_schools = true;
            let others = self.other_schools.entry(user).or_default();
            if !others.contains(&school) {
                others.push(school);
            }
        }
    }

    /// A class's row names `school`: rule 2 (rows of a class agree).
    fn note_class_school(&mut self, class: u32, school: u32) {
        let agg = &mut self.classes[class as usize];
        if agg.school != school {
            agg.conflicts |= 1; // CLASS_FIELDS[0]
        }
    }

    /// Adds a clean row whose user and class are known now (rules 5-7).
    fn enroll(&mut self, clean: CleanRow, sink: &mut Sink) {
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
        let index = self.rows.len() as u32;
        let mut link = NONE;
        let mut flags = 0;
        if class != NONE {
            let plain = action.is_none();
            // Rule 5: one row per (user, class).
            let found = self.find_pair(user, class);
            let new_pair = found.is_none();
            if let Some(pair) = found {
                link = pair;
                let first = self.rows[pair as usize];
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
                    self.rows[pair as usize].flags |= PAIR_CONFLICTING;
                    self.any_conflicting_pair = true;
                }
            } else {
                let agg = &mut self.users[user as usize];
                link = agg.last_pair;
                agg.last_pair = index;
                agg.pair_count += 1;
                flags = PAIR_FIRST;
                self.pairs += 1;
                if other_values != 0 {
                    flags |= PAIR_OTHER_VALUES;
                    self.other_values.insert(index, other_values);
                }
            }

            // Rules 6 and 7 count plain rows only.
            let agg = &mut self.classes[class as usize];
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

        self.rows.push(RowRef {
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
    fn find_pair(&self, user: u32, class: u32) -> Option<u32> {
        let agg = &self.users[user as usize];
        if agg.pair_count > PAIRS_LISTED {
            return self.many_pairs.get(&(user, class)).copied();
        }
        let mut pair = agg.last_pair;
        while let Some(first) = self.rows.get(pair as usize) {
            if first.class == class {
                return Some(pair);
            }
            pair = first.link;
        }
        None
    }

    /// Puts a new pair, whose first row is in `rows`, in `many_pairs` if
    /// its user has that many.
    fn list_pair(&mut self, user: u32, class: u32, pair: u32) {
        let count = self.users[user as usize].pair_count;
        if count == PAIRS_LISTED + 1 {
            // From now on this user's pairs are found in the table: all of them.
            let mut listed = pair;
            while let Some(first) = self.rows.get(listed as usize) {
                self.many_pairs.insert((user, first.class), listed);
                listed = first.link;
            }
        } else if count > PAIRS_LISTED {
            self.many_pairs.insert((user, class), pair);
        }
    }

    /// The rules across rows, then the normalized records of the clean rows.
    /// `roles`: whether the outcome needs `roles` (for a demographics.csv).
    pub fn finish(self, sink: &mut Sink, roles: bool) -> UsersOutcome {
        let UsersPass {
            schools,
            users,
            user_text,
            classes,
            rows,
            pairs: pair_count,
            any_conflicting_pair,
            many_pairs,
            other_values,
            other_schools,
            held_back_roles,
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

        // Rule 9: an entity that fails fails its own rows only.
        // Rows named in the messages of conflicting enrollments and primary teachers.
        let mut pair_rows: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut primary_rows: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        // (Conflicts are rare: most files need no pass over the rows here.)
        let any_primary_conflict = classes.iter().any(|c| c.primary_conflict);
        let conflicts = any_conflicting_pair || any_primary_conflict;
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

        // Secondary IDs are unique among users: (column, other user's first row) per user.
        // Sparse: users rarely share one (a Vec per user would cost 24 bytes each).
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

        let mut failed_rows = vec![false; rows.len()];
        for (index, r) in rows.iter().enumerate() {
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
            if user.conflicts != 0 {
                let names = field_names(USER_FIELDS, user.conflicts);
                let first = names.first().copied().unwrap_or("userId");
                push(
                    Finding::new(IssueCode::UserConflict, FILE)
                        .at_row(u64::from(r.row))
                        .in_column(first)
                        .with_detail(names.join(", ")),
                );
            }
            for (field, other_row) in shared_secondary
                .get(&(r.user as usize))
                .into_iter()
                .flatten()
            {
                push(
                    at(IssueCode::DuplicateSecondaryId, *field)
                        .with_detail(format!(" (row {other_row})")),
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
                    let names = field_names(CLASS_FIELDS, class.conflicts);
                    let first = names.first().copied().unwrap_or("classId");
                    push(
                        Finding::new(IssueCode::ClassConflict, FILE)
                            .at_row(u64::from(r.row))
                            .in_column(first)
                            .with_detail(names.join(", ")),
                    );
                }
                if let Some(involved) = pair_rows.get(&r.pair(index)) {
                    push(
                        at(IssueCode::ConflictingEnrollment, Field::ClassId)
                            .with_detail(rows_text(involved)),
                    );
                }
                if r.primary_teacher() {
                    if let Some(involved) = primary_rows.get(&r.class) {
                        push(
                            at(IssueCode::PrimaryTeacherConflict, Field::IsPrimaryTeacher)
                                .with_detail(rows_text(involved)),
                        );
                    }
                }
            }
            failed_rows[index] = failed;
        }

        // Rule 7: warnings on the class's first row.
        for class in &classes {
            if !class.has_plain_rows {
                continue;
            }
            if class.students > MAX_STUDENTS_PER_CLASS {
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

        // Rule 8: identifiers equal once leading zeros are removed.
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

        // Records from the rows that did not fail.
        let mut outcome = UsersOutcome::default();
        outcome.records.users.reserve(users.len());
        outcome.records.classes.reserve(classes.len());
        let mut user_record: Vec<u32> = vec![NONE; users.len()];
        let mut first_school: Vec<u32> = vec![NONE; users.len()];
        let mut class_record: Vec<u32> = vec![NONE; classes.len()];
        let mut deactivated = vec![false; users.len()];
        let mut removed = vec![false; classes.len()];
        let mut school_used = vec![false; schools.values.len()];
        for (r, _) in rows
            .iter()
            .zip(&failed_rows)
            .filter(|(_, failed)| !**failed)
        {
            let u = r.user as usize;
            school_used[r.school as usize] = true;
            if user_record[u] == NONE {
                user_record[u] = outcome.records.users.len() as u32;
                let agg = &users[u];
                outcome.records.users.push(UserRecord {
                    user_id: agg.user_id.clone(),
                    role: agg.role,
                    first_name: String::from(user_text.get(agg.first_name())),
                    last_name: String::from(user_text.get(agg.last_name())),
                    email: String::from(user_text.get(agg.email())),
                    grade: agg.grade.map(Cow::Borrowed),
                    district_id: agg.district_id().map(|id| user_text.get(id).to_string()),
                    state_id: agg.state_id().map(|id| user_text.get(id).to_string()),
                    // Exactly the user's schools (usually one): not the
                    // four a first push would make room for.
                    school_ids: Vec::with_capacity(
                        1 + other_schools.get(&(u as u32)).map_or(0, Vec::len),
                    ),
                    deactivate: false,
                });
            }
            let record = &mut outcome.records.users[user_record[u] as usize];
            // Schools are interned: the usual row names the record's first
            // school, known by its index without comparing text.
            if r.school != first_school[u] {
                let school_id = &*schools.values[r.school as usize];
                if !record.school_ids.iter().any(|s| s == school_id) {
                    record.school_ids.push(String::from(school_id));
                    if first_school[u] == NONE {
                        first_school[u] = r.school;
                    }
                }
            }
            if r.action == Some(Action::DeactivateUser) {
                record.deactivate = true;
                deactivated[u] = true;
            }
            if r.class != NONE {
                let c = r.class as usize;
                if class_record[c] == NONE {
                    class_record[c] = outcome.records.classes.len() as u32;
                    let agg = &classes[c];
                    outcome.records.classes.push(ClassRecord {
                        class_id: agg.class_id.clone(),
                        school_id: String::from(&*schools.values[agg.school as usize]),
                        name: String::from(&*agg.name),
                        grade: Cow::Borrowed(agg.grade),
                        display_name: agg.display_name.as_deref().map(String::from),
                        remove: false,
                    });
                }
                if r.action == Some(Action::RemoveClass) {
                    outcome.records.classes[class_record[c] as usize].remove = true;
                    removed[c] = true;
                }
            }
        }
        // The users' texts and aggregates are done with: only their IDs and
        // roles are kept, and freed before the enrollments (about one per
        // row) are made, when memory peaks.
        let mut users_by_index: Vec<(Arc<str>, Role)> = Vec::with_capacity(users.len());
        users_by_index.extend(users.into_iter().map(|u| (u.user_id, u.role)));
        drop(user_text);
        outcome.records.enrollments.reserve(pair_count);
        // Enrollments, once per (user, class), unless the user or class goes.
        // By pair: the index of its first row.
        let mut enrolled = vec![false; rows.len()];
        for (index, (r, _)) in rows
            .iter()
            .zip(&failed_rows)
            .enumerate()
            .filter(|(_, (_, failed))| !**failed)
        {
            if r.class == NONE
                || deactivated[r.user as usize]
                || removed[r.class as usize]
                || !matches!(r.action, None | Some(Action::RemoveEnrollment))
            {
                continue;
            }
            if std::mem::replace(&mut enrolled[r.pair(index) as usize], true) {
                continue;
            }
            let (user_id, role) = &users_by_index[r.user as usize];
            outcome.records.enrollments.push(EnrollmentRecord {
                user_id: user_id.clone(),
                class_id: classes[r.class as usize].class_id.clone(),
                primary_teacher: (*role == Role::Teacher).then_some(r.primary_teacher()),
                remove: r.action == Some(Action::RemoveEnrollment),
            });
        }
        drop((rows, failed_rows));
        outcome.schools = school_used.iter().filter(|u| **u).count() as u64;
        if roles {
            outcome.roles = held_back_roles;
            outcome.roles.reserve(users_by_index.len());
            for (user_id, role) in users_by_index {
                outcome.roles.insert(user_id, Some(role));
            }
        }
        outcome
    }
}

/// Fields of users.csv (the first `Field`s) have a bit in a `u32` mask.
const USERS_FIELD_COUNT: usize = Field::IsPrimaryTeacher as usize + 1;
const _: () = assert!(USERS_FIELD_COUNT <= 32);

fn field_bit(field: Field) -> u32 {
    1 << (field as u32 % 32)
}

/// The trimmed cells of one row, by field: each cell is sliced once.
struct RowCells<'r> {
    by_field: [Option<(usize, &'r str)>; USERS_FIELD_COUNT],
    /// `field_bit`s of the columns whose cell is blank.
    blank: u32,
}

impl<'r> RowCells<'r> {
    fn new(positions: &Positions, record: &Record<'r>) -> Self {
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
    fn get(&self, field: Field) -> Option<(usize, &'r str)> {
        self.by_field.get(field as usize).copied().flatten()
    }

    #[inline]
    fn value(&self, field: Field) -> Option<&'r str> {
        self.get(field).map(|(_, value)| value)
    }
}

/// Casts the cells of one row; a problem becomes a finding.
struct RowCaster<'a, 'r> {
    positions: &'a Positions,
    cells: &'a RowCells<'r>,
    row: u64,
    findings: &'a mut Vec<(usize, Finding)>,
    /// See `Row::known_fields`.
    known_fields: u32,
}

impl<'r> RowCaster<'_, 'r> {
    /// Casts a present, non-blank cell.
    fn cell(&mut self, field: Field) -> Option<Cow<'r, str>> {
        let (position, value) = self.cells.get(field)?;
        if value.is_empty() {
            return None;
        }
        let (_, spec) = self.positions.get(field)?;
        match cells::cast(spec.kind, value) {
            Ok(canonical) => Some(canonical),
            Err(CellProblem { code, detail }) => {
                let mut finding = Finding::new(code, FILE)
                    .at_row(self.row)
                    .in_column(spec.name)
                    .with_value(value);
                finding.detail = detail;
                self.findings.push((position, finding));
                None
            }
        }
    }

    /// Whether the cell equals `known`, the canonical value already accepted
    /// for the row's user, class or school: then it is taken as it is. Most
    /// rows repeat those values, and casting them again is most of the work.
    #[inline]
    fn is_known(&mut self, field: Field, known: Option<&str>) -> bool {
        let same = match (known, self.cells.value(field)) {
            (Some(known), Some(value)) => same_text(known, value),
            _ => false,
        };
        if same {
            self.known_fields |= field_bit(field);
        }
        same
    }

    /// A text cell: the known value, or the cell cast.
    #[inline]
    fn text_or_known(&mut self, field: Field, known: Option<&str>) -> Option<Cow<'r, str>> {
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
        if self.is_known(field, known) {
            return known;
        }
        self.cell(field).and_then(|g| cells::cast_grade(&g))
    }

    /// A blank cell in a column the file has is a missing value.
    fn require(&mut self, field: Field, detail: &str) {
        if let Some((position, "")) = self.cells.get(field) {
            self.findings.push((
                position,
                Finding::new(IssueCode::MissingValue, FILE)
                    .at_row(self.row)
                    .in_column(header_name(field))
                    .with_detail(detail),
            ));
        }
    }
}

/// A blank cell, or a column the file does not have.
fn is_blank_or_absent(cell: Option<&[u8]>) -> bool {
    cell.is_none_or(<[u8]>::is_empty)
}

/// Whether a raw (untrimmed) cell is exactly the known canonical value,
/// where a blank cell or an absent column is a known value of none.
#[inline]
fn is_known_value(cell: Option<&[u8]>, known: Option<&[u8]>) -> bool {
    match (cell, known) {
        (Some(cell), Some(known)) => same_bytes(cell, known),
        (cell, None) => is_blank_or_absent(cell),
        (None, Some(_)) => false,
    }
}

/// Equality of two strings, without a call to `memcmp` for the short ones
/// (cells are mostly shorter than 16 bytes, and a row compares a dozen).
#[inline]
fn same_text(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// `same_text` of bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word =
        |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let half =
        |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default());
    // Two loads that overlap cover every byte.
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
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

fn text_hash(text: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(text);
    hasher.finish()
}

/// The hashes of the texts that occur more than once, a superset of the
/// texts that do (two texts may share a hash). Rules about equal values
/// among all users look only at the texts with these hashes: a set of
/// `u64`s is far smaller and quicker to fill than a map of the texts, and
/// is usually empty.
fn repeated_hashes<'a>(texts: impl Iterator<Item = &'a str>) -> FxHashSet<u64> {
    let mut seen: FxHashSet<u64> = FxHashSet::default();
    // Sized once (growing rehashes every hash): at most one per text.
    let (least, most) = texts.size_hint();
    seen.reserve(most.unwrap_or(least));
    let mut repeated = FxHashSet::default();
    for text in texts {
        let hash = text_hash(text.as_bytes());
        if !seen.insert(hash) {
            repeated.insert(hash);
        }
    }
    repeated
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
                .with_detail(detail)
                .with_severity(Severity::Warning),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{same_text, text_hash, TextArena, TextIndex};

    /// A user's texts are found again with blank IDs anywhere among them,
    /// after other users' texts.
    #[test]
    fn user_texts_are_found_by_their_lengths() {
        let mut arena = TextArena::default();
        let cases: [[Option<&str>; 5]; 4] = [
            [Some("Ann"), Some("Lee"), Some("ann@x.org"), None, None],
            [Some("Zoë"), Some("Ng"), Some("z@x.org"), None, Some("S7")],
            [Some("B"), Some("C"), Some("b@x.org"), Some("D1"), None],
            [Some("É"), Some(""), Some("e@x.org"), Some("D2"), Some("S2")],
        ];
        let texts: Vec<_> = cases.iter().map(|c| arena.push_user(*c)).collect();
        for (text, case) in texts.iter().zip(&cases) {
            for (i, value) in case.iter().enumerate() {
                assert_eq!(text.get(i).map(|t| arena.get(t)), *value);
            }
            assert_eq!(text.get(5).map(|t| arena.get(t)), None);
        }
    }

    #[test]
    fn text_index_keeps_texts_whose_hashes_collide_apart() {
        let texts = ["a", "b", "c"];
        let text_of = |value: u32| texts[value as usize].as_bytes();
        let mut index = TextIndex::default();
        // As if "a" and "b" had one hash (no real pair is known to collide):
        // "a" is under the hash of "b".
        index.by_hash.insert(text_hash(b"b"), 0);
        index.insert(b"b", 1);
        assert_eq!(index.collided.len(), 1);
        assert_eq!(index.get(b"b", text_of), Some(1));
        assert_eq!(index.get(b"c", text_of), None);
        index.insert(b"c", 2);
        assert_eq!(index.get(b"c", text_of), Some(2));
        assert_eq!(index.get_or_insert(b"b", 9, text_of), Some(1));
        assert_eq!(index.get_or_insert(b"c", 9, text_of), Some(2));
        assert_eq!(index.get_or_insert(b"d", 3, text_of), None);
        assert_eq!(index.get(b"d", |_| b"d"), Some(3));
    }

    #[test]
    fn same_text_agrees_with_eq() {
        let values = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abd",
            "xbc",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "bbcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "Abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "é",
            "è",
            "éa",
            "ea",
        ];
        for a in values {
            for b in values {
                assert_eq!(same_text(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }
}
