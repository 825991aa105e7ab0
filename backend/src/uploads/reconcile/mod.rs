//! Reconciliation, as a pure function: the stored roster of a district and
//! the clean records of an upload → the plan of what an upload would create,
//! update, leave unchanged, remove or refuse, with counts overall and per
//! school. Preview shows the plan; commit applies the same plan.
//!
//! Here: the stored roster, the plan and what it counts. The planner, one
//! method per entity, is in `planner`; its table of cases in `tests`.

mod index;
mod planner;
#[cfg(test)]
mod tests;
mod written;

use std::collections::BTreeMap;
use std::sync::Arc;

use foldhash::HashMap;
pub use shared::api::{Change, ChangeEntity, ChangeKind, Counts, FieldChange, Hold, Mode, Tally};
use shared::records::{Records, Role};
use shared::Finding;

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub id: i64,
    pub user_id: String,
    pub role: Role,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub grade: Option<String>,
    pub district_id: Option<String>,
    pub state_id: Option<String>,
    pub active: bool,
    /// An admin edited the user in the portal after the last upload.
    pub edited_since_upload: bool,
    pub schools: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClass {
    pub id: i64,
    pub class_id: String,
    pub school: i64,
    pub name: String,
    pub grade: String,
    pub display_name: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredEnrollment {
    pub primary_teacher: Option<bool>,
    pub active: bool,
}

/// The district's roster as stored.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stored {
    /// The district's roster version when this was read (see `db::roster_version`).
    pub version: i64,
    /// schoolId → (school row id).
    pub schools: HashMap<String, i64>,
    pub users: Vec<StoredUser>,
    pub classes: Vec<StoredClass>,
    /// (user row id, class row id) → enrollment.
    pub enrollments: HashMap<(i64, i64), StoredEnrollment>,
    /// user row id → demographics values, as stored: the JSON of a map
    /// from column to value (parsed only when an upload changes them).
    pub demographics: HashMap<i64, String>,
}

/// What planning decided for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
    Removed,
    Error,
}

impl Outcome {
    /// Counts this outcome in a tally.
    fn count(self, tally: &mut Tally) {
        match self {
            Outcome::Created => tally.created += 1,
            Outcome::Updated => tally.updated += 1,
            Outcome::Unchanged => tally.unchanged += 1,
            Outcome::Removed => tally.removed += 1,
            Outcome::Error => tally.errors += 1,
        }
    }
}

/// What the commit writes.
#[derive(Debug, Clone, PartialEq)]
pub enum UserWrite {
    Insert {
        user: shared::records::UserRecord,
        schools: Vec<i64>,
    },
    /// Update the stored row `id` to these values (and make it active).
    Update {
        id: i64,
        user: shared::records::UserRecord,
        add_schools: Vec<i64>,
    },
    Deactivate {
        id: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClassWrite {
    Insert {
        class: shared::records::ClassRecord,
        school: i64,
    },
    Update {
        id: i64,
        class: shared::records::ClassRecord,
        school: i64,
    },
    Deactivate {
        id: i64,
    },
}

/// Enrollments refer to users and classes by key; the commit resolves them.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentWrite {
    pub user_id: Arc<str>,
    pub class_id: Arc<str>,
    pub primary_teacher: Option<bool>,
    pub active: bool,
}

pub const HOLD_SHARE: f64 = 0.10;

/// One reason for the safety hold: of `active` stored users, classes or
/// enrollments, the upload would remove `removed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldReason {
    /// `users`, `classes` or `enrollments`.
    pub what: &'static str,
    pub removed: u64,
    pub active: u64,
}

impl HoldReason {
    /// The reason for people. With `totals`, the counts, which describe the
    /// stored roster (for the district's admins only); without, the rule.
    pub fn describe(&self, totals: bool) -> String {
        let what = self.what;
        if totals {
            format!(
                "{} of {} active {what} ({:.0} %) would be removed or ended",
                self.removed,
                self.active,
                self.removed as f64 / self.active as f64 * 100.0
            )
        } else {
            format!(
                "more than {:.0} % of the district's active {what} would be removed or ended",
                HOLD_SHARE * 100.0
            )
        }
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub counts: Counts,
    pub per_school: BTreeMap<String, Counts>,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
    /// Why the upload waits for a confirmation; empty when it need not.
    pub hold: Vec<HoldReason>,
    /// The first `listed_changes` changes are of records the file lists;
    /// the rest (a full sync's removals) are of stored records it does not.
    pub listed_changes: usize,
    pub users: Vec<UserWrite>,
    pub classes: Vec<ClassWrite>,
    pub enrollments: Vec<EnrollmentWrite>,
    /// Users whose enrollments all end (deactivated), and classes likewise.
    pub end_enrollments_of_users: Vec<Arc<str>>,
    pub end_enrollments_of_classes: Vec<Arc<str>>,
    pub demographics: Vec<DemographicsWrite>,
}

/// A student's demographics to store, whole: the JSON of column → value.
#[derive(Debug, Clone, PartialEq)]
pub struct DemographicsWrite {
    pub user_id: String,
    pub values_json: String,
}

/// Plans an upload of clean `records` into the `stored` roster.
pub fn plan(stored: &Stored, records: &Records, mode: Mode) -> Plan {
    planner::Planner::new(stored, records, mode).plan()
}
