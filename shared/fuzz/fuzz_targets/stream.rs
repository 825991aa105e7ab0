//! Fuzzes the streaming validator: any bytes, cut into chunks at positions
//! the input chooses, must neither panic nor give another report than the
//! same bytes in one chunk.
//!
//!     cd shared/fuzz && cargo +nightly fuzz run stream
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::{validate, Options, Validator};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size; the rest is split between the files.
    let Some((&chunk, rest)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let split = rest.len() * 3 / 4;
    let (users, demographics) = rest.split_at(split);

    let whole = validate(users, Some(demographics), Options::default());
    let mut validator = Validator::new(Options::default());
    validator.push_users(&[]);
    for piece in users.chunks(chunk) {
        validator.push_users(piece);
    }
    validator.push_demographics(&[]);
    for piece in demographics.chunks(chunk) {
        validator.push_demographics(piece);
    }
    let streamed = validator.finish();
    assert_eq!(whole.report.view(), streamed.report.view());
    assert_eq!(whole.records, streamed.records);
    let _ = shared::errors_csv::errors_csv(shared::FileKind::Users, &whole.report.findings, users);
});
