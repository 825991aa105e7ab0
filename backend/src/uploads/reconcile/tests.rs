//! The planner, one line per case: a stored roster (written as a users.csv),
//! the rows of an upload, and what the plan must count, find and hold, as
//! `entity.outcome=n`, `code@key` and `hold:what`.

use foldhash::{HashMap, HashMapExt};
use shared::records::Records;
use shared::{validate, Options};

use super::{plan, Mode, Plan, Stored, StoredClass, StoredEnrollment, StoredUser, Tally};

const H: &str = "action,schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,userDistrictId,userStateId,classId,className,classGrade,classDisplayName,isPrimaryTeacher";

const T1: &str = ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,TRUE";
const U1: &str = ",S1,U1,student,Bo,Kim,bo@x.org,05,D1,ST1,C1,Math,05,,";
const U2: &str = ",S1,U2,student,Cy,Ho,cy@x.org,05,D2,,C1,Math,05,,";
const U3: &str = ",S1,U3,student,Di,Ro,di@x.org,05,,,C1,Math,05,,";
const T2: &str = ",S2,T2,teacher,Ed,Po,ed@x.org,,,,C2,Art,06,,TRUE";
const U4: &str = ",S2,U4,student,Fa,Wu,fa@x.org,06,,,C2,Art,06,,";
const A1: &str = ",S1,A1,administrator,Gu,Li,gu@x.org,,,,,,,,";
/// A student deactivated before.
const U5: &str = "deactivate-user,S1,U5,student,Hi,Jo,hi@x.org,05,,,,,,,";

/// The stored roster of every case: schools S1 and S2; 7 active users and
/// U5 inactive; classes C1 (S1: T1, U1, U2, U3) and C2 (S2: T2, U4), so 6
/// active enrollments.
const STORED: &[&str] = &[T1, U1, U2, U3, T2, U4, A1, U5];

fn records(rows: &[&str]) -> Records {
    let file = format!("{H}\n{}\n", rows.join("\n"));
    let validated = validate(file.as_bytes(), None, Options::default());
    assert!(
        validated.report.valid,
        "{file}: {:?}",
        validated.report.findings.first().map(|f| f.message())
    );
    validated.records
}

/// The roster as it would be stored after uploading `rows` to an empty one.
fn stored(rows: &[&str]) -> Stored {
    let records = records(rows);
    let mut stored = Stored {
        schools: [("S1".to_string(), 1), ("S2".to_string(), 2)]
            .into_iter()
            .collect(),
        ..Stored::default()
    };
    let mut user_refs = HashMap::new();
    for (i, user) in records.users.iter().enumerate() {
        let id = 10 + i as i64;
        user_refs.insert(user.user_id.clone(), id);
        stored.users.push(StoredUser {
            id,
            user_id: user.user_id.to_string(),
            role: user.role,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.clone(),
            grade: user.grade.as_deref().map(String::from),
            district_id: user.district_id.clone(),
            state_id: user.state_id.clone(),
            active: !user.deactivate,
            edited_since_upload: false,
            schools: user.school_ids.iter().map(|s| stored.schools[s]).collect(),
        });
    }
    let mut class_refs = HashMap::new();
    for (i, class) in records.classes.iter().enumerate() {
        let id = 100 + i as i64;
        class_refs.insert(class.class_id.clone(), id);
        stored.classes.push(StoredClass {
            id,
            class_id: class.class_id.to_string(),
            school: stored.schools[&class.school_id],
            name: class.name.clone(),
            grade: class.grade.to_string(),
            display_name: class.display_name.clone(),
            active: !class.remove,
        });
    }
    for e in &records.enrollments {
        stored.enrollments.insert(
            (user_refs[&e.user_id], class_refs[&e.class_id]),
            StoredEnrollment {
                primary_teacher: e.primary_teacher,
                active: !e.remove,
            },
        );
    }
    stored
}

/// What a plan counts, finds and holds, sorted.
fn summary(plan: &Plan) -> Vec<String> {
    let c = &plan.counts;
    let mut out = Vec::new();
    for (entity, tally) in [
        ("schools", c.schools),
        ("staff", c.staff),
        ("students", c.students),
        ("classes", c.classes),
        ("enrollments", c.enrollments),
    ] {
        let Tally {
            created,
            updated,
            unchanged,
            removed,
            errors,
        } = tally;
        for (outcome, n) in [
            ("created", created),
            ("updated", updated),
            ("unchanged", unchanged),
            ("removed", removed),
            ("errors", errors),
        ] {
            if n > 0 {
                out.push(format!("{entity}.{outcome}={n}"));
            }
        }
    }
    for finding in &plan.findings {
        let key = finding.value.as_deref().unwrap_or_default();
        out.push(format!("{}@{key}", finding.code.as_str()));
    }
    for reason in &plan.hold {
        out.push(format!("hold:{}", reason.what));
    }
    out.sort();
    out
}

struct Case {
    name: &'static str,
    rows: &'static [&'static str],
    mode: Mode,
    expected: &'static [&'static str],
}

const fn upsert(
    name: &'static str,
    rows: &'static [&'static str],
    expected: &'static [&'static str],
) -> Case {
    Case {
        name,
        rows,
        mode: Mode::Upsert,
        expected,
    }
}

const fn full_sync(
    name: &'static str,
    rows: &'static [&'static str],
    expected: &'static [&'static str],
) -> Case {
    Case {
        name,
        rows,
        mode: Mode::FullSync,
        expected,
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Creating, updating, leaving unchanged.
    upsert("the stored roster again", STORED,
        &["classes.unchanged=2", "enrollments.unchanged=6", "schools.unchanged=2", "staff.unchanged=3", "students.unchanged=5"]),
    upsert("a new student in a stored class", &[T1, ",S1,U9,student,Ha,Su,ha@x.org,05,,,C1,Math,05,,"],
        &["classes.unchanged=1", "enrollments.created=1", "enrollments.unchanged=1", "schools.unchanged=1", "staff.unchanged=1", "students.created=1"]),
    upsert("a new first name", &[",S1,U1,student,Bob,Kim,bo@x.org,05,D1,ST1,C1,Math,05,,"],
        &["classes.unchanged=1", "enrollments.unchanged=1", "schools.unchanged=1", "students.updated=1"]),
    upsert("a teacher no longer primary", &[",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,FALSE"],
        &["classes.unchanged=1", "enrollments.updated=1", "schools.unchanged=1", "staff.unchanged=1"]),
    upsert("an inactive student listed again comes back", &[",S1,U5,student,Hi,Jo,hi@x.org,05,,,,,,,"],
        &["schools.unchanged=1", "students.updated=1"]),
    upsert("emails swapped within the file", &[",S1,U1,student,Bo,Kim,cy@x.org,05,D1,ST1,,,,,", ",S1,U2,student,Cy,Ho,bo@x.org,05,D2,,,,,,"],
        &["schools.unchanged=1", "students.updated=2"]),
    upsert("identifier correction: a new userId with a stored user's email, role and names", &[",S1,U1X,student,Bo,Kim,bo@x.org,05,D1,ST1,,,,,"],
        &["identifier-corrected@U1X", "schools.unchanged=1", "students.updated=1"]),
    upsert("a corrected user's stored enrollments are theirs", &[",S1,U1X,student,Bo,Kim,bo@x.org,05,D1,ST1,C1,Math,05,,"],
        &["classes.unchanged=1", "enrollments.unchanged=1", "identifier-corrected@U1X", "schools.unchanged=1", "students.updated=1"]),

    // Refused against stored data; a failing user or class fails its enrollments.
    upsert("an unknown school", &[",S9,U9,student,Ha,Su,ha@x.org,05,,,C9,Gym,05,,"],
        &["classes.errors=1", "enrollments.errors=1", "schools.errors=1", "students.errors=1", "unknown-school@S9"]),
    upsert("a student listed as a teacher", &[",S1,U1,teacher,Bo,Kim,bo@x.org,,D1,ST1,C1,Math,05,,FALSE"],
        &["classes.unchanged=1", "enrollments.errors=1", "role-change@U1", "schools.unchanged=1", "staff.errors=1"]),
    upsert("another stored user's email", &[",S1,U9,student,Ha,Su,bo@x.org,05,,,,,,,"],
        &["email-in-use@U9", "schools.unchanged=1", "students.errors=1"]),
    upsert("another stored user's district ID", &[",S1,U9,student,Ha,Su,ha@x.org,05,D1,,,,,,"],
        &["duplicate-secondary-id@U9", "schools.unchanged=1", "students.errors=1"]),
    upsert("a new userId equal to a stored one but for leading zeros", &[",S1,0U1,student,Ha,Su,ha@x.org,05,,,,,,,"],
        &["schools.unchanged=1", "stored-leading-zeros@0U1", "students.errors=1"]),
    upsert("a new classId equal to a stored one but for leading zeros", &[",S1,T1,teacher,Ann,Lee,ann@x.org,,,,0C1,Math,05,,TRUE"],
        &["classes.errors=1", "enrollments.errors=1", "schools.unchanged=1", "staff.unchanged=1", "stored-leading-zeros@0C1"]),
    upsert("a stored class in another school", &[",S2,T2,teacher,Ed,Po,ed@x.org,,,,C1,Math,05,,TRUE"],
        &["class-school-mismatch@C1", "classes.errors=1", "enrollments.errors=1", "schools.unchanged=1", "staff.unchanged=1"]),

    // Actions.
    upsert("REMOVE-ENROLLMENT ends one enrollment", &["remove-enrollment,S1,U1,student,Bo,Kim,bo@x.org,05,D1,ST1,C1,Math,05,,"],
        &["classes.unchanged=1", "enrollments.removed=1", "hold:enrollments", "schools.unchanged=1", "students.unchanged=1"]),
    upsert("REMOVE-CLASS ends every enrollment of the class, counted and held", &["remove-class,S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,"],
        &["classes.removed=1", "enrollments.removed=4", "hold:classes", "hold:enrollments", "schools.unchanged=1", "staff.unchanged=1"]),
    upsert("DEACTIVATE-USER ends the user's enrollments, counted and held", &["deactivate-user,S1,U1,student,Bo,Kim,bo@x.org,05,D1,ST1,,,,,"],
        &["enrollments.removed=1", "hold:enrollments", "hold:users", "schools.unchanged=1", "students.removed=1"]),
    upsert("deactivating an inactive user changes nothing", &[U5],
        &["schools.unchanged=1", "students.unchanged=1"]),
    upsert("a new user deactivated at once is created inactive", &["deactivate-user,S1,U9,student,Ha,Su,ha@x.org,05,,,,,,,"],
        &["schools.unchanged=1", "students.created=1"]),

    // Full sync: the file's schools' users and enrollments it does not list.
    full_sync("full sync of a whole school removes nothing", &[T2, U4],
        &["classes.unchanged=1", "enrollments.unchanged=2", "schools.unchanged=1", "staff.unchanged=1", "students.unchanged=1"]),
    full_sync("full sync without a student and the administrator", &[T1, U1, U2],
        &["classes.unchanged=1", "enrollments.removed=1", "enrollments.unchanged=3", "hold:enrollments", "hold:users",
          "schools.unchanged=1", "staff.removed=1", "staff.unchanged=1", "students.removed=1", "students.unchanged=2"]),
    full_sync("full sync with a corrected identifier keeps the renamed user and its enrollments",
        &[T1, ",S1,U1X,student,Bo,Kim,bo@x.org,05,D1,ST1,C1,Math,05,,", U2, U3, A1],
        &["classes.unchanged=1", "enrollments.unchanged=4", "identifier-corrected@U1X", "schools.unchanged=1",
          "staff.unchanged=2", "students.unchanged=2", "students.updated=1"]),
    full_sync("full sync with REMOVE-CLASS counts each ended enrollment once",
        &["remove-class,S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,", ",S1,U1,student,Bo,Kim,bo@x.org,05,D1,ST1,,,,,",
          ",S1,U2,student,Cy,Ho,cy@x.org,05,D2,,,,,,", ",S1,U3,student,Di,Ro,di@x.org,05,,,,,,,"],
        &["classes.removed=1", "enrollments.removed=4", "hold:classes", "hold:enrollments", "hold:users",
          "schools.unchanged=1", "staff.removed=1", "staff.unchanged=1", "students.unchanged=3"]),
];

#[test]
fn planner_cases() {
    let stored = stored(STORED);
    let mut failures = Vec::new();
    for case in CASES {
        let got = summary(&plan(&stored, &records(case.rows), case.mode));
        if got != case.expected {
            failures.push(format!(
                "{}\n  expected {:?}\n  got      {:?}",
                case.name, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn ended_enrollments_are_shown_after_the_files_own_changes() {
    let stored = stored(STORED);
    let plan = plan(
        &stored,
        &records(&["remove-class,S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,"]),
        Mode::Upsert,
    );
    let listed: Vec<String> = plan.changes[..plan.listed_changes]
        .iter()
        .map(|c| format!("{} {} {}", c.entity, c.key, c.kind))
        .collect();
    assert_eq!(listed, ["class C1 removed"], "the file's own record");
    let unlisted: Vec<String> = plan.changes[plan.listed_changes..]
        .iter()
        .map(|c| format!("{} {} {}", c.entity, c.key, c.kind))
        .collect();
    assert_eq!(
        unlisted,
        [
            "enrollment T1/C1 removed",
            "enrollment U1/C1 removed",
            "enrollment U2/C1 removed",
            "enrollment U3/C1 removed"
        ]
    );
    // Counted per school too: C1 is S1's.
    assert_eq!(plan.per_school["S1"].enrollments.removed, 4);
    assert!(!plan.per_school.contains_key("S2"));
}

#[test]
fn demographics_are_written_only_where_they_change() {
    let values = |pairs: &[(&str, Option<&str>)]| {
        let mut values = shared::records::DemographicsValues::default();
        for (column, value) in pairs {
            assert!(values.insert(column, value.map(std::borrow::Cow::Borrowed)));
        }
        values
    };
    let stored = r#"{"iep":"true","sex":"female"}"#;
    let json = super::planner::demographics_json;
    assert_eq!(
        json(None, &values(&[("sex", Some("male"))])).as_deref(),
        Some(r#"{"sex":"male"}"#)
    );
    assert_eq!(
        json(
            Some(stored),
            &values(&[("iep", Some("true")), ("sex", Some("female"))])
        ),
        None
    );
    assert_eq!(
        json(Some(stored), &values(&[("sex", Some("female"))])),
        None,
        "a column left out changes nothing"
    );
    assert_eq!(
        json(Some(stored), &values(&[("sex", None)])).as_deref(),
        Some(r#"{"iep":"true","sex":null}"#),
        "a blank cell clears the value, the others stay"
    );
}
