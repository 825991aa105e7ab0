//! The `rostergate` command line, run as a process: every fixture in
//! `tests/fixtures/` against its expected JSON report, exit codes, the other
//! formats and the sample generator.
//!
//! `ROSTERGATE_BLESS=1 cargo test -p backend --test cli` rewrites the
//! expected reports; review the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rostergate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rostergate"))
        .args(args)
        .output()
        .expect("rostergate runs")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rostergate-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_fixture_gives_its_expected_report() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "fixtures missing: {cases:?}");
    let bless = std::env::var_os("ROSTERGATE_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let users = case.join("users.csv");
        let demographics = case.join("demographics.csv");
        let mut args = vec!["validate", "--format", "json"];
        let demographics_arg = demographics.to_string_lossy().to_string();
        if demographics.exists() {
            args.extend(["--demographics", &demographics_arg]);
        }
        let users_arg = users.to_string_lossy().to_string();
        args.push(&users_arg);
        let output = rostergate(&args);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{}: not one JSON object: {e}", case.display()));
        let valid = report["valid"].as_bool().unwrap();
        assert_eq!(
            output.status.code(),
            Some(if valid { 0 } else { 1 }),
            "{}",
            case.display()
        );
        let expected_path = case.join("expected.json");
        if bless {
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&report).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&expected_path).unwrap_or_default())
                .unwrap_or(serde_json::Value::Null);
        if report != expected {
            failures.push(case.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    assert!(failures.is_empty(), "reports differ from expected.json in {failures:?}; bless with ROSTERGATE_BLESS=1 and review");
}

/// The codes, rows and columns each fixture must report, restated by hand so
/// that a blessed expected.json cannot silently drift from the contract.
#[test]
fn fixtures_report_the_documented_codes() {
    let table: &[(&str, &[&str])] = &[
        ("clean", &[]),
        ("empty", &["empty-file"]),
        ("header-only", &["empty-file"]),
        ("semicolons", &["wrong-delimiter"]),
        ("unterminated-quote", &["malformed-csv"]),
        ("utf-16", &[]),
        ("windows-1252", &["encoding-windows-1252"]),
        (
            "header-problems",
            &[
                "header-wrong-case:schoolid",
                "unknown-header:usrRole",
                "duplicate-header:userFirstName",
                "blank-header",
                "unknown-header:shoeSize",
                "missing-header:userRole",
                "missing-header:userEmail",
                "missing-conditional-header:classId",
                "missing-conditional-header:classGrade",
            ],
        ),
        (
            "row-problems",
            &[
                "grade-ignored-for-staff@2:userGrade",
                "invalid-role@3:userRole",
                "excel-scientific-notation@4:userId",
                "invalid-name@4:userFirstName",
                "invalid-email@4:userEmail",
                "invalid-grade@4:userGrade",
                "invalid-id@5:classId",
                "invalid-boolean@5:isPrimaryTeacher",
                "missing-value@5:userFirstName",
                "missing-value@5:userGrade",
                "missing-value@5:className",
                "missing-value@5:classGrade",
                "primary-teacher-not-teacher@6:isPrimaryTeacher",
                "invalid-action@7:action",
                "action-needs-class@8:action",
                "missing-cell@9",
                "extra-cell@10",
                "blank-row@11",
                "blank-row@12",
                "missing-value@13:classId",
            ],
        ),
        (
            "cross-row",
            &[
                "primary-teacher-conflict@2:isPrimaryTeacher",
                "primary-teacher-conflict@3:isPrimaryTeacher",
                "user-conflict@4:userLastName",
                "user-conflict@5:userLastName",
                "duplicate-email@6:userEmail",
                "duplicate-email@7:userEmail",
                "student-multiple-schools@8:schoolId",
                "student-multiple-schools@9:schoolId",
                "class-without-teacher@9:classId",
                "duplicate-row@11",
                "conflicting-enrollment@12:classId",
                "conflicting-enrollment@13:classId",
                "class-conflict@14:className",
                "class-without-teacher@14:classId",
                "class-conflict@15:className",
                // 0042 and 042 put class C2 in two schools, and may have lost a zero.
                "class-conflict@5:schoolId",
                "class-conflict@17:schoolId",
                "possible-leading-zero-loss@2:schoolId",
                "possible-leading-zero-loss@17:schoolId",
                "possible-leading-zero-loss@14:userId",
                "possible-leading-zero-loss@16:userId",
            ],
        ),
        (
            "demographics-problems",
            &["demographics:unknown-header:shoeSize"],
        ),
        (
            "demographics-rows",
            &[
                "demographics:duplicate-user@3:userId",
                "demographics:invalid-date@6:birthDate",
                "demographics:invalid-value@6:sex",
                "demographics:invalid-boolean@6:iep",
                "demographics:invalid-value@6:freeReducedLunch",
                "demographics:invalid-value@6:homeLanguage",
                "demographics:demographics-user-not-student@4:userId",
                "demographics:demographics-user-not-in-users@5:userId",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (case, expected) in table {
        let report: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fixtures().join(case).join("expected.json")).unwrap(),
        )
        .unwrap();
        let got: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let mut s = f["code"].as_str().unwrap().to_string();
                if let Some(row) = f["row"].as_u64() {
                    s.push_str(&format!("@{row}"));
                }
                if let Some(column) = f["column"].as_str() {
                    s.push_str(&format!(":{column}"));
                }
                if f["file"] == "demographics.csv" {
                    s = format!("demographics:{s}");
                }
                s
            })
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        if got_sorted != want {
            failures.push(format!("{case}:\n  expected {want:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn exit_codes() {
    let clean = fixtures().join("clean/users.csv");
    assert_eq!(
        rostergate(&["validate", clean.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let bad = fixtures().join("row-problems/users.csv");
    assert_eq!(
        rostergate(&["validate", bad.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    let missing = rostergate(&["validate", "/no/such/users.csv"]);
    assert_eq!(missing.status.code(), Some(2));
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(
        message.contains("cannot open users.csv file /no/such/users.csv"),
        "{message}"
    );
    assert_eq!(
        rostergate(&["validate", "--format", "yaml", clean.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(rostergate(&["validate"]).status.code(), Some(2));
}

#[test]
fn text_format_leads_with_the_verdict_and_counts() {
    let bad = fixtures().join("cross-row/users.csv");
    let output = rostergate(&["validate", bad.to_str().unwrap()]);
    let text = String::from_utf8(output.stdout).unwrap();
    let first_lines: Vec<&str> = text.lines().take(3).collect();
    assert_eq!(first_lines[0], "NOT VALID: 14 errors, 7 warnings.");
    assert!(
        first_lines[1].starts_with("users.csv: 16 rows read (utf-8), 13 held back with errors"),
        "{}",
        first_lines[1]
    );
    assert!(text.contains("error user-conflict (2): Rows of one user disagree\n  users.csv, row 4, column userLastName:"), "{text}");
}

#[test]
fn csv_format_writes_the_errors_reports() {
    let case = fixtures().join("demographics-rows");
    let out = temp_dir("csv");
    let output = rostergate(&[
        "validate",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "--demographics",
        case.join("demographics.csv").to_str().unwrap(),
        case.join("users.csv").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let users = std::fs::read_to_string(out.join("users-errors.csv")).unwrap();
    assert_eq!(users.lines().count(), 1, "users.csv is clean: header only");
    let demographics = std::fs::read_to_string(out.join("demographics-errors.csv")).unwrap();
    let lines: Vec<&str> = demographics.lines().collect();
    assert_eq!(lines[0], "\u{FEFF}userId,birthDate,sex,iep,section504,freeReducedLunch,homeLanguage,rowNumber,severity,column,code,message,howToFix,suggestedFix");
    assert!(
        lines[1].starts_with("000001,2014-01-30,F,Y,N,free,es,3,error,userId,duplicate-user,"),
        "{}",
        lines[1]
    );
    assert_eq!(lines.len(), 9);

    // Without --out, the users report goes to standard output.
    let output = rostergate(&[
        "validate",
        "--format",
        "csv",
        fixtures().join("row-problems/users.csv").to_str().unwrap(),
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("\u{FEFF}action,schoolId,"));
    assert!(text.contains(",0042,1.23457E+11,student,'=Cy,Ho,cy(at)x.org,5th,,,C1,Math,05,,,4,error,userId,excel-scientific-notation,"), "{text}");
}

#[test]
fn sample_writes_a_clean_district_and_its_damage() {
    let out = temp_dir("sample");
    let output = rostergate(&[
        "sample",
        "--students",
        "200",
        "--seed",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let clean = rostergate(&[
        "validate",
        "--format",
        "json",
        "--demographics",
        out.join("demographics.csv").to_str().unwrap(),
        out.join("users.csv").to_str().unwrap(),
    ]);
    assert_eq!(clean.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(report["stats"]["records"]["students"], 200);
    assert!(std::fs::read_to_string(out.join("schools.csv"))
        .unwrap()
        .starts_with("schoolId,name,lowGrade,highGrade\r\n0001,"));
    assert!(!out.join("damage.csv").exists());

    let damaged = temp_dir("damaged");
    let output = rostergate(&[
        "sample",
        "--students",
        "200",
        "--errors",
        "0.1",
        "--out",
        damaged.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let damage = std::fs::read_to_string(damaged.join("damage.csv")).unwrap();
    let listed = damage.lines().count() - 1;
    let report = rostergate(&[
        "validate",
        "--format",
        "json",
        "--demographics",
        damaged.join("demographics.csv").to_str().unwrap(),
        damaged.join("users.csv").to_str().unwrap(),
    ]);
    assert_eq!(report.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), listed);

    assert_eq!(
        rostergate(&[
            "sample",
            "--students",
            "5",
            "--errors",
            "2",
            "--out",
            damaged.to_str().unwrap()
        ])
        .status
        .code(),
        Some(2)
    );
}
