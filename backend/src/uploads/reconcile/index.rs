//! Look-ups into the stored roster that the planner makes once per plan.

// Planning a large upload is mostly hash look-ups of short keys: foldhash
// is several times faster than std's SipHash there, and randomly seeded.
use foldhash::{HashMap, HashMapExt};

use super::{Stored, StoredClass, StoredUser};

/// An identifier without its leading zeros (`0123` and `123` compare equal).
pub(super) fn leading_zeros_stripped(id: &str) -> &str {
    id.trim_start_matches('0')
}

/// Whose stored enrollments end.
#[derive(Debug, Clone, Copy)]
pub(super) enum EndedBy {
    User(i64),
    Class(i64),
}

/// The stored enrollments by user and by class (row ids), made when an
/// upload first removes a class or deactivates a user.
pub(super) struct EnrollmentsBy {
    pub(super) user: HashMap<i64, Vec<i64>>,
    pub(super) class: HashMap<i64, Vec<i64>>,
}

impl EnrollmentsBy {
    pub(super) fn new(stored: &Stored) -> Self {
        let mut by = EnrollmentsBy {
            user: HashMap::new(),
            class: HashMap::new(),
        };
        for &(user_ref, class_ref) in stored.enrollments.keys() {
            by.user.entry(user_ref).or_default().push(class_ref);
            by.class.entry(class_ref).or_default().push(user_ref);
        }
        by
    }
}

/// Look-ups into the stored roster, made once per plan.
pub(super) struct Index<'a> {
    pub(super) school_id_of: HashMap<i64, &'a str>,
    pub(super) users_by_ref: HashMap<i64, &'a StoredUser>,
    pub(super) classes_by_ref: HashMap<i64, &'a StoredClass>,
    pub(super) users_by_id: HashMap<&'a str, &'a StoredUser>,
    pub(super) users_by_email: HashMap<&'a str, &'a StoredUser>,
    pub(super) users_by_stripped: HashMap<&'a str, &'a StoredUser>,
    pub(super) users_by_district_id: HashMap<&'a str, &'a StoredUser>,
    pub(super) users_by_state_id: HashMap<&'a str, &'a StoredUser>,
    pub(super) classes_by_id: HashMap<&'a str, &'a StoredClass>,
    pub(super) classes_by_stripped: HashMap<&'a str, &'a StoredClass>,
}

impl<'a> Index<'a> {
    pub(super) fn new(stored: &'a Stored) -> Self {
        let users_by = |key: fn(&StoredUser) -> Option<&str>| -> HashMap<&'a str, &'a StoredUser> {
            stored
                .users
                .iter()
                .filter_map(|u| Some((key(u)?, u)))
                .collect()
        };
        let classes_by = |key: fn(&StoredClass) -> &str| -> HashMap<&'a str, &'a StoredClass> {
            stored.classes.iter().map(|c| (key(c), c)).collect()
        };
        Index {
            school_id_of: stored
                .schools
                .iter()
                .map(|(id, row)| (*row, id.as_str()))
                .collect(),
            users_by_ref: stored.users.iter().map(|u| (u.id, u)).collect(),
            classes_by_ref: stored.classes.iter().map(|c| (c.id, c)).collect(),
            users_by_id: users_by(|u| Some(&u.user_id)),
            users_by_email: users_by(|u| Some(&u.email)),
            users_by_stripped: users_by(|u| Some(leading_zeros_stripped(&u.user_id))),
            // Secondary IDs of stored users: a new value must not be another's.
            users_by_district_id: users_by(|u| u.district_id.as_deref()),
            users_by_state_id: users_by(|u| u.state_id.as_deref()),
            classes_by_id: classes_by(|c| &c.class_id),
            classes_by_stripped: classes_by(|c| leading_zeros_stripped(&c.class_id)),
        }
    }
}
