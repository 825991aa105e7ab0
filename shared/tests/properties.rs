//! Properties: no bytes make the validator panic, chunking never changes
//! the report or the records, and neither does the fast path for rows that
//! repeat known values.
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

/// Cells for each users.csv column, in dictionary order: few users,
/// classes and schools, so that most rows repeat known ones, and the
/// spellings that read as the known values or not (case, spaces, aliases,
/// the formula guard `'` that files for people carry), some invalid.
const POOLS: &[(&str, &[&str])] = &[
    (
        "action",
        &[
            "",
            "",
            "",
            "",
            "REMOVE-ENROLLMENT",
            "remove-class",
            "DEACTIVATE-USER",
            "x",
            " ",
        ],
    ),
    (
        "schoolId",
        &["S1", "S1", "S1", "S2", " S1", "s1", "", "S 1"],
    ),
    (
        "userId",
        &["U1", "U1", "U2", "T1", "T1", "A1", "U1 ", "", "1.2E+05"],
    ),
    (
        "userRole",
        &[
            "student",
            "student",
            "teacher",
            "administrator",
            "Student",
            "pupil",
            "",
        ],
    ),
    (
        "userFirstName",
        &[
            "Ann", "Ann", "Bo", "'=Ann", "''=Ann", "=Ann", "Ann ", "José", "",
        ],
    ),
    (
        "userLastName",
        &["Lee", "Lee", "Kim", "O'Neil", "'-Lee", "\u{e9}", ""],
    ),
    (
        "userEmail",
        &[
            "a@x.org",
            "a@x.org",
            "b@x.org",
            "A@x.org",
            "''=a@x.org",
            "'=a@x.org",
            "bad",
            "",
        ],
    ),
    ("userGrade", &["05", "05", "5", "KG", "k", "", "14", " 05"]),
    ("userDistrictId", &["", "", "D1", "D2", "'D1", "001", "1"]),
    ("userStateId", &["", "", "S7", "S8", "S7 "]),
    ("classId", &["C1", "C1", "C2", "C3", "", "C1 ", "c1"]),
    (
        "className",
        &["Math", "Math", "Art", "Math ", "''=x", "'=x", "=x", ""],
    ),
    ("classGrade", &["05", "05", "5", "KG", "", "x"]),
    ("classDisplayName", &["", "", "Art", "'=Art", "''=Art", " "]),
    (
        "isPrimaryTeacher",
        &["", "", "TRUE", "FALSE", "yes", "true", "maybe", " TRUE"],
    ),
];

/// A users.csv: the required columns and some of the others, in any
/// order; a few rows of cells from `POOLS`, then rows that repeat one of
/// them with up to three cells changed (so that most rows repeat known
/// values, and many differ from them in one cell).
fn known_rows_file() -> impl Strategy<Value = String> {
    let optional = [0, 8, 9, 10, 11, 12, 13, 14];
    let columns = prop::sample::subsequence(optional.to_vec(), 0..=optional.len())
        .prop_map(|mut chosen| {
            chosen.extend([1, 2, 3, 4, 5, 6, 7]);
            chosen
        })
        .prop_shuffle();
    // Mostly the first, clean, spelling: rows without errors make the
    // users and classes known.
    let cell =
        || prop_oneof![3 => Just(0), 2 => any::<prop::sample::Index>().prop_map(|i| i.index(64))];
    let row = move || prop::collection::vec(cell(), POOLS.len());
    let change = (0..POOLS.len(), any::<prop::sample::Index>());
    let repeat = (
        any::<prop::sample::Index>(),
        prop::collection::vec(change, 0..=3),
    );
    (
        columns,
        prop::collection::vec(row(), 1..6),
        prop::collection::vec(repeat, 0..40),
    )
        .prop_map(|(columns, first_rows, repeats)| {
            let mut rows: Vec<Vec<&str>> = first_rows
                .iter()
                .map(|row| {
                    POOLS
                        .iter()
                        .zip(row)
                        .map(|((_, pool), i)| pool[i % pool.len()])
                        .collect()
                })
                .collect();
            for (base, changes) in repeats {
                let mut row = base.get(&rows).clone();
                for (column, i) in changes {
                    row[column] = *i.get(POOLS[column].1);
                }
                rows.push(row);
            }
            let names: Vec<&str> = columns.iter().map(|&c| POOLS[c].0).collect();
            let mut out = format!("{}\n", names.join(","));
            for row in rows {
                let cells: Vec<&str> = columns.iter().map(|&c| row[c]).collect();
                out.push_str(&cells.join(","));
                out.push('\n');
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The fast path (a row that repeats known values skips the casting)
    /// gives exactly the findings, values included, and the records of the
    /// full path.
    #[test]
    fn the_fast_path_changes_nothing(users in known_rows_file(), known_schools in any::<bool>()) {
        let options = |fast_path: bool| Options {
            known_school_ids: known_schools.then(|| vec!["S1".to_string()]),
            fast_path,
            ..Options::default()
        };
        let fast = validate(users.as_bytes(), None, options(true));
        let full = validate(users.as_bytes(), None, options(false));
        prop_assert_eq!(&fast.report.findings, &full.report.findings);
        prop_assert_eq!(fast.report.view(), full.report.view());
        prop_assert_eq!(fast.records, full.records);
    }
}
