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

/// The users.csv of some records: one row per enrollment, one row per school
/// for a user without one, and a row with the action for what is removed.
/// Every column of the dictionary, written for `audience`.
pub fn users_csv(records: &Records, audience: Audience) -> Vec<u8> {
    let mut out = audience.file_start();
    write_row(&mut out, USERS_COLUMNS.iter().map(|c| c.name), audience);
    let users: HashMap<&str, &UserRecord> =
        records.users.iter().map(|u| (&*u.user_id, u)).collect();
    let classes: HashMap<&str, &ClassRecord> =
        records.classes.iter().map(|c| (&*c.class_id, c)).collect();
    // (user, school) pairs that have a row already.
    let mut written: HashSet<(&str, &str)> = HashSet::new();
    for enrollment in &records.enrollments {
        let (Some(user), Some(class)) = (
            users.get(&*enrollment.user_id),
            classes.get(&*enrollment.class_id),
        ) else {
            continue;
        };
        written.insert((&*user.user_id, &class.school_id));
        let action = enrollment.remove.then_some(Action::RemoveEnrollment);
        write_user_row(
            &mut out,
            audience,
            action,
            user,
            &class.school_id,
            Some((class, Some(enrollment))),
        );
    }
    for class in records.classes.iter().filter(|c| c.remove) {
        // REMOVE-CLASS needs a row, with some user of the class's school.
        if let Some(user) = records
            .users
            .iter()
            .find(|u| u.school_ids.contains(&class.school_id))
        {
            write_user_row(
                &mut out,
                audience,
                Some(Action::RemoveClass),
                user,
                &class.school_id,
                Some((class, None)),
            );
        }
    }
    for user in &records.users {
        let action = user.deactivate.then_some(Action::DeactivateUser);
        for school_id in &user.school_ids {
            if action.is_some() || !written.contains(&(&*user.user_id, school_id.as_str())) {
                write_user_row(&mut out, audience, action, user, school_id, None);
            }
        }
    }
    out
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
/// dictionary order, written for `audience`.
pub fn demographics_csv(records: &Records, audience: Audience) -> Vec<u8> {
    let columns: Vec<&str> = DEMOGRAPHICS_COLUMNS
        .iter()
        .map(|c| c.name)
        .filter(|name| {
            *name == "userId"
                || records
                    .demographics
                    .iter()
                    .any(|d| d.values.contains_key(*name))
        })
        .collect();
    let mut out = audience.file_start();
    write_row(&mut out, columns.iter().copied(), audience);
    for record in &records.demographics {
        let cells = columns.iter().map(|name| {
            if *name == "userId" {
                record.user_id.as_str()
            } else {
                record
                    .values
                    .get(*name)
                    .and_then(|v| v.as_deref())
                    .unwrap_or("")
            }
        });
        write_row(&mut out, cells, audience);
    }
    out
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
