//! The committed data dictionary and templates must equal what the tables
//! generate. `ROSTERGATE_BLESS=1 cargo test -p shared --test generated`
//! rewrites them after a change to the tables.

use std::path::PathBuf;

use shared::docs::{data_dictionary_markdown, template_csv, template_path, DATA_DICTIONARY_PATH};
use shared::FileKind;

fn check(relative: &str, expected: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    if std::env::var_os("ROSTERGATE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, expected).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{relative} differs from what the schema crate generates; run \
         `ROSTERGATE_BLESS=1 cargo test -p shared --test generated` and commit the result"
    );
}

#[test]
fn data_dictionary_is_current() {
    check(DATA_DICTIONARY_PATH, data_dictionary_markdown().as_bytes());
}

#[test]
fn templates_are_current() {
    for file in [FileKind::Users, FileKind::Demographics] {
        check(&template_path(file), &template_csv(file));
    }
}

#[test]
fn templates_validate_as_headers() {
    for file in [FileKind::Users, FileKind::Demographics] {
        let mut validator = shared::Validator::new(shared::Options::default());
        validator.push(file, &template_csv(file));
        let header = validator.header(file).expect("a header");
        assert!(header.accepted(), "{:?}", header.findings);
    }
}
