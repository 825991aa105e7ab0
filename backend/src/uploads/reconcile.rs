//! Reconciliation, as a pure function: the stored roster of a district and
//! the clean records of an upload → the plan of what an upload would create,
//! update, leave unchanged, remove or refuse, with counts overall and per
//! school. Preview shows the plan; commit applies the same plan.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

// Planning a large upload is mostly hash look-ups of short keys: foldhash
// is several times faster than std's SipHash there, and randomly seeded.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use serde::{Deserialize, Serialize};
use shared::records::{Records, Role};
use shared::{FileKind, Finding, IssueCode};

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
#[derive(Debug, Default)]
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

/// How an upload treats what it does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Create and update only; nothing absent is removed.
    #[default]
    Upsert,
    /// Also deactivate the users, and end the enrollments, of the file's
    /// schools that the file does not list.
    FullSync,
}

/// Created / updated / unchanged / removed / errors of one entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub schools: Tally,
    pub staff: Tally,
    pub students: Tally,
    pub classes: Tally,
    pub enrollments: Tally,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
    Removed,
    Error,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Removed => self.removed += 1,
            Outcome::Error => self.errors += 1,
        }
    }

    /// Only "no changes" (the same file processed twice).
    pub fn only_unchanged(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.removed == 0 && self.errors == 0
    }
}

impl Counts {
    pub fn only_unchanged(&self) -> bool {
        [
            self.schools,
            self.staff,
            self.students,
            self.classes,
            self.enrollments,
        ]
        .iter()
        .all(Tally::only_unchanged)
    }
}

/// A field whose value changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One record that changes, for the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// `user`, `class` or `enrollment`.
    /// (Borrowed names: a large first upload has a million changes.)
    pub entity: Cow<'static, str>,
    /// userId, classId, or `userId/classId`.
    pub key: String,
    /// `created`, `updated` or `removed`.
    pub kind: Cow<'static, str>,
    pub fields: Vec<FieldChange>,
    /// The update would overwrite a value an admin edited in the portal
    /// since the last upload.
    pub overwrites_portal_edit: bool,
}

impl Change {
    fn new(entity: &'static str, key: impl Into<String>, kind: &'static str) -> Self {
        Change {
            entity: entity.into(),
            key: key.into(),
            kind: kind.into(),
            fields: Vec::new(),
            overwrites_portal_edit: false,
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

/// The safety hold: the upload would remove more than 10 % of something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub reasons: Vec<String>,
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

/// A finding against stored data, on the record `key` of the caller's own
/// file. It carries no stored value: the codes' messages say what is wrong
/// without the stored side, since the server answers whoever holds a
/// credential, not only the district's admins.
fn stored_finding(code: IssueCode, column: &'static str, key: &str) -> Finding {
    Finding::new(code, FileKind::Users)
        .in_column(column)
        .with_value(key)
}

fn leading_zeros_stripped(id: &str) -> &str {
    id.trim_start_matches('0')
}

/// A record's fields for `diff`, borrowed: most stored users are unchanged,
/// and comparing must not copy them.
type Fields<'a, const N: usize> = [(&'static str, Option<&'a str>); N];

/// The user fields `diff` compares, in the file's column order: a record
/// and a stored user name them alike.
macro_rules! user_fields {
    ($user:expr) => {
        [
            ("userId", Some(&*$user.user_id)),
            ("userRole", Some($user.role.as_str())),
            ("userFirstName", Some($user.first_name.as_str())),
            ("userLastName", Some($user.last_name.as_str())),
            ("userEmail", Some($user.email.as_str())),
            ("userGrade", $user.grade.as_deref()),
            ("userDistrictId", $user.district_id.as_deref()),
            ("userStateId", $user.state_id.as_deref()),
        ]
    };
}

fn user_fields(user: &shared::records::UserRecord) -> Fields<'_, 8> {
    user_fields!(user)
}

fn stored_user_fields(user: &StoredUser) -> Fields<'_, 8> {
    user_fields!(user)
}

/// The fields whose values differ (copied only then).
fn diff<const N: usize>(old: Fields<'_, N>, new: Fields<'_, N>) -> Vec<FieldChange> {
    old.into_iter()
        .zip(new)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, from), (_, to))| FieldChange {
            field: field.to_string(),
            from: from.map(String::from),
            to: to.map(String::from),
        })
        .collect()
}

fn user_tally(counts: &mut Counts, role: Role) -> &mut Tally {
    if role == Role::Student {
        &mut counts.students
    } else {
        &mut counts.staff
    }
}

/// Plans an upload of clean `records` into the `stored` roster.
pub fn plan(stored: &Stored, records: &Records, mode: Mode) -> Plan {
    let mut plan = Plan::default();
    let school_name_of: HashMap<i64, &str> = stored
        .schools
        .iter()
        .map(|(k, v)| (*v, k.as_str()))
        .collect();
    let users_by_id: HashMap<&str, &StoredUser> = stored
        .users
        .iter()
        .map(|u| (u.user_id.as_str(), u))
        .collect();
    let users_by_email: HashMap<&str, &StoredUser> =
        stored.users.iter().map(|u| (u.email.as_str(), u)).collect();
    let users_by_stripped: HashMap<&str, &StoredUser> = stored
        .users
        .iter()
        .map(|u| (leading_zeros_stripped(&u.user_id), u))
        .collect();
    // Secondary IDs of stored users: a new value must not be another's.
    let users_by_secondary = |id: fn(&StoredUser) -> Option<&str>| -> HashMap<&str, &StoredUser> {
        stored
            .users
            .iter()
            .filter_map(|u| Some((id(u)?, u)))
            .collect()
    };
    let users_by_district_id = users_by_secondary(|u| u.district_id.as_deref());
    let users_by_state_id = users_by_secondary(|u| u.state_id.as_deref());
    let classes_by_id: HashMap<&str, &StoredClass> = stored
        .classes
        .iter()
        .map(|c| (c.class_id.as_str(), c))
        .collect();
    let classes_by_stripped: HashMap<&str, &StoredClass> = stored
        .classes
        .iter()
        .map(|c| (leading_zeros_stripped(&c.class_id), c))
        .collect();
    let record = |plan: &mut Plan,
                  school_ids: &[&str],
                  what: &dyn Fn(&mut Counts) -> &mut Tally,
                  outcome| {
        what(&mut plan.counts).add(outcome);
        for school_id in school_ids {
            // Looked up before inserting: a key is copied once per school,
            // not once per row.
            let counts = match plan.per_school.get_mut(*school_id) {
                Some(counts) => counts,
                None => plan.per_school.entry(school_id.to_string()).or_default(),
            };
            what(counts).add(outcome);
        }
    };

    // Schools are managed in the portal: an upload only refers to them.
    let mut file_schools: HashSet<&str> = HashSet::new();
    for user in &records.users {
        file_schools.extend(user.school_ids.iter().map(String::as_str));
    }
    for class in &records.classes {
        file_schools.insert(&class.school_id);
    }
    let mut failed_users: HashSet<&str> = HashSet::new();
    // userId in the file → the stored user it updates (or renames).
    let mut stored_ref_of: HashMap<&str, i64> = HashMap::new();
    let mut failed_classes: HashSet<&str> = HashSet::new();
    for school_id in &file_schools {
        let outcome = if stored.schools.contains_key(*school_id) {
            Outcome::Unchanged
        } else {
            plan.findings.push(stored_finding(
                IssueCode::UnknownSchool,
                "schoolId",
                school_id,
            ));
            Outcome::Error
        };
        record(&mut plan, &[school_id], &|c| &mut c.schools, outcome);
    }

    // Users.
    let listed_users: HashSet<&str> = records.users.iter().map(|u| &*u.user_id).collect();
    for user in &records.users {
        let schools: Vec<&str> = user.school_ids.iter().map(String::as_str).collect();
        let school_refs: Vec<i64> = schools
            .iter()
            .filter_map(|s| stored.schools.get(*s).copied())
            .collect();
        if school_refs.len() != schools.len() {
            failed_users.insert(&user.user_id);
            record(
                &mut plan,
                &schools,
                &|c| user_tally(c, user.role),
                Outcome::Error,
            );
            continue;
        }
        let existing = users_by_id.get(&*user.user_id).copied();
        // The identifier-correction rule: a new userId whose email belongs to
        // a stored user with the same role and names renames that user.
        let corrected = existing
            .is_none()
            .then(|| users_by_email.get(user.email.as_str()).copied())
            .flatten()
            .filter(|s| {
                s.role == user.role
                    && s.first_name == user.first_name
                    && s.last_name == user.last_name
                    && !listed_users.contains(s.user_id.as_str())
            });
        let error = match (existing, corrected) {
            (Some(stored_user), _) if stored_user.role != user.role => Some(stored_finding(
                IssueCode::RoleChange,
                "userRole",
                &user.user_id,
            )),
            (Some(stored_user), _) => users_by_email
                .get(user.email.as_str())
                .filter(|other| {
                    other.id != stored_user.id && !listed_users.contains(other.user_id.as_str())
                })
                .map(|_| stored_finding(IssueCode::EmailInUse, "userEmail", &user.user_id)),
            (None, None) => match users_by_email.get(user.email.as_str()) {
                Some(other) if !listed_users.contains(other.user_id.as_str()) => Some(
                    stored_finding(IssueCode::EmailInUse, "userEmail", &user.user_id),
                ),
                _ => users_by_stripped
                    .get(leading_zeros_stripped(&user.user_id))
                    .filter(|other| other.user_id != *user.user_id)
                    .map(|_| {
                        stored_finding(IssueCode::StoredLeadingZeros, "userId", &user.user_id)
                    }),
            },
            (None, Some(_)) => None,
        };
        // A userDistrictId or userStateId that a stored user who is not in
        // this file already has (within one file the validator checks it).
        let error = error.or_else(|| {
            let target = existing.or(corrected).map(|u| u.id);
            [
                (
                    "userDistrictId",
                    user.district_id.as_deref(),
                    &users_by_district_id,
                ),
                ("userStateId", user.state_id.as_deref(), &users_by_state_id),
            ]
            .into_iter()
            .find_map(|(column, value, by_value)| {
                let other = by_value.get(value?)?;
                (Some(other.id) != target && !listed_users.contains(other.user_id.as_str()))
                    .then(|| stored_finding(IssueCode::DuplicateSecondaryId, column, &user.user_id))
            })
        });
        if let Some(finding) = error {
            plan.findings.push(finding);
            failed_users.insert(&user.user_id);
            record(
                &mut plan,
                &schools,
                &|c| user_tally(c, user.role),
                Outcome::Error,
            );
            continue;
        }
        let target = existing.or(corrected);
        if let Some(stored_user) = target {
            stored_ref_of.insert(&user.user_id, stored_user.id);
        }
        let outcome = match target {
            None => {
                plan.users.push(UserWrite::Insert {
                    user: user.clone(),
                    schools: school_refs,
                });
                plan.changes
                    .push(Change::new("user", user.user_id.to_string(), "created"));
                Outcome::Created
            }
            Some(stored_user) => {
                if corrected.is_some() {
                    plan.findings.push(stored_finding(
                        IssueCode::IdentifierCorrected,
                        "userId",
                        &user.user_id,
                    ));
                }
                let fields = diff(stored_user_fields(stored_user), user_fields(user));
                let add_schools: Vec<i64> = school_refs
                    .iter()
                    .copied()
                    .filter(|s| !stored_user.schools.contains(s))
                    .collect();
                let reactivate = !stored_user.active && !user.deactivate;
                if fields.is_empty() && add_schools.is_empty() && !reactivate {
                    Outcome::Unchanged
                } else {
                    plan.users.push(UserWrite::Update {
                        id: stored_user.id,
                        user: user.clone(),
                        add_schools,
                    });
                    plan.changes.push(Change {
                        entity: "user".into(),
                        key: user.user_id.to_string(),
                        kind: "updated".into(),
                        overwrites_portal_edit: stored_user.edited_since_upload
                            && !fields.is_empty(),
                        fields,
                    });
                    Outcome::Updated
                }
            }
        };
        let outcome = if user.deactivate {
            match target {
                Some(stored_user) if !stored_user.active => Outcome::Unchanged,
                Some(stored_user) => {
                    plan.users
                        .push(UserWrite::Deactivate { id: stored_user.id });
                    plan.end_enrollments_of_users.push(user.user_id.clone());
                    Outcome::Removed
                }
                // A new user deactivated at once: created inactive.
                None => {
                    plan.end_enrollments_of_users.push(user.user_id.clone());
                    outcome
                }
            }
        } else {
            outcome
        };
        record(&mut plan, &schools, &|c| user_tally(c, user.role), outcome);
    }

    // Classes.
    for class in &records.classes {
        let school = &[class.school_id.as_str()];
        let Some(&school_ref) = stored.schools.get(&class.school_id) else {
            failed_classes.insert(&class.class_id);
            record(&mut plan, school, &|c| &mut c.classes, Outcome::Error);
            continue;
        };
        let existing = classes_by_id.get(&*class.class_id).copied();
        let error = match existing {
            Some(stored_class) if stored_class.school != school_ref => Some(stored_finding(
                IssueCode::ClassSchoolMismatch,
                "schoolId",
                &class.class_id,
            )),
            Some(_) => None,
            None => classes_by_stripped
                .get(leading_zeros_stripped(&class.class_id))
                .filter(|other| other.class_id != *class.class_id)
                .map(|_| stored_finding(IssueCode::StoredLeadingZeros, "classId", &class.class_id)),
        };
        if let Some(finding) = error {
            plan.findings.push(finding);
            failed_classes.insert(&class.class_id);
            record(&mut plan, school, &|c| &mut c.classes, Outcome::Error);
            continue;
        }
        let outcome = match existing {
            None => {
                plan.classes.push(ClassWrite::Insert {
                    class: class.clone(),
                    school: school_ref,
                });
                plan.changes
                    .push(Change::new("class", class.class_id.to_string(), "created"));
                Outcome::Created
            }
            Some(stored_class) => {
                // A blank display name leaves the stored one unchanged.
                let display = class
                    .display_name
                    .as_deref()
                    .or(stored_class.display_name.as_deref());
                let fields = diff(
                    [
                        ("className", Some(stored_class.name.as_str())),
                        ("classGrade", Some(stored_class.grade.as_str())),
                        ("classDisplayName", stored_class.display_name.as_deref()),
                    ],
                    [
                        ("className", Some(class.name.as_str())),
                        ("classGrade", Some(&*class.grade)),
                        ("classDisplayName", display),
                    ],
                );
                let reactivate = !stored_class.active && !class.remove;
                if fields.is_empty() && !reactivate {
                    Outcome::Unchanged
                } else {
                    let display = display.map(String::from);
                    let mut class = class.clone();
                    class.display_name = display;
                    plan.classes.push(ClassWrite::Update {
                        id: stored_class.id,
                        class,
                        school: school_ref,
                    });
                    plan.changes.push(Change {
                        entity: "class".into(),
                        key: stored_class.class_id.clone(),
                        kind: "updated".into(),
                        fields,
                        overwrites_portal_edit: false,
                    });
                    Outcome::Updated
                }
            }
        };
        let outcome = match (class.remove, existing) {
            (true, Some(stored_class)) if stored_class.active => {
                plan.classes.push(ClassWrite::Deactivate {
                    id: stored_class.id,
                });
                plan.end_enrollments_of_classes.push(class.class_id.clone());
                Outcome::Removed
            }
            (true, Some(_)) => Outcome::Unchanged,
            (true, None) => {
                plan.end_enrollments_of_classes.push(class.class_id.clone());
                outcome
            }
            (false, _) => outcome,
        };
        record(&mut plan, school, &|c| &mut c.classes, outcome);
    }

    // Enrollments.
    let class_school: HashMap<&str, &str> = records
        .classes
        .iter()
        .map(|c| (&*c.class_id, c.school_id.as_str()))
        .collect();
    let mut listed_enrollments: HashSet<(i64, i64)> = HashSet::new();
    for enrollment in &records.enrollments {
        let school = class_school
            .get(&*enrollment.class_id)
            .copied()
            .unwrap_or("");
        if failed_users.contains(&*enrollment.user_id)
            || failed_classes.contains(&*enrollment.class_id)
        {
            record(
                &mut plan,
                &[school],
                &|c| &mut c.enrollments,
                Outcome::Error,
            );
            continue;
        }
        let user_ref = users_by_id.get(&*enrollment.user_id).map(|u| u.id);
        let class_ref = classes_by_id.get(&*enrollment.class_id).map(|c| c.id);
        let existing = user_ref.zip(class_ref).and_then(|key| {
            // Only a full sync asks what the file does not list.
            if mode == Mode::FullSync {
                listed_enrollments.insert(key);
            }
            stored.enrollments.get(&key)
        });
        let outcome = match (enrollment.remove, existing) {
            (true, Some(e)) if e.active => Outcome::Removed,
            (true, _) => Outcome::Unchanged,
            (false, None) => Outcome::Created,
            (false, Some(e)) if e.active && e.primary_teacher == enrollment.primary_teacher => {
                Outcome::Unchanged
            }
            (false, Some(_)) => Outcome::Updated,
        };
        if outcome != Outcome::Unchanged {
            plan.enrollments.push(EnrollmentWrite {
                user_id: enrollment.user_id.clone(),
                class_id: enrollment.class_id.clone(),
                primary_teacher: enrollment.primary_teacher,
                active: !enrollment.remove,
            });
            let kind = match outcome {
                Outcome::Created => "created",
                Outcome::Removed => "removed",
                _ => "updated",
            };
            let key = format!("{}/{}", enrollment.user_id, enrollment.class_id);
            plan.changes.push(Change::new("enrollment", key, kind));
        }
        record(&mut plan, &[school], &|c| &mut c.enrollments, outcome);
    }

    // Full sync: what the file's schools have and the file does not list.
    plan.listed_changes = plan.changes.len();
    if mode == Mode::FullSync {
        let file_school_refs: HashSet<i64> = file_schools
            .iter()
            .filter_map(|s| stored.schools.get(*s).copied())
            .collect();
        let stored_user_by_ref: HashMap<i64, &StoredUser> =
            stored.users.iter().map(|u| (u.id, u)).collect();
        let stored_class_by_ref: HashMap<i64, &StoredClass> =
            stored.classes.iter().map(|c| (c.id, c)).collect();
        for user in stored
            .users
            .iter()
            .filter(|u| u.active && !listed_users.contains(u.user_id.as_str()))
        {
            if user.schools.is_empty() || !user.schools.iter().all(|s| file_school_refs.contains(s))
            {
                continue;
            }
            plan.users.push(UserWrite::Deactivate { id: user.id });
            plan.end_enrollments_of_users
                .push(user.user_id.as_str().into());
            plan.changes
                .push(Change::new("user", user.user_id.clone(), "removed"));
            let schools: Vec<&str> = user
                .schools
                .iter()
                .filter_map(|s| school_name_of.get(s).copied())
                .collect();
            record(
                &mut plan,
                &schools,
                &|c| user_tally(c, user.role),
                Outcome::Removed,
            );
        }
        for (&(user_ref, class_ref), enrollment) in &stored.enrollments {
            let Some(class) = stored_class_by_ref.get(&class_ref) else {
                continue;
            };
            if !enrollment.active
                || listed_enrollments.contains(&(user_ref, class_ref))
                || !file_school_refs.contains(&class.school)
            {
                continue;
            }
            let Some(user) = stored_user_by_ref.get(&user_ref) else {
                continue;
            };
            plan.enrollments.push(EnrollmentWrite {
                user_id: user.user_id.as_str().into(),
                class_id: class.class_id.as_str().into(),
                primary_teacher: enrollment.primary_teacher,
                active: false,
            });
            plan.changes.push(Change::new(
                "enrollment",
                format!("{}/{}", user.user_id, class.class_id),
                "removed",
            ));
            let school = school_name_of.get(&class.school).copied().unwrap_or("");
            record(
                &mut plan,
                &[school],
                &|c| &mut c.enrollments,
                Outcome::Removed,
            );
        }
    }

    // Demographics of students that made it, where they change.
    for record in &records.demographics {
        if failed_users.contains(record.user_id.as_str()) {
            continue;
        }
        let before = stored_ref_of
            .get(record.user_id.as_str())
            .and_then(|user_ref| stored.demographics.get(user_ref));
        if let Some(values_json) = demographics_json(before.map(String::as_str), &record.values) {
            plan.demographics.push(DemographicsWrite {
                user_id: record.user_id.clone(),
                values_json,
            });
        }
    }

    plan.hold = safety_hold(stored, &plan.counts);
    plan
}

/// The demographics JSON to store for a student, or None when the stored
/// values already hold the uploaded ones. An omitted column changes nothing;
/// a blank one clears the value.
fn demographics_json(
    stored: Option<&str>,
    values: &BTreeMap<String, Option<String>>,
) -> Option<String> {
    let to_json = |values: &BTreeMap<String, Option<String>>| {
        serde_json::to_string(values).expect("a map of strings serializes")
    };
    // The usual case, the same values again: they serialize to the stored
    // JSON (a BTreeMap's keys come out in order).
    let uploaded = to_json(values);
    let Some(stored) = stored else {
        return Some(uploaded);
    };
    if uploaded == stored {
        return None;
    }
    // The server wrote every stored value; one that does not read back is
    // replaced by the upload's.
    let Ok(mut merged) = serde_json::from_str::<BTreeMap<String, Option<String>>>(stored) else {
        return Some(uploaded);
    };
    if values
        .iter()
        .all(|(column, value)| merged.get(column) == Some(value))
    {
        return None; // stored has more columns, and these are the same
    }
    merged.extend(values.iter().map(|(c, v)| (c.clone(), v.clone())));
    Some(to_json(&merged))
}

/// More than 10 % of the district's active users, classes or enrollments removed.
fn safety_hold(stored: &Stored, counts: &Counts) -> Vec<HoldReason> {
    let active_users = stored.users.iter().filter(|u| u.active).count() as u64;
    let active_classes = stored.classes.iter().filter(|c| c.active).count() as u64;
    let active_enrollments = stored.enrollments.values().filter(|e| e.active).count() as u64;
    [
        HoldReason {
            what: "users",
            removed: counts.staff.removed + counts.students.removed,
            active: active_users,
        },
        HoldReason {
            what: "classes",
            removed: counts.classes.removed,
            active: active_classes,
        },
        HoldReason {
            what: "enrollments",
            removed: counts.enrollments.removed,
            active: active_enrollments,
        },
    ]
    .into_iter()
    .filter(|r| r.active > 0 && r.removed as f64 / r.active as f64 > HOLD_SHARE)
    .collect()
}
