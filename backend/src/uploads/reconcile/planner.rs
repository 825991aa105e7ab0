//! The planner: one pass per entity over an upload's clean records, against
//! the stored roster. Each method decides its entity's outcomes (created,
//! updated, unchanged, removed, error), the writes, the changes to show and
//! the findings against stored data; `plan` runs them in order, since each
//! needs what the ones before decided (a user whose school failed fails its
//! enrollments).

use std::collections::BTreeMap;

// Planning a large upload is mostly hash look-ups of short keys: foldhash
// is several times faster than std's SipHash there, and randomly seeded.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use shared::records::{ClassRecord, DemographicsValues, Records, Role, UserRecord};
use shared::{FileKind, Finding, IssueCode};

use super::index::{leading_zeros_stripped, EndedBy, EnrollmentsBy, Index};
use super::{
    Change, ChangeEntity, ChangeKind, ClassWrite, Counts, DemographicsWrite, EnrollmentWrite,
    FieldChange, HoldReason, Mode, Outcome, Plan, Stored, StoredClass, StoredUser, Tally,
    UserWrite, HOLD_SHARE,
};

/// What a count is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    Schools,
    Staff,
    Students,
    Classes,
    Enrollments,
}

impl Entity {
    fn of_role(role: Role) -> Entity {
        if role == Role::Student {
            Entity::Students
        } else {
            Entity::Staff
        }
    }

    fn tally(self, counts: &mut Counts) -> &mut Tally {
        match self {
            Entity::Schools => &mut counts.schools,
            Entity::Staff => &mut counts.staff,
            Entity::Students => &mut counts.students,
            Entity::Classes => &mut counts.classes,
            Entity::Enrollments => &mut counts.enrollments,
        }
    }
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

fn user_fields(user: &UserRecord) -> Fields<'_, 8> {
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

/// One plan being made.
pub(super) struct Planner<'a> {
    stored: &'a Stored,
    records: &'a Records,
    mode: Mode,
    index: Index<'a>,
    plan: Plan,
    /// The schools the file names (schools are managed in the portal: an
    /// upload only refers to them).
    file_schools: HashSet<&'a str>,
    listed_users: HashSet<&'a str>,
    failed_users: HashSet<&'a str>,
    failed_classes: HashSet<&'a str>,
    /// userId in the file → the stored user it updates (or renames).
    stored_ref_of: HashMap<&'a str, i64>,
    /// Stored enrollments the file lists (asked only by a full sync).
    listed_enrollments: HashSet<(i64, i64)>,
    /// Stored enrollments already counted as ended (by a removed class or
    /// a deactivated user), so a full sync does not count them again.
    ended: HashSet<(i64, i64)>,
    /// Changes of stored records the file does not list: shown after the
    /// file's own, and only to the district's admins.
    unlisted_changes: Vec<Change>,
    enrollments_by: Option<EnrollmentsBy>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(stored: &'a Stored, records: &'a Records, mode: Mode) -> Self {
        let mut file_schools: HashSet<&str> = HashSet::new();
        for user in &records.users {
            file_schools.extend(user.school_ids.iter().map(String::as_str));
        }
        for class in &records.classes {
            file_schools.insert(&class.school_id);
        }
        Planner {
            stored,
            records,
            mode,
            index: Index::new(stored),
            plan: Plan::default(),
            file_schools,
            listed_users: records.users.iter().map(|u| &*u.user_id).collect(),
            failed_users: HashSet::new(),
            failed_classes: HashSet::new(),
            stored_ref_of: HashMap::new(),
            listed_enrollments: HashSet::new(),
            ended: HashSet::new(),
            unlisted_changes: Vec::new(),
            enrollments_by: None,
        }
    }

    /// Every entity in order, then the safety hold.
    pub(super) fn plan(mut self) -> Plan {
        self.schools();
        self.users();
        self.classes();
        self.enrollments();
        if self.mode == Mode::FullSync {
            self.full_sync();
        }
        self.demographics();
        let mut plan = self.plan;
        plan.listed_changes = plan.changes.len();
        plan.changes.append(&mut self.unlisted_changes);
        plan.hold = safety_hold(self.stored, &plan.counts);
        plan
    }

    /// Counts one outcome, overall and for each of these schools.
    fn count(&mut self, school_ids: &[&str], entity: Entity, outcome: Outcome) {
        outcome.count(entity.tally(&mut self.plan.counts));
        for school_id in school_ids {
            // Looked up before inserting: a key is copied once per school,
            // not once per row.
            let counts = match self.plan.per_school.get_mut(*school_id) {
                Some(counts) => counts,
                None => self
                    .plan
                    .per_school
                    .entry(school_id.to_string())
                    .or_default(),
            };
            outcome.count(entity.tally(counts));
        }
    }

    /// The file's schools: known ones are unchanged, others an error.
    fn schools(&mut self) {
        let mut schools: Vec<&str> = self.file_schools.iter().copied().collect();
        schools.sort_unstable();
        for school_id in schools {
            let outcome = if self.stored.schools.contains_key(school_id) {
                Outcome::Unchanged
            } else {
                self.plan.findings.push(stored_finding(
                    IssueCode::UnknownSchool,
                    "schoolId",
                    school_id,
                ));
                Outcome::Error
            };
            self.count(&[school_id], Entity::Schools, outcome);
        }
    }

    fn users(&mut self) {
        let records = self.records;
        for user in &records.users {
            self.user(user);
        }
    }

    /// The stored user this record checks against: the same userId, or by
    /// the identifier-correction rule a stored user with its email, role
    /// and names whom the file does not list (whose ID the record takes).
    fn match_user(&self, user: &UserRecord) -> (Option<&'a StoredUser>, Option<&'a StoredUser>) {
        let existing = self.index.users_by_id.get(&*user.user_id).copied();
        let corrected = existing
            .is_none()
            .then(|| self.index.users_by_email.get(user.email.as_str()).copied())
            .flatten()
            .filter(|s| {
                s.role == user.role
                    && s.first_name == user.first_name
                    && s.last_name == user.last_name
                    && !self.listed_users.contains(s.user_id.as_str())
            });
        (existing, corrected)
    }

    /// Why a user record cannot be processed against the stored roster.
    fn user_error(
        &self,
        user: &UserRecord,
        existing: Option<&'a StoredUser>,
        corrected: Option<&'a StoredUser>,
    ) -> Option<Finding> {
        let other_has_email = |except: Option<i64>| {
            self.index
                .users_by_email
                .get(user.email.as_str())
                .filter(|other| {
                    Some(other.id) != except && !self.listed_users.contains(other.user_id.as_str())
                })
                .is_some()
        };
        let error = match (existing, corrected) {
            (Some(stored_user), _) if stored_user.role != user.role => Some(stored_finding(
                IssueCode::RoleChange,
                "userRole",
                &user.user_id,
            )),
            (Some(stored_user), _) => other_has_email(Some(stored_user.id))
                .then(|| stored_finding(IssueCode::EmailInUse, "userEmail", &user.user_id)),
            (None, None) if other_has_email(None) => Some(stored_finding(
                IssueCode::EmailInUse,
                "userEmail",
                &user.user_id,
            )),
            (None, None) => self
                .index
                .users_by_stripped
                .get(leading_zeros_stripped(&user.user_id))
                .filter(|other| other.user_id != *user.user_id)
                .map(|_| stored_finding(IssueCode::StoredLeadingZeros, "userId", &user.user_id)),
            (None, Some(_)) => None,
        };
        // A userDistrictId or userStateId that a stored user who is not in
        // this file already has (within one file the validator checks it).
        error.or_else(|| {
            let target = existing.or(corrected).map(|u| u.id);
            [
                (
                    "userDistrictId",
                    user.district_id.as_deref(),
                    &self.index.users_by_district_id,
                ),
                (
                    "userStateId",
                    user.state_id.as_deref(),
                    &self.index.users_by_state_id,
                ),
            ]
            .into_iter()
            .find_map(|(column, value, by_value)| {
                let other = by_value.get(value?)?;
                (Some(other.id) != target && !self.listed_users.contains(other.user_id.as_str()))
                    .then(|| stored_finding(IssueCode::DuplicateSecondaryId, column, &user.user_id))
            })
        })
    }

    fn user(&mut self, user: &'a UserRecord) {
        let schools: Vec<&str> = user.school_ids.iter().map(String::as_str).collect();
        let entity = Entity::of_role(user.role);
        let school_refs: Vec<i64> = schools
            .iter()
            .filter_map(|s| self.stored.schools.get(*s).copied())
            .collect();
        if school_refs.len() != schools.len() {
            self.failed_users.insert(&user.user_id);
            self.count(&schools, entity, Outcome::Error);
            return;
        }
        let (existing, corrected) = self.match_user(user);
        if let Some(finding) = self.user_error(user, existing, corrected) {
            self.plan.findings.push(finding);
            self.failed_users.insert(&user.user_id);
            self.count(&schools, entity, Outcome::Error);
            return;
        }
        let target = existing.or(corrected);
        let outcome = match target {
            None => {
                self.plan.users.push(UserWrite::Insert {
                    user: user.clone(),
                    schools: school_refs,
                });
                self.plan.changes.push(Change::new(
                    ChangeEntity::User,
                    user.user_id.to_string(),
                    ChangeKind::Created,
                ));
                Outcome::Created
            }
            Some(stored_user) => {
                self.stored_ref_of.insert(&user.user_id, stored_user.id);
                if corrected.is_some() {
                    self.plan.findings.push(stored_finding(
                        IssueCode::IdentifierCorrected,
                        "userId",
                        &user.user_id,
                    ));
                }
                self.update_user(user, stored_user, school_refs)
            }
        };
        let outcome = if user.deactivate {
            match target {
                Some(stored_user) if !stored_user.active => Outcome::Unchanged,
                Some(stored_user) => {
                    self.plan
                        .users
                        .push(UserWrite::Deactivate { id: stored_user.id });
                    self.plan
                        .end_enrollments_of_users
                        .push(user.user_id.clone());
                    self.plan.changes.push(Change::new(
                        ChangeEntity::User,
                        user.user_id.to_string(),
                        ChangeKind::Removed,
                    ));
                    self.end_stored_enrollments(EndedBy::User(stored_user.id));
                    Outcome::Removed
                }
                // A new user deactivated at once: created inactive.
                None => {
                    self.plan
                        .end_enrollments_of_users
                        .push(user.user_id.clone());
                    outcome
                }
            }
        } else {
            outcome
        };
        self.count(&schools, entity, outcome);
    }

    /// A record of a stored user: updated where a value, a school or the
    /// user's being active changes; else unchanged.
    fn update_user(
        &mut self,
        user: &UserRecord,
        stored_user: &StoredUser,
        school_refs: Vec<i64>,
    ) -> Outcome {
        let fields = diff(stored_user_fields(stored_user), user_fields(user));
        let add_schools: Vec<i64> = school_refs
            .into_iter()
            .filter(|s| !stored_user.schools.contains(s))
            .collect();
        let reactivate = !stored_user.active && !user.deactivate;
        if fields.is_empty() && add_schools.is_empty() && !reactivate {
            return Outcome::Unchanged;
        }
        self.plan.users.push(UserWrite::Update {
            id: stored_user.id,
            user: user.clone(),
            add_schools,
        });
        self.plan.changes.push(Change {
            entity: ChangeEntity::User,
            key: user.user_id.to_string(),
            kind: ChangeKind::Updated,
            overwrites_portal_edit: stored_user.edited_since_upload && !fields.is_empty(),
            fields,
        });
        Outcome::Updated
    }

    /// Counts the active stored enrollments of a removed class or a
    /// deactivated user as ended, once each, in the school of their class,
    /// and shows them to the district's admins; the commit ends them
    /// (`end_enrollments_of_users` / `_classes`).
    fn end_stored_enrollments(&mut self, of: EndedBy) {
        let stored = self.stored;
        let by = self
            .enrollments_by
            .get_or_insert_with(|| EnrollmentsBy::new(stored));
        let mut ended: Vec<(i64, i64)> = match of {
            EndedBy::User(user_ref) => by.user.get(&user_ref).map_or(Vec::new(), |classes| {
                classes.iter().map(|c| (user_ref, *c)).collect()
            }),
            EndedBy::Class(class_ref) => by.class.get(&class_ref).map_or(Vec::new(), |users| {
                users.iter().map(|u| (*u, class_ref)).collect()
            }),
        };
        ended.retain(|key| stored.enrollments[key].active && !self.ended.contains(key));
        ended.sort_unstable();
        for key @ (user_ref, class_ref) in ended {
            self.ended.insert(key);
            let (Some(user), Some(class)) = (
                self.index.users_by_ref.get(&user_ref).copied(),
                self.index.classes_by_ref.get(&class_ref).copied(),
            ) else {
                continue;
            };
            self.stored_enrollment_removed(user, class);
        }
    }

    /// A stored enrollment the file does not list ends: shown to the
    /// district's admins, counted removed in its class's school.
    fn stored_enrollment_removed(&mut self, user: &StoredUser, class: &StoredClass) {
        self.unlisted_changes.push(Change::new(
            ChangeEntity::Enrollment,
            format!("{}/{}", user.user_id, class.class_id),
            ChangeKind::Removed,
        ));
        let school = self
            .index
            .school_id_of
            .get(&class.school)
            .copied()
            .unwrap_or("");
        self.count(&[school], Entity::Enrollments, Outcome::Removed);
    }

    fn classes(&mut self) {
        let records = self.records;
        for class in &records.classes {
            self.class(class);
        }
    }

    fn class(&mut self, class: &'a ClassRecord) {
        let school = &[class.school_id.as_str()];
        let Some(&school_ref) = self.stored.schools.get(&class.school_id) else {
            self.failed_classes.insert(&class.class_id);
            self.count(school, Entity::Classes, Outcome::Error);
            return;
        };
        let existing = self.index.classes_by_id.get(&*class.class_id).copied();
        let error = match existing {
            Some(stored_class) if stored_class.school != school_ref => Some(stored_finding(
                IssueCode::ClassSchoolMismatch,
                "schoolId",
                &class.class_id,
            )),
            Some(_) => None,
            None => self
                .index
                .classes_by_stripped
                .get(leading_zeros_stripped(&class.class_id))
                .filter(|other| other.class_id != *class.class_id)
                .map(|_| stored_finding(IssueCode::StoredLeadingZeros, "classId", &class.class_id)),
        };
        if let Some(finding) = error {
            self.plan.findings.push(finding);
            self.failed_classes.insert(&class.class_id);
            self.count(school, Entity::Classes, Outcome::Error);
            return;
        }
        let outcome = match existing {
            None => {
                self.plan.classes.push(ClassWrite::Insert {
                    class: class.clone(),
                    school: school_ref,
                });
                self.plan.changes.push(Change::new(
                    ChangeEntity::Class,
                    class.class_id.to_string(),
                    ChangeKind::Created,
                ));
                Outcome::Created
            }
            Some(stored_class) => self.update_class(class, stored_class, school_ref),
        };
        let outcome = match (class.remove, existing) {
            (true, Some(stored_class)) if stored_class.active => {
                self.plan.classes.push(ClassWrite::Deactivate {
                    id: stored_class.id,
                });
                self.plan
                    .end_enrollments_of_classes
                    .push(class.class_id.clone());
                self.plan.changes.push(Change::new(
                    ChangeEntity::Class,
                    class.class_id.to_string(),
                    ChangeKind::Removed,
                ));
                self.end_stored_enrollments(EndedBy::Class(stored_class.id));
                Outcome::Removed
            }
            (true, Some(_)) => Outcome::Unchanged,
            (true, None) => {
                self.plan
                    .end_enrollments_of_classes
                    .push(class.class_id.clone());
                outcome
            }
            (false, _) => outcome,
        };
        self.count(school, Entity::Classes, outcome);
    }

    /// A record of a stored class: updated where a value or the class's
    /// being active changes; else unchanged. A blank display name leaves
    /// the stored one.
    fn update_class(
        &mut self,
        class: &ClassRecord,
        stored_class: &StoredClass,
        school_ref: i64,
    ) -> Outcome {
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
            return Outcome::Unchanged;
        }
        let mut class = class.clone();
        class.display_name = display.map(String::from);
        self.plan.classes.push(ClassWrite::Update {
            id: stored_class.id,
            class,
            school: school_ref,
        });
        self.plan.changes.push(Change {
            entity: ChangeEntity::Class,
            key: stored_class.class_id.clone(),
            kind: ChangeKind::Updated,
            fields,
            overwrites_portal_edit: false,
        });
        Outcome::Updated
    }

    fn enrollments(&mut self) {
        let records = self.records;
        let class_school: HashMap<&str, &str> = records
            .classes
            .iter()
            .map(|c| (&*c.class_id, c.school_id.as_str()))
            .collect();
        for enrollment in &records.enrollments {
            let school = class_school
                .get(&*enrollment.class_id)
                .copied()
                .unwrap_or("");
            if self.failed_users.contains(&*enrollment.user_id)
                || self.failed_classes.contains(&*enrollment.class_id)
            {
                self.count(&[school], Entity::Enrollments, Outcome::Error);
                continue;
            }
            // The stored user the file's user is (by its userId, or renamed
            // by the identifier-correction rule).
            let user_ref = self.stored_ref_of.get(&*enrollment.user_id).copied();
            let class_ref = self
                .index
                .classes_by_id
                .get(&*enrollment.class_id)
                .map(|c| c.id);
            let existing = user_ref.zip(class_ref).and_then(|key| {
                // Only a full sync asks what the file does not list.
                if self.mode == Mode::FullSync {
                    self.listed_enrollments.insert(key);
                }
                self.stored.enrollments.get(&key)
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
                self.plan.enrollments.push(EnrollmentWrite {
                    user_id: enrollment.user_id.clone(),
                    class_id: enrollment.class_id.clone(),
                    primary_teacher: enrollment.primary_teacher,
                    active: !enrollment.remove,
                });
                let kind = match outcome {
                    Outcome::Created => ChangeKind::Created,
                    Outcome::Removed => ChangeKind::Removed,
                    _ => ChangeKind::Updated,
                };
                let key = format!("{}/{}", enrollment.user_id, enrollment.class_id);
                self.plan
                    .changes
                    .push(Change::new(ChangeEntity::Enrollment, key, kind));
            }
            self.count(&[school], Entity::Enrollments, outcome);
        }
    }

    /// Full sync: the users whose schools are all in the file and the
    /// enrollments of the file's schools' classes that the file does not
    /// list are deactivated and ended.
    fn full_sync(&mut self) {
        let stored = self.stored;
        let file_school_refs: HashSet<i64> = self
            .file_schools
            .iter()
            .filter_map(|s| stored.schools.get(*s).copied())
            .collect();
        // A stored user whom the file renames (identifier correction) is listed.
        let matched: HashSet<i64> = self.stored_ref_of.values().copied().collect();
        for user in &stored.users {
            let unlisted = user.active
                && !self.listed_users.contains(user.user_id.as_str())
                && !matched.contains(&user.id);
            let in_file_schools = !user.schools.is_empty()
                && user.schools.iter().all(|s| file_school_refs.contains(s));
            if !(unlisted && in_file_schools) {
                continue;
            }
            self.plan.users.push(UserWrite::Deactivate { id: user.id });
            self.plan
                .end_enrollments_of_users
                .push(user.user_id.as_str().into());
            self.unlisted_changes.push(Change::new(
                ChangeEntity::User,
                user.user_id.clone(),
                ChangeKind::Removed,
            ));
            let schools: Vec<&str> = user
                .schools
                .iter()
                .filter_map(|s| self.index.school_id_of.get(s).copied())
                .collect();
            self.count(&schools, Entity::of_role(user.role), Outcome::Removed);
        }
        let mut ended: Vec<(&(i64, i64), &StoredClass, &StoredUser)> = stored
            .enrollments
            .iter()
            .filter(|(key, e)| {
                e.active && !self.listed_enrollments.contains(*key) && !self.ended.contains(*key)
            })
            .filter_map(|(key, _)| {
                let class = self.index.classes_by_ref.get(&key.1)?;
                let user = self.index.users_by_ref.get(&key.0)?;
                file_school_refs
                    .contains(&class.school)
                    .then_some((key, *class, *user))
            })
            .collect();
        ended.sort_unstable_by_key(|(key, _, _)| **key);
        for (key, class, user) in ended {
            self.plan.enrollments.push(EnrollmentWrite {
                user_id: user.user_id.as_str().into(),
                class_id: class.class_id.as_str().into(),
                primary_teacher: stored.enrollments[key].primary_teacher,
                active: false,
            });
            self.stored_enrollment_removed(user, class);
        }
    }

    /// Demographics of students that made it, where they change.
    fn demographics(&mut self) {
        for record in &self.records.demographics {
            if self.failed_users.contains(record.user_id.as_str()) {
                continue;
            }
            let before = self
                .stored_ref_of
                .get(record.user_id.as_str())
                .and_then(|user_ref| self.stored.demographics.get(user_ref));
            if let Some(values_json) = demographics_json(before.map(String::as_str), &record.values)
            {
                self.plan.demographics.push(DemographicsWrite {
                    user_id: record.user_id.clone(),
                    values_json,
                });
            }
        }
    }
}

/// The demographics JSON to store for a student, or None when the stored
/// values already hold the uploaded ones. An omitted column changes nothing;
/// a blank one clears the value.
pub(super) fn demographics_json(
    stored: Option<&str>,
    values: &DemographicsValues,
) -> Option<String> {
    // The usual case, the same values again: they serialize to the stored
    // JSON (both are written in column-name order).
    let uploaded = serde_json::to_string(values).expect("a map of strings serializes");
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
        .all(|(column, value)| merged.get(column).map(Option::as_deref) == Some(value))
    {
        return None; // stored has more columns, and these are the same
    }
    merged.extend(
        values
            .iter()
            .map(|(c, v)| (c.to_string(), v.map(str::to_string))),
    );
    Some(serde_json::to_string(&merged).expect("a map of strings serializes"))
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
