//! The sample district is clean, and its known damage gives exactly the
//! findings listed for it.

use shared::sample::{generate, SampleOptions};
use shared::validator::validate;
use shared::Options;

#[test]
fn clean_sample_has_no_findings_and_round_trips_to_records() {
    let sample = generate(&SampleOptions {
        students: 1500,
        seed: 3,
        error_rate: 0.0,
    });
    let validated = validate(
        &sample.users_csv,
        Some(&sample.demographics_csv),
        Options::default(),
    );
    let findings: Vec<String> = validated
        .report
        .findings
        .iter()
        .map(|f| format!("{} {}", f.code, f.location()))
        .collect();
    assert!(findings.is_empty(), "{findings:?}");
    let stats = &validated.report.stats;
    assert_eq!(stats.users_file.rows + 1, sample.users_rows);
    assert_eq!(stats.records.students, 1500);
    assert_eq!(stats.records.demographics, 1500);
    assert_eq!(stats.records.schools, sample.schools.len() as u64);
    assert!(stats.records.teachers > 10 && stats.records.administrators >= 3);
    // Identifiers keep their leading zeros.
    assert!(validated
        .records
        .users
        .iter()
        .any(|u| &*u.user_id == "000001"));
    assert!(validated
        .records
        .users
        .iter()
        .any(|u| u.last_name == "Smith, Jr."));
}

#[test]
fn damaged_sample_reports_exactly_its_damage() {
    let sample = generate(&SampleOptions {
        students: 800,
        seed: 11,
        error_rate: 0.05,
    });
    assert!(
        sample.damage.len() > 50,
        "{} damaged rows",
        sample.damage.len()
    );
    let validated = validate(
        &sample.users_csv,
        Some(&sample.demographics_csv),
        Options::default(),
    );
    let mut got: Vec<(shared::FileKind, u64, &str, Option<String>)> = validated
        .report
        .findings
        .iter()
        .map(|f| {
            (
                f.file,
                f.row.unwrap_or(0),
                f.code.as_str(),
                f.column.as_deref().map(String::from),
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<(shared::FileKind, u64, &str, Option<String>)> = sample
        .damage
        .iter()
        .map(|d| (d.file, d.row, d.code.as_str(), d.column.map(String::from)))
        .collect();
    expected.sort();
    let unexpected: Vec<_> = got.iter().filter(|f| !expected.contains(f)).collect();
    let missing: Vec<_> = expected.iter().filter(|f| !got.contains(f)).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "unexpected {unexpected:?}\nmissing {missing:?}"
    );
    assert_eq!(got, expected, "the same finding twice");
}

#[test]
fn restricting_schools_to_the_sample_schools_changes_nothing() {
    let sample = generate(&SampleOptions {
        students: 300,
        seed: 5,
        error_rate: 0.0,
    });
    let schools = sample.schools.iter().map(|s| s.school_id.clone()).collect();
    let options = Options {
        known_school_ids: Some(schools),
        ..Options::default()
    };
    let validated = validate(&sample.users_csv, None, options);
    assert!(validated.report.findings.is_empty());
}
