//! The WebAssembly build of the validator gives the same reports as the
//! native one: run with `cargo test -p shared --target wasm32-unknown-unknown
//! --test wasm` (wasm-bindgen-test-runner, in Node).
#![cfg(target_arch = "wasm32")]

use shared::sample::{generate, SampleOptions};
use shared::validator::validate;
use shared::{Options, Validator};
use wasm_bindgen_test::wasm_bindgen_test;

/// A fixture: name, users.csv, demographics.csv, the native command line's report.
type Fixture = (
    &'static str,
    &'static [u8],
    Option<&'static [u8]>,
    &'static str,
);

const FIXTURES: &[Fixture] = &[
    (
        "row-problems",
        include_bytes!("../../tests/fixtures/row-problems/users.csv"),
        None,
        include_str!("../../tests/fixtures/row-problems/expected.json"),
    ),
    (
        "cross-row",
        include_bytes!("../../tests/fixtures/cross-row/users.csv"),
        None,
        include_str!("../../tests/fixtures/cross-row/expected.json"),
    ),
    (
        "utf-16",
        include_bytes!("../../tests/fixtures/utf-16/users.csv"),
        None,
        include_str!("../../tests/fixtures/utf-16/expected.json"),
    ),
    (
        "windows-1252",
        include_bytes!("../../tests/fixtures/windows-1252/users.csv"),
        None,
        include_str!("../../tests/fixtures/windows-1252/expected.json"),
    ),
    (
        "demographics-rows",
        include_bytes!("../../tests/fixtures/demographics-rows/users.csv"),
        Some(include_bytes!(
            "../../tests/fixtures/demographics-rows/demographics.csv"
        )),
        include_str!("../../tests/fixtures/demographics-rows/expected.json"),
    ),
];

#[wasm_bindgen_test]
fn fixtures_give_the_native_reports() {
    for (name, users, demographics, expected) in FIXTURES {
        let validated = validate(users, *demographics, Options::default());
        let got = serde_json::to_value(&validated.report).unwrap();
        let expected: serde_json::Value = serde_json::from_str(expected).unwrap();
        assert_eq!(got, expected, "{name}");
    }
}

#[wasm_bindgen_test]
fn streaming_in_small_chunks_matches_one_buffer() {
    let sample = generate(&SampleOptions {
        students: 300,
        seed: 9,
        error_rate: 0.05,
    });
    let whole = validate(
        &sample.users_csv,
        Some(&sample.demographics_csv),
        Options::default(),
    );
    let mut validator = Validator::new(Options::default());
    for chunk in sample.users_csv.chunks(997) {
        validator.push_users(chunk);
    }
    for chunk in sample.demographics_csv.chunks(61) {
        validator.push_demographics(chunk);
    }
    let chunked = validator.finish();
    assert_eq!(whole.report.view(), chunked.report.view());
    assert_eq!(whole.records, chunked.records);
    assert_eq!(whole.report.findings.len(), sample.damage.len());
    assert!(!whole.report.valid);
}

#[wasm_bindgen_test]
fn header_verdict_before_the_rest() {
    let mut validator = Validator::new(Options::default());
    validator.push_users(b"schoolId,userId,userRol");
    assert!(
        validator.header(shared::FileKind::Users).is_none(),
        "the header is not complete yet"
    );
    validator.push_users(b"e\n0042,U1");
    let header = validator.header(shared::FileKind::Users).expect("header");
    assert!(!header.accepted());
}
