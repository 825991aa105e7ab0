//! Records back to files: a valid `users.csv` and `demographics.csv` that,
//! uploaded again, give the same records. The server's "download your data"
//! (for a person: BOM and formula guard, which the validator reads back) and
//! the clean records the browser, the widget and `push` send the server (for
//! a program: the exact values) are both written here, so the round trip
//! holds by construction.

use std::collections::{HashMap, HashSet};

use crate::csv_out::{write_row, Audience};
use crate::dictionary::{Field, DEMOGRAPHICS_COLUMNS, USERS_COLUMNS};
use crate::records::{Action, ClassRecord, EnrollmentRecord, Records, Role, UserRecord};

/// A file written a row at a time, so it can be sent in parts without
/// ever being held whole.
pub trait CsvRows {
    /// Writes the next row (the header first) into `out`; false at the end.
    fn next_row(&mut self, out: &mut Vec<u8>) -> bool;

    /// A row that did not fit the last part, to start the next one.
    fn pending(&mut self) -> &mut Vec<u8>;

    /// The next part: whole rows, at most `max_bytes` of them (unless a
    /// single row is longer); `None` once everything is written.
    fn next_part(&mut self, max_bytes: usize) -> Option<Vec<u8>> {
        let mut out = std::mem::take(self.pending());
        let mut row = Vec::new();
        while self.next_row(&mut row) {
            if !out.is_empty() && out.len() + row.len() > max_bytes {
                *self.pending() = row;
                break;
            }
            out.append(&mut row);
        }
        (!out.is_empty()).then_some(out)
    }

    /// The whole file.
    fn whole(&mut self) -> Vec<u8> {
        self.next_part(usize::MAX).unwrap_or_default()
    }
}

/// Where a `UsersCsv` is.
#[derive(Debug, Clone, Copy)]
enum UsersStep {
    Header,
    Enrollment(usize),
    RemovedClass(usize),
    /// A user, and which of their schools.
    User(usize, usize),
    Done,
}

/// The users.csv of some records: one row per enrollment, one row per school
/// for a user without one, and a row with the action for what is removed.
/// Every column of the dictionary, written for `audience`, a row at a time.
pub struct UsersCsv<'r> {
    records: &'r Records,
    audience: Audience,
    users: HashMap<&'r str, &'r UserRecord>,
    classes: HashMap<&'r str, &'r ClassRecord>,
    /// (user, school) pairs that have a row already.
    written: HashSet<(&'r str, &'r str)>,
    step: UsersStep,
    pending: Vec<u8>,
}

impl<'r> UsersCsv<'r> {
    /// The file of `records`, for `audience`.
    pub fn new(records: &'r Records, audience: Audience) -> Self {
        UsersCsv {
            records,
            audience,
            users: records.users.iter().map(|u| (&*u.user_id, u)).collect(),
            classes: records.classes.iter().map(|c| (&*c.class_id, c)).collect(),
            written: HashSet::new(),
            step: UsersStep::Header,
            pending: Vec::new(),
        }
    }
}

impl CsvRows for UsersCsv<'_> {
    fn pending(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    fn next_row(&mut self, out: &mut Vec<u8>) -> bool {
        let records = self.records;
        let audience = self.audience;
        loop {
            match self.step {
                UsersStep::Header => {
                    out.extend(audience.file_start());
                    write_row(out, USERS_COLUMNS.iter().map(|c| c.name), audience);
                    self.step = UsersStep::Enrollment(0);
                    return true;
                }
                UsersStep::Enrollment(i) => {
                    let Some(enrollment) = records.enrollments.get(i) else {
                        self.step = UsersStep::RemovedClass(0);
                        continue;
                    };
                    self.step = UsersStep::Enrollment(i + 1);
                    let (Some(user), Some(class)) = (
                        self.users.get(&*enrollment.user_id).copied(),
                        self.classes.get(&*enrollment.class_id).copied(),
                    ) else {
                        continue;
                    };
                    self.written.insert((&*user.user_id, &class.school_id));
                    let action = enrollment.remove.then_some(Action::RemoveEnrollment);
                    let school_id = &class.school_id;
                    let class = Some((class, Some(enrollment)));
                    write_user_row(out, audience, action, user, school_id, class);
                    return true;
                }
                UsersStep::RemovedClass(i) => {
                    let Some(class) = records.classes.get(i) else {
                        self.step = UsersStep::User(0, 0);
                        continue;
                    };
                    self.step = UsersStep::RemovedClass(i + 1);
                    if !class.remove {
                        continue;
                    }
                    // REMOVE-CLASS needs a row, with some user of the class's school.
                    let user = records
                        .users
                        .iter()
                        .find(|u| u.school_ids.contains(&class.school_id));
                    if let Some(user) = user {
                        let school_id = &class.school_id;
                        let action = Some(Action::RemoveClass);
                        write_user_row(out, audience, action, user, school_id, Some((class, None)));
                        return true;
                    }
                }
                UsersStep::User(i, j) => {
                    let Some(user) = records.users.get(i) else {
                        self.step = UsersStep::Done;
                        continue;
                    };
                    let Some(school_id) = user.school_ids.get(j) else {
                        self.step = UsersStep::User(i + 1, 0);
                        continue;
                    };
                    self.step = UsersStep::User(i, j + 1);
                    let action = user.deactivate.then_some(Action::DeactivateUser);
                    if action.is_some()
                        || !self.written.contains(&(&*user.user_id, school_id.as_str()))
                    {
                        write_user_row(out, audience, action, user, school_id, None);
                        return true;
                    }
                }
                UsersStep::Done => return false,
            }
        }
    }
}

/// The whole users.csv of some records (see `UsersCsv`).
pub fn users_csv(records: &Records, audience: Audience) -> Vec<u8> {
    UsersCsv::new(records, audience).whole()
}

fn write_user_row(
    out: &mut Vec<u8>,
    audience: Audience,
    action: Option<Action>,
    user: &UserRecord,
    school_id: &str,
    class: Option<(&ClassRecord, Option<&EnrollmentRecord>)>,
) {
    let primary = |e: Option<&EnrollmentRecord>| match e.and_then(|e| e.primary_teacher) {
        Some(true) => "TRUE",
        Some(false) => "FALSE",
        None => "",
    };
    let cells = USERS_COLUMNS.iter().map(|column| match column.field {
        Field::Action => action.map(Action::as_str).unwrap_or(""),
        Field::SchoolId => school_id,
        Field::UserId => &user.user_id,
        Field::UserRole => user.role.as_str(),
        Field::UserFirstName => &user.first_name,
        Field::UserLastName => &user.last_name,
        Field::UserEmail => &user.email,
        Field::UserGrade => user
            .grade
            .as_deref()
            .filter(|_| user.role == Role::Student)
            .unwrap_or(""),
        Field::UserDistrictId => user.district_id.as_deref().unwrap_or(""),
        Field::UserStateId => user.state_id.as_deref().unwrap_or(""),
        Field::ClassId => class.map(|(c, _)| &*c.class_id).unwrap_or(""),
        Field::ClassName => class.map(|(c, _)| c.name.as_str()).unwrap_or(""),
        Field::ClassGrade => class.map(|(c, _)| &*c.grade).unwrap_or(""),
        Field::ClassDisplayName => class
            .and_then(|(c, _)| c.display_name.as_deref())
            .unwrap_or(""),
        Field::IsPrimaryTeacher => primary(class.and_then(|(_, e)| e)),
        _ => "",
    });
    write_row(out, cells, audience);
}

/// The demographics.csv of some records: the columns any record has, in
/// dictionary order, written for `audience`, a row at a time.
pub struct DemographicsCsv<'r> {
    records: &'r Records,
    audience: Audience,
    columns: Vec<&'static str>,
    /// The next record's index, after the header (`None` before it).
    next: Option<usize>,
    pending: Vec<u8>,
}

impl<'r> DemographicsCsv<'r> {
    /// The file of `records`, for `audience`.
    pub fn new(records: &'r Records, audience: Audience) -> Self {
        let columns = DEMOGRAPHICS_COLUMNS
            .iter()
            .map(|c| c.name)
            .filter(|name| {
                *name == "userId"
                    || records
                        .demographics
                        .iter()
                        .any(|d| d.values.contains_key(name))
            })
            .collect();
        DemographicsCsv {
            records,
            audience,
            columns,
            next: None,
            pending: Vec::new(),
        }
    }
}

impl CsvRows for DemographicsCsv<'_> {
    fn pending(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    fn next_row(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(next) = self.next else {
            out.extend(self.audience.file_start());
            write_row(out, self.columns.iter().copied(), self.audience);
            self.next = Some(0);
            return true;
        };
        let Some(record) = self.records.demographics.get(next) else {
            return false;
        };
        self.next = Some(next + 1);
        let cells = self.columns.iter().map(|name| {
            if *name == "userId" {
                record.user_id.as_str()
            } else {
                record.values.get(name).flatten().unwrap_or("")
            }
        });
        write_row(out, cells, self.audience);
        true
    }
}

/// The whole demographics.csv of some records (see `DemographicsCsv`).
pub fn demographics_csv(records: &Records, audience: Audience) -> Vec<u8> {
    DemographicsCsv::new(records, audience).whole()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{generate, SampleOptions};
    use crate::validator::validate;
    use crate::Options;

    #[test]
    fn sample_records_round_trip() {
        let sample = generate(&SampleOptions {
            students: 400,
            seed: 2,
            error_rate: 0.0,
        });
        let first = validate(
            &sample.users_csv,
            Some(&sample.demographics_csv),
            Options::default(),
        );
        assert!(first.report.findings.is_empty());
        for audience in [Audience::Person, Audience::Program] {
            let users = users_csv(&first.records, audience);
            let demographics = demographics_csv(&first.records, audience);
            let second = validate(&users, Some(&demographics), Options::default());
            assert!(
                second.report.findings.is_empty(),
                "{audience:?}: {:?}",
                second.report.findings.first().map(|f| f.message())
            );
            assert_eq!(sorted(&second.records), sorted(&first.records));
        }
    }

    fn sorted(records: &Records) -> Records {
        let mut r = records.clone();
        r.users.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        r.classes.sort_by(|a, b| a.class_id.cmp(&b.class_id));
        r.enrollments
            .sort_by(|a, b| (&a.user_id, &a.class_id).cmp(&(&b.user_id, &b.class_id)));
        r
    }

    #[test]
    fn values_that_look_like_formulas_round_trip_for_people_and_programs() {
        // Written with the guard for people ('-5, '''=x), exactly for
        // programs: either way the validator reads back the values.
        let file = "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,classId,className,classGrade\n\
            S1,-5,student,Ann,Lee,+ann@x.org,05,C1,=Algebra,05\n\
            S1,T1,teacher,Bo,Kim,bo@x.org,,C2,''=x,05\n\
            S1,T1,teacher,Bo,Kim,bo@x.org,,C3,@home,05\n";
        let first = validate(file.as_bytes(), None, Options::default());
        assert!(
            first.report.valid,
            "{:?}",
            first.report.findings.first().map(|f| f.message())
        );
        let names: Vec<&str> = first
            .records
            .classes
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["=Algebra", "'=x", "@home"]);
        assert_eq!(&*first.records.users[0].user_id, "-5");
        assert_eq!(first.records.users[0].email, "+ann@x.org");
        for audience in [Audience::Person, Audience::Program] {
            let written = users_csv(&first.records, audience);
            let text = String::from_utf8_lossy(&written);
            let guarded = text.contains(",'-5,") && text.contains(",''=x,");
            assert_eq!(guarded, audience == Audience::Person, "{text}");
            let second = validate(&written, None, Options::default());
            assert!(second.report.valid, "{audience:?}: {text}");
            assert_eq!(
                sorted(&second.records),
                sorted(&first.records),
                "{audience:?}"
            );
        }
    }

    #[test]
    fn parts_are_whole_rows_that_make_the_file() {
        let sample = generate(&SampleOptions {
            students: 300,
            seed: 3,
            error_rate: 0.0,
        });
        let records = validate(
            &sample.users_csv,
            Some(&sample.demographics_csv),
            Options::default(),
        )
        .records;
        let whole = users_csv(&records, Audience::Program);
        let mut parts = Vec::new();
        let mut writer = UsersCsv::new(&records, Audience::Program);
        while let Some(part) = writer.next_part(4096) {
            assert!(part.len() <= 4096, "{}", part.len());
            assert!(part.ends_with(b"\r\n"), "a part ends with a whole row");
            parts.push(part);
        }
        assert!(parts.len() > 5);
        assert_eq!(parts.concat(), whole);
        let demographics = demographics_csv(&records, Audience::Person);
        let mut writer = DemographicsCsv::new(&records, Audience::Person);
        let parts: Vec<Vec<u8>> = std::iter::from_fn(|| writer.next_part(1000)).collect();
        assert_eq!(parts.concat(), demographics);
    }

    #[test]
    fn actions_round_trip() {
        let file = "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,classId,className,classGrade,isPrimaryTeacher,action\n\
            S1,T1,teacher,Ann,Lee,ann@x.org,,C1,Math,05,TRUE,\n\
            S1,U1,student,Bo,Kim,bo@x.org,05,C1,Math,05,,REMOVE-ENROLLMENT\n\
            S1,U2,student,Cy,Ho,cy@x.org,05,,,,,DEACTIVATE-USER\n\
            S2,T2,teacher,Di,Ro,di@x.org,,C2,Art,06,,REMOVE-CLASS\n\
            S2,A1,administrator,Ed,Po,ed@x.org,,,,,,\n\
            S3,A1,administrator,Ed,Po,ed@x.org,,,,,,\n";
        let first = validate(file.as_bytes(), None, Options::default());
        assert!(first.report.valid);
        let second = validate(
            &users_csv(&first.records, Audience::Program),
            None,
            Options::default(),
        );
        assert!(
            second.report.valid,
            "{:?}",
            second.report.findings.first().map(|f| f.message())
        );
        assert_eq!(second.records.users.len(), first.records.users.len());
        for user in &first.records.users {
            assert!(second.records.users.contains(user), "{user:?}");
        }
        assert_eq!(second.records.classes, first.records.classes);
        assert_eq!(second.records.enrollments, first.records.enrollments);
    }
}
