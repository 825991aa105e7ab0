//! The entities the users.csv pass keeps: one aggregate per distinct user
//! and class, with its canonical values and what the rules across rows
//! need, and a small fixed-size reference per clean row.

use std::sync::Arc;

use super::text::{TextRef, UserText};
use crate::dictionary::Field;
use crate::records::{Action, Role};

/// Fields that rows of one user must agree on (rule 1), in message order:
/// bit `i` of `UserAgg::conflicts` is `USER_FIELDS[i]`.
pub(super) const USER_FIELDS: &[Field] = &[
    Field::UserRole,
    Field::UserFirstName,
    Field::UserLastName,
    Field::UserEmail,
    Field::UserGrade,
    Field::UserDistrictId,
    Field::UserStateId,
];
/// Fields that rows of one class must agree on (rule 2): bit `i` of
/// `ClassAgg::conflicts` is `CLASS_FIELDS[i]`.
pub(super) const CLASS_FIELDS: &[Field] = &[
    Field::SchoolId,
    Field::ClassName,
    Field::ClassGrade,
    Field::ClassDisplayName,
];

#[derive(Debug)]
pub(super) struct UserAgg {
    pub(super) user_id: Arc<str>,
    pub(super) role: Role,
    /// First and last name, email, district and state ID.
    pub(super) text: UserText,
    pub(super) grade: Option<&'static str>,
    pub(super) first_row: u32,
    /// USER_FIELDS that disagreed between rows.
    pub(super) conflicts: u16,
    /// Schools of the user's clean rows (interned indices): the first, and
    /// whether there are others (rarely: they are in `UsersPass::other_schools`).
    pub(super) school: u32,
    pub(super) has_other_schools: bool,
    /// Another user with the same email (its first row), if any.
    pub(super) duplicate_email_row: u32,
    /// The user's last pair (the head of its list, see `RowRef::link`)
    /// and how many pairs the user has.
    pub(super) last_pair: u32,
    pub(super) pair_count: u32,
}

// 80 bytes on 64-bit targets (176 before the texts and other schools were
// made compact): users are up to a third of the rows.
const _: () = assert!(std::mem::size_of::<UserAgg>() <= 80);

impl UserAgg {
    pub(super) fn first_name(&self) -> TextRef {
        self.text.get(0).unwrap_or(TextRef::EMPTY)
    }

    pub(super) fn last_name(&self) -> TextRef {
        self.text.get(1).unwrap_or(TextRef::EMPTY)
    }

    pub(super) fn email(&self) -> TextRef {
        self.text.get(2).unwrap_or(TextRef::EMPTY)
    }

    pub(super) fn district_id(&self) -> Option<TextRef> {
        self.text.get(3)
    }

    pub(super) fn state_id(&self) -> Option<TextRef> {
        self.text.get(4)
    }
}

#[derive(Debug)]
pub(super) struct ClassAgg {
    pub(super) class_id: Arc<str>,
    pub(super) school: u32,
    pub(super) name: Box<str>,
    pub(super) grade: &'static str,
    pub(super) display_name: Option<Box<str>>,
    /// Its name and display name read as themselves when written as cells
    /// (as for `UserText::reads_as_written`).
    pub(super) reads_as_written: bool,
    pub(super) first_row: u32,
    /// CLASS_FIELDS that disagreed between rows.
    pub(super) conflicts: u16,
    /// Rules 6 and 7 count rows with a blank action only.
    pub(super) has_plain_rows: bool,
    pub(super) students: u32,
    pub(super) teacher_rows: u32,
    pub(super) primary_teacher: u32,
    pub(super) primary_conflict: bool,
    /// The class of the row that last followed a row of this class: rows
    /// follow each other in the same order of classes for each student of
    /// a section, so it is usually the next row's class.
    pub(super) next_class: u32,
}

/// Entities a row names that are already known (looked up once per row).
#[derive(Debug, Clone, Copy)]
pub(super) struct Known {
    pub(super) school: Option<u32>,
    pub(super) user: Option<u32>,
    pub(super) class: Option<u32>,
}

/// A clean row once its school, user and class are known (`class` is
/// `NONE` for a row without one), for `UsersPass::enroll`.
#[derive(Debug, Clone, Copy)]
pub(super) struct CleanRow {
    pub(super) row: u64,
    pub(super) school: u32,
    pub(super) user: u32,
    pub(super) role: Role,
    pub(super) class: u32,
    pub(super) action: Option<Action>,
    pub(super) primary: Option<bool>,
    /// See `UsersPass::other_values`.
    pub(super) other_values: u64,
}

/// A clean row, by reference. The row that begins a (user, class) pair
/// (rule 5) also holds the pair's state, and a pair is named by that row's
/// index in `UsersPass::rows`: pairs are nearly as many as rows, so a
/// separate state per pair would double the memory per row. 24 bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowRef {
    pub(super) row: u32,
    pub(super) user: u32,
    pub(super) class: u32,
    pub(super) school: u32,
    /// `NONE` for a row without a class. Otherwise, on the row that begins
    /// its pair (`PAIR_FIRST`): the user's pair begun before this one
    /// (`NONE` for the first), so each user's pairs form a list and finding
    /// a pair needs no hash table; on a later row: the pair.
    pub(super) link: u32,
    pub(super) action: Option<Action>,
    /// As in the cell (part of the pair's key, with `action` and `school`).
    pub(super) primary: Option<bool>,
    /// `PAIR_FIRST`, `PAIR_CONFLICTING`, `PAIR_OTHER_VALUES`.
    pub(super) flags: u8,
}

const _: () = assert!(std::mem::size_of::<RowRef>() == 24);

/// The row begins its (user, class) pair.
pub(super) const PAIR_FIRST: u8 = 1;
/// A later row of the pair has other values than its first row (rule 5).
pub(super) const PAIR_CONFLICTING: u8 = 2;
/// The pair's first row has an entry in `UsersPass::other_values`.
pub(super) const PAIR_OTHER_VALUES: u8 = 4;

impl RowRef {
    /// The row's pair (an index into `UsersPass::rows`), if it has a class.
    pub(super) fn pair(&self, index: usize) -> u32 {
        if self.flags & PAIR_FIRST != 0 {
            index as u32
        } else {
            self.link
        }
    }

    /// A primary teacher's row counts for rule 7 only with a blank action.
    pub(super) fn primary_teacher(&self) -> bool {
        self.primary == Some(true) && self.action.is_none()
    }
}

/// Pairs listed per user before the user's pairs also go into a hash table
/// (a user with many classes would make the walk long).
pub(super) const PAIRS_LISTED: u32 = 24;
