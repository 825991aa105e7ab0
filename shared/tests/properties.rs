//! Properties: no bytes make the validator panic, and chunking never changes
//! the report or the records.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use shared::validator::validate;
use shared::{Options, Validated, Validator};

fn chunked(users: &[u8], demographics: &[u8], sizes: &[usize]) -> Validated {
    let mut validator = Validator::new(Options::default());
    let mut feed = |bytes: &[u8], users: bool| {
        // An empty file is still a file that was given.
        if users {
            validator.push_users(&[])
        } else {
            validator.push_demographics(&[])
        }
        let mut rest = bytes;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            if users {
                validator.push_users(&rest[..n])
            } else {
                validator.push_demographics(&rest[..n])
            }
            rest = &rest[n..];
            i += 1;
        }
    };
    feed(users, true);
    feed(demographics, false);
    validator.finish()
}

fn same(a: &Validated, b: &Validated) {
    assert_eq!(a.report.view(), b.report.view());
    assert_eq!(a.records, b.records);
}

/// CSV-ish bytes: mostly the characters that matter to the reader and the rules.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let header = "action,schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,classId,className,classGrade,isPrimaryTeacher\n";
    let cell = prop::sample::select(vec![
        "",
        "S1",
        "S01",
        "U1",
        "0U1",
        "T1",
        "student",
        "teacher",
        "administrator",
        "Ann",
        "a@x.org",
        "A@X.org",
        "05",
        "K",
        "C1",
        "C2",
        "Math",
        "TRUE",
        "FALSE",
        "REMOVE-CLASS",
        "DEACTIVATE-USER",
        "\"q,\"\"x\"",
        "\"",
        "\r\n",
        "\n",
        ",",
        "1.2E+05",
        "\u{e9}",
        "\u{FEFF}",
    ]);
    (prop::bool::ANY, prop::collection::vec(cell, 0..200)).prop_map(move |(with_header, cells)| {
        let mut out = if with_header {
            header.as_bytes().to_vec()
        } else {
            Vec::new()
        };
        for (i, c) in cells.iter().enumerate() {
            out.extend_from_slice(c.as_bytes());
            out.push(if i % 12 == 11 { b'\n' } else { b',' });
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(users in prop::collection::vec(any::<u8>(), 0..2000),
                                   demographics in prop::collection::vec(any::<u8>(), 0..500)) {
        let validated = validate(&users, Some(&demographics), Options::default());
        let _ = serde_json::to_string(&validated.report).unwrap();
        let _ = shared::errors_csv::errors_csv(shared::FileKind::Users, &validated.report.findings, &users);
    }

    #[test]
    fn chunking_never_changes_the_outcome(users in csvish(), demographics in csvish(),
                                          sizes in prop::collection::vec(1usize..64, 1..8)) {
        let whole = validate(&users, Some(&demographics), Options::default());
        same(&whole, &chunked(&users, &demographics, &sizes));
        same(&whole, &chunked(&users, &demographics, &[1]));
    }
}
