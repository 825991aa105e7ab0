//! The contract, one line per case: a users.csv (and demographics.csv) and
//! the findings it must give, as `code@row:column`.

use std::collections::BTreeSet;

use shared::codes::Scope;
use shared::validator::validate;
use shared::{IssueCode, Options};

const H: &str = "action,schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,userDistrictId,userStateId,classId,className,classGrade,classDisplayName,isPrimaryTeacher";
/// A teacher and a student in class C1: a clean file.
const T1: &str = ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,TRUE";
const S1: &str = ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,";
/// The same teacher and student in class C2.
const T1C2: &str = ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C2,Art,05,,TRUE";
const S1C2: &str = ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,";
const DH: &str = "userId,birthDate,sex,iep,freeReducedLunch,homeLanguage";

struct Case {
    name: &'static str,
    users: Option<String>,
    demographics: Option<String>,
    schools: Option<&'static [&'static str]>,
    expected: &'static [&'static str],
}

fn users(rows: &[&str]) -> Option<String> {
    Some(format!("{H}\n{}\n", rows.join("\n")))
}

fn case(name: &'static str, users: Option<String>, expected: &'static [&'static str]) -> Case {
    Case {
        name,
        users,
        demographics: None,
        schools: None,
        expected,
    }
}

fn with_demographics(mut c: Case, rows: &[&str]) -> Case {
    c.demographics = Some(format!("{DH}\n{}\n", rows.join("\n")));
    c
}

/// The case's findings as `code@row:column`; the same with the fast path
/// for rows that repeat known values and without it.
fn render(c: &Case) -> Vec<String> {
    let fast = render_with(c, true);
    assert_eq!(
        fast,
        render_with(c, false),
        "{}: the fast path differs",
        c.name
    );
    fast
}

fn render_with(c: &Case, fast_path: bool) -> Vec<String> {
    let options = Options {
        known_school_ids: c.schools.map(|s| s.iter().map(|s| s.to_string()).collect()),
        fast_path,
        ..Options::default()
    };
    let mut validator = shared::Validator::new(options);
    if let Some(users) = &c.users {
        validator.push_users(users.as_bytes());
    }
    if let Some(demographics) = &c.demographics {
        validator.push_demographics(demographics.as_bytes());
    }
    let validated = validator.finish();
    validated
        .report
        .findings
        .iter()
        .map(|f| {
            let mut s = f.code.as_str().to_string();
            if let Some(row) = f.row {
                s.push_str(&format!("@{row}"));
            }
            if let Some(column) = &f.column {
                s.push_str(&format!(":{column}"));
            }
            if f.file == shared::FileKind::Demographics {
                s = format!("demographics:{s}");
            }
            s
        })
        .collect()
}

fn cases() -> Vec<Case> {
    vec![
        // Clean files and near misses that must give nothing.
        case("clean", users(&[T1, S1]), &[]),
        case("staff only file without class columns",
            Some("schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade\nS1,A1,administrator,Al,Ng,al@x.org,\n".into()), &[]),
        case("enumerations in any case, aliases, spaces",
            users(&[" ,S1 , T1,Teacher,Ann,Lee,ANN@x.org,,,,C1,Math,5,,yes", ",S1,U1,STUDENT,Bo,Kim,bo@x.org,k,,,C1,Math,05,,"]), &[]),
        case("same user in two classes", users(&[T1, S1, ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C2,Art,05,,TRUE", ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,"]), &[]),
        case("staff in two schools", users(&[T1, S1, ",S2,T1,teacher,Ann,Lee,ann@x.org,,,,C2,Art,05,,TRUE", ",S2,U2,student,Cy,Ho,cy@x.org,05,,,C2,Art,05,,"]), &[]),
        case("FALSE primary on a student row", users(&[T1, ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,FALSE"]), &[]),
        case("a quoted line break stays in its row",
            users(&[T1, ",S1,U1,student,Bo,\"Kim, Jr.\",bo@x.org,05,,,C1,\"Math\",05,\"Line\nbreak\",", ",S1,U2,student,Cy,Ho,cy@x.org,05,,,C1,Math,05,\"Line\nbreak\","]),
            &["invalid-value@3:classDisplayName", "invalid-value@4:classDisplayName"]),

        // A later row of a known user in a known class: each one-cell change
        // from the known values gives the finding a first row would.
        case("known user and class, repeated", users(&[T1, S1, T1C2, S1C2]), &[]),
        Case { name: "known user and class, with known schools", users: users(&[T1, S1, T1C2, S1C2, ",S9,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,"]),
            demographics: None, schools: Some(&["S1"]), expected: &["unknown-school@6:schoolId"] },
        case("known user and class, spaces, case and aliases",
            users(&[T1, S1, T1C2, " ,S1 ,U1 ,student, Bo,Kim\u{A0},BO@x.org,5,,,C2,Art ,05,,"]), &[]),
        case("known user and class, invalid name", users(&[T1, S1, T1C2, ",S1,U1,student,=Bo,Kim,bo@x.org,05,,,C2,Art,05,,"]),
            &["invalid-name@5:userFirstName"]),
        case("known user and class, grade missing", users(&[T1, S1, T1C2, ",S1,U1,student,Bo,Kim,bo@x.org,,,,C2,Art,05,,"]),
            &["missing-value@5:userGrade"]),
        case("known user and class, invalid class grade", users(&[T1, S1, T1C2, ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,5x,,"]),
            &["invalid-grade@5:classGrade"]),
        case("known user and class, student marked primary", users(&[T1, S1, T1C2, ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,TRUE"]),
            &["primary-teacher-not-teacher@5:isPrimaryTeacher"]),
        case("known user and class, another first name", users(&[T1, S1, T1C2, ",S1,U1,student,Bob,Kim,bo@x.org,05,,,C2,Art,05,,"]),
            &["user-conflict@3:userFirstName", "user-conflict@5:userFirstName"]),
        case("known user and class, a district ID the first row lacks", users(&[T1, S1, T1C2, ",S1,U1,student,Bo,Kim,bo@x.org,05,D1,,C2,Art,05,,"]),
            &["user-conflict@3:userDistrictId", "user-conflict@5:userDistrictId"]),
        case("known user and class, a display name the first row lacks", users(&[T1, S1, T1C2, ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,Art!,"]),
            &["class-conflict@4:classDisplayName", "class-conflict@5:classDisplayName"]),
        case("known user and class, an action", users(&[T1, S1, T1C2, "remove-enrollment,S1,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,"]), &[]),
        case("known user and class, another school", users(&[T1, S1, T1C2, ",S2,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,"]),
            &["student-multiple-schools@3:schoolId", "class-conflict@4:schoolId", "student-multiple-schools@5:schoolId", "class-conflict@5:schoolId"]),
        case("known teacher and class, a grade and a primary in other words", users(&[T1, S1, T1C2, ",S1,T1,teacher,Ann,Lee,ann@x.org,07,,,C2,Art,05,,yes"]),
            &["grade-ignored-for-staff@5:userGrade", "duplicate-row@5"]),
        case("known teacher and class, not primary", users(&[T1, S1, T1C2, ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C2,Art,05,,FALSE"]),
            &["conflicting-enrollment@4:classId", "conflicting-enrollment@5:classId"]),

        // The formula guard of files for people is read back: a `'` before a
        // formula character is removed, on a first row as on a known one.
        case("formula guard read back: className", users(&[",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,'=Algebra,05,,TRUE", ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,=Algebra,05,,"]), &[]),
        case("formula guard read back: a first name reads as =Ann", users(&[T1, ",S1,U1,student,'=Ann,Kim,bo@x.org,05,,,C1,Math,05,,"]),
            &["invalid-name@3:userFirstName"]),
        case("formula guard read back: a known first name '=x and a cell '=x", users(&[",S1,T1,teacher,''=Ann,Lee,ann@x.org,,,,C1,Math,05,,TRUE", ",S1,T1,teacher,'=Ann,Lee,ann@x.org,,,,C1,Math,05,,TRUE"]),
            &["invalid-name@3:userFirstName"]),
        case("formula guard read back: a known class name '=x and a cell '=x", users(&[",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,''=x,05,,TRUE", ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,'=x,05,,TRUE"]),
            &["class-conflict@2:className", "conflicting-enrollment@2:classId", "class-conflict@3:className", "conflicting-enrollment@3:classId"]),
        case("formula guard read back: a known email '=x and a cell '=x", users(&[",S1,T1,teacher,Ann,Lee,''=ann@x.org,,,,C1,Math,05,,TRUE", ",S1,T1,teacher,Ann,Lee,'=ann@x.org,,,,C1,Math,05,,TRUE"]),
            &["user-conflict@2:userEmail", "conflicting-enrollment@2:classId", "user-conflict@3:userEmail", "conflicting-enrollment@3:classId"]),

        // File.
        case("malformed csv", users(&[T1, ",S1,U1,student,\"Bo,Kim,bo@x.org,05,,,C1,Math,05,,"]), &["malformed-csv"]),
        case("semicolons", Some("schoolId;userId;userRole\nS1;U1;student\n".into()), &["wrong-delimiter"]),
        case("tabs", Some("schoolId\tuserId\tuserRole\nS1\tU1\tstudent\n".into()), &["wrong-delimiter"]),
        case("no bytes", Some(String::new()), &["empty-file"]),
        case("only blank lines", Some("\n\n".into()), &["empty-file"]),
        case("header only", users(&[]).map(|u| u.trim_end().to_string() + "\n"), &["empty-file"]),
        Case { name: "demographics alone", users: None, demographics: Some(format!("{DH}\nU1,,,,,\n")), schools: None, expected: &["demographics:demographics-without-users"] },

        // Header.
        case("missing header", Some("schoolId,userId,userRole,userFirstName,userLastName,userEmail\nS1,A1,administrator,Al,Ng,al@x.org\n".into()), &["missing-header:userGrade"]),
        case("unknown, wrong case, duplicate, blank",
            Some("schoolId,userid,userRole,userRole,userFirstName,userLastName,userEmail,userGrade,,shoe\n".into()),
            &["header-wrong-case:userid", "duplicate-header:userRole", "blank-header", "unknown-header:shoe"]),
        case("class group incomplete", Some("schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,classId\nS1,A1,administrator,Al,Ng,al@x.org,,\n".into()),
            &["missing-conditional-header:className", "missing-conditional-header:classGrade"]),

        // Rows and cells.
        case("missing values", users(&[T1, ",S1,U1,student,,Kim,bo@x.org,,,,C1,Math,05,,"]), &["missing-value@3:userFirstName", "missing-value@3:userGrade"]),
        case("class details without classId", users(&[T1, ",S1,U1,student,Bo,Kim,bo@x.org,05,,,,Math,,,", S1]), &["missing-value@3:classId"]),
        case("classId without details", users(&[T1, ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,,,,"]), &["missing-value@3:className", "missing-value@3:classGrade"]),
        case("extra cells", users(&[T1, &format!("{S1},")]), &["extra-cell@3"]),
        case("missing cells", users(&[T1, ",S1,U1,student,Bo,Kim,bo@x.org,05"]), &["missing-cell@3"]),
        case("invalid ids", users(&[T1, ",S 1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,", ",S1,1.23E+05,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,"]),
            &["invalid-id@3:schoolId", "excel-scientific-notation@4:userId"]),
        case("invalid role", users(&[T1, ",S1,U1,pupil,Bo,Kim,bo@x.org,05,,,C1,Math,05,,"]), &["invalid-role@3:userRole"]),
        case("invalid name", users(&[T1, ",S1,U1,student,=Bo,Kim,bo@x.org,05,,,C1,Math,05,,"]), &["invalid-name@3:userFirstName"]),
        case("invalid email", users(&[T1, ",S1,U1,student,Bo,Kim,bo.x.org,05,,,C1,Math,05,,"]), &["invalid-email@3:userEmail"]),
        case("invalid grades", users(&[T1, ",S1,U1,student,Bo,Kim,bo@x.org,5th,,,C1,Math,05,,", ",S1,U2,student,Cy,Ho,cy@x.org,05,,,C2,Art,14,,"]),
            &["invalid-grade@3:userGrade", "invalid-grade@4:classGrade"]),
        case("grade ignored for staff", users(&[",S1,T1,teacher,Ann,Lee,ann@x.org,07,,,C1,Math,05,,TRUE", S1]), &["grade-ignored-for-staff@2:userGrade"]),
        case("invalid boolean", users(&[",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,maybe", S1]), &["invalid-boolean@2:isPrimaryTeacher", "class-without-teacher@3:classId"]),
        case("primary teacher not teacher", users(&[T1, ",S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,TRUE", ",S1,T2,teacher,Di,Ro,di@x.org,,,,,,,,TRUE"]),
            &["primary-teacher-not-teacher@3:isPrimaryTeacher", "primary-teacher-not-teacher@4:isPrimaryTeacher"]),
        case("invalid action", users(&[T1, S1, "REMOVE,S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,"]), &["invalid-action@4:action"]),
        case("action needs class", users(&[T1, S1, "remove-enrollment,S1,U1,student,Bo,Kim,bo@x.org,05,,,,,,,"]), &["action-needs-class@4:action"]),
        case("blank rows", users(&[T1, "", S1, ",,,,,,,,,,,,,,"]), &["blank-row@3", "blank-row@5"]),
        Case { name: "unknown school", users: users(&[T1, ",S9,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,"]), demographics: None, schools: Some(&["S1"]),
            expected: &["unknown-school@3:schoolId"] },
        with_demographics(case("demographics cells", users(&[T1, S1, ",S1,U2,student,Cy,Ho,cy@x.org,05,,,C1,Math,05,,", ",S1,U3,student,Di,Ro,di@x.org,05,,,C1,Math,05,,"]), &["demographics:invalid-date@2:birthDate", "demographics:invalid-boolean@2:iep", "demographics:invalid-value@3:sex", "demographics:invalid-value@4:homeLanguage", "demographics:missing-value@5:userId"]),
            &["U1,2015-02-30,F,maybe,free,es", "U2,1/2/2015,Q,N,paid,en", "U3,,,,,xx", ",2015-01-01,,,,"]),

        // Across rows.
        case("user conflict", users(&[T1, S1, ",S1,U1,student,Bo,Kimm,bo@x.org,06,,,C2,Art,05,,", ",S1,T2,teacher,Di,Ro,di@x.org,,,,C2,Art,05,,"]),
            &["user-conflict@3:userLastName", "user-conflict@4:userLastName"]),
        case("class conflict", users(&[T1, S1, ",S1,U2,student,Cy,Ho,cy@x.org,05,,,C1,Maths,05,,"]),
            &["class-conflict@2:className", "class-conflict@3:className", "class-conflict@4:className"]),
        case("duplicate email in another case", users(&[T1, S1, ",S1,U2,student,Cy,Ho,BO@x.org,05,,,C1,Math,05,,"]),
            &["duplicate-email@3:userEmail", "duplicate-email@4:userEmail"]),
        case("secondary ids shared by two users", users(&[T1, ",S1,U1,student,Bo,Kim,bo@x.org,05,D7,ST1,C1,Math,05,,", ",S1,U2,student,Cy,Ho,cy@x.org,05,D7,ST2,C1,Math,05,,", ",S1,U3,student,Di,Ro,di@x.org,05,,ST1,C1,Math,05,,"]),
            &["duplicate-secondary-id@3:userDistrictId", "duplicate-secondary-id@3:userStateId", "duplicate-secondary-id@4:userDistrictId", "duplicate-secondary-id@5:userStateId"]),
        case("student in two schools", users(&[T1, S1, ",S2,T2,teacher,Di,Ro,di@x.org,,,,C2,Art,05,,TRUE", ",S2,U1,student,Bo,Kim,bo@x.org,05,,,C2,Art,05,,"]),
            &["student-multiple-schools@3:schoolId", "student-multiple-schools@5:schoolId"]),
        case("duplicate row", users(&[T1, S1, S1, S1]), &["duplicate-row@4", "duplicate-row@5"]),
        case("conflicting enrollment", users(&[T1, S1, "REMOVE-ENROLLMENT,S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,"]),
            &["conflicting-enrollment@3:classId", "conflicting-enrollment@4:classId"]),
        case("primary teacher conflict", users(&[T1, S1, ",S1,T2,teacher,Di,Ro,di@x.org,,,,C1,Math,05,,TRUE", "REMOVE-ENROLLMENT,S1,T3,teacher,Ed,Po,ed@x.org,,,,C1,Math,05,,TRUE"]),
            &["primary-teacher-conflict@2:isPrimaryTeacher", "primary-teacher-conflict@4:isPrimaryTeacher"]),
        case("class without teacher", users(&[S1]), &["class-without-teacher@2:classId"]),
        case("class size", {
            let mut rows = vec![T1.to_string()];
            rows.extend((0..81).map(|i| format!(",S1,U{i},student,Bo,Kim,u{i}@x.org,05,,,C1,Math,05,,")));
            rows.push(",S1,U80,student,Bo,Kim,u80@x.org,05,,,C1,Math,05,,".into());
            users(&rows.iter().map(String::as_str).collect::<Vec<_>>())
        }, &["class-size@2:classId", "duplicate-row@84"]),
        case("a removed class needs no teacher", users(&["REMOVE-CLASS,S1,U1,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,"]), &[]),
        case("leading zeros", users(&[
            ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C1,Math,05,,TRUE",
            ",S1,001234,student,Bo,Kim,bo@x.org,05,,,C1,Math,05,,",
            ",S1,1234,student,Cy,Ho,cy@x.org,05,,,C1,Math,05,,",
            ",S1,01234,student,Di,Ro,di@x.org,05,,,C1,Math,05,,",
            ",S1,0005,student,Ed,Po,ed@x.org,05,,,C1,Math,05,,"]),
            &["possible-leading-zero-loss@3:userId", "possible-leading-zero-loss@4:userId", "possible-leading-zero-loss@5:userId"]),
        with_demographics(case("demographics across files", users(&[T1, S1, ",S1,U2,student,Cy,Ho,cy@x.org,05,,,C1,Math,05,,"]),
            &["demographics:duplicate-user@3:userId", "demographics:demographics-user-not-student@4:userId", "demographics:demographics-user-not-in-users@5:userId"]),
            &["U1,,,,,", "U1,,,,,", "T1,,,,,", "U9,,,,,", "U2,,,,,"]),
        with_demographics(case("demographics of a held-back student: no finding", users(&[T1, ",S1,U1,student,Bo,Kim,bad-email,05,,,C1,Math,05,,"]),
            &["invalid-email@3:userEmail"]), &["U1,,,,,"]),
    ]
}

#[test]
fn every_case() {
    let mut failures = Vec::new();
    for c in cases() {
        let got = render(&c);
        if got != c.expected {
            failures.push(format!(
                "{}:\n  expected {:?}\n  got      {:?}",
                c.name, c.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn windows_1252() {
    let mut bytes = format!("{H}\n{T1}\n").into_bytes();
    bytes.extend_from_slice(b",S1,U1,student,Jos\xE9,Kim,bo@x.org,05,,,C1,Math,05,,\n");
    let validated = validate(&bytes, None, Options::default());
    let codes: Vec<&str> = validated
        .report
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(codes, ["encoding-windows-1252"]);
    assert_eq!(
        validated.report.findings[0].message(),
        "Row 3 was not valid UTF-8 and read as Windows-1252."
    );
    assert!(validated.report.valid, "a warning keeps the file valid");
    assert_eq!(validated.records.users[1].first_name, "José");
}

#[test]
fn every_file_and_row_code_has_a_case() {
    let covered: BTreeSet<String> = cases()
        .iter()
        .flat_map(|c| c.expected.iter())
        .chain(["encoding-windows-1252"].iter())
        .map(|s| {
            let s = s.trim_start_matches("demographics:");
            s.split(['@', ':']).next().unwrap().to_string()
        })
        .collect();
    // Codes that need stored data are the server's, except unknown-school,
    // which the browser checks too when it knows the district's schools.
    let missing: Vec<&str> = IssueCode::ALL
        .iter()
        .filter(|c| c.info().scope != Scope::StoredData || **c == IssueCode::UnknownSchool)
        .map(|c| c.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(missing.is_empty(), "codes without a case: {missing:?}");
}

#[test]
fn records_are_entities_with_canonical_values() {
    let file = users(&[
        " ,S1 , T1,Teacher,Ann,Lee,ANN@x.org,,,,C1,Math,5,,yes",
        ",S1,U1,STUDENT,Bo,Kim,bo@x.org,k,D1,,C1,Math,05,Algebra,",
        ",S1,U1,student,Bo,Kim,bo@x.org,KG,D1,,C2,Art,KG,,",
        ",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C2,Art,KG,,TRUE",
        "DEACTIVATE-USER,S1,U2,student,Cy,Ho,cy@x.org,05,,,,,,,",
        "REMOVE-ENROLLMENT,S1,U3,student,Di,Ro,di@x.org,05,,,C1,Math,05,Algebra,",
    ])
    .unwrap();
    let validated = validate(
        file.as_bytes(),
        Some(format!("{DH}\nU1,9/2/2014,f,,,ES\n").as_bytes()),
        Options::default(),
    );
    let codes: Vec<&str> = validated
        .report
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(
        codes,
        ["class-conflict", "class-conflict", "class-conflict"],
        "display name blank vs set"
    );
    let json = serde_json::to_value(&validated.records).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "users": [
                {"userId": "U1", "role": "student", "firstName": "Bo", "lastName": "Kim", "email": "bo@x.org", "grade": "KG",
                 "districtId": "D1", "stateId": null, "schoolIds": ["S1"], "deactivate": false},
                {"userId": "T1", "role": "teacher", "firstName": "Ann", "lastName": "Lee", "email": "ann@x.org", "grade": null,
                 "districtId": null, "stateId": null, "schoolIds": ["S1"], "deactivate": false},
                {"userId": "U2", "role": "student", "firstName": "Cy", "lastName": "Ho", "email": "cy@x.org", "grade": "05",
                 "districtId": null, "stateId": null, "schoolIds": ["S1"], "deactivate": true},
            ],
            "classes": [
                {"classId": "C2", "schoolId": "S1", "name": "Art", "grade": "KG", "displayName": null, "remove": false},
            ],
            "enrollments": [
                {"userId": "U1", "classId": "C2", "primaryTeacher": null, "remove": false},
                {"userId": "T1", "classId": "C2", "primaryTeacher": true, "remove": false},
            ],
            "demographics": [
                {"userId": "U1", "values": {"birthDate": "2014-09-02", "sex": "female", "iep": null, "freeReducedLunch": null, "homeLanguage": "es"}},
            ],
        })
    );
    let stats = &validated.report.stats;
    assert_eq!(stats.users_file.rows, 6);
    assert_eq!(stats.users_file.rows_with_errors, 3);
    assert_eq!(stats.users_file.valid_rows, 3);
    assert_eq!(stats.records.students, 2);
    assert_eq!(stats.records.schools, 1);
}

#[test]
fn findings_are_capped_but_counted() {
    let rows: Vec<String> = (0..50)
        .map(|i| format!(",S1,U{i},student,Bo,Kim,bad,05,,,,,,,"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let file = users(&rows).unwrap();
    let options = Options {
        max_findings_per_code: 10,
        ..Options::default()
    };
    let validated = validate(file.as_bytes(), None, options);
    let report = &validated.report;
    assert_eq!(report.findings.len(), 10);
    assert_eq!(report.stats.by_code[&IssueCode::InvalidEmail], 50);
    assert_eq!(report.stats.truncated_codes, [IssueCode::InvalidEmail]);
    assert_eq!(report.stats.errors, 50);
    assert_eq!(report.stats.users_file.rows_with_errors, 50);
}

#[test]
fn header_verdict_comes_before_the_rows() {
    let mut validator = shared::Validator::new(Options::default());
    validator.push_users(format!("{H}\n{T1}\n,S1,U1").as_bytes());
    let header = validator
        .header(shared::FileKind::Users)
        .expect("header read");
    assert!(header.accepted());
    assert_eq!(validator.progress().users_rows, 1);

    let mut validator = shared::Validator::new(Options::default());
    validator.push_users(b"schoolId,usrId,userRole\n");
    let header = validator
        .header(shared::FileKind::Users)
        .expect("header read");
    assert!(!header.accepted());
    let codes: Vec<&str> = header.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "unknown-header",
            "missing-header",
            "missing-header",
            "missing-header",
            "missing-header",
            "missing-header"
        ]
    );
    assert_eq!(
        header.findings[0].message(),
        "The column usrId is not part of this file. Did you mean userId?"
    );
}

/// Rule 5 for a teacher with more classes than a user's pairs are listed
/// for (the pairs then go into a table): duplicates and conflicts are found
/// before and after the switch.
#[test]
fn many_classes_of_one_user() {
    let mut rows: Vec<String> = (0..40)
        .map(|c| format!(",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C{c},Math,05,,"))
        .collect();
    rows.push(",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C3,Math,05,,".into()); // row 42
    rows.push(",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C30,Math,05,,TRUE".into()); // row 43
    rows.push(",S1,T1,teacher,Ann,Lee,ann@x.org,,,,C39,Math,05,,".into()); // row 44
    let file = format!("{H}\n{}\n", rows.join("\n"));
    let validated = validate(file.as_bytes(), None, Options::default());
    let found: Vec<(IssueCode, Option<u64>)> = validated
        .report
        .findings
        .iter()
        .map(|f| (f.code, f.row))
        .collect();
    assert_eq!(
        found,
        [
            (IssueCode::ConflictingEnrollment, Some(32)),
            (IssueCode::DuplicateRow, Some(42)),
            (IssueCode::ConflictingEnrollment, Some(43)),
            (IssueCode::DuplicateRow, Some(44)),
        ]
    );
    assert_eq!(validated.records.enrollments.len(), 39);
}

/// Rule 5 when a pair's first row has user or class values other than the
/// user's or the class's (kept apart from the pair, as they are rare): a
/// repeat of that row is a duplicate, a row with the known values a
/// conflict. Expected list checked against the code before the change.
#[test]
fn pair_whose_first_row_has_other_values() {
    let rows = [
        ",S1,U1,student,Ann,Lee,ann@x.org,05,,,C1,Math,05,,", // row 2
        ",S1,U1,student,Anne,Lee,ann@x.org,05,,,C2,Art,05,,", // row 3: another first name
        ",S1,U1,student,Anne,Lee,ann@x.org,05,,,C2,Art,05,,", // row 4: repeats row 3
        ",S1,U1,student,Ann,Lee,ann@x.org,05,,,C2,Art,05,,",  // row 5: the known name
        ",S1,U1,student,Ann,Lee,ann@x.org,05,,,C3,Art,06,,",  // row 6
        ",S1,U1,student,Ann,Lee,ann@x.org,05,,,C3,Art,06,,",  // row 7: repeats row 6
        ",S1,U2,student,Bo,Lee,bo@x.org,05,,,C3,Art,07,,",    // row 8: another class grade
        ",S1,U2,student,Bo,Lee,bo@x.org,05,,,C3,Art,07,,",    // row 9: repeats row 8
    ];
    let file = format!("{H}\n{}\n", rows.join("\n"));
    let validated = validate(file.as_bytes(), None, Options::default());
    let found: Vec<(IssueCode, Option<u64>)> = validated
        .report
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.code,
                IssueCode::DuplicateRow | IssueCode::ConflictingEnrollment
            )
        })
        .map(|f| (f.code, f.row))
        .collect();
    assert_eq!(
        found,
        [
            (IssueCode::ConflictingEnrollment, Some(3)),
            (IssueCode::DuplicateRow, Some(4)),
            (IssueCode::ConflictingEnrollment, Some(4)),
            (IssueCode::ConflictingEnrollment, Some(5)),
            (IssueCode::DuplicateRow, Some(7)),
            (IssueCode::DuplicateRow, Some(9)),
        ]
    );
    assert_eq!(validated.report.findings.len(), 19);
}
