//! The normalized records of users.csv: one user, class and enrollment per
//! key, from the rows that did not fail, with the entities' canonical
//! values.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{Entities, UsersOutcome, NONE};
use crate::records::{Action, ClassRecord, EnrollmentRecord, Records, Role, UserRecord};

/// The records of the rows that did not fail (`failed_rows`, by index in
/// `rows`); with `held_back_roles`, the roles of every user named.
pub(super) fn build(
    entities: Entities,
    failed_rows: Vec<bool>,
    held_back_roles: Option<FxHashMap<Arc<str>, Option<Role>>>,
) -> UsersOutcome {
    let mut outcome = UsersOutcome::default();
    let removals = users_and_classes(&entities, &failed_rows, &mut outcome.records);
    let Entities {
        users,
        user_text,
        classes,
        rows,
        pairs,
        ..
    } = entities;
    let Removals {
        deactivated,
        removed,
        ..
    } = &removals;
    // The users' texts and aggregates are done with: only their IDs and
    // roles are kept, and freed before the enrollments (about one per
    // row) are made, when memory peaks.
    let mut users_by_index: Vec<(Arc<str>, Role)> = Vec::with_capacity(users.len());
    users_by_index.extend(users.into_iter().map(|u| (u.user_id, u.role)));
    drop(user_text);
    outcome.records.enrollments.reserve(pairs);
    let enrollments = &mut outcome.records.enrollments;
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
        enrollments.push(EnrollmentRecord {
            user_id: user_id.clone(),
            class_id: classes[r.class as usize].class_id.clone(),
            primary_teacher: (*role == Role::Teacher).then_some(r.primary_teacher()),
            remove: r.action == Some(Action::RemoveEnrollment),
        });
    }
    drop((rows, failed_rows));
    outcome.schools = removals.schools;
    if let Some(held_back_roles) = held_back_roles {
        outcome.roles = held_back_roles;
        outcome.roles.reserve(users_by_index.len());
        for (user_id, role) in users_by_index {
            outcome.roles.insert(user_id, Some(role));
        }
    }
    outcome
}

/// What the users and classes of the clean rows say about the rest: which
/// users are deactivated and classes removed (their enrollments go), and
/// how many schools the rows name.
struct Removals {
    deactivated: Vec<bool>,
    removed: Vec<bool>,
    schools: u64,
}

/// The user and class records, in order of their first clean rows.
fn users_and_classes(entities: &Entities, failed_rows: &[bool], records: &mut Records) -> Removals {
    let Entities {
        schools,
        users,
        user_text,
        classes,
        rows,
        other_schools,
        ..
    } = entities;
    records.users.reserve(users.len());
    records.classes.reserve(classes.len());
    let mut user_record: Vec<u32> = vec![NONE; users.len()];
    let mut first_school: Vec<u32> = vec![NONE; users.len()];
    let mut class_record: Vec<u32> = vec![NONE; classes.len()];
    let mut deactivated = vec![false; users.len()];
    let mut removed = vec![false; classes.len()];
    let mut school_used = vec![false; schools.values.len()];
    for (r, _) in rows.iter().zip(failed_rows).filter(|(_, failed)| !**failed) {
        let u = r.user as usize;
        school_used[r.school as usize] = true;
        if user_record[u] == NONE {
            user_record[u] = records.users.len() as u32;
            let agg = &users[u];
            records.users.push(UserRecord {
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
        let record = &mut records.users[user_record[u] as usize];
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
                class_record[c] = records.classes.len() as u32;
                let agg = &classes[c];
                records.classes.push(ClassRecord {
                    class_id: agg.class_id.clone(),
                    school_id: String::from(&*schools.values[agg.school as usize]),
                    name: String::from(&*agg.name),
                    grade: Cow::Borrowed(agg.grade),
                    display_name: agg.display_name.as_deref().map(String::from),
                    remove: false,
                });
            }
            if r.action == Some(Action::RemoveClass) {
                records.classes[class_record[c] as usize].remove = true;
                removed[c] = true;
            }
        }
    }
    Removals {
        deactivated,
        removed,
        schools: school_used.iter().filter(|u| **u).count() as u64,
    }
}
