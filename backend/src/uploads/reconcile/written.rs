//! The stored roster after a commit, made in memory from the roster the
//! plan was made against, the plan and the row ids the database gave the
//! new rows: what `store::load` would read back, without reading a million
//! rows again. The next upload of the district in this process plans
//! against it while nobody else has changed the roster (its version).
//!
//! Each step mirrors `store::apply`'s statements, in their order; a test
//! (`tests/uploads.rs`) compares the result with the roster read back.

use foldhash::{HashMap, HashSet};

use super::{ClassWrite, Plan, Stored, StoredClass, StoredEnrollment, StoredUser, UserWrite};
use crate::uploads::store::NewRows;

impl StoredUser {
    /// The user as an upload writes it (all values from the record).
    fn write_record(&mut self, user: &shared::records::UserRecord) {
        self.user_id = user.user_id.to_string();
        self.role = user.role;
        self.first_name = user.first_name.clone();
        self.last_name = user.last_name.clone();
        self.email = user.email.clone();
        self.grade = user.grade.as_deref().map(String::from);
        self.district_id = user.district_id.clone();
        self.state_id = user.state_id.clone();
        // The upload wrote it after any portal edit.
        self.edited_since_upload = false;
    }
}

impl Stored {
    /// This roster once `plan` is written, at the next version.
    pub fn written(mut self, plan: &Plan, new_rows: &NewRows) -> Stored {
        self.version += 1;
        // Users: the inserts, then the updates and deactivations in order.
        for write in &plan.users {
            if let UserWrite::Insert { user, schools } = write {
                let Some(&id) = new_rows.users.get(&*user.user_id) else {
                    continue;
                };
                let mut stored = StoredUser {
                    id,
                    user_id: String::new(),
                    role: user.role,
                    first_name: String::new(),
                    last_name: String::new(),
                    email: String::new(),
                    grade: None,
                    district_id: None,
                    state_id: None,
                    active: !user.deactivate,
                    edited_since_upload: false,
                    schools: schools.clone(),
                };
                stored.write_record(user);
                self.users.push(stored);
            }
        }
        self.users.sort_unstable_by_key(|u| u.id);
        let user_at: HashMap<i64, usize> = self
            .users
            .iter()
            .enumerate()
            .map(|(at, u)| (u.id, at))
            .collect();
        for write in &plan.users {
            match write {
                UserWrite::Insert { .. } => {}
                UserWrite::Update {
                    id,
                    user,
                    add_schools,
                } => {
                    if let Some(stored) = user_at.get(id).map(|at| &mut self.users[*at]) {
                        stored.write_record(user);
                        stored.active = true;
                        stored.schools.extend(add_schools);
                    }
                }
                UserWrite::Deactivate { id } => {
                    if let Some(stored) = user_at.get(id).map(|at| &mut self.users[*at]) {
                        stored.active = false;
                        stored.edited_since_upload = false;
                    }
                }
            }
        }
        // Classes: updates and deactivations, then the inserts.
        let class_at: HashMap<i64, usize> = self
            .classes
            .iter()
            .enumerate()
            .map(|(at, c)| (c.id, at))
            .collect();
        for write in &plan.classes {
            match write {
                ClassWrite::Insert { class, school } => {
                    if let Some(&id) = new_rows.classes.get(&*class.class_id) {
                        self.classes.push(StoredClass {
                            id,
                            class_id: class.class_id.to_string(),
                            school: *school,
                            name: class.name.clone(),
                            grade: class.grade.to_string(),
                            display_name: class.display_name.clone(),
                            active: !class.remove,
                        });
                    }
                }
                ClassWrite::Update { id, class, school } => {
                    if let Some(stored) = class_at.get(id).map(|at| &mut self.classes[*at]) {
                        stored.school = *school;
                        stored.name = class.name.clone();
                        stored.grade = class.grade.to_string();
                        stored.display_name = class.display_name.clone();
                        stored.active = true;
                    }
                }
                ClassWrite::Deactivate { id } => {
                    if let Some(stored) = class_at.get(id).map(|at| &mut self.classes[*at]) {
                        stored.active = false;
                    }
                }
            }
        }
        // Row ids of the keys, as the commit resolved them.
        let user_ref: HashMap<String, i64> = self
            .users
            .iter()
            .map(|u| (u.user_id.clone(), u.id))
            .collect();
        let class_ref: HashMap<String, i64> = self
            .classes
            .iter()
            .map(|c| (c.class_id.clone(), c.id))
            .collect();
        for write in &plan.enrollments {
            if let (Some(&user), Some(&class)) = (
                user_ref.get(&*write.user_id),
                class_ref.get(&*write.class_id),
            ) {
                self.enrollments.insert(
                    (user, class),
                    StoredEnrollment {
                        primary_teacher: write.primary_teacher,
                        active: write.active,
                    },
                );
            }
        }
        // Deactivated users and removed classes end all their enrollments.
        let ended_users: HashSet<i64> = plan
            .end_enrollments_of_users
            .iter()
            .filter_map(|key| user_ref.get(&**key).copied())
            .collect();
        let ended_classes: HashSet<i64> = plan
            .end_enrollments_of_classes
            .iter()
            .filter_map(|key| class_ref.get(&**key).copied())
            .collect();
        if !ended_users.is_empty() || !ended_classes.is_empty() {
            for ((user, class), enrollment) in self.enrollments.iter_mut() {
                if ended_users.contains(user) || ended_classes.contains(class) {
                    enrollment.active = false;
                }
            }
        }
        for write in &plan.demographics {
            if let Some(&user) = user_ref.get(&write.user_id) {
                self.demographics.insert(user, write.values_json.clone());
            }
        }
        self
    }
}
